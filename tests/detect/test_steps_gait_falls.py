"""Known-answer tests of steps, gait bouts and falls on synthetic signals."""

from __future__ import annotations

import numpy as np
import pytest

from sensorhub.model import NS_PER_S, Event, Fall, GaitBout, Placement, SampleBlock
from sensorhub.pipeline import Pipeline, PipelineSettings
from sensorhub.signal.synthetic import make_signal


def analyse(
    t_ns: np.ndarray, acc: np.ndarray, placement: Placement, fs: float = 50.0, **kw: object
) -> tuple[list[Event], np.ndarray]:
    p = Pipeline(placement, settings=PipelineSettings(**kw))  # type: ignore[arg-type]
    ev: list[Event] = []
    steps = []
    for i in range(0, len(t_ns), 3000):
        out = p.feed(SampleBlock(t_ns[i : i + 3000], acc[i : i + 3000], fs))
        ev += out.events
        steps.append(out.steps_ns)
    out = p.flush()
    ev += out.events
    steps.append(out.steps_ns)
    return ev, np.concatenate(steps)


@pytest.mark.parametrize("cadence", [45.0, 70.0, 105.0, 140.0, 175.0])
@pytest.mark.parametrize("placement", [Placement.LOWER_BACK, Placement.POCKET, Placement.WRIST])
def test_steps_and_cadence_across_the_walking_range(cadence: float, placement: Placement) -> None:
    sig = make_signal(
        [("standing", 20), ("walking", 60), ("standing", 20)],
        placement=placement,
        cadence_spm=cadence,
        seed=int(cadence),
    )
    ev, steps = analyse(sig.t_ns, sig.acc_g, placement)
    expected = cadence  # one minute of walking
    assert abs(len(steps) - expected) <= max(3, 0.05 * expected)
    (bout,) = [e for e in ev if isinstance(e, GaitBout)]
    assert bout.cadence_spm == pytest.approx(cadence, abs=2)
    t0 = int(sig.t_ns[0])
    assert (bout.start_ns - t0) / NS_PER_S == pytest.approx(20, abs=2)
    assert (bout.end_ns - t0) / NS_PER_S == pytest.approx(80, abs=2)


def test_gait_metrics_of_a_regular_walk() -> None:
    sig = make_signal([("walking", 90)], placement=Placement.LOWER_BACK, cadence_spm=110, seed=3)
    ev, _ = analyse(sig.t_ns, sig.acc_g, Placement.LOWER_BACK, sensor_height_m=0.95)
    (b,) = [e for e in ev if isinstance(e, GaitBout)]
    assert b.stride_time_s == pytest.approx(120 / 110, abs=0.03)
    assert b.stride_time_cv_pct is not None
    assert b.stride_time_cv_pct < 3
    assert b.asymmetry_pct is not None
    assert b.asymmetry_pct < 5
    assert b.step_regularity is not None
    assert b.step_regularity > 0.8
    assert b.speed_mps is not None
    assert 0.3 < b.speed_mps < 2.5


def test_no_steps_while_sitting_or_fidgeting() -> None:
    total = 0
    for seed in (4, 5, 6, 7):
        sig = make_signal(
            [("sitting", 300), ("fidget", 30), ("sitting", 300)],
            placement=Placement.POCKET,
            seed=seed,
        )
        _ev, steps = analyse(sig.t_ns, sig.acc_g, Placement.POCKET)
        sitting = (steps < sig.segments[0][2]) | (steps >= sig.segments[1][2])
        assert sitting.sum() == 0
        total += len(steps)
    # the synthetic fidget is band-limited noise around 1-2 Hz, nearly a rhythm: some steps
    # slip through (the raw-peak detector let 85 through in these two minutes of fidgeting,
    # the comb with its recurrence test 66, 75 with the limb stride decision that keeps the
    # cadence, sensorhub.detect.limb_steps; on the real static recordings 0-5 false steps
    # per hour remain, eval/RESULTS.md)
    assert total <= 80


def _fall_signal(kind: str, fs: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """Standing 20 s, an event at 20 s, then 15 s of the after-state (body frame, x up)."""
    rng = np.random.default_rng(0)
    n = int(35 * fs)
    t = np.arange(n) / fs
    acc = np.tile([1.0, 0.0, 0.0], (n, 1)) + rng.normal(0, 0.01, (n, 3))
    i0 = int(20 * fs)
    if kind == "fall":  # 0.4 s of near free fall, a 3 g impact, then lying still
        acc[i0 - int(0.4 * fs) : i0] = [0.2, 0.0, 0.05]
        acc[i0 : i0 + 5] = [1.0, 0.5, 2.8]
        acc[i0 + 5 :] = [0.05, 0.0, 1.0]
    elif kind == "jump":  # take-off, flight, landing peaks, still upright
        for k in range(5):
            j = i0 + int(k * 0.7 * fs)
            acc[j : j + int(0.25 * fs)] = [0.1, 0.0, 0.0]
            acc[j + int(0.25 * fs) : j + int(0.3 * fs)] = [3.0, 0.0, 0.2]
    elif kind == "sit_down":  # sitting down hard: 1.6 g, the thigh ends horizontal
        acc[i0 : i0 + 10] = [1.3, 0.1, 0.9]
        acc[i0 + 10 :] = [0.05, 0.0, 1.0]
    acc += rng.normal(0, 0.005, acc.shape)
    t_ns = (1_709_539_200 * NS_PER_S + t * NS_PER_S).astype(np.int64)
    return t_ns, acc


@pytest.mark.parametrize(("kind", "n_falls"), [("fall", 1), ("jump", 0), ("sit_down", 0)])
@pytest.mark.parametrize("placement", [Placement.POCKET, Placement.LOWER_BACK])
def test_fall_needs_impact_orientation_change_and_stillness(
    kind: str, n_falls: int, placement: Placement
) -> None:
    t_ns, acc = _fall_signal(kind)
    ev, _ = analyse(t_ns, acc, placement, fs=100.0)
    falls = [e for e in ev if isinstance(e, Fall)]
    assert len(falls) == n_falls
    if falls:
        assert (falls[0].start_ns - int(t_ns[0])) / NS_PER_S == pytest.approx(20, abs=1)
        assert 0.5 <= falls[0].confidence <= 1.0
