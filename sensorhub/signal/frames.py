"""Cut a gridded sample stream into absolute one-second frames with context windows.

Frame ``k`` covers grid samples ``[k * spf, (k + 1) * spf)`` (``spf`` samples per frame) and is
analysed through a window that adds ``pre`` samples before and ``post`` samples after it. A frame
is released as soon as its whole window has arrived, so results lag the data by ``post`` samples
and never depend on how the stream was chunked. At the start and end of a segment (stream start,
a gap, the end of the stream) the window is completed by repeating the edge sample, and
``coverage`` tells how much of the frame itself was real data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True, eq=False)
class FrameBatch:
    """Consecutive frames ready for analysis.

    Attributes
    ----------
    k
        Absolute frame indices (frame ``k`` starts at grid sample ``k * spf``), shape (n,).
    windows
        Read-only view, shape (n, pre + spf + post, 3), acceleration in g.
    coverage
        Fraction of each frame's own samples that are real (not edge padding), shape (n,).
    samples
        The contiguous grid samples the windows are views of, shape (s, 3): window ``i`` is
        ``samples[offsets[i] * spf : offsets[i] * spf + pre + spf + post]``. Stages that work on
        the stream itself (decimation, per-frame sums) use it instead of the overlapping windows.
    offsets
        Frame offset of each window in ``samples`` (``arange(n)`` unless frames were dropped).
    """

    k: NDArray[np.int64]
    windows: NDArray[np.float64]
    coverage: NDArray[np.float64]
    samples: NDArray[np.float64]
    offsets: NDArray[np.intp]

    def __len__(self) -> int:
        return int(self.k.shape[0])


class FrameWindower:
    """Streaming frame cutter (see the module docstring).

    Parameters
    ----------
    samples_per_frame
        Grid samples per frame.
    pre_samples, post_samples
        Context samples before and after each frame.
    """

    def __init__(self, *, samples_per_frame: int, pre_samples: int, post_samples: int) -> None:
        self.samples_per_frame = samples_per_frame
        self.pre_samples = pre_samples
        self.post_samples = post_samples
        self._buf: NDArray[np.float64] = np.empty((0, 3))
        self._real: NDArray[np.bool_] = np.empty(0, dtype=bool)
        self._buf_j0 = 0  # grid index of _buf[0]
        self._next_k: int | None = None  # next frame to release; None: no open segment

    @property
    def open(self) -> bool:
        """True while a segment is open (some frames may still be pending)."""
        return self._next_k is not None

    def push(self, j0: int, acc_g: NDArray[np.float64]) -> FrameBatch | None:
        """Append grid samples starting at grid index ``j0`` (contiguous with earlier ones)."""
        n = len(acc_g)
        if n == 0:
            return None
        spf, pre = self.samples_per_frame, self.pre_samples
        if self._next_k is None:
            k0 = j0 // spf
            self._next_k = k0
            self._buf_j0 = k0 * spf - pre
            lead = j0 - self._buf_j0
            self._buf = np.concatenate((np.repeat(acc_g[:1], lead, axis=0), acc_g))
            self._real = np.concatenate((np.zeros(lead, bool), np.ones(n, bool)))
        else:
            expected = self._buf_j0 + len(self._buf)
            if j0 != expected:
                raise ValueError(f"grid samples not contiguous: got {j0}, expected {expected}")
            self._buf = np.concatenate((self._buf, acc_g))
            self._real = np.concatenate((self._real, np.ones(n, bool)))
        return self._release(final=False)

    def end_segment(self) -> FrameBatch | None:
        """Close the open segment: pad its end and release every remaining frame."""
        if self._next_k is None:
            return None
        spf, post = self.samples_per_frame, self.post_samples
        last_j = self._buf_j0 + len(self._buf) - 1
        end_j = (last_j // spf + 1) * spf + post  # exclusive
        tail = end_j - (last_j + 1)
        if len(self._buf) and tail > 0:
            self._buf = np.concatenate((self._buf, np.repeat(self._buf[-1:], tail, axis=0)))
            self._real = np.concatenate((self._real, np.zeros(tail, bool)))
        batch = self._release(final=True)
        self._next_k = None
        self._buf = np.empty((0, 3))
        self._real = np.empty(0, dtype=bool)
        return batch

    def _release(self, *, final: bool) -> FrameBatch | None:
        assert self._next_k is not None
        spf, pre, post = self.samples_per_frame, self.pre_samples, self.post_samples
        width = pre + spf + post
        first = self._next_k * spf - pre - self._buf_j0  # buffer offset of first window
        avail = len(self._buf) - first
        n = (avail - width) // spf + 1 if avail >= width else 0
        if n <= 0:
            return None
        seg = self._buf[first : first + (n - 1) * spf + width]
        windows = sliding_window_view(seg, (width, 3))[::spf, 0]
        real = self._real[first + pre : first + pre + n * spf].reshape(n, spf)
        coverage = real.mean(axis=1)
        k = np.arange(self._next_k, self._next_k + n, dtype=np.int64)
        offsets = np.arange(n, dtype=np.intp)
        if final:
            keep = coverage > 0
            if not keep.all():
                windows, coverage, k = windows[keep], coverage[keep], k[keep]
                offsets = offsets[keep]
        self._next_k += n
        # keep only what the next window needs
        drop = self._next_k * spf - pre - self._buf_j0
        if not final and drop > 0:  # slicing keeps `windows` valid: buffers are never mutated
            self._buf = self._buf[drop:]
            self._real = self._real[drop:]
            self._buf_j0 += drop
        if len(k) == 0:
            return None
        return FrameBatch(k, windows, coverage, seg, offsets)
