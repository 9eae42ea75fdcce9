"""Posture segments: runs of consecutive frames with the same posture label.

A segment grows while frames of its posture follow each other without a hole; it ends at the
first frame of another posture, or where a data gap or the end of the stream ends the run
(:meth:`PostureSegmenter.close`), so a segment never spans missing data.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sensorhub.detect.posture import POSTURES
from sensorhub.model import PostureSegment

__all__ = ["PostureSegmenter"]


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
