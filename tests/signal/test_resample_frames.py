"""Streaming resampling and framing do not depend on how the stream is cut."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorhub.model import NS_PER_S
from sensorhub.signal.frames import FrameWindower
from sensorhub.signal.resample import GridResampler

RNG = np.random.default_rng(1)
N = 3000
T_NS = (1_700_000_000 * NS_PER_S + np.cumsum(RNG.uniform(8e6, 12e6, N))).astype(np.int64)
ACC = RNG.normal(size=(N, 3))


def grid(cuts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    r = GridResampler(fs_hz=50.0, max_interp_gap_s=2.0)
    js, vals = [], []
    bounds = sorted({0, N, *cuts})
    for a, b in itertools.pairwise(bounds):
        for c in r.push(T_NS[a:b], ACC[a:b]):
            if len(c.acc_g):
                js.append(np.arange(c.j0, c.j0 + len(c.acc_g)))
                vals.append(c.acc_g)
    return np.concatenate(js), np.concatenate(vals)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=N - 1), max_size=20))
def test_resampling_is_chunk_independent(cuts: list[int]) -> None:
    j_ref, v_ref = grid([])
    j, v = grid(cuts)
    np.testing.assert_array_equal(j, j_ref)
    np.testing.assert_array_equal(v, v_ref)
    assert np.all(np.diff(j) == 1)


def test_gaps_start_new_segments_and_frames_cover_real_data() -> None:
    r = GridResampler(fs_hz=50.0, max_interp_gap_s=2.0)
    t = np.concatenate([np.arange(0, 200), np.arange(600, 800)]).astype(np.int64) * 20_000_000
    chunks = r.push(t, np.ones((len(t), 3)))
    starts = [c for c in chunks if c.new_segment]
    assert len(starts) == 2
    assert starts[1].gap_ns == 401 * 20_000_000  # from sample 199 to sample 600
    w = FrameWindower(samples_per_frame=50, pre_samples=150, post_samples=150)
    first = next(c for c in chunks if len(c.acc_g))
    early = w.push(first.j0, first.acc_g)  # 4 s: only frame 0 has its full 7-s window
    assert early is not None
    assert early.k.tolist() == [0]
    batch = w.end_segment()  # the rest, padded at the segment's end
    assert batch is not None
    assert batch.k.tolist() == [1, 2, 3]
    assert batch.windows.shape == (3, 350, 3)
    np.testing.assert_allclose(batch.coverage, 1.0)
