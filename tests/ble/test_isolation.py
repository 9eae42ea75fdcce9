"""One device's trouble stays with that device (issue #9 item 1), on the real BLE stack.

Sessions run against emulated bands on bumble through bleak, as in production. Nothing here
bounds a wall-clock duration: "after a while" is a condition on what the sessions counted, or
on the emulation's own clock, waited for with generous timeouts (the machine may be loaded).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import numpy as np
import pytest

from firmware_protocols.sig import AlertLevel
from sensorhub.ble.drivers import NudgeOutcome
from sensorhub.ble.session import DeviceBinding, DeviceSession
from sensorhub.ble.streams import StepData
from sensorhub.model import NS_PER_S, SampleBlock
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.fleet import SimulatedFleet
from sensorhub.sim.scenario import SCENARIOS
from tests.support.collector import START_UTC_NS, Collected, make_session
from tests.support.sim import wait_until

SPEED = 20.0


@contextlib.asynccontextmanager
async def running(
    sessions: list[DeviceSession],
) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Run ``sessions`` in one TaskGroup, as the hub does, and cancel them at the end."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(s.run(), name=s.binding.label) for s in sessions]
        try:
            yield tasks
        finally:
            for task in tasks:
                task.cancel()


def fleet_of(air: VirtualAir, profiles: list[str], **kwargs: object) -> SimulatedFleet:
    return SimulatedFleet(
        air,
        SCENARIOS["e2e-short"],
        profiles,
        speed=SPEED,
        start_utc_ns=START_UTC_NS,
        **kwargs,  # type: ignore[arg-type]
    )


def collecting(
    fleet: SimulatedFleet,
    on_block: Callable[[SampleBlock], Awaitable[None]] | None = None,
    **overrides: object,
) -> Collected:
    """A session of the fleet's first device (``on_block`` replaces the collecting one)."""
    result = Collected(fleet.devices[0], None)  # type: ignore[arg-type]
    result.session = make_session(fleet, fleet.devices[0], result, **overrides)
    if on_block is not None:
        result.session._on_block = on_block
    return result


# -- a band that never appears -------------------------------------------------------------


@pytest.mark.timeout(900)
async def test_a_band_that_never_appears_is_retried_while_another_streams(
    air: VirtualAir,
) -> None:
    """1 100 failed attempts (the old backoff overflowed at 1 024): no exception escapes,
    the band is marked unavailable, and the other band's data keeps flowing."""
    async with fleet_of(air, ["open-imu"]) as fleet:
        streaming = collecting(fleet)
        ghost = DeviceSession(
            DeviceBinding("sim-wearer-9", "open-imu", "wrist", name="OpenIMU nobody"),
            backend=fleet.backend,
            clock=fleet.clock(),
            on_block=streaming.session._on_block,
            scan_timeout_s=0.001,
            min_backoff_s=0.0001,
            max_backoff_s=0.001,
        )
        async with running([streaming.session, ghost]) as tasks:
            await asyncio.wait_for(streaming.session.streaming.wait(), 60)
            health = ghost.health
            await wait_until(lambda: health.connect_failures >= 1, timeout_s=60)
            assert not health.available
            first_unavailable = health.unavailable_since_utc_ns
            assert first_unavailable is not None
            milestones = []
            for failures in (100, 1000, 1100):
                await wait_until(lambda n=failures: health.connect_failures >= n, timeout_s=600)
                milestones.append(streaming.samples)
                assert not any(t.done() for t in tasks)
            assert health.consecutive_failures == health.connect_failures >= 1100
            assert health.errors == 0  # "not found" is expected, not a bug
            assert not health.available
            assert health.unavailable_since_utc_ns == first_unavailable
            # data flowed all along, also past the 1 024th failure
            assert milestones[0] < milestones[1] < milestones[2], milestones
            assert streaming.session.health.connects == 1
            assert not streaming.session.counters.gaps


