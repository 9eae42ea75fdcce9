"""Autocalibration from still periods (van Hees et al. 2014): known answers, refusals, chunking,
and real phone recordings."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorhub.signal.calibration import AutoCalibrator, apply_calibration

FS = 50.0
OFFSET = np.array([0.02, -0.03, 0.015])
SCALE = np.array([1.03, 0.98, 1.01])
#: Eight orientations: the six axis directions and two oblique ones.
DIRS = np.array(
    [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1], [1, 1, 1], [-1, 1, -1]],
    dtype=float,
)
DIRS /= np.linalg.norm(DIRS, axis=1, keepdims=True)

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def rotated_device(
    dirs: np.ndarray, *, hold_s: float = 60.0, noise_g: float = 0.005, seed: int = 0
) -> np.ndarray:
    """A device held still ``hold_s`` in each orientation, read through OFFSET and SCALE, with
    short movements (1 s of 0.3 g shaking) between the holds."""
    rng = np.random.default_rng(seed)
    parts = []
    for d in dirs:
        parts.append(np.repeat(d[None], int(hold_s * FS), axis=0))
        parts.append(d + rng.normal(0, 0.3, (int(FS), 3)))
    true = np.concatenate(parts)
    return true / SCALE + OFFSET + rng.normal(0, noise_g, true.shape)


# -- known answers ---------------------------------------------------------------------------


def test_recovers_offset_and_scale() -> None:
    """Six-plus orientations, 60 s each, 5 mg noise: offset within 3 mg, scale within 0.3 %."""
    c = AutoCalibrator().fit(rotated_device(DIRS), FS)
    assert c.calibrated_, c.reason_
    assert c.reason_ == ""
    np.testing.assert_allclose(c.offset_g_, OFFSET, atol=0.003)
    np.testing.assert_allclose(c.scale_, SCALE, rtol=0.003)
    assert c.error_before_mg_ > 20
    assert c.error_after_mg_ < 3
    assert 5 * len(DIRS) <= c.n_still_windows_ <= 6 * len(DIRS)  # 5-6 aligned windows per hold


def test_apply_calibration_puts_still_samples_on_the_unit_sphere() -> None:
    """The corrected data of a calibrated device read 1 g at rest."""
    acc = rotated_device(DIRS, noise_g=0.0)
    c = AutoCalibrator().fit(acc, FS)
    still = apply_calibration(acc, c.offset_g_, c.scale_)[: int(60 * FS)]
    assert np.linalg.norm(still, axis=1) == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_array_equal(apply_calibration(acc, np.zeros(3), np.ones(3)), acc)


def test_one_orientation_is_not_calibrated() -> None:
    """A device that only ever lies one way cannot be calibrated, and says so."""
    c = AutoCalibrator().fit(rotated_device(DIRS[:1], hold_s=600.0), FS)
    assert not c.calibrated_
    assert "not enough orientations" in c.reason_
    np.testing.assert_array_equal(c.offset_g_, np.zeros(3))
    np.testing.assert_array_equal(c.scale_, np.ones(3))
    assert c.error_after_mg_ == c.error_before_mg_


def test_movement_only_is_not_calibrated() -> None:
    """No still windows: no calibration, and the errors are NaN."""
    acc = np.random.default_rng(2).normal(0, 0.3, (int(120 * FS), 3))
    c = AutoCalibrator().fit(acc, FS)
    assert not c.calibrated_
    assert "still" in c.reason_
    assert np.isnan(c.error_before_mg_)


def test_implausible_scale_is_refused() -> None:
    """A gain far from 1 (here 1.5 on x) is refused rather than applied."""
    acc = rotated_device(DIRS)
    acc[:, 0] = (acc[:, 0] - OFFSET[0]) * SCALE[0] * 1.5
    c = AutoCalibrator().fit(acc, FS)
    assert not c.calibrated_
    assert "implausible scale" in c.reason_


def test_implausible_offset_is_refused() -> None:
    """An offset of 0.4 g is refused."""
    acc = rotated_device(DIRS) + np.array([0.0, 0.4, 0.0])
    c = AutoCalibrator().fit(acc, FS)
    assert not c.calibrated_
    assert "implausible offset" in c.reason_


def test_memory_is_bounded_by_orientation_bins() -> None:
    """Hours in few orientations keep at most ``max_windows_per_bin`` means per orientation."""
    acc = rotated_device(DIRS, hold_s=1200.0, noise_g=0.002)
    c = AutoCalibrator(max_windows_per_bin=10).fit(acc, FS)
    assert c.n_still_windows_ > len(DIRS) * 115
    assert c.n_windows_used_ == len(DIRS) * 10
    assert c.calibrated_
    np.testing.assert_allclose(c.offset_g_, OFFSET, atol=0.003)


# -- chunking --------------------------------------------------------------------------------

ACC = rotated_device(DIRS, hold_s=35.0, seed=5)
ONE_SHOT = AutoCalibrator(max_windows_per_bin=2).fit(ACC, FS)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 3000), min_size=1, max_size=12))
def test_chunked_partial_fit_equals_one_shot(sizes: list[int]) -> None:
    """Windows are aligned to the sample index, so any chunking gives the same fit."""
    c = AutoCalibrator(max_windows_per_bin=2)
    i = 0
    for n in [*sizes, len(ACC)]:
        c.partial_fit(ACC[i : i + n], FS)
        i += n
    c.fit()
    assert c.n_still_windows_ == ONE_SHOT.n_still_windows_
    np.testing.assert_array_equal(c.still_means_g, ONE_SHOT.still_means_g)
    assert c.calibrated_ == ONE_SHOT.calibrated_
    np.testing.assert_array_equal(c.offset_g_, ONE_SHOT.offset_g_)
    np.testing.assert_array_equal(c.scale_, ONE_SHOT.scale_)


def test_partial_fit_rejects_a_changed_rate() -> None:
    c = AutoCalibrator().partial_fit(ACC[:100], FS)
    with pytest.raises(ValueError, match="fs_hz changed"):
        c.partial_fit(ACC[100:200], 2 * FS)


# -- real phone recordings -------------------------------------------------------------------


@pytest.mark.skipif(
    not (DATASETS / "index.json").is_file(),
    reason=f"shared datasets not found at {DATASETS} (they sit beside the repository)",
)
def test_real_waist_phone_error_goes_down() -> None:
    """UCI HAPT (one phone model on the waist, users 10-19, whose lying gives the orientations):
    the still means read about 20 mg off 1 g and the fit brings them closer. The experiments are
    gathered one after the other; 2-s windows, because the scripted still phases are short."""
    c = AutoCalibrator(window_s=2.0)
    for f in sorted(glob.glob(str(DATASETS / "posture_hip_hapt" / "*_user1[0-9].npz"))):
        z = np.load(f)
        c.partial_fit(z["acc"].astype(np.float64), float(z["fs"]))
    c.fit()
    assert c.calibrated_, c.reason_
    assert c.error_after_mg_ < 0.5 * c.error_before_mg_
    assert np.all(np.abs(c.offset_g_) < 0.1)
