"""Known-answer tests of the scripted scenarios and the motion generator."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.typing import NDArray

from sensorhub.model import Placement, Posture
from sensorhub.sim.scenario import (
    ACTIVITIES,
    SCENARIOS,
    MotionGenerator,
    Scenario,
    Segment,
    TruthInterval,
    few_steps,
    get_scenario,
    with_breaks,
)

FS_HZ = 100.0


def body_frame(generator: MotionGenerator, samples: NDArray[np.float64]) -> NDArray[np.float64]:
    """Undo the (known) mounting rotation and offset: samples in the trunk frame."""
    return (samples - generator.offset_g) @ generator.mounting_rotation


def tilt_deg(mean_g: NDArray[np.float64]) -> float:
    """Angle between the measured gravity and the trunk's upright axis."""
    return float(np.degrees(np.arccos(mean_g[2] / np.linalg.norm(mean_g))))


def segment_samples(
    generator: MotionGenerator, start_s: float, end_s: float
) -> NDArray[np.float64]:
    first = round(start_s * generator.fs_hz)
    return generator.samples_at(first, round(end_s * generator.fs_hz) - first)


def test_e2e_short_truth_bounds() -> None:
    truth = SCENARIOS["e2e-short"].truth()
    assert truth[0] == TruthInterval(0.0, 600.0, "sitting")
    assert truth[1] == TruthInterval(600.0, 620.0, "fidget")
    # the few steps at minute 15 take 25 s: stand, walk, stand
    assert [t.activity for t in truth[3:6]] == ["standing", "walking", "standing"]
    assert truth[3].start_s == 900.0
    assert truth[5].end_s == pytest.approx(925.0)
    assert truth[6] == TruthInterval(925.0, 2100.0, "sitting")
    assert truth[-2] == TruthInterval(2100.0, 2280.0, "walking")
    assert truth[-1] == TruthInterval(2280.0, 2880.0, "standing")


def test_demo_day_starts_with_forty_minutes_of_sitting() -> None:
    scenario = SCENARIOS["demo-day"]
    assert scenario.truth()[0] == TruthInterval(0.0, 2400.0, "sitting")
    assert scenario.duration_s == pytest.approx((40 + 3 + 50 + 2 + 35 + 5 + 20) * 60)
    activities = {t.activity for t in scenario.truth()}
    assert {"fidget", "walking", "standing", "lying"} <= activities


def test_truth_tiles_every_scenario() -> None:
    for scenario in SCENARIOS.values():
        truth = scenario.truth()
        assert truth[0].start_s == 0.0
        assert truth[-1].end_s == pytest.approx(scenario.duration_s)
        for before, after in itertools.pairwise(truth):
            assert before.end_s == after.start_s
            assert before.activity != after.activity


@pytest.mark.parametrize(
    ("activity", "low_deg", "high_deg"),
    [("standing", 0.0, 5.0), ("sitting", 10.0, 20.0), ("lying", 80.0, 100.0)],
)
def test_gravity_tilt_per_posture(activity: str, low_deg: float, high_deg: float) -> None:
    scenario = Scenario("tilt", (Segment("walking", 20), Segment(activity, 60)), seed=1)
    generator = MotionGenerator(scenario, fs_hz=FS_HZ)
    still = body_frame(generator, segment_samples(generator, 25.0, 80.0))
    mean = still.mean(axis=0)
    assert low_deg <= tilt_deg(mean) <= high_deg
    assert np.linalg.norm(mean) == pytest.approx(1.0, abs=0.01)
    # a still posture: only sensor noise and breathing
    assert np.all(still.std(axis=0) < 0.015)


def test_sitting_leans_back_and_lying_is_supine() -> None:
    scenario = Scenario("lean", (Segment("sitting", 30), Segment("lying", 30)), seed=2)
    generator = MotionGenerator(scenario, fs_hz=FS_HZ)
    sitting = body_frame(generator, segment_samples(generator, 5, 30)).mean(axis=0)
    lying = body_frame(generator, segment_samples(generator, 35, 60)).mean(axis=0)
    assert sitting[0] > 0.15  # the anterior axis tilts up when leaning back
    assert lying[0] > 0.95  # supine: the anterior axis points up


def test_device_axes_differ_from_trunk_axes_by_a_few_degrees() -> None:
    generator = MotionGenerator(SCENARIOS["e2e-short"], fs_hz=FS_HZ)
    rotation = generator.mounting_rotation
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    angle = np.degrees(np.arccos((np.trace(rotation) - 1) / 2))
    assert 1.0 < angle <= 4.0


