"""Known-answer tests of the peak step method's comb (limb and phone placements)."""

from __future__ import annotations

import numpy as np
import pytest

from sensorhub.detect.steps import DetectedSteps, StepDetector, periodic_average

FS = 50.0
PRE = 80  # 1.6 s of context on each side, as the pipeline cuts them
SPF = 50


def _frames(
    vertical: np.ndarray, period_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frame windows of a vertical signal (device x up): windows, gravity, periods, frame k."""
    ks = np.arange(PRE // SPF + 1, (len(vertical) - PRE) // SPF - 1)
    idx = (ks * SPF - PRE)[:, None] + np.arange(PRE + SPF + PRE)[None, :]
    w = np.zeros((len(ks), idx.shape[1], 3))
    w[:, :, 0] = 1.0 + vertical[idx]
    g = np.tile([1.0, 0.0, 0.0], (len(ks), 1))
    return w, g, np.full(len(ks), period_s), ks


def _step_times(found: DetectedSteps, ks: np.ndarray) -> np.ndarray:
    return np.asarray(ks[found.rows] + found.samples / FS, dtype=float)


def _bump(t: np.ndarray, at: np.ndarray, height: np.ndarray, width_s: float = 0.06) -> np.ndarray:
    d = t[:, None] - at[None, :]
    return np.asarray((height[None, :] * np.exp(-0.5 * (d / width_s) ** 2)).sum(axis=1))


def test_periodic_average_keeps_a_rhythm_and_damps_a_lone_jolt() -> None:
    t = np.arange(400) / FS
    x = np.sin(2 * np.pi * t / 1.0)[None, :]
    out = periodic_average(x, 50, 2)
    assert out[0, 100:300] == pytest.approx(x[0, 100:300], abs=1e-9)
    jolt = np.zeros((1, 400))
    jolt[0, 200] = 1.0
    out = periodic_average(jolt, 50, 2)
    assert out[0, 200] == pytest.approx(0.2)  # averaged with 4 quiet copies
    assert periodic_average(x, 0, 2) is x


def test_one_step_per_stride_when_both_feet_peak_alike() -> None:
    """A back-pocket phone: each stride (1.04 s) has two peaks, one per foot, about as high
    (one foot's 4 % higher on average, each peak varying by 6 %). Judged on the raw signal,
    a peak outranked by the other foot's next one half a stride later is dropped, and runs
    of such peaks lose stride after stride; on the comb (+-2 strides) one foot's peaks stay
    ahead."""
    stride = 1.04
    rng = np.random.default_rng(5)
    t = np.arange(int(130 * FS)) / FS
    a = np.arange(0.5, 129.5, stride)
    v = _bump(t, a, 0.51 + 0.03 * rng.standard_normal(len(a)))
    v += _bump(t, a + stride / 2, 0.49 + 0.03 * rng.standard_normal(len(a)))
    w, g, p, ks = _frames(v, stride)
    every = np.ones(len(ks), bool)
    comb = StepDetector().detect(
        w, g, p, fs_hz=FS, pre_samples=PRE, samples_per_frame=SPF, gait_rows=every
    )
    n_comb = len(_step_times(comb, ks))
    # the raw dominance test (still used outside gait by the trunk method)
    raw = StepDetector(method="trunk_wavelet").detect(
        w, g, p, fs_hz=FS, pre_samples=PRE, samples_per_frame=SPF, gait_rows=~every
    )
    n_raw = len(_step_times(raw, ks))
    strides = int(((a >= ks[0]) & (a < ks[-1] + 1)).sum())
    # where the feet swap rank the comb may switch feet (half a stride early or late; the
    # pipeline's midpoint steps make up for it), but it does not lose strides
    assert abs(n_comb - strides) <= 0.05 * strides
    assert n_raw < 0.8 * strides


def test_a_lone_jolt_is_no_step_outside_walking_and_has_no_echoes() -> None:
    t = np.arange(int(20 * FS)) / FS
    rng = np.random.default_rng(1)
    v = 0.01 * rng.standard_normal(len(t)) + _bump(t, np.array([10.3]), np.array([0.6]))
    w, g, p, ks = _frames(v, 1.0)
    det = StepDetector()
    found = det.detect(w, g, p, fs_hz=FS, pre_samples=PRE, samples_per_frame=SPF, gait_rows=None)
    walking = _step_times(found, ks)
    assert len(walking) <= 1  # the jolt itself at most, never its copies a period away
    found = det.detect(
        w, g, p, fs_hz=FS, pre_samples=PRE, samples_per_frame=SPF, gait_rows=np.zeros(len(ks), bool)
    )
    assert len(_step_times(found, ks)) == 0  # it does not recur: not a step outside walking


def test_rows_do_not_influence_each_other() -> None:
    """Streaming equals batch: a frame's steps do not depend on the other rows in a call."""
    rng = np.random.default_rng(2)
    t = np.arange(int(30 * FS)) / FS
    v = 0.3 * np.sin(2 * np.pi * t / 0.55) + 0.05 * rng.standard_normal(len(t))
    w, g, _, ks = _frames(v, 0.55)
    p = rng.choice([0.55, 0.6, 1.1], size=len(ks))  # different groups inside the call
    gait = rng.random(len(ks)) < 0.5
    det = StepDetector()
    found = det.detect(w, g, p, fs_hz=FS, pre_samples=PRE, samples_per_frame=SPF, gait_rows=gait)
    together = _step_times(found, ks)
    alone = []
    for i in range(len(ks)):
        found = det.detect(
            w[i : i + 1],
            g[i : i + 1],
            p[i : i + 1],
            fs_hz=FS,
            pre_samples=PRE,
            samples_per_frame=SPF,
            gait_rows=gait[i : i + 1],
        )
        alone.append(_step_times(found, ks[i : i + 1]))
    assert together.tolist() == np.concatenate(alone).tolist()
