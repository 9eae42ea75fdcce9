"""Known-answer tests of the lower-trunk wavelet initial-contact method and bout cadence."""

from __future__ import annotations

import numpy as np
import pytest

from sensorhub.detect.gait import bout_metrics
from sensorhub.model import NS_PER_S
from sensorhub.signal.trunk_ic import minima_between_zero_crossings, trunk_initial_contacts

FS = 50.0


def test_one_minimum_per_closed_negative_lobe() -> None:
    t = np.arange(200) / FS
    y = np.sin(2 * np.pi * 1.0 * t)[None, :]  # negative lobes centred at 0.75 s + k
    rows, cols = minima_between_zero_crossings(y, 0, 200)
    # the last lobe (3.5-4 s) is cut by the window's end: not reported
    assert rows.tolist() == [0, 0, 0]
    assert (cols / FS).tolist() == pytest.approx([0.74, 1.74, 2.74], abs=0.03)
    _, cols = minima_between_zero_crossings(y[:, 60:], 0, 140)  # starts inside a lobe
    assert (cols / FS).tolist() == pytest.approx([0.54, 1.54], abs=0.03)


@pytest.mark.parametrize("cadence", [45.0, 80.0, 110.0, 140.0, 175.0])
def test_trunk_contacts_follow_the_step_rhythm(cadence: float) -> None:
    """Vertical trunk acceleration: about sinusoidal at the step rate, with a harmonic
    (Zijlstra & Hof 2003); it peaks after each heel strike."""
    step = 60.0 / cadence
    t = np.arange(int(12 * FS)) / FS
    phase = (t % step) / step
    v = 0.2 * np.cos(2 * np.pi * (phase - 0.15)) + 0.05 * np.cos(4 * np.pi * (phase - 0.15))
    v = v - v.mean()
    rng = np.random.default_rng(int(cadence))
    v = v + rng.normal(0, 0.005, len(v))
    lo, hi = int(2 * FS), int(10 * FS)
    _, cols = trunk_initial_contacts(v[None, :], FS, lo, hi, np.array([step]))
    expected = np.arange(np.ceil(2 / step), 10 / step) * step + 0.15 * step  # acc peaks
    assert abs(len(cols) - len(expected)) <= 1
    # each contact precedes its acceleration peak by less than half a step
    ic = cols / FS
    for p in expected:
        near = ic[(ic <= p + 0.02) & (ic > p - 0.5 * step)]
        assert len(near) >= 1 or p < lo / FS + 0.5 * step


def test_bout_cadence_is_not_quantised_to_the_sampling_interval() -> None:
    """140 steps/min sampled at 50 Hz: step times of 0.42 and 0.44 s, not their median."""
    exact = np.arange(60) * (60.0 / 140.0)
    t_ns = (np.round(exact * FS) / FS * NS_PER_S).astype(np.int64)
    nan = np.full(len(t_ns), np.nan)
    bout = bout_metrics(t_ns, nan, nan, nan, sensor_height_m=None)
    assert bout.cadence_spm == pytest.approx(140.0, abs=1.0)


def test_bout_cadence_ignores_a_pause_and_initiation_steps() -> None:
    steps = np.concatenate(([0.0, 0.9], 0.9 + np.arange(1, 20) * 0.55))
    steps = np.concatenate((steps, steps[-1] + 2.5 + np.arange(10) * 0.55))
    nan = np.full(len(steps), np.nan)
    bout = bout_metrics((steps * NS_PER_S).astype(np.int64), nan, nan, nan, sensor_height_m=None)
    assert bout.cadence_spm == pytest.approx(60 / 0.55, abs=1.0)
