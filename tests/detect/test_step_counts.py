"""Known-answer and chunking tests of the step-counter and RSC cadence trackers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorhub.detect.step_counts import RscCadenceTracker, StepCounterTracker
from sensorhub.model import NS_PER_S, Posture

S = NS_PER_S
T0 = 1_790_000_040 * S  # on a minute boundary


def walk_counter(
    minutes: list[float], *, period_s: float = 1.0, start: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Counter readings every ``period_s`` for minutes at the given cadences (steps/min)."""
    n = round(len(minutes) * 60 / period_s)
    t_s = np.arange(n + 1) * period_s
    rate = np.repeat(np.asarray(minutes, dtype=float), round(60 / period_s)) / 60 * period_s
    counts = start + np.floor(np.concatenate([[0.0], np.cumsum(rate)]) + 1e-9).astype(np.int64)
    return T0 + np.round(t_s * S).astype(np.int64), counts


def run(tracker: StepCounterTracker, t: np.ndarray, c: np.ndarray) -> StepCounterTracker:
    return tracker.update(t, c, final=True)


@pytest.mark.parametrize("cadence", [40, 60, 100, 120, 180])
def test_one_bout_at_each_cadence(cadence: int) -> None:
    t, c = walk_counter([0, 0, cadence, cadence, cadence, 0, 0])
    tr = run(StepCounterTracker(), t, c)
    assert [e.steps for e in tr.epochs_] == [0, 0, cadence, cadence, cadence, 0, 0]
    (bout,) = tr.bouts_
    assert bout.start_ns == T0 + 120 * S
    assert bout.end_ns == T0 + 300 * S
    assert bout.steps == 3 * cadence
    assert bout.cadence_spm == pytest.approx(cadence)
    assert bout.stride_time_s is None
    assert bout.speed_mps is None
    assert tr.brisk_s_ == (180.0 if cadence >= 100 else 0.0)
    assert tr.epochs_[2].posture is Posture.WALKING
    assert tr.epochs_[0].posture is Posture.UNKNOWN


def test_below_40_spm_is_not_walking() -> None:
    t, c = walk_counter([30, 30, 30])
    tr = run(StepCounterTracker(), t, c)
    assert tr.bouts_ == []
    assert sum(e.steps for e in tr.epochs_) == 90


def test_split_bouts_and_epoch_total_equals_counter() -> None:
    t, c = walk_counter([100, 100, 0, 80, 0], period_s=10.0)
    tr = run(StepCounterTracker(), t, c)
    assert [(b.steps, round(b.cadence_spm)) for b in tr.bouts_] == [(200, 100), (80, 80)]
    assert sum(e.steps for e in tr.epochs_) == tr.total_steps_ == c[-1] - c[0]


def test_u32_wrap_around() -> None:
    t, c = walk_counter([120, 120, 120], start=2**32 - 100)
    tr = run(StepCounterTracker(), t, c % 2**32)
    assert tr.wraps_ == 1
    assert tr.resets_ == 0
    assert tr.total_steps_ == 360
    assert tr.bouts_[0].steps == 360


def test_u16_wrap_around_of_a_metawear_counter() -> None:
    t, c = walk_counter([120, 120], start=2**16 - 50)
    tr = run(StepCounterTracker(counter_bits=16), t, c)
    assert tr.wraps_ == 1
    assert tr.total_steps_ == 240


def test_reset_counts_the_steps_since_the_reset() -> None:
    t, c = walk_counter([100, 100, 100], start=5000)
    c = c.copy()
    c[90:] -= c[89]  # device rebooted between t=89 s and 90 s: it counts from 0 again
    tr = run(StepCounterTracker(), t, c)
    assert tr.resets_ == 1
    assert tr.wraps_ == 0
    assert tr.total_steps_ == 300
    assert tr.unplaced_steps_ == 0


def test_duplicates_and_out_of_order_readings_are_dropped() -> None:
    t, c = walk_counter([100, 100])
    order = np.concatenate([np.arange(60), [59, 59, 30], np.arange(60, len(t))])
    tr = run(StepCounterTracker(), t[order], c[order])
    assert tr.duplicates_ == 3
    assert tr.total_steps_ == 200


def test_a_long_gap_is_never_filled() -> None:
    t, c = walk_counter([100] * 6)
    keep = (t < T0 + 120 * S) | (t >= T0 + 240 * S)  # 2 minutes without readings
    tr = run(StepCounterTracker(max_interval_s=60), t[keep], c[keep])
    assert tr.gaps_ == 1
    # the last reading before the gap is at 119 s, the first after at 240 s
    assert tr.unplaced_steps_ == 202
    assert tr.total_steps_ == 398
    assert [e.start_ns for e in tr.epochs_] == [T0 + k * 60 * S for k in (0, 1, 4, 5)]
    assert [b.steps for b in tr.bouts_] == [198, 200]  # the gap breaks the bout


