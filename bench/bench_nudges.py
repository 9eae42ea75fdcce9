"""Nudge latency: from the block that completes a static bout's limit to the band's buzz.

Issue 11 target: p99 < 0.5 s from the threshold crossing to the band's write, over 100 nudges.

Method. The production wiring of ``sensorhub run --simulate``: an emulated open IMU band
(lower back, 50 Hz, Immediate Alert) on bumble's virtual radio, reached through bleak's public
API, and a hub built by :func:`~sensorhub.service.build_hub` (session, pipeline, nudge engine,
outbox with its fsync and a SQLite database in a temporary folder, nudge dispatcher), with the
smallest nudge limits a wearer may have (sitting and standing 1 min, 60 nudges an hour; no
walking nudge; the snooze stays 15 min, so no bout is nudged twice). The wearer (a bench-only
scenario) walks a little, then sits and stands ``CYCLE_S`` each in turn: every position held
is a new static bout that reaches its 1-min limit and gets its first nudge, so each nudge is a
threshold crossing, not a snooze running out. A bout is known only once the position has been
held a minute (the bout before ends then, backdated), so with 1-min limits the block that
confirms the bout is the one that completes its limit. The band's scenario runs at
``SPEED`` times real time, so 100 nudges take about ``100 * CYCLE_S / SPEED`` s.

Every time is ``time.monotonic`` on the host, taken without touching production code (the
runtime's pipeline and nudge engine are swapped for subclasses before the hub runs, and the
band's alert log for a list that notes when it was appended to):

* **received**: the runtime hands the block whose last sample completes the limit to the
  pipeline (``Pipeline.feed`` entered; the engine decides on the block's end);
* **decided**: the nudge engine returns the decision;
* **dispatched**: the dispatcher calls the band's session (after the runtime made the nudge
  durable in the outbox);
* **buzzed**: the emulated band's Alert Level write handler logs the alert.

Latency is received -> buzzed, matched in order (one wearer, one band; every nudge the engine
decided must reach the band, be stored as ``written-unacknowledged`` and be the first of its
bout); p50/p99 are ``numpy.percentile`` (linear), the max is reported beside them. The runtime
makes each nudge durable in the outbox (an fsync) before it hands it to the dispatcher, so
the disk is on the path.

Not measured: the time the band holds a sample before sending it (up to a 25-sample packet,
0.5 s at 50 Hz, at real speed) and a real radio's connection interval and retransmissions
(the virtual radio delivers at once). The scenario runs at ``SPEED`` times real time, so the
hub analyses 100 times the data a live band gives while the nudges go out: CPU contention is
heavier than in real use.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from firmware_protocols.sig import AlertLevel
from sensorhub.ble.drivers import NudgeDelivery
from sensorhub.config import simulated_config
from sensorhub.model import NS_PER_S, CurrentBout, Posture, SampleBlock
from sensorhub.nudge import NudgeDecision, NudgeEngine, NudgeSettings
from sensorhub.pipeline import Pipeline, PipelineOutput
from sensorhub.service import Hub, build_hub
from sensorhub.service.dispatcher import NudgeTarget
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.base import ReceivedAlert
from sensorhub.sim.fleet import SimulatedFleet
from sensorhub.sim.scenario import Scenario, Segment
from sensorhub.store import Outbox, Store, outbox_path_for

NUDGES: Final = 100
TARGET_S: Final = 0.5
PROFILE: Final = "open-imu"
RATE_HZ: Final = 50.0
#: Scenario seconds per real second (one nudge per ``CYCLE_S / SPEED`` real seconds).
SPEED: Final = 100.0
#: Seconds of each sit and each stand: the 60-s limit, and some seconds to spare.
CYCLE_S: Final = 70.0
#: The smallest nudge limits a wearer may have (config: 1 min, at most 60 an hour); the
#: default 15-min snooze keeps a bout from being nudged twice (each nudge crosses a limit).
SETTINGS: Final = NudgeSettings(
    sitting_limit_s=60.0,
    standing_limit_s=60.0,
    max_per_hour=60,
    walking_goal_s=0.0,
)


def sit_stand_scenario(nudges: int = NUDGES) -> Scenario:
    """A short walk, then ``nudges`` alternate sits and stands of ``CYCLE_S`` (bench only)."""
    cycles = [Segment("sitting" if i % 2 == 0 else "standing", CYCLE_S) for i in range(nudges + 2)]
    return Scenario(
        "bench-sit-stand",
        (Segment("standing", 10), Segment("walking", 30, cadence_spm=105), *cycles),
        seed=11,
        description=f"sit and stand in turn, {CYCLE_S:g} s each (the nudge latency benchmark)",
    )


@dataclasses.dataclass
class Stamps:
    """Host monotonic times (s) of each nudge's stages, in the order of the nudges."""

    block_in: float = 0.0  # the latest block handed to the pipeline
    received: list[float] = dataclasses.field(default_factory=list)
    decided: list[float] = dataclasses.field(default_factory=list)
    dispatched: list[float] = dataclasses.field(default_factory=list)
    buzzed: list[float] = dataclasses.field(default_factory=list)


