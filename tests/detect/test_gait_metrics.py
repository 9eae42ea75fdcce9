"""Known-answer tests of the added gait and activity metrics: harmonic ratio (Menz et al.
2003), mean amplitude deviation (Vähä-Ypyä et al. 2015) and the shuffling-step share."""

from __future__ import annotations

import numpy as np
import pytest

from sensorhub.detect.gait import SHUFFLE_STEP_LENGTH_M, ZIJLSTRA_K, bout_metrics
from sensorhub.model import NS_PER_S, GaitBout, Placement, SampleBlock
from sensorhub.pipeline import Pipeline, PipelineSettings
from sensorhub.signal.features import compute_features, harmonic_ratio
from sensorhub.signal.frames import FrameWindower
from sensorhub.signal.synthetic import make_signal

FS = 50.0
WIDTH = 350  # a 7-s context window at the 50-Hz grid
UP = np.array([0.3, -0.2, 0.93]) / np.linalg.norm([0.3, -0.2, 0.93])


def _window(v: np.ndarray) -> np.ndarray:
    """A device-frame window whose acceleration along UP is 1 g + v (plus sideways sway)."""
    side = np.cross(UP, [1.0, 0.0, 0.0])
    side /= np.linalg.norm(side)
    t = np.arange(len(v)) / FS
    return (
        UP[None, :] * (1.0 + v[:, None])
        + side[None, :] * 0.1 * np.sin(2 * np.pi * 0.9 * t)[:, None]
    )


@pytest.mark.parametrize("stride_s", [0.9, 1.037, 1.1, 1.3])
def test_harmonic_ratio_of_a_known_harmonic_mix(stride_s: float) -> None:
    rng = np.random.default_rng(1)
    even = {2: 1.0, 4: 0.4, 6: 0.15}
    odd = {1: 0.2, 3: 0.12, 5: 0.05}
    t = np.arange(WIDTH) / FS
    v = sum(
        a * np.cos(2 * np.pi * k * t / stride_s + rng.uniform(0, 2 * np.pi))
        for k, a in (even | odd).items()
    )
    expected = sum(even.values()) / sum(odd.values())  # 4.19
    # the step period as the features give it: quantised to the half-rate autocorrelation lag
    step = np.round(stride_s / 2 * FS / 2) / (FS / 2)
    (hr,) = harmonic_ratio(_window(v)[None], UP[None], np.array([step]), FS)
    assert hr == pytest.approx(expected, rel=0.05)
    # one stride from a given sample (a step), and from one that would run past the window
    starts = np.array([175.0, 340.0])
    two = np.repeat(_window(v)[None], 2, axis=0)
    hr1 = harmonic_ratio(two, np.stack((UP, UP)), np.array([step, step]), FS, start=starts)
    assert hr1 == pytest.approx([expected, expected], rel=0.05)


def _steps(t: np.ndarray, step_s: float, amps: tuple[float, float]) -> np.ndarray:
    """A vertical step pattern: one smooth bump per step, alternate steps of given heights."""
    phase = t / step_s
    n = np.floor(phase).astype(int)
    bump = np.sin(np.pi * (phase - n)) ** 4
    return 0.3 * np.where(n % 2 == 0, amps[0], amps[1]) * bump


def test_asymmetric_steps_lower_the_harmonic_ratio() -> None:
    t = np.arange(WIDTH) / FS
    sym = _window(_steps(t, 0.55, (1.0, 1.0)) - 0.1)
    asym = _window(_steps(t, 0.55, (1.0, 0.6)) - 0.1)
    rng = np.random.default_rng(2)
    noise = rng.normal(0, 0.01, size=sym.shape)
    hr = harmonic_ratio(np.stack((sym + noise, asym + noise)), np.stack((UP, UP)),
                        np.array([0.56, 0.56]), FS)  # fmt: skip
    assert hr[0] > 4.0  # alike steps: the even harmonics dominate
    assert hr[1] < 0.5 * hr[0]
    assert 1.0 < hr[1] < 3.0


def test_harmonic_ratio_needs_a_period() -> None:
    w = _window(np.zeros(WIDTH))[None]
    assert np.isnan(harmonic_ratio(w, UP[None], np.array([np.nan]), FS)).all()


def test_mad_of_a_sinusoid_is_its_mean_absolute_deviation() -> None:
    amp, f = 0.2, 2.0  # |a| = 1 g + 0.2 g sin(2 pi 2 t): MAD = 2 * 0.2 / pi g = 127.3 mg
    n = 20 * 50
    t = np.arange(n) / FS
    acc = UP[None, :] * (1.0 + amp * np.sin(2 * np.pi * f * t))[:, None]
    win = FrameWindower(samples_per_frame=50, pre_samples=150, post_samples=150)
    batch = win.push(0, acc)
    assert batch is not None
    feats = compute_features(batch, fs_hz=FS, samples_per_frame=50, context_frames=3,
                             gravity_half_frames=1, periodicity_min_rms_g=0.03)  # fmt: skip
    assert feats.mad_mg == pytest.approx(2 * amp / np.pi * 1000, rel=0.01)
    # ENMO of the same signal: mean of max(0, |a| - 1) = amp / pi
    assert feats.enmo_mg == pytest.approx(amp / np.pi * 1000, rel=0.01)


