"""Posture segments: runs of consecutive frames with the same posture label, and the filter
that keeps a walking run too short to be a walk from being reported as walking.

A segment grows while frames of its posture follow each other without a hole; it ends at the
first frame of another posture, or where a data gap or the end of the stream ends the run
(:meth:`PostureSegmenter.close`), so a segment never spans missing data.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sensorhub.detect.posture import CODE, POSTURES, WALK_RUN_FRAMES
from sensorhub.model import Posture, PostureSegment

__all__ = ["PostureSegmenter", "ShortWalkFilter"]

_WALKING = CODE[Posture.WALKING]
_ACTIVE = CODE[Posture.ACTIVE]


class PostureSegmenter:
    """Streaming posture segmentation of labelled frames (see the module docstring).

    Each action method returns the :class:`~sensorhub.model.PostureSegment` s it finished.
    """

    def __init__(self) -> None:
        self._label: int | None = None
        self._start = 0
        self._end = 0

    def segment(
        self, start_ns: NDArray[np.int64], end_ns: NDArray[np.int64], labels: NDArray[np.int8]
    ) -> list[PostureSegment]:
        """Add consecutive frames (start/end times and posture codes); return the segments
        they finished."""
        done: list[PostureSegment] = []
        change = np.nonzero(labels[1:] != labels[:-1])[0] + 1
        for s, e in zip(
            np.concatenate(([0], change)).tolist(),
            np.concatenate((change, [len(labels)])).tolist(),
            strict=True,
        ):
            lab = int(labels[s])
            if self._label == lab and self._end == int(start_ns[s]):
                self._end = int(end_ns[e - 1])
                continue
            done += self.close()
            self._label, self._start, self._end = lab, int(start_ns[s]), int(end_ns[e - 1])
        return done

    def close(self) -> list[PostureSegment]:
        """A gap or the end of the stream: end the open segment; return it."""
        if self._label is None:
            return []
        seg = PostureSegment(self._start, self._end, POSTURES[self._label])
        self._label = None
        return [seg]


class ShortWalkFilter:
    """Streaming relabelling of walking runs too short to be a walk as ``active``.

    A run of fewer than ``min_walk_s`` walking frames is moving in place (shifting on a seat,
    turning to reach something), not a walk: a walk has at least about four strides
    (Mobilise-D's shortest walking bout; :data:`~sensorhub.detect.posture.WALK_RUN_FRAMES`).
    The run is held back until it is long enough or has ended, so the output is the same
    whatever the chunking; it lags the input by at most ``min_walk_s - 1`` frames. Frames are
    consecutive within a segment of the stream; :meth:`flush` ends a segment (a gap or the end
    of the stream).

    Parameters
    ----------
    min_walk_s
        Shortest run of walking frames (1-s frames) that stays walking.
    """

    def __init__(self, *, min_walk_s: int = WALK_RUN_FRAMES) -> None:
        self.min_walk_s = min_walk_s
        self._held: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]] | None = None
        self._run = 0  # length of the walking run that ends the output so far

    def push(
        self, start_ns: NDArray[np.int64], end_ns: NDArray[np.int64], labels: NDArray[np.int8]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
        """Add consecutive frames; return the frames that are settled (possibly fewer, or
        earlier ones held back before)."""
        if self._held is not None:
            hs, he, hl = self._held
            start_ns = np.concatenate((hs, start_ns))
            end_ns = np.concatenate((he, end_ns))
            labels = np.concatenate((hl, labels))
            self._held = None
        n = len(labels)
        if n == 0:
            return start_ns, end_ns, labels
        out = labels.copy()
        walking = labels == _WALKING
        change = np.nonzero(walking[1:] != walking[:-1])[0] + 1
        starts = np.concatenate(([0], change)).tolist()
        ends = np.concatenate((change, [n])).tolist()
        keep = n
        for s, e in zip(starts, ends, strict=True):
            # a first run continues the walking run that ended the previous output
            length = e - s + (self._run if s == 0 else 0)
            if not walking[s] or length >= self.min_walk_s:
                continue
            if e == n:  # still open and short: hold it back
                keep = s
            else:
                out[s:e] = _ACTIVE
        last = ends[-1] - starts[-1] + (self._run if len(starts) == 1 else 0)
        if keep < n:
            self._held = (start_ns[keep:], end_ns[keep:], labels[keep:])
            self._run = 0
        else:
            self._run = last if walking[-1] else 0
        return start_ns[:keep], end_ns[:keep], out[:keep]

    def flush(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
        """End of a segment: the held frames, a short run relabelled ``active``."""
        if self._held is None:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int8)
        hs, he, hl = self._held
        self._held = None
        self._run = 0
        return hs, he, np.where(hl == _WALKING, _ACTIVE, hl).astype(np.int8)