@pytest.mark.parametrize(("activity", "cadence_spm"), [("walking", 112.0), ("shuffle", 70.0)])
def test_step_frequency_matches_cadence(activity: str, cadence_spm: float) -> None:
    scenario = Scenario("gait", (Segment(activity, 120, cadence_spm=cadence_spm),), seed=4)
    generator = MotionGenerator(scenario, fs_hz=FS_HZ)
    vertical = body_frame(generator, generator.next_samples(generator.total_samples))[:, 2]
    vertical = vertical - vertical.mean()
    spectrum = np.abs(np.fft.rfft(vertical * np.hanning(vertical.size)))
    frequencies = np.fft.rfftfreq(vertical.size, 1 / FS_HZ)
    assert frequencies[np.argmax(spectrum)] == pytest.approx(cadence_spm / 60, abs=0.02)
    steps = generator.step_times_s()
    assert steps.size == pytest.approx(120 * cadence_spm / 60, abs=2)
    assert np.median(np.diff(steps)) == pytest.approx(60 / cadence_spm, rel=0.02)


def test_walking_vertical_amplitude_is_plausible_at_the_chest() -> None:
    scenario = Scenario("walk", (Segment("walking", 60, cadence_spm=105),), seed=5)
    generator = MotionGenerator(scenario, fs_hz=FS_HZ)
    vertical = body_frame(generator, segment_samples(generator, 5, 55))[:, 2] - 1.0
    half_range = (np.percentile(vertical, 99) - np.percentile(vertical, 1)) / 2
    assert 0.1 <= half_range <= 0.35


def test_asymmetry_alternates_step_times() -> None:
    scenario = Scenario("asym", (Segment("walking", 60, asymmetry_pct=12.0),), seed=6)
    steps = np.diff(MotionGenerator(scenario, fs_hz=FS_HZ).step_times_s())
    odd, even = steps[0::2].mean(), steps[1::2].mean()
    assert abs(odd - even) / ((odd + even) / 2) == pytest.approx(0.12, abs=0.02)


def step_rhythm(activity: str, seed: int) -> float:
    """Peak autocorrelation of |acc| at step-like lags (0.4-1.2 s) during a 20-s activity."""
    scenario = Scenario(
        "rhythm", (Segment("sitting", 5), Segment(activity, 20), Segment("sitting", 5)), seed=seed
    )
    generator = MotionGenerator(scenario, fs_hz=FS_HZ)
    magnitude = np.linalg.norm(generator.samples_at(500, 2000), axis=1)
    magnitude -= magnitude.mean()
    autocorrelation = np.correlate(magnitude, magnitude, "full")[magnitude.size - 1 :]
    return float((autocorrelation / autocorrelation[0])[40:120].max())


@pytest.mark.parametrize("seed", range(4))
def test_fidget_moves_without_the_rhythm_of_steps(seed: int) -> None:
    assert step_rhythm("fidget", seed) < 0.4
    assert step_rhythm("walking", seed) > 0.8


def test_fidget_moves_and_settles_back_into_the_seat() -> None:
    scenario = Scenario(
        "fidget", (Segment("sitting", 10), Segment("fidget", 20), Segment("sitting", 10)), seed=3
    )
    generator = MotionGenerator(scenario, fs_hz=FS_HZ, noise_mg=0.0)
    before = body_frame(generator, segment_samples(generator, 2, 10)).mean(axis=0)
    during = body_frame(generator, segment_samples(generator, 10, 30))
    after = body_frame(generator, segment_samples(generator, 32, 40)).mean(axis=0)
    assert np.linalg.norm(during - before, axis=1).max() > 0.05  # real movement
    assert tilt_deg(after) == pytest.approx(tilt_deg(before), abs=0.5)


def test_fall_has_an_impact_then_lying_still() -> None:
    generator = MotionGenerator(SCENARIOS["fall-test"], fs_hz=FS_HZ)
    fall_start = 60.0
    around = generator.samples_at(round((fall_start - 1) * FS_HZ), round(3 * FS_HZ))
    magnitude = np.linalg.norm(around, axis=1)
    assert 2.5 <= magnitude.max() <= 4.0
    assert magnitude.min() < 0.5  # the partial free fall before the impact
    after = body_frame(generator, segment_samples(generator, fall_start + 5, fall_start + 90))
    assert tilt_deg(after.mean(axis=0)) > 60
    assert np.all(after.std(axis=0) < 0.015)


def test_posture_transitions_are_smooth() -> None:
    scenario = Scenario("sit-stand", (Segment("sitting", 10), Segment("standing", 10)), seed=8)
    generator = MotionGenerator(scenario, fs_hz=FS_HZ, noise_mg=0.0)
    samples = generator.next_samples(generator.total_samples)
    # no jumps between samples, and the sit-to-stand takes more than a second
    assert np.abs(np.diff(samples, axis=0)).max() < 0.02
    tilt = np.array([tilt_deg(s) for s in body_frame(generator, samples)])
    moving = np.flatnonzero(np.abs(np.diff(tilt)) > 0.01)
    assert (moving[-1] - moving[0]) / FS_HZ > 1.0


def test_chunking_does_not_change_the_stream() -> None:
    scenario = SCENARIOS["gait-check"]
    whole = MotionGenerator(scenario, fs_hz=FS_HZ).next_samples(30_000)
    chunked = MotionGenerator(scenario, fs_hz=FS_HZ)
    sizes = np.random.default_rng(0).integers(1, 3000, size=40)
    parts = [chunked.next_samples(int(n)) for n in sizes]
    stream = np.concatenate(parts)[: whole.shape[0]]
    np.testing.assert_array_equal(stream, whole[: stream.shape[0]])