def test_a_short_gap_is_spread_over_its_interval() -> None:
    t, c = walk_counter([100] * 3)
    keep = (t <= T0 + 50 * S) | (t >= T0 + 80 * S)
    tr = run(StepCounterTracker(max_interval_s=60), t[keep], c[keep])
    assert tr.gaps_ == 0
    assert [e.steps for e in tr.epochs_] == [100, 100, 100]


def test_an_implausible_jump_is_not_placed() -> None:
    t, c = walk_counter([100, 100])
    c = c.copy()
    c[60:] += 5000  # 5000 steps in one second
    tr = run(StepCounterTracker(), t, c)
    assert tr.unplaced_steps_ == 5000 + 2
    assert tr.total_steps_ == 198


def test_rsc_bout_with_speed_and_distance() -> None:
    t = T0 + np.arange(0, 361) * S
    walking = (t > T0 + 60 * S) & (t <= T0 + 300 * S)
    cadence = np.where(walking, 110.0, 0.0)
    speed = np.where(walking, 1.2, 0.0)
    tr = RscCadenceTracker().update(t, cadence, speed, final=True)
    (bout,) = tr.bouts_
    assert bout.start_ns == T0 + 60 * S
    assert bout.end_ns == T0 + 300 * S
    assert bout.steps == 440
    assert bout.cadence_spm == pytest.approx(110)
    assert bout.speed_mps == pytest.approx(1.2)
    assert tr.distances_[0].distance_m == pytest.approx(288.0)
    assert [e.steps for e in tr.epochs_] == [0, 110, 110, 110, 110, 0]


def test_rsc_speed_from_stride_length_and_gaps() -> None:
    t = T0 + np.arange(0, 241) * S
    t = t[(t < T0 + 100 * S) | (t > T0 + 130 * S)]
    cadence = np.full(len(t), 100.0)
    tr = RscCadenceTracker().update(t, cadence, None, np.full(len(t), 1.2), final=True)
    assert tr.gaps_ == 1
    assert [b.speed_mps for b in tr.bouts_] == [pytest.approx(1.0)] * 2
    assert tr.total_steps_ == pytest.approx(100 * (240 - 32) / 60)  # 99 s -> 131 s is a gap


def test_rsc_zero_speed_while_walking_means_no_speed() -> None:
    t = T0 + np.arange(0, 121) * S
    tr = RscCadenceTracker().update(t, np.full(121, 90.0), np.zeros(121), final=True)
    assert tr.bouts_[0].speed_mps is None
    assert tr.distances_ == []


def _chunks(n: int, cuts: list[int]) -> list[slice]:
    edges = sorted({0, n, *(k % (n + 1) for k in cuts)})
    return [slice(a, b) for a, b in itertools.pairwise(edges)]


@settings(max_examples=40, deadline=None)
@given(
    cadences=st.lists(st.sampled_from([0, 20, 40, 75, 100, 180]), min_size=1, max_size=8),
    cuts=st.lists(st.integers(0, 10_000), max_size=12),
    period=st.sampled_from([1.0, 7.5, 10.0]),
)
def test_counter_streaming_equals_batch(
    cadences: list[int], cuts: list[int], period: float
) -> None:
    t, c = walk_counter([float(x) for x in cadences], period_s=period)
    batch = StepCounterTracker().update(t, c, final=True)
    stream = StepCounterTracker()
    epochs, bouts = [], []
    for part in _chunks(len(t), cuts):
        stream.update(t[part], c[part])
        epochs += stream.epochs_
        bouts += stream.bouts_
    stream.update(t[:0], c[:0], final=True)
    assert epochs + stream.epochs_ == batch.epochs_
    assert bouts + stream.bouts_ == batch.bouts_
    assert sum(e.steps for e in batch.epochs_) == c[-1] - c[0]


@settings(max_examples=40, deadline=None)
@given(
    cadences=st.lists(st.sampled_from([0.0, 35.0, 40.0, 90.0, 130.0]), min_size=1, max_size=6),
    cuts=st.lists(st.integers(0, 10_000), max_size=12),
)
def test_rsc_streaming_equals_batch(cadences: list[float], cuts: list[int]) -> None:
    t = T0 + np.arange(len(cadences) * 60 + 1) * S
    cad = np.concatenate([[0.0], np.repeat(cadences, 60)])
    speed = cad / 100
    batch = RscCadenceTracker().update(t, cad, speed, final=True)
    stream = RscCadenceTracker()
    epochs, bouts, dist = [], [], []
    for part in _chunks(len(t), cuts):
        stream.update(t[part], cad[part], speed[part])
        epochs += stream.epochs_
        bouts += stream.bouts_
        dist += stream.distances_
    stream.update(t[:0], cad[:0], speed[:0], final=True)
    assert epochs + stream.epochs_ == batch.epochs_
    assert bouts + stream.bouts_ == batch.bouts_
    assert dist + stream.distances_ == batch.distances_