async def test_an_unexpected_error_in_an_attempt_is_counted_and_retried(
    air: VirtualAir, caplog: pytest.LogCaptureFixture
) -> None:
    """Any exception out of one attempt (here a bug in the driver's start): logged once with
    its traceback, counted, retried; the session recovers when the bug goes away."""
    async with fleet_of(air, ["open-imu"]) as fleet:
        band = collecting(fleet)
        session = band.session
        start = session.driver.start
        failures_left = 3

        async def buggy_start(*args: object, **kwargs: object) -> object:
            nonlocal failures_left
            if failures_left:
                failures_left -= 1
                raise ZeroDivisionError("a bug")
            return await start(*args, **kwargs)  # type: ignore[arg-type]

        session.driver.start = buggy_start  # type: ignore[method-assign]
        async with running([session]):
            await asyncio.wait_for(session.streaming.wait(), 60)
            await wait_until(lambda: band.samples > 0, timeout_s=60)
        assert session.health.errors == 3
        assert session.health.consecutive_failures == 0
        assert session.health.available
        assert session.health.unavailable_since_utc_ns is None
        tracebacks = [r for r in caplog.records if r.exc_info and r.name.endswith("session")]
        assert len(tracebacks) == 1


# -- a handler that raises ------------------------------------------------------------------


async def test_a_handler_that_raises_loses_only_its_block(air: VirtualAir) -> None:
    """Every 100th block raises: each is counted, the rest arrive in order, the stream goes on."""
    async with fleet_of(air, ["open-imu"], rates_hz={"open-imu": 200.0}) as fleet:
        calls = 0
        raised = 0
        kept: list[SampleBlock] = []

        async def on_block(block: SampleBlock) -> None:
            nonlocal calls, raised
            calls += 1
            if calls % 100 == 0:
                raised += 1
                raise RuntimeError(f"handler bug at block {calls}")
            kept.append(block)

        band = collecting(fleet, on_block)
        session = band.session
        async with running([session]):
            await wait_until(lambda: calls >= 650, timeout_s=120)
        assert raised == calls // 100 >= 6
        assert session.counters.handler_errors == raised
        assert len(kept) == calls - raised
        starts = np.array([b.t_ns[0] for b in kept])
        assert np.all(np.diff(starts) > 0)  # in order
        assert session.counters.frames >= calls
        assert not session.counters.gaps  # the stream itself lost nothing
        assert session.health.connects == 1
        assert session.health.consumer_restarts == 0


async def test_the_decoding_task_is_supervised(air: VirtualAir) -> None:
    """A failure outside the handlers (a decoding bug) restarts the decoding task at once;
    a decoding task cancelled from outside is replaced by the connection loop."""
    async with fleet_of(air, ["open-imu"]) as fleet:
        band = collecting(fleet)
        session = band.session
        process = session.process
        bugs_left = 1

        def buggy_process(item):  # type: ignore[no-untyped-def]
            nonlocal bugs_left
            if item[2] and bugs_left:
                bugs_left -= 1
                raise KeyError("a decoding bug")
            return process(item)

        session.process = buggy_process  # type: ignore[method-assign]
        async with running([session]):
            await wait_until(lambda: band.samples > 0, timeout_s=60)
            assert session.health.consumer_restarts == 1
            consumer = session._consumer
            assert consumer is not None
            consumer.cancel()
            await wait_until(lambda: session.health.consumer_restarts == 2, timeout_s=60)
            before = band.samples
            await wait_until(lambda: band.samples > before, timeout_s=60)
        assert session.health.connects == 1


# -- a slow handler: the queue overflows ----------------------------------------------------