def test_sensor_noise_level() -> None:
    scenario = Scenario("still", (Segment("lying", 60),), seed=9)
    generator = MotionGenerator(scenario, fs_hz=FS_HZ, noise_mg=7.0)
    noise = generator.samples_at(500, 5000).std(axis=0)
    assert np.all((noise > 0.005) & (noise < 0.010))


def test_generator_keeps_the_last_posture_after_the_end() -> None:
    scenario = Scenario("short", (Segment("standing", 2),), seed=10)
    generator = MotionGenerator(scenario, fs_hz=FS_HZ)
    generator.next_samples(generator.total_samples)
    assert generator.exhausted
    after = generator.next_samples(100)
    assert np.linalg.norm(after.mean(axis=0)) == pytest.approx(1.0, abs=0.01)


def test_builders_keep_total_duration() -> None:
    segments = with_breaks(
        "sitting", 600, [(100, [Segment("fidget", 20)]), (300, few_steps(30, steps=10))]
    )
    assert sum(s.duration_s for s in segments) == pytest.approx(600)
    assert [s.activity for s in segments] == [
        "sitting", "fidget", "sitting", "standing", "walking", "standing", "sitting",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="do not fit"):
        few_steps(5, steps=20)


def test_segments_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown activity"):
        Segment("jogging", 10)
    with pytest.raises(ValueError, match="cadence_spm only applies"):
        Segment("sitting", 10, cadence_spm=100)
    with pytest.raises(ValueError, match="positive"):
        Segment("sitting", 0)
    with pytest.raises(ValueError, match="ankle"):
        MotionGenerator(SCENARIOS["e2e-short"], placement="ankle")
    with pytest.raises(KeyError, match="demo-day"):
        get_scenario("nope")


def test_every_activity_has_a_posture_label() -> None:
    for activity in ACTIVITIES:
        assert isinstance(Segment(activity, 1).posture, Posture)
    assert Segment("fidget", 1).posture is Posture.SITTING


@pytest.mark.parametrize("placement", list(Placement))
def test_every_placement_is_simulated_with_gravity_and_steps(placement: Placement) -> None:
    """Standing and walking differ at every placement; still periods read about 1 g."""
    scenario = Scenario(
        "stand-walk", (Segment("standing", 20), Segment("walking", 20, cadence_spm=100)), seed=2
    )
    acc = MotionGenerator(scenario, placement, fs_hz=50.0).next_samples(2000)
    still, walking = acc[200:1000], acc[1100:1900]
    assert np.linalg.norm(still.mean(axis=0)) == pytest.approx(1.0, abs=0.03)
    assert np.linalg.norm(walking, axis=1).std() > 3 * np.linalg.norm(still, axis=1).std()


def test_a_seated_thigh_is_horizontal_and_a_standing_thigh_vertical() -> None:
    scenario = Scenario("sit-stand", (Segment("sitting", 20), Segment("standing", 20)), seed=4)
    acc = MotionGenerator(scenario, Placement.THIGH, fs_hz=25.0, mounting_error_deg=0.0)
    samples = acc.next_samples(1000)
    sitting, standing = samples[100:400].mean(axis=0), samples[700:900].mean(axis=0)
    assert abs(sitting[0]) > 0.95  # gravity along the thigh's anterior axis
    assert abs(standing[2]) > 0.95  # ... and along its long axis


def test_a_band_put_down_is_still_and_quieter_than_a_worn_one() -> None:
    """The band on a table ("off"): about 1 g, no breathing, the noise of a sensor at rest."""
    scenario = Scenario("off", (Segment("sitting", 60), Segment("off", 60)), seed=8)
    acc = MotionGenerator(scenario, Placement.LOWER_BACK, fs_hz=50.0).next_samples(6000)
    worn, off = acc[500:2900], acc[3500:]
    assert np.linalg.norm(off.mean(axis=0)) == pytest.approx(1.0, abs=0.02)
    assert off.std(axis=0).max() < 0.003 < worn.std(axis=0).min()
    assert Segment("off", 1).posture is Posture.NONWEAR


def test_the_alert_scenarios_script_what_their_names_say() -> None:
    recovered = [s.activity for s in SCENARIOS["fall-recovered"].segments]
    assert recovered[recovered.index("fall") + 2] == "walking"
    fall_s = SCENARIOS["fall-recovered"].segment_bounds()[recovered.index("fall")][0]
    walk_s = SCENARIOS["fall-recovered"].segment_bounds()[recovered.index("fall") + 2][0]
    assert walk_s - fall_s <= 30  # up and walking within 30 s
    inactive = SCENARIOS["inactive-afternoon"].truth()
    sitting = sum(e - s for s, e, a in inactive if a in ("sitting", "fidget"))
    assert sitting > 3 * 3600
    off = [e - s for s, e, a in SCENARIOS["band-off"].truth() if a == "off"]
    assert off == [150 * 60]
