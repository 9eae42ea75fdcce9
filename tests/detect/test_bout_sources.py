"""GaitBoutArbiter: one bout per walk when an IMU and a step source both see it."""

from __future__ import annotations

from sensorhub.detect.bout_sources import GaitBoutArbiter
from sensorhub.model import NS_PER_S, GaitBout

S = NS_PER_S


def bout(a_s: float, b_s: float, stride: float | None = None) -> GaitBout:
    return GaitBout(int(a_s * S), int(b_s * S), steps=int(b_s - a_s) * 2, cadence_spm=100.0,
                    stride_time_s=stride)  # fmt: skip


def test_the_secondary_bout_of_a_walk_the_primary_saw_is_dropped() -> None:
    arb = GaitBoutArbiter("imu")
    imu = bout(100, 200, stride=1.2)
    pod = bout(98, 203)
    # the step source reports first: held while the IMU's open bout (from 100 s) may overlap
    assert arb.add("steps", [pod], 205 * S).bouts_ == []
    assert arb.add("imu", [], 100 * S).bouts_ == []
    assert arb.add("imu", [imu], 210 * S).bouts_ == [imu]  # settled: overlapped, dropped
    assert arb.finish().bouts_ == []


def test_a_walk_only_the_secondary_saw_is_kept_once_the_primary_has_caught_up() -> None:
    arb = GaitBoutArbiter("imu")
    pod = bout(300, 360)
    arb.add("imu", [bout(100, 200, stride=1.2)], 300 * S)
    assert arb.add("steps", [pod], 362 * S).bouts_ == []
    assert arb.add("imu", [], 355 * S).bouts_ == []  # a bout may be open from 355 s
    assert arb.add("imu", [], 361 * S).bouts_ == [pod]


def test_held_bouts_are_released_when_the_primary_goes_silent() -> None:
    arb = GaitBoutArbiter("imu")
    arb.add("imu", [], 100 * S)  # the IMU stops delivering at 100 s
    pod = bout(200, 260)
    assert arb.add("steps", [pod], 300 * S).bouts_ == []
    assert arb.add("steps", [], 561 * S).bouts_ == [pod]  # 300 s past its end


def test_end_of_stream_judges_what_is_held() -> None:
    arb = GaitBoutArbiter("steps")
    band = bout(10, 70)
    imu_only = bout(500, 560, stride=1.1)
    imu_same_walk = bout(12, 68, stride=1.1)
    arb.add("steps", [band], 75 * S)
    arb.add("imu", [imu_same_walk, imu_only], 570 * S)
    assert arb.finish().bouts_ == [imu_only]


def test_bouts_of_the_primary_pass_at_once_and_long_streams_stay_small() -> None:
    arb = GaitBoutArbiter("imu")
    for k in range(2000):
        b = bout(k * 100, k * 100 + 50, stride=1.0)
        assert arb.add("imu", [b], (k * 100 + 60) * S).bouts_ == [b]
    assert len(arb._primary_bouts) <= 40  # an hour of history


def test_the_rest_of_a_walk_the_primary_saw_only_in_part_is_kept() -> None:
    arb = GaitBoutArbiter("imu")
    pod = GaitBout(300 * S, 420 * S, steps=120, cadence_spm=60.0, speed_mps=0.7)
    arb.add("steps", [pod], 430 * S)
    arb.add("imu", [bout(300, 315.5, stride=2.0), bout(400, 405, stride=2.0)], 440 * S)
    rest = arb.bouts_[2:]
    # 315.5-400 kept (84.5 s of 120 s: 84 steps); 405-420 kept (15 s: 15 steps)
    assert [(r.start_ns, r.end_ns, r.steps) for r in rest] == [
        (int(315.5 * S), 400 * S, 84),
        (405 * S, 420 * S, 15),
    ]
    assert all(r.cadence_spm == 60.0 and r.speed_mps == 0.7 for r in rest)


def test_uncovered_slivers_are_dropped() -> None:
    arb = GaitBoutArbiter("imu")
    arb.add("steps", [bout(100, 160)], 170 * S)
    arb.add("imu", [bout(103, 155, stride=1.0)], 200 * S)
    assert arb.bouts_ == [bout(103, 155, stride=1.0)]  # 3 s and 5 s left: under 8 s
