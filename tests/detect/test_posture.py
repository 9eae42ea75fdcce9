"""Sit-to-stand evidence (vertical pelvis displacement) and the posture it hands on."""

from __future__ import annotations

import numpy as np
import pytest

from sensorhub.detect.posture import CODE, PostureClassifier
from sensorhub.model import Placement, Posture
from sensorhub.signal.features import FrameFeatures
from sensorhub.signal.transitions import G, vertical_displacement

FS = 50.0


def _window(dz_m: float, *, tilt_deg: float = 20.0, offset_g: float = 0.02) -> np.ndarray:
    """7 s: still, a smooth 1.5-s vertical move of ``dz_m`` with a trunk pitch, still again."""
    rng = np.random.default_rng(0)
    t = np.arange(int(7 * FS)) / FS
    s = np.clip((t - 2.75) / 1.5, 0.0, 1.0)
    # minimum-jerk position profile, its second derivative is the vertical acceleration
    acc_v = dz_m * (60 * s - 180 * s**2 + 120 * s**3) / 1.5**2 / G
    acc_v[(t < 2.75) | (t > 4.25)] = 0.0
    pitch = np.radians(tilt_deg) * np.sin(np.pi * s)
    up = np.column_stack((np.cos(pitch), np.zeros_like(t), np.sin(pitch)))
    acc = up * (1.0 + offset_g + acc_v)[:, None]
    return acc + rng.normal(0, 0.002, acc.shape)


@pytest.mark.parametrize("dz", [-0.4, -0.25, 0.3, 0.45])
def test_displacement_of_a_sit_down_or_stand_up(dz: float) -> None:
    disp, speed = vertical_displacement(_window(dz)[None], FS)
    assert disp[0] == pytest.approx(dz, abs=0.1)
    assert speed[0] > 0.2


def test_no_displacement_while_still_and_none_from_padding() -> None:
    still = np.tile([1.0, 0.0, 0.0], (int(7 * FS), 1))
    noisy = still + np.random.default_rng(1).normal(0, 0.002, still.shape)
    disp, speed = vertical_displacement(noisy[None], FS)
    assert abs(disp[0]) < 0.05 or np.isnan(disp[0])
    assert speed[0] < 0.2
    padded = _window(-0.4)
    padded[: int(FS)] = padded[int(FS)]  # the frame cutter repeats the edge sample
    assert np.isnan(vertical_displacement(padded[None], FS)[0][0])


def _features(n: int, incl_deg: float) -> FrameFeatures:
    g = np.tile([np.cos(np.radians(incl_deg)), 0.0, np.sin(np.radians(incl_deg))], (n, 1))
    z = np.zeros(n)
    return FrameFeatures(
        np.arange(n, dtype=np.int64), np.ones(n), g, np.full(n, 0.01), z, np.ones(n), z,
        np.ones(n), np.full(n, 0.005), np.ones(n), z, np.full(n, np.nan), z, z, z,
    )  # fmt: skip


def test_static_period_inherits_the_transition_that_began_it() -> None:
    clf = PostureClassifier(
        placement=Placement.HIP, sitting_trunk_inclination_deg=10.0, upright_axis=(1.0, 0.0, 0.0)
    )
    n = 30
    disp = np.full(n, np.nan)
    speed = np.zeros(n)
    disp[[9, 10]], speed[[9, 10]] = -0.3, 0.5  # sat down at ~10 s
    # pelvis nearly upright (5 deg): the tilt alone would say standing
    out = clf.classify(
        _features(n, 5.0), vertical_displacement_m=disp, vertical_speed_m_s=speed
    ).postures_
    assert (out[:9] == CODE[Posture.STANDING]).all()
    assert (out[11:] == CODE[Posture.SITTING]).all()
    # the state carries into the next call; a stand-up ends it
    disp[:] = np.nan
    speed[:] = 0.0
    disp[5], speed[5] = 0.35, 0.6
    out = clf.classify(
        _features(n, 15.0), vertical_displacement_m=disp, vertical_speed_m_s=speed
    ).postures_
    assert (out[:5] == CODE[Posture.SITTING]).all()
    assert (out[6:] == CODE[Posture.STANDING]).all()
