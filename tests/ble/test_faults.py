"""The collector under injected faults, judged by the emulators' own logs of what they sent.

Every run is on a virtual clock (``run_collect``): the emulated link has no delay and a
reconnection takes the same emulated time on any machine, however loaded. Times on the
wearer's timeline are therefore judged to a sample period, not to a guessed link delay.
"""

from __future__ import annotations

import numpy as np
import pytest

from sensorhub.model import NS_PER_S
from sensorhub.sim.faults import FaultSpec
from sensorhub.sim.scenario import Scenario, Segment
from sensorhub.sim.wearables import truth_gaps_s
from tests.support.collector import START_UTC_NS, Collected, run_collect


def day(minutes: float, seed: int = 21) -> Scenario:
    """Sitting and walking in turns, ``minutes`` long."""
    segments = []
    for i in range(int(minutes // 2)):
        segments.append(Segment("sitting" if i % 2 == 0 else "walking", 120.0))
    return Scenario("turns", tuple(segments), seed=seed)


def assert_gaps_match_truth(result: Collected) -> None:
    """Every hole in what the device delivered is one recorded gap, with bounds +-1 period.

    Bounds on the device clock must match the emulator's to one sample period, and so must
    the gap's length and position in UTC (the virtual link adds no delay to place).
    """
    emulator = result.device.emulator
    truth = truth_gaps_s(emulator.truth)
    gaps = result.session.counters.gaps
    assert len(gaps) == len(truth), (len(gaps), len(truth))
    rate = emulator.truth[0].sample_rate_hz
    period_s = 1.0 / rate
    device_zero_ns = emulator.sample_device_time_ns(0, rate)
    for gap, (after_s, before_s) in zip(gaps, truth, strict=True):
        assert gap.after_device_ns is not None
        assert gap.before_device_ns is not None
        assert (gap.after_device_ns - device_zero_ns) / NS_PER_S == pytest.approx(
            after_s, abs=period_s
        )
        assert (gap.before_device_ns - device_zero_ns) / NS_PER_S == pytest.approx(
            before_s, abs=period_s
        )
        assert (gap.before_ns - gap.after_ns) / NS_PER_S == pytest.approx(
            before_s - after_s, abs=period_s
        )
        assert (gap.after_ns - START_UTC_NS) / NS_PER_S == pytest.approx(after_s, abs=period_s)


def by_model(results: list[Collected]) -> dict[str, Collected]:
    return {r.device.binding.profile: r for r in results}


def last_sample_s(result: Collected) -> float:
    return (result.blocks[-1].end_ns - START_UTC_NS) / NS_PER_S


def assert_streaming_to_the_end(result: Collected, until_s: float) -> None:
    """The device streamed until the run ended (its last frame, whatever its fate, is the one
    due by then), and the collector got the last frame sent intact, placed at its time (to
    the clocks' ns roundings)."""
    last = result.device.emulator.truth[-1]
    frame_s = last.n_samples / last.sample_rate_hz
    assert until_s - frame_s < last.last_time_s <= until_s
    last_sent = result.device.emulator.frames("sent")[-1]
    assert last_sample_s(result) == pytest.approx(last_sent.last_time_s, abs=1e-6)


# ------------------------------------------------------------------ 50 disconnects

# The emulator defers a drop until the link streams again, so reconnections that take longer than
# the spacing of the drops (7.8 s) would pile them up at the end of the run. On the virtual
# clock a reconnection (backoff of at most 0.1 s, scan, connect, stream start) takes the same
# emulated time on any machine: under 0.15 s, 3 s of scenario at 20x.
DISCONNECT_SPEED = 20.0
DISCONNECT_SCENARIO = day(8)


@pytest.fixture(scope="module")
def disconnect_run() -> dict[str, Collected]:
    return by_model(
        run_collect(
            ["open-imu", "polar-h10"],
            DISCONNECT_SCENARIO,
            speed=DISCONNECT_SPEED,
            until_s=DISCONNECT_SCENARIO.duration_s,
            faults=FaultSpec(disconnects=50),
            # the last drop at least 90 s before the end: the reconnection after it (3 s of
            # scenario) and some streaming fall inside the run
            fault_window_s=DISCONNECT_SCENARIO.duration_s - 90,
        )
    )


@pytest.mark.parametrize("model", ["open-imu", "polar-h10"])
def test_after_50_disconnects_the_collector_still_streams_and_records_every_gap(
    disconnect_run: dict[str, Collected], model: str
) -> None:
    result = disconnect_run[model]
    emulator, session = result.device.emulator, result.session
    assert sum(e.kind == "disconnect" for e in emulator.events) == 50
    # every link drop was followed by a reconnection (drops hit streaming links only)
    assert session.health.connects == 51
    assert len(session.counters.gaps) == 50
    # zero samples lost except inside the faults: all that was sent arrived
    assert result.samples == emulator.samples("sent")
    # still streaming at the end
    assert_streaming_to_the_end(result, DISCONNECT_SCENARIO.duration_s)
    assert_gaps_match_truth(result)


# ------------------------------------------------------------------ corrupted packets

CORRUPT_MODELS = ["polar-h10", "polar-verity-sense", "open-imu", "metawear", "rsc-footpod"]


@pytest.fixture(scope="module")
def corrupt_run() -> dict[str, Collected]:
    return by_model(
        run_collect(
            CORRUPT_MODELS, day(6), speed=100.0, until_s=200.0, faults=FaultSpec(corrupt=0.05)
        )
    )


@pytest.mark.parametrize("model", CORRUPT_MODELS)
def test_corrupted_packets_never_stop_a_stream(
    corrupt_run: dict[str, Collected], model: str
) -> None:
    result = corrupt_run[model]
    emulator, counters = result.device.emulator, result.session.counters
    corrupted = len(emulator.frames("corrupted"))
    assert corrupted >= 2
    assert counters.decode_errors == corrupted
    if model == "rsc-footpod":
        assert counters.measurements >= emulator.samples("sent")
        return
    assert result.samples == emulator.samples("sent")
    assert_streaming_to_the_end(result, 200.0)
    if model != "metawear":  # MetaWear frames carry no counter or time: holes are invisible
        assert_gaps_match_truth(result)


# ------------------------------------------------------------------ reboots, refusals

REBOOT_SPEED = 100.0


@pytest.fixture(scope="module")
def reboot_run() -> dict[str, Collected]:
    return by_model(
        run_collect(
            ["polar-h10", "open-imu", "infinitime"],
            day(6),
            speed=REBOOT_SPEED,
            until_s=240.0,
            faults=FaultSpec(reboot=1, refuse=3),
            # the reboot falls between 23 % and 77 % of this: after the first connection
            # (the refusals cost seconds) and early enough to reconnect before 240 s
            fault_window_s=250.0,
        )
    )


@pytest.mark.parametrize("model", ["polar-h10", "open-imu", "infinitime"])
def test_a_rebooting_device_is_picked_up_again(
    reboot_run: dict[str, Collected], model: str
) -> None:
    result = reboot_run[model]
    emulator, session = result.device.emulator, result.session
    assert sum(e.kind == "refuse" for e in emulator.events) >= 3
    [reboot] = [e for e in emulator.events if e.kind == "reboot"]
    assert emulator.boot == 1
    assert [f for f in emulator.frames("sent") if f.boot == 0], "streamed before the reboot"
    after = [f for f in emulator.frames("sent") if f.boot == 1]
    assert after, "the device streamed again after its reboot"
    assert result.samples == emulator.samples("sent")
    [gap] = session.counters.gaps
    if model != "infinitime":  # unstamped: nothing to step
        assert session.counters.clock_steps == 1  # the device clock restarted
    # the gap covers the reboot and the reconnection, placed from host time: on the virtual
    # clock, where the link has no delay, to a sample period
    period_s = 1 / after[0].sample_rate_hz
    gap_after_s = (gap.after_ns - START_UTC_NS) / NS_PER_S
    gap_before_s = (gap.before_ns - START_UTC_NS) / NS_PER_S
    assert gap_after_s <= reboot.scenario_time_s + period_s
    assert gap_before_s >= reboot.scenario_time_s
    assert gap_before_s == pytest.approx(after[0].first_time_s, abs=period_s)
    t = np.concatenate([b.t_ns for b in result.blocks])
    assert np.all(np.diff(t) > 0)


# ------------------------------------------------------------------ clock skew and steps

SKEW_PPM = 500.0


@pytest.fixture(scope="module")
def skew_run() -> dict[str, Collected]:
    return by_model(
        run_collect(
            ["open-imu", "polar-h10"],
            day(8),
            speed=100.0,
            until_s=420.0,
            faults=FaultSpec(skew_ppm=SKEW_PPM, jump_s=30),
        )
    )


@pytest.mark.parametrize("model", ["open-imu", "polar-h10"])
def test_clock_skew_is_corrected_and_a_jump_is_not_a_gap(
    skew_run: dict[str, Collected], model: str
) -> None:
    result = skew_run[model]
    counters, mapper = result.session.counters, result.session.stream.mapper
    assert counters.clock_steps == 1
    assert not counters.gaps  # a clock step is not missing data
    emulator = result.device.emulator
    assert result.samples == emulator.samples("sent")
    # The device clock runs 500 ppm fast: the fitted line says so, and the mapped times follow
    # the wearer's timeline across the jump to well under a sample period (20 ms), where an
    # uncorrected skew would be 0.2 s off by the end. On the virtual clock the link adds no
    # delay noise; the mapping under realistic delays is tested in tests/ble/test_timesync.py.
    assert mapper.state.skew_ppm == pytest.approx(-SKEW_PPM, abs=10)
    sent = emulator.frames("sent")
    scenario_s = np.concatenate(
        [(f.first_sample_index + np.arange(f.n_samples)) / f.sample_rate_hz for f in sent]
    )
    t = np.concatenate([b.t_ns for b in result.blocks])
    np.testing.assert_allclose((t - START_UTC_NS) / NS_PER_S, scenario_s, rtol=0, atol=1e-3)
    # the times stay strictly increasing across the step
    assert np.all(np.diff(t) > 0)
