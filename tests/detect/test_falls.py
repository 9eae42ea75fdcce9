"""Fall detector: recorded post-impact evidence and the post-impact posture criterion."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sensorhub.detect.falls import FallDetector
from sensorhub.model import NS_PER_S, Fall, Placement, SampleBlock
from sensorhub.pipeline import Pipeline

N = 30
IMPACT = 10


def _frames(*, post_gravity: tuple[float, float, float] = (0.0, 0.0, 1.0)) -> dict[str, np.ndarray]:
    """Frame features of standing still, a 2.6 g impact after free fall, then lying still."""
    k = np.arange(N, dtype=np.int64)
    gravity = np.tile([1.0, 0.0, 0.0], (N, 1))
    gravity[IMPACT + 1 :] = post_gravity
    peak = np.full(N, 1.02)
    peak[IMPACT] = 2.6
    trough = np.full(N, 0.98)
    trough[IMPACT - 1] = 0.3
    dyn = np.full(N, 0.01)
    dyn[IMPACT - 1 : IMPACT + 2] = 0.6
    return {
        "k": k,
        "peak_g": peak,
        "peak_offset_s": np.full(N, 0.5),
        "trough_g": trough,
        "gravity_g": gravity,
        "dyn_rms_g": dyn,
    }


def _run(
    det: FallDetector, f: dict[str, np.ndarray], chunks: list[int], **extra: np.ndarray
) -> list[Fall]:
    out: list[Fall] = []
    bounds = [0, *chunks, N]
    for a, b in itertools.pairwise(bounds):
        kw = {name: v[a:b] for name, v in {**f, **extra}.items()}
        out += det.update(**kw, final=b == N)  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("chunks", [[], [5, 11, 13, 14, 20], list(range(1, N))])
def test_fall_found_whatever_the_chunking(chunks: list[int]) -> None:
    falls = _run(FallDetector(placement=Placement.POCKET), _frames(), chunks)
    assert len(falls) == 1
    assert falls[0].start_ns == IMPACT * NS_PER_S + NS_PER_S // 2


def test_no_fall_when_the_recording_ends_before_the_evidence_is_complete() -> None:
    f = _frames()
    cov = np.ones(N)
    cov[IMPACT + 4 :] = 0.0  # the stream stops 4 s after the impact (padding afterwards)
    assert _run(FallDetector(placement=Placement.POCKET), f, [], coverage=cov) == []
    cov[IMPACT + 4 :] = 1.0
    assert len(_run(FallDetector(placement=Placement.POCKET), f, [], coverage=cov)) == 1


@pytest.mark.parametrize(
    ("placement", "post_incl", "n"),
    [
        (Placement.POCKET, 10.0, 0),  # stood up (out of a car, off a chair): thigh upright
        (Placement.POCKET, 85.0, 1),  # thigh horizontal
        (Placement.POCKET, np.nan, 1),  # upright axis unknown: orientation change alone
        (Placement.LOWER_BACK, 30.0, 0),  # reclined in a car seat: not lying
        (Placement.LOWER_BACK, 85.0, 1),
        (Placement.WRIST, 10.0, 1),  # no body posture at the wrist
    ],
)
def test_post_impact_posture_must_be_far_from_upright(
    placement: Placement, post_incl: float, n: int
) -> None:
    incl = np.zeros(N)
    incl[IMPACT + 1 :] = post_incl
    f = _frames()
    f["peak_g"][IMPACT] = 3.2  # above every placement's impact level
    falls = _run(FallDetector(placement=placement), f, [7, 19], inclination_deg=incl)
    assert len(falls) == n


def _signal(after_s: float, fs: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """Standing 20 s, a fall onto the side at 20 s, then ``after_s`` of lying still."""
    rng = np.random.default_rng(1)
    n = int((20 + after_s) * fs)
    acc = np.tile([1.0, 0.0, 0.0], (n, 1)) + rng.normal(0, 0.01, (n, 3))
    i0 = int(20 * fs)
    acc[i0 - int(0.4 * fs) : i0] = [0.2, 0.0, 0.05]
    acc[i0 : i0 + 5] = [1.0, 0.5, 2.8]
    acc[i0 + 5 :] = [0.05, 0.0, 1.0]
    t_ns = (1_709_539_200 * NS_PER_S + np.arange(n) / fs * NS_PER_S).astype(np.int64)
    return t_ns, acc


@pytest.mark.parametrize(("after_s", "n_falls"), [(3.0, 0), (15.0, 1)])
def test_pipeline_confirms_a_fall_only_on_recorded_evidence(after_s: float, n_falls: int) -> None:
    t_ns, acc = _signal(after_s)
    p = Pipeline(Placement.POCKET)
    ev = p.feed(SampleBlock(t_ns, acc, 100.0)).events + p.flush().events
    assert len([e for e in ev if isinstance(e, Fall)]) == n_falls


@pytest.mark.parametrize(
    ("placement", "turn_deg", "n"),
    [
        (Placement.POCKET, 50.0, 1),  # a sideways fall: the thigh is no longer standing
        (Placement.POCKET, 40.0, 0),
        (Placement.LOWER_BACK, 50.0, 0),  # the trunk must turn towards lying (60 deg)
        (Placement.LOWER_BACK, 70.0, 1),
    ],
)
def test_orientation_change_per_placement(placement: Placement, turn_deg: float, n: int) -> None:
    a = np.radians(turn_deg)
    f = _frames(post_gravity=(float(np.cos(a)), float(np.sin(a)), 0.0))
    f["peak_g"][IMPACT] = 3.2  # above every placement's impact level
    assert len(_run(FallDetector(placement=placement), f, [12])) == n


@pytest.mark.parametrize(("still_from", "n"), [(4, 1), (5, 1), (6, 0)])
def test_stillness_may_begin_up_to_about_five_seconds_after_the_impact(
    still_from: int, n: int
) -> None:
    """Someone winded or trying to get up moves for a few seconds, then lies still."""
    f = _frames()
    f["dyn_rms_g"][IMPACT + 2 : IMPACT + still_from] = 0.4
    assert len(_run(FallDetector(placement=Placement.POCKET), f, [])) == n
