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
    ).postures
    assert (out[:9] == CODE[Posture.STANDING]).all()
    assert (out[11:] == CODE[Posture.SITTING]).all()
    # the state carries into the next call; a stand-up ends it
    disp[:] = np.nan
    speed[:] = 0.0
    disp[5], speed[5] = 0.35, 0.6
    out = clf.classify(
        _features(n, 15.0), vertical_displacement_m=disp, vertical_speed_m_s=speed
    ).postures
    assert (out[:5] == CODE[Posture.SITTING]).all()
    assert (out[6:] == CODE[Posture.STANDING]).all()


def _tilts(*parts: tuple[int, float]) -> FrameFeatures:
    """Still frames: ``(count, inclination_deg)`` runs one after the other."""
    incl = np.concatenate([np.full(n, a) for n, a in parts])
    f = _features(len(incl), 0.0)
    g = np.column_stack((np.cos(np.radians(incl)), np.zeros_like(incl), np.sin(np.radians(incl))))
    return FrameFeatures(
        f.k, f.coverage, g, f.dyn_rms_g, f.enmo_mg, f.peak_g, f.peak_offset_s, f.trough_g,
        f.frame_sd_g, f.mag_mean_g, f.periodicity, f.step_period_s, f.half_period_r,
        f.step_regularity, f.stride_regularity,
    )  # fmt: skip


def _hip() -> PostureClassifier:
    return PostureClassifier(
        placement=Placement.HIP, sitting_trunk_inclination_deg=10.0, upright_axis=(1.0, 0.0, 0.0)
    )


def test_getting_up_from_a_rest_is_sitting_until_the_pelvis_rises() -> None:
    # standing, lying 20 s, then upright at 5 deg (the tilt alone would say standing)
    feats = _tilts((10, 3.0), (20, 85.0), (30, 5.0))
    n = len(feats)
    disp, speed = np.full(n, np.nan), np.zeros(n)
    # the sit-up itself may look like a rise: its window starts lying, so it is ignored
    disp[31], speed[31] = 0.5, 0.6
    # a real sit-to-stand 15 s later
    disp[45], speed[45] = 0.35, 0.6
    out = _hip().classify(feats, vertical_displacement_m=disp, vertical_speed_m_s=speed).postures
    assert (out[10:30] == CODE[Posture.LYING]).all()
    assert (out[32:45] == CODE[Posture.SITTING]).all()
    assert (out[46:] == CODE[Posture.STANDING]).all()


def test_no_transition_before_the_device_is_worn() -> None:
    # the device lies on a table (70 deg, not upright), is clipped on with a downward jerk and
    # the wearer stands (3 deg)
    feats = _tilts((4, 70.0), (30, 3.0))
    n = len(feats)
    disp, speed = np.full(n, np.nan), np.zeros(n)
    disp[4], speed[4] = -0.5, 0.6
    out = _hip().classify(feats, vertical_displacement_m=disp, vertical_speed_m_s=speed).postures
    assert (out[5:] == CODE[Posture.STANDING]).all()
    # a brief lie (a stoop, 3 s) neither makes a rest nor clears a known sitting
    feats = _tilts((6, 5.0), (3, 80.0), (10, 5.0))
    n = len(feats)
    disp, speed = np.full(n, np.nan), np.zeros(n)
    disp[4], speed[4] = -0.4, 0.6
    clf = _hip()
    out = clf.classify(feats, vertical_displacement_m=disp, vertical_speed_m_s=speed).postures
    assert (out[5:6] == CODE[Posture.SITTING]).all()
    assert (out[9:] == CODE[Posture.SITTING]).all()


def _assert_chunking_changes_nothing(
    feats: FrameFeatures, disp: np.ndarray, speed: np.ndarray, cuts: list[int]
) -> None:
    """The hip classifier fed in pieces cut at ``cuts`` gives what it gives in one call."""
    whole = _hip().classify(feats, vertical_displacement_m=disp, vertical_speed_m_s=speed)
    clf = _hip()
    parts = []
    for a, b in zip([0, *cuts], [*cuts, len(feats)], strict=True):
        sub = FrameFeatures(*(getattr(feats, f)[a:b] for f in FrameFeatures.__dataclass_fields__))
        parts.append(
            clf.classify(
                sub, vertical_displacement_m=disp[a:b], vertical_speed_m_s=speed[a:b]
            ).postures.copy()
        )
    np.testing.assert_array_equal(np.concatenate(parts), whole.postures)


@pytest.mark.parametrize("cuts", [[1], [7, 8, 31, 32], [3, 10, 40, 41, 45, 59]])
def test_chunking_does_not_change_the_postures(cuts: list[int]) -> None:
    feats = _tilts((10, 3.0), (20, 85.0), (30, 5.0))
    n = len(feats)
    disp, speed = np.full(n, np.nan), np.zeros(n)
    disp[[31, 44, 45]], speed[[31, 44, 45]] = 0.5, 0.6
    _assert_chunking_changes_nothing(feats, disp, speed, cuts)


def _walk(f: FrameFeatures, frames: slice) -> FrameFeatures:
    """``f`` with a rhythmic walking-like movement in ``frames``."""
    dyn, sd, per = f.dyn_rms_g.copy(), f.frame_sd_g.copy(), f.periodicity.copy()
    dyn[frames], sd[frames], per[frames] = 0.2, 0.1, 0.7
    return FrameFeatures(
        f.k, f.coverage, f.gravity_g, dyn, f.enmo_mg, f.peak_g, f.peak_offset_s, f.trough_g,
        sd, f.mag_mean_g, per, f.step_period_s, f.half_period_r, f.step_regularity,
        f.stride_regularity,
    )  # fmt: skip


def test_a_seated_fidget_that_looks_like_a_walk_leaves_the_wearer_sitting() -> None:
    # sat down (known from the transition) with the pelvis at 5 deg, a 10-s rhythmic fidget,
    # then still in the same orientation: sitting, although the tilt alone says standing
    feats = _walk(_tilts((40, 5.0), (30, 6.0)), slice(20, 30))
    n = len(feats)
    disp, speed = np.full(n, np.nan), np.zeros(n)
    disp[5], speed[5] = -0.35, 0.6
    out = _hip().classify(feats, vertical_displacement_m=disp, vertical_speed_m_s=speed).postures
    assert (out[20:30] == CODE[Posture.WALKING]).all()
    assert (out[30:] == CODE[Posture.SITTING]).all()
    # after a walk that ends in another orientation the tilt decides (a missed sit-to-stand)
    feats = _walk(_tilts((40, 25.0), (30, 3.0)), slice(20, 30))
    out = _hip().classify(feats, vertical_displacement_m=disp, vertical_speed_m_s=speed).postures
    assert (out[:20][6:] == CODE[Posture.SITTING]).all()
    assert (out[40:] == CODE[Posture.STANDING]).all()


@pytest.mark.parametrize("cuts", [[1], [22, 23, 31], [5, 6, 29, 30, 41]])
def test_chunking_does_not_change_the_memory_across_walks(cuts: list[int]) -> None:
    feats = _walk(_tilts((40, 5.0), (10, 6.0), (20, 30.0)), slice(20, 30))
    n = len(feats)
    disp, speed = np.full(n, np.nan), np.zeros(n)
    disp[[5, 6]], speed[[5, 6]] = -0.35, 0.6
    _assert_chunking_changes_nothing(feats, disp, speed, cuts)