@pytest.mark.parametrize(("profile", "rate_hz"), [("open-imu", 50.0), ("infinitime", 10.0)])
async def test_overflow_is_counted_and_becomes_a_marked_gap(
    air: VirtualAir, profile: str, rate_hz: float
) -> None:
    """A handler that blocks: new notifications are dropped and counted, later data arrives,
    and the hole is one recorded gap of the dropped frames' length (for a device that stamps
    its samples and for one that does not), not a silent time jump."""
    async with fleet_of(air, [profile], rates_hz={profile: rate_hz}) as fleet:
        release = asyncio.Event()
        blocks: list[SampleBlock] = []

        async def on_block(block: SampleBlock) -> None:
            if len(blocks) == 5:
                await release.wait()
            blocks.append(block)

        band = collecting(fleet, on_block, max_queued=20)
        session = band.session
        counters = session.counters
        async with running([session]):
            await wait_until(lambda: counters.overflow >= 60, timeout_s=120)
            release.set()
            after_release = len(blocks)
            await wait_until(lambda: len(blocks) >= after_release + 60, timeout_s=120)
        assert session.health.stalls == 0
        assert session.health.connects == 1
        assert counters.gaps, "dropped frames must leave a recorded gap"
        dropped = counters.overflow
        samples_per_frame = len(blocks[0])
        period_ns = NS_PER_S / rate_hz
        # a gap runs from the last sample before it to the first after it (device clock)
        missing = sum(
            round((g.before_device_ns - g.after_device_ns) / period_ns) - 1  # type: ignore[operator]
            for g in counters.gaps
        )
        # InfiniTime's step count (every 10 s of its clock) shares the queue: a drop or two
        not_motion = 3 if profile == "infinitime" else 0
        low, high = (dropped - not_motion) * samples_per_frame, dropped * samples_per_frame
        assert low <= missing <= high, (missing, dropped, counters.gaps)
        assert len([b for b in blocks if b.gap_before_ns > 0]) == len(counters.gaps)
        # no silent time jump: the blocks span the samples received plus the missing ones
        # (within the link's delay, up to 0.1 s of real time on a loaded machine)
        received = sum(len(b) for b in blocks)
        span_ns = blocks[-1].t_ns[-1] - blocks[0].t_ns[0]
        expected_ns = (received + missing - 1) * period_ns
        assert abs(span_ns - expected_ns) <= 0.1 * SPEED * NS_PER_S, (span_ns, expected_ns)
        assert missing * period_ns > 0.2 * SPEED * NS_PER_S  # so a silent jump would show


# -- a second IMU that does not stream motion -----------------------------------------------


@pytest.mark.parametrize("profile", ["infinitime", "open-imu"])
async def test_without_motion_battery_steps_and_nudges_still_work(
    air: VirtualAir, profile: str
) -> None:
    """stream_motion=False: no motion is subscribed; battery, steps and nudges work, and the
    quiet link is not taken for a stalled one."""
    async with fleet_of(air, [profile]) as fleet:
        band = collecting(fleet, stream_motion=False)
        session = band.session
        clock = session._clock
        emulator = fleet.devices[0].emulator
        async with running([session]):
            await asyncio.wait_for(session.streaming.wait(), 60)
            t0 = clock.monotonic_ns()
            # four stall timeouts (1 s of host time each) pass without a motion notification
            await wait_until(lambda: clock.monotonic_ns() > t0 + 4 * NS_PER_S, timeout_s=120)
            if profile == "infinitime":
                await wait_until(lambda: bool(band.steps), timeout_s=120)
                assert isinstance(band.steps[-1], StepData)
                assert band.steps[-1].steps_total is not None
            result = await session.nudge(AlertLevel.MILD, "Time to stand up")
            assert result.outcome in (NudgeOutcome.WRITTEN, NudgeOutcome.ACKNOWLEDGED), result
            await wait_until(lambda: bool(emulator.alerts_received), timeout_s=30)
            assert not emulator.is_streaming
        assert session.counters.frames == 0
        assert band.blocks == []
        assert session.health.battery_pct is not None
        assert session.health.stalls == 0
        assert session.health.connects == 1
        assert session.health.available
