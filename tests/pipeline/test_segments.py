"""The filter that keeps a second or two of rhythm from being reported as a walk."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorhub.detect.posture import CODE
from sensorhub.model import NS_PER_S, Posture
from sensorhub.pipeline.segments import ShortWalkFilter

S, W, A = (CODE[p] for p in (Posture.SITTING, Posture.WALKING, Posture.ACTIVE))


def run(lab: np.ndarray, sizes: list[int]) -> np.ndarray:
    f = ShortWalkFilter()
    k = np.arange(len(lab), dtype=np.int64)
    got: list[np.ndarray] = []
    i = 0
    for n in [*sizes, len(lab)]:
        s, e, out = f.push(k[i : i + n] * NS_PER_S, (k[i : i + n] + 1) * NS_PER_S, lab[i : i + n])
        assert np.array_equal(s // NS_PER_S, k[sum(len(g) for g in got) :][: len(out)])
        assert np.array_equal(e - s, np.full(len(out), NS_PER_S))
        got.append(out)
        i += n
        if i >= len(lab):
            break
    got.append(f.flush()[2])
    return np.concatenate(got)


def test_short_walking_runs_are_moving_in_place_and_walks_stay_walks() -> None:
    lab = np.array([S, W, W, S, W, W, W, W, S, W, W, W], dtype=np.int8)
    assert run(lab, [100]).tolist() == [S, A, A, S, W, W, W, W, S, A, A, A]


@settings(max_examples=100, deadline=None)
@given(
    lab=st.lists(st.sampled_from([S, W, A]), min_size=1, max_size=80),
    sizes=st.lists(st.integers(1, 9), max_size=20),
)
def test_the_output_does_not_depend_on_chunking(lab: list[int], sizes: list[int]) -> None:
    """Every frame comes out once, in order, relabelled the same way whatever the chunks."""
    arr = np.array(lab, dtype=np.int8)
    assert np.array_equal(run(arr, sizes), run(arr, [len(arr)]))
