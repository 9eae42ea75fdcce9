"""Known-answer tests of the limb stride-or-step decision (cadence continuity)."""

from __future__ import annotations

import numpy as np

from sensorhub.detect.limb_steps import StrideDecider


def _decide(period: list[float], half_r: list[float], k: list[int] | None = None) -> list[bool]:
    kk = np.arange(len(period)) if k is None else np.asarray(k)
    out = StrideDecider().decide(kk.astype(np.int64), np.asarray(period), np.asarray(half_r))
    return [bool(x) for x in out]


def test_weak_evidence_keeps_a_back_pocket_stride() -> None:
    """Stride frames whose half-period correlation drifts just below -0.2 stay strides (the
    plain threshold would halve the count there)."""
    p = [1.04] * 10
    hr = [0.3, 0.3, 0.0, -0.05, -0.18, -0.21, -0.22, -0.2, -0.1, 0.25]
    assert _decide(p, hr) == [True] * 10


def test_weak_evidence_keeps_a_slow_hand_held_step() -> None:
    """A phone held in the hand at 75 steps/min: a 0.8-s period with no clear half-period
    structure is a step, as the 0.72-s steps before it (not a 150 steps/min stride)."""
    p = [0.72, 0.76, 0.8, 0.8, 0.8, 0.8]
    hr = [-0.3, -0.25, -0.1, 0.0, 0.05, -0.2]
    assert _decide(p, hr) == [False] * 6


def test_clear_evidence_and_a_new_walk_decide_on_their_own() -> None:
    p = [0.52, 1.04, 1.04, 1.04, 1.04]
    hr = [-0.6, 0.0, 0.35, -0.6, 0.0]
    # weak after a clear step reference: the cadence says stride (0.52 s steps); then clear
    # evidence either way; the last frame follows the clear step just before it
    assert _decide(p, hr) == [False, True, True, False, False]
    # after a pause longer than 3 s nothing is carried over: the plain threshold rule
    assert _decide([0.52, 1.04], [-0.6, 0.0], k=[0, 10]) == [False, True]
    assert _decide([0.52, 1.04], [-0.6, -0.3], k=[0, 10]) == [False, False]


def test_decisions_do_not_depend_on_chunking() -> None:
    rng = np.random.default_rng(3)
    n = 400
    k = np.cumsum(rng.choice([1, 1, 1, 2, 5], size=n)).astype(np.int64)
    p = rng.choice([0.5, 0.8, 1.04, 1.1, np.nan], size=n)
    hr = rng.uniform(-0.8, 0.5, size=n)
    whole = StrideDecider().decide(k, p, hr)
    d = StrideDecider()
    cuts = np.sort(rng.choice(np.arange(1, n), size=12, replace=False))
    parts = [d.decide(k[a:b], p[a:b], hr[a:b]) for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
    assert np.concatenate(parts).tolist() == whole.tolist()
