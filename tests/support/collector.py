"""Run the real collector (DeviceSession through bleak's public API) against a fleet."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sensorhub.ble.session import DeviceSession
from sensorhub.ble.streams import StepData
from sensorhub.model import NS_PER_S, SampleBlock
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.faults import FaultSpec
from sensorhub.sim.fleet import FleetDevice, SimulatedFleet
from sensorhub.sim.scenario import Scenario
from sensorhub.sim.virtual_time import run_virtual

START_UTC_NS = 1_790_000_000 * NS_PER_S


@dataclass
class Collected:
    """What one session forwarded."""

    device: FleetDevice
    session: DeviceSession
    blocks: list[SampleBlock] = field(default_factory=list)
    steps: list[StepData] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return sum(len(b) for b in self.blocks)


def make_session(
    fleet: SimulatedFleet, device: FleetDevice, out: Collected, **overrides: Any
) -> DeviceSession:
    """A session of ``device`` that collects into ``out`` (``overrides``: session options)."""

    async def on_block(block: SampleBlock) -> None:
        out.blocks.append(block)

    async def on_steps(steps: StepData) -> None:
        out.steps.append(steps)

    options: dict[str, Any] = {
        "scan_timeout_s": 2.0,
        # The emulators connect in ~20 ms; bumble's virtual controllers now and then lose a
        # disconnection that happens during service discovery, and the connect then waits
        # for its timeout. Production keeps the >= 10 s a real radio needs.
        "connect_timeout_s": 2.0,
        "min_backoff_s": 0.01,
        "max_backoff_s": 0.1,
        "stall_timeout_s": 1.0,
        **overrides,
    }
    return DeviceSession(
        device.binding,
        backend=fleet.backend,
        clock=fleet.clock(),
        on_block=on_block,
        on_steps=on_steps,
        settings=device.settings,
        timing=fleet.timing,
        **options,
    )


def run_collect(profiles: Sequence[str], scenario: Scenario, **kwargs: Any) -> list[Collected]:
    """:func:`collect` on a fresh virtual-time event loop and air (module-scoped fixtures)."""

    async def main() -> list[Collected]:
        _, results = await collect(VirtualAir(), profiles, scenario, **kwargs)
        return results

    return run_virtual(main())


async def collect(
    air: VirtualAir,
    profiles: Sequence[str],
    scenario: Scenario,
    *,
    speed: float,
    until_s: float,
    faults: FaultSpec | None = None,
    fault_window_s: float | None = None,
    rates_hz: dict[str, float] | None = None,
    drain_s: float = 0.5,
) -> tuple[SimulatedFleet, list[Collected]]:
    """Collect from emulators of ``profiles`` until ``until_s`` of scenario time.

    The emulators are stopped (no more frames) before the collector, which then gets
    ``drain_s`` of real time to take in what is still on its queue.
    """
    fleet = SimulatedFleet(
        air,
        scenario,
        profiles,
        speed=speed,
        start_utc_ns=START_UTC_NS,
        faults=faults,
        fault_window_s=fault_window_s,
        rates_hz=rates_hz,
    )
    await fleet.start()
    results = [Collected(d, None) for d in fleet.devices]  # type: ignore[arg-type]
    for r in results:
        r.session = make_session(fleet, r.device, r)
    tasks = [asyncio.create_task(r.session.run()) for r in results]
    try:
        await asyncio.sleep(max(until_s - fleet.scenario_elapsed_s(), 0) / speed)
        for d in fleet.devices:
            d.emulator.hold_streams()
        await asyncio.sleep(drain_s)
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await fleet.stop()
    return fleet, results
