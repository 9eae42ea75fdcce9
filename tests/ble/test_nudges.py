"""Nudges reach the band the way its profile allows, and the result says what is known.

Through the real BLE stack (bumble): a band whose Alert Level takes writes with response
acknowledges; one that only takes writes without response can only be "written"; a band
that never answers a write with response times out (bumble sends the write response only
when the peripheral's write handler returns, so the emulator's handler simply waits).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from firmware_protocols.sig import AlertLevel
from sensorhub.ble.drivers import NudgeOutcome
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.fleet import SimulatedFleet
from sensorhub.sim.scenario import SCENARIOS
from tests.support.collector import START_UTC_NS, Collected, make_session
from tests.support.sim import wait_until

Setup = Callable[[SimulatedFleet], None]


@contextlib.asynccontextmanager
async def streaming(
    air: VirtualAir, profiles: list[str], setup: Setup | None = None, **session_kwargs: float
) -> AsyncIterator[tuple[SimulatedFleet, list[Collected]]]:
    """A fleet of ``profiles`` with one running session each, all streaming."""
    fleet = SimulatedFleet(
        air, SCENARIOS["e2e-short"], profiles, speed=20.0, start_utc_ns=START_UTC_NS
    )
    if setup is not None:
        setup(fleet)
    async with fleet:
        results = [Collected(d, None) for d in fleet.devices]  # type: ignore[arg-type]
        for r in results:
            r.session = make_session(fleet, r.device, r, **session_kwargs)
        tasks = [asyncio.create_task(r.session.run()) for r in results]
        try:
            async with asyncio.timeout(30):
                for r in results:
                    await r.session.streaming.wait()
            yield fleet, results
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t


def acknowledging(fleet: SimulatedFleet) -> None:
    fleet.devices[0].emulator.alert_with_response = True


async def test_written_acknowledged_or_dashboard_only(air: VirtualAir) -> None:
    """Write-without-response is only 'written'; New Alert (write) is acknowledged."""
    async with streaming(air, ["open-imu", "infinitime", "metawear"]) as (fleet, results):
        band, watch, clip = (r.session for r in results)
        written = await band.nudge(AlertLevel.MILD, "Time to stand up")
        assert written.outcome is NudgeOutcome.WRITTEN, written
        assert written.stored == "written-unacknowledged"
        text = await watch.nudge(AlertLevel.MILD, "Time to stand up")
        assert text.outcome is NudgeOutcome.ACKNOWLEDGED, text
        assert text.stored == "acknowledged"
        none = await clip.nudge(AlertLevel.MILD, "Time to stand up")
        assert none.outcome is NudgeOutcome.DASHBOARD_ONLY
        assert none.stored == "dashboard-only"
        band_emulator, watch_emulator = fleet.devices[0].emulator, fleet.devices[1].emulator
        await wait_until(lambda: bool(band_emulator.alerts_received))
        assert band_emulator.alerts_received[0].level is AlertLevel.MILD
        assert watch_emulator.text_alerts == ["Time to stand up"]  # type: ignore[attr-defined]
        assert band.health.nudges_delivered == watch.health.nudges_delivered == 1
        assert band.health.nudges_acknowledged == 0
        assert watch.health.nudges_acknowledged == 1
    # a band that is not connected reports the failure instead of pretending
    failed = await band.nudge(AlertLevel.HIGH, "x")
    assert failed.outcome is NudgeOutcome.FAILED
    assert failed.stored == "failed: band not connected"
    assert band.health.nudges_failed == 1


async def test_immediate_alert_with_response_is_acknowledged(air: VirtualAir) -> None:
    """A band whose Alert Level takes writes with response acknowledges the buzz."""
    async with streaming(air, ["open-imu"], acknowledging) as (fleet, results):
        band = results[0].session
        result = await band.nudge(AlertLevel.HIGH, "Time to stand up")
        assert result.outcome is NudgeOutcome.ACKNOWLEDGED, result
        # acknowledged means the band's ATT layer had it before the write returned
        [alert] = fleet.devices[0].emulator.alerts_received
        assert alert.level is AlertLevel.HIGH
        assert band.health.nudges_acknowledged == band.health.nudges_delivered == 1


async def test_a_band_that_never_answers_times_out_and_the_stream_goes_on(
    air: VirtualAir,
) -> None:
    """A hung write-with-response is reported as timed out; data keeps flowing meanwhile."""
    gate = asyncio.Event()

    def hung(fleet: SimulatedFleet) -> None:
        acknowledging(fleet)
        fleet.devices[0].emulator.alert_response_gate = gate

    async with streaming(air, ["open-imu"], hung, nudge_timeout_s=0.5) as (fleet, results):
        band, collected = results[0].session, results[0]
        nudge = asyncio.create_task(band.nudge(AlertLevel.MILD, "Time to stand up"))
        # while the write hangs, notifications keep arriving and being forwarded
        before = collected.samples
        await wait_until(lambda: collected.samples > before + 100, timeout_s=30)
        result = await asyncio.wait_for(nudge, 30)
        assert result.outcome is NudgeOutcome.FAILED
        assert result.stored == "failed: timed out after 0.5 s"
        assert band.health.nudges_failed == 1
        assert fleet.devices[0].emulator.alerts_received  # it got there; no answer came
        gate.set()


async def test_the_band_disconnects_while_the_nudge_waits(air: VirtualAir) -> None:
    """The link drops before the acknowledgement: the nudge fails, nothing raises."""
    gate = asyncio.Event()

    def hung(fleet: SimulatedFleet) -> None:
        acknowledging(fleet)
        fleet.devices[0].emulator.alert_response_gate = gate

    async with streaming(air, ["open-imu"], hung, nudge_timeout_s=60.0) as (fleet, results):
        band, emulator = results[0].session, fleet.devices[0].emulator
        nudge = asyncio.create_task(band.nudge(AlertLevel.MILD, "Time to stand up"))
        await wait_until(lambda: bool(emulator.alerts_received), timeout_s=30)
        await emulator.stop()  # drops the link; the answer never comes
        result = await asyncio.wait_for(nudge, 30)
        assert result.outcome is NudgeOutcome.FAILED, result
        assert "disconnect" in result.detail, result
        # and once the session knows, without trying
        await wait_until(lambda: not band.health.connected, timeout_s=30)
        later = await band.nudge(AlertLevel.MILD, "Time to stand up")
        assert later.stored == "failed: band not connected"
        assert band.health.nudges_failed == 2