class _TimedPipeline(Pipeline):
    def __init__(self, stamps: Stamps, like: Pipeline) -> None:
        super().__init__(
            like.placement, fs_hz=like.fs_hz, settings=like.settings, resume=like.resume
        )
        self.stamps = stamps

    def feed(self, block: SampleBlock) -> PipelineOutput:
        self.stamps.block_in = time.monotonic()
        return super().feed(block)


class _TimedEngine(NudgeEngine):
    stamps: Stamps

    def update(
        self,
        *,
        now_ns: int,
        bout: CurrentBout | None,
        posture: Posture,
        worn: bool = True,
        motionless_s: float = 0.0,
    ) -> NudgeDecision | None:
        decision = super().update(
            now_ns=now_ns, bout=bout, posture=posture, worn=worn, motionless_s=motionless_s
        )
        if decision is not None:
            self.stamps.decided.append(time.monotonic())
            self.stamps.received.append(self.stamps.block_in)
        return decision


@dataclasses.dataclass
class _TimedTarget:
    stamps: Stamps
    target: NudgeTarget

    async def nudge(self, level: AlertLevel, text: str) -> NudgeDelivery:
        self.stamps.dispatched.append(time.monotonic())
        return await self.target.nudge(level, text)


class _AlertLog(list[ReceivedAlert]):
    """The band's alert log, noting the host time of each entry."""

    def __init__(self, stamps: Stamps) -> None:
        super().__init__()
        self.stamps = stamps

    def append(self, alert: ReceivedAlert, /) -> None:  # the band only appends
        self.stamps.buzzed.append(time.monotonic())
        super().append(alert)


def _instrument(hub: Hub, stamps: Stamps) -> None:
    """Swap the runtime's pipeline and engine for timed ones (before any data)."""
    [runtime] = hub.runtimes
    runtime.pipeline = _TimedPipeline(stamps, runtime.pipeline)
    engine = _TimedEngine(runtime.nudges.settings)
    engine.stamps = stamps
    runtime.nudges = engine
    runtime.nudge_targets = [_TimedTarget(stamps, t) for t in runtime.nudge_targets]