def test_epochs_carry_mad() -> None:
    amp = 0.1
    n = int(180 * FS)
    t = np.arange(n) / FS
    acc = UP[None, :] * (1.0 + amp * np.sin(2 * np.pi * 3.0 * t))[:, None]
    p = Pipeline(Placement.CHEST, fs_hz=FS)
    t_ns = 1_700_000_040 * NS_PER_S + np.round(t * NS_PER_S).astype(np.int64)
    epochs = p.feed(SampleBlock(t_ns, acc, FS)).epochs + p.flush().epochs
    full = [e for e in epochs if e.duration_s == 60 and e.mad_mg is not None]
    assert full
    inner = full[1:-1] or full
    assert inner[0].mad_mg == pytest.approx(2 * amp / np.pi * 1000, rel=0.02)


def _bout(excursion_m: float, sensor_height_m: float | None) -> GaitBout:
    steps = (np.arange(20) * 0.55 * NS_PER_S).astype(np.int64)
    nan = np.full(20, np.nan)
    return bout_metrics(steps, nan, nan, np.full(20, excursion_m), sensor_height_m=sensor_height_m)


def test_shuffling_share_from_the_step_length() -> None:
    # l = 0.9 m: a 4-cm excursion is a 0.61-m step, 0.8 cm a 0.27-m step
    assert _bout(0.04, 0.9).shuffling_pct == 0.0
    assert _bout(0.008, 0.9).shuffling_pct == 100.0
    assert _bout(0.008, None).shuffling_pct is None  # without the sensor height: unknown
    h = 0.017  # close to the threshold: L = K * 2 * sqrt(2 l h - h^2)
    length = ZIJLSTRA_K * 2 * np.sqrt(2 * 0.9 * h - h * h)
    assert (_bout(h, 0.9).shuffling_pct == 100.0) == (length < SHUFFLE_STEP_LENGTH_M)


def _walk_bouts(
    scale: float, placement: Placement, sensor_height_m: float | None
) -> list[GaitBout]:
    sig = make_signal([("standing", 20), ("walking", 60), ("standing", 20)], placement=placement,
                      seed=3)  # fmt: skip
    acc = sig.acc_g.copy()
    a, b = round(20 * sig.fs_hz), round(80 * sig.fs_hz)
    mean = acc[a:b].mean(axis=0)
    acc[a:b] = mean + scale * (acc[a:b] - mean)  # the same walk with smaller trunk excursions
    p = Pipeline(placement, fs_hz=sig.fs_hz,
                 settings=PipelineSettings(sensor_height_m=sensor_height_m))  # fmt: skip
    events = p.feed(SampleBlock(sig.t_ns, acc, sig.fs_hz)).events + p.flush().events
    return [e for e in events if isinstance(e, GaitBout)]


def test_low_excursion_walking_is_shuffling_and_normal_walking_is_not() -> None:
    (normal,) = _walk_bouts(1.0, Placement.LOWER_BACK, 0.9)
    (low,) = _walk_bouts(0.3, Placement.LOWER_BACK, 0.9)
    assert normal.shuffling_pct is not None
    assert normal.shuffling_pct < 10.0
    assert low.shuffling_pct is not None
    assert low.shuffling_pct > 90.0
    (unknown,) = _walk_bouts(1.0, Placement.LOWER_BACK, None)
    assert unknown.shuffling_pct is None


def test_harmonic_ratio_only_at_the_trunk() -> None:
    (back,) = _walk_bouts(1.0, Placement.LOWER_BACK, None)
    assert back.harmonic_ratio is not None
    assert back.harmonic_ratio > 3.0
    bouts = _walk_bouts(1.0, Placement.WRIST, None)
    assert bouts
    assert all(b.harmonic_ratio is None for b in bouts)


def test_analysis_summary_reports_walking_endurance_and_mad() -> None:
    from sensorhub.io.analysis import analyze_recording
    from sensorhub.io.readers import Recording

    sig = make_signal(
        [("standing", 30), ("walking", 75), ("standing", 30), ("walking", 30), ("standing", 20)],
        placement=Placement.LOWER_BACK,
        seed=5,
    )
    doc = analyze_recording(Recording(sig.acc_g, sig.fs_hz), Placement.LOWER_BACK)
    durations = [b["end_s"] - b["start_s"] for b in doc["gait_bouts"]]
    summary = doc["summary"]
    assert len(durations) == 2
    assert summary["longest_gait_bout_s"] == pytest.approx(max(durations), abs=0.1)
    assert 70.0 < summary["longest_gait_bout_s"] <= 75.0
    assert summary["gait_bouts_ge_1min"] == 1
    assert summary["gait_bouts_ge_10min"] == 0
    assert summary["mean_mad_mg"] > 0
    for b in doc["gait_bouts"]:
        assert b["harmonic_ratio"] > 3.0
        assert b["shuffling_pct"] is None  # no sensor height given
