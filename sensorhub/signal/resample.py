"""Streaming resampling onto an absolute time grid.

Every sample stream, whatever its nominal rate or jitter, is interpolated linearly onto the grid
``j * dt_ns`` (absolute UTC nanoseconds, ``dt_ns = 1e9 / fs``). Because the grid is absolute and the
interpolation only ever looks at the two bracketing input samples, the output does not depend on
how the input was cut into blocks: this is the first half of the pipeline's chunk independence.
Stretches without input longer than ``max_interp_gap_s`` are not bridged; they end a *segment*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sensorhub.model import NS_PER_S


@dataclass(frozen=True, slots=True, eq=False)
class GridChunk:
    """Consecutive grid samples produced by :class:`GridResampler`.

    Attributes
    ----------
    j0
        Absolute grid index of the first sample (time ``j0 * dt_ns``).
    acc_g
        Interpolated acceleration, shape (n, 3), in g.
    new_segment
        True when a gap longer than the interpolation limit precedes this chunk.
    gap_ns
        Length of that gap (time between the last input sample before it and the first after).
    last_input_ns
        Time of the last input sample before the gap (meaningful when ``new_segment``).
    """

    j0: int
    acc_g: NDArray[np.float64]
    new_segment: bool
    gap_ns: int = 0
    last_input_ns: int = 0


class GridResampler:
    """Linear interpolation of an irregular stream onto an absolute grid (sans-I/O, streaming).

    Parameters
    ----------
    fs_hz
        Grid rate; ``1e9 / fs_hz`` must be a whole number of nanoseconds.
    max_interp_gap_s
        Input intervals longer than this are gaps: no grid samples are invented inside them.
    """

    def __init__(self, *, fs_hz: float = 50.0, max_interp_gap_s: float = 2.0) -> None:
        self.fs_hz = fs_hz
        self.max_interp_gap_s = max_interp_gap_s
        dt = NS_PER_S / fs_hz
        if abs(dt - round(dt)) > 1e-9:
            raise ValueError(f"1e9 / fs_hz must be whole nanoseconds, got fs_hz={fs_hz}")
        self.dt_ns = round(dt)
        self._max_gap_ns = int(max_interp_gap_s * NS_PER_S)
        self._base_ns: int | None = None
        self._last_t: int | None = None
        self._last_a: NDArray[np.float64] | None = None
        self._next_j: int | None = None

    def push(
        self, t_ns: NDArray[np.int64], acc_g: NDArray[np.float64], gap_before_ns: int = 0
    ) -> list[GridChunk]:
        """Add input samples; return the grid samples that are now determined.

        A returned chunk with ``new_segment`` set (possibly with no samples) tells the consumer
        that everything before it is finished: a gap, or the start of the stream.
        """
        if len(t_ns) == 0:
            return []
        t = np.asarray(t_ns, dtype=np.int64)
        a = np.asarray(acc_g, dtype=np.float64)
        out: list[GridChunk] = []
        if self._last_t is None or self._last_a is None:
            self._base_ns = int(t[0])
            out.append(GridChunk(0, _EMPTY, True))
            t_all, a_all = t, a
        else:
            gap = int(t[0]) - self._last_t
            if gap_before_ns > self._max_gap_ns or gap > self._max_gap_ns:
                out.append(GridChunk(0, _EMPTY, True, gap, self._last_t))
                self._next_j = None
                t_all, a_all = t, a
            else:
                t_all = np.concatenate(([self._last_t], t))
                a_all = np.concatenate((self._last_a[None, :], a))
        dif = np.diff(t_all)
        if np.any(dif <= 0):  # duplicates / out-of-order samples are dropped, never reordered
            keep = np.concatenate(([True], np.maximum.accumulate(t_all)[:-1] < t_all[1:]))
            t_all, a_all = t_all[keep], a_all[keep]
            dif = np.diff(t_all)
        start = 0
        for b in [*np.nonzero(dif > self._max_gap_ns)[0].tolist(), len(t_all) - 1]:
            chunk = self._interp(t_all[start : b + 1], a_all[start : b + 1])
            if chunk is not None:
                out.append(chunk)
            if b < len(t_all) - 1:
                out.append(GridChunk(0, _EMPTY, True, int(dif[b]), int(t_all[b])))
                self._next_j = None
            start = b + 1
        self._last_t = int(t_all[-1])
        self._last_a = a_all[-1].copy()
        return out

    def _interp(self, t: NDArray[np.int64], a: NDArray[np.float64]) -> GridChunk | None:
        dt = self.dt_ns
        j_lo = -(-int(t[0]) // dt)
        if self._next_j is not None:
            j_lo = max(j_lo, self._next_j)
        j_hi = int(t[-1]) // dt
        if j_hi < j_lo:
            return None
        assert self._base_ns is not None
        self._next_j = j_hi + 1
        on_grid = _on_grid(t, dt, j_lo, j_hi)
        if on_grid is not None:  # every grid point is an input sample: nothing to interpolate
            return GridChunk(j_lo, a[on_grid], False)
        base = self._base_ns
        grid = (np.arange(j_lo, j_hi + 1, dtype=np.int64) * dt - base).astype(np.float64)
        xp = (t - base).astype(np.float64)
        vals = np.empty((len(grid), 3))
        for ax in range(3):
            vals[:, ax] = np.interp(grid, xp, a[:, ax])
        return GridChunk(j_lo, vals, False)


def _on_grid(t: NDArray[np.int64], dt: int, j_lo: int, j_hi: int) -> slice | None:
    """The samples of ``t`` on grid points ``j_lo..j_hi`` as a slice, when a regular stride
    of samples hits every one of them exactly (linear interpolation there returns the sample
    itself); otherwise None."""
    need = j_hi - j_lo + 1
    i0 = int(np.searchsorted(t, j_lo * dt))
    if i0 >= len(t) or int(t[i0]) != j_lo * dt:
        return None
    if need == 1:
        return slice(i0, i0 + 1)
    step = int(np.searchsorted(t, (j_lo + 1) * dt)) - i0
    sl = slice(i0, i0 + (need - 1) * step + 1, step)
    hit = t[sl]
    if len(hit) == need and np.array_equal(hit, np.arange(j_lo, j_hi + 1, dtype=np.int64) * dt):
        return sl
    return None


_EMPTY: NDArray[np.float64] = np.empty((0, 3))