async def _run(db_url: str, stamps: Stamps, nudges: int) -> dict[str, Any]:
    scenario = sit_stand_scenario(nudges)
    start = dt.datetime.now(dt.UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    air = VirtualAir()
    fleet = SimulatedFleet(
        air,
        scenario,
        [PROFILE],
        speed=SPEED,
        start_utc_ns=int(start.timestamp()) * NS_PER_S,
        rates_hz={PROFILE: RATE_HZ},
    )
    band = fleet.devices[0].emulator
    band.alerts_received = _AlertLog(stamps)
    config = simulated_config([(d.binding, d.settings) for d in fleet.devices], db_url)
    config = dataclasses.replace(
        config, wearers=tuple(dataclasses.replace(w, nudges=SETTINGS) for w in config.wearers)
    )
    store = Store.open(db_url)
    outbox = Outbox(outbox_path_for(db_url))
    started = time.monotonic()
    try:
        async with fleet:
            hub = build_hub(
                config,
                store.repository,
                outbox,
                backend=fleet.backend,
                clock=fleet.clock(),
                timing=fleet.timing,
                connect_timeout_s=5.0,
                min_backoff_s=0.02,
                max_backoff_s=1.0,
                stall_timeout_s=2.0,
            )
            _instrument(hub, stamps)
            collect = asyncio.create_task(hub.run())
            limit_s = 1.5 * scenario.duration_s / SPEED + 10
            while len(stamps.buzzed) < nudges and time.monotonic() - started < limit_s:
                if collect.done():
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # a late write would show as a count mismatch
            collect.cancel()
            await asyncio.gather(collect, return_exceptions=True)
            [wearer] = config.wearers
            stored = store.repository.nudges_since(wearer.id, 0)
    finally:
        outbox.close()
        store.close()
    return {
        "wall_s": time.monotonic() - started,
        "deliveries": sorted({n.delivery for n in stored}),
        # level 1: the first nudge of its bout (the limit crossed), not a snooze running out
        "first_of_bout": sum(n.level == 1 for n in stored),
        "stored": len(stored),
    }


def _gaps(earlier: Sequence[float], later: Sequence[float], n: int) -> list[float]:
    """``later[i] - earlier[i]`` for the first ``n`` nudges."""
    return [b - a for a, b in zip(earlier[:n], later[:n], strict=True)]


def _summary(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    ms = np.asarray(values) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(float(ms.max()), 2),
    }


def main(nudges: int = NUDGES) -> dict[str, object]:
    """Time ``nudges`` nudges from threshold crossing to the band; print and return figures."""
    stamps = Stamps()
    with tempfile.TemporaryDirectory(dir="var" if Path("var").is_dir() else None) as tmp:
        run = asyncio.run(_run(f"sqlite:///{Path(tmp) / 'bench.db'}", stamps, nudges))
    n = min(len(stamps.received), len(stamps.buzzed), nudges)
    matched = (
        len(stamps.received) == len(stamps.dispatched) == len(stamps.buzzed) == run["stored"]
        and run["first_of_bout"] == run["stored"]
        and run["deliveries"] == ["written-unacknowledged"]
    )
    total = _gaps(stamps.received, stamps.buzzed, n)
    result: dict[str, object] = {
        "nudges_wanted": nudges,
        "decided": len(stamps.decided),
        "dispatched": len(stamps.dispatched),
        "buzzed": len(stamps.buzzed),
        "speed": SPEED,
        "rate_hz": RATE_HZ,
        "wall_s": round(run["wall_s"], 1),
        "stored": run["stored"],
        "first_of_bout": run["first_of_bout"],
        "deliveries": run["deliveries"],
        "received_to_buzzed": _summary(total),
        "received_to_decided": _summary(_gaps(stamps.received, stamps.decided, n)),
        "decided_to_dispatched": _summary(_gaps(stamps.decided, stamps.dispatched, n)),
        "dispatched_to_buzzed": _summary(_gaps(stamps.dispatched, stamps.buzzed, n)),
        "mean_ms": round(1000 * statistics.fmean(total), 2) if total else None,
        "target_s": TARGET_S,
    }
    summary = result["received_to_buzzed"]
    p99_s = summary["p99_ms"] / 1000.0 if isinstance(summary, dict) else float("inf")
    result["pass"] = matched and n == nudges and p99_s < TARGET_S
    print(
        f"   {n} nudges ({RATE_HZ:g} Hz {PROFILE} band at {SPEED:g}x, {result['wall_s']} s), "
        f"stored as {', '.join(run['deliveries'])}"
    )
    for key, what in (
        ("received_to_buzzed", "crossing block -> band write"),
        ("received_to_decided", "  of which pipeline + engine"),
        ("decided_to_dispatched", "  of which outbox (fsync) + dispatch"),
        ("dispatched_to_buzzed", "  of which BLE write (virtual radio)"),
    ):
        figures = result[key]
        if isinstance(figures, dict):
            print(
                f"   {what}: p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
                f"max {figures['max_ms']} ms"
            )
    print(f"   target: p99 < {TARGET_S:g} s; {'PASS' if result['pass'] else 'FAIL'}")
    return result


if __name__ == "__main__":
    main()
