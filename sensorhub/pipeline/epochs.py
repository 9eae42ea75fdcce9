"""Epoch summaries (60 s by default) of the analysed one-second frames.

Frames carry absolute indices (``k``: the frame covers ``[k, k + 1)`` s of device time), so an
epoch is ``[i * epoch_s, (i + 1) * epoch_s)`` whatever the chunking. An epoch is finished when
a frame of a later epoch arrives, or at the end of the stream; an epoch may span a data gap
(its figures are weighted by the frames' coverage).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sensorhub.detect.posture import CODE, POSTURES
from sensorhub.model import NS_PER_S, EpochSummary, Posture
from sensorhub.signal.features import FrameFeatures

__all__ = ["EpochAccumulator", "steps_per_frame"]


@dataclass(slots=True)
class _Sums:
    index: int
    seconds: NDArray[np.float64] = field(default_factory=lambda: np.zeros(len(POSTURES)))
    enmo_sum: float = 0.0
    mad_sum: float = 0.0
    covered: float = 0.0
    steps: int = 0


def steps_per_frame(steps_ns: NDArray[np.int64], k: NDArray[np.int64]) -> NDArray[np.int64]:
    """How many of the steps fall in each of the frames ``k`` (increasing); steps before the
    first frame are credited to it, steps after the last one to the last."""
    per_frame = np.zeros(len(k), dtype=np.int64)
    if len(steps_ns) == 0:
        return per_frame
    pos = np.clip(np.searchsorted(k, steps_ns // NS_PER_S), 0, len(k) - 1)
    np.add.at(per_frame, pos, 1)
    return per_frame


class EpochAccumulator:
    """Sums frames into :class:`~sensorhub.model.EpochSummary` s (see the module docstring).

    Parameters
    ----------
    epoch_s
        Epoch length (whole seconds; DESIGN.md section 7: 1-min epochs are stored).

    Per epoch: seconds per posture (weighted by the frames' coverage), the majority posture,
    the coverage-weighted mean ENMO and MAD (mg), the steps, and ``worn`` unless half of the
    covered time was non-wear.
    """

    def __init__(self, *, epoch_s: int = 60) -> None:
        self.epoch_s = epoch_s
        self._open: _Sums | None = None

    def accumulate(
        self,
        features: FrameFeatures,
        labels: NDArray[np.int8],
        steps: NDArray[np.int64],
    ) -> list[EpochSummary]:
        """Add consecutive frames (their features, posture codes and steps per frame);
        return the epochs finished by them."""
        done: list[EpochSummary] = []
        idx = features.k // self.epoch_s
        bounds = np.nonzero(np.diff(idx))[0] + 1
        has_mad = len(features.mad_mg) == len(features)
        for s, e in zip(
            np.concatenate(([0], bounds)).tolist(),
            np.concatenate((bounds, [len(idx)])).tolist(),
            strict=True,
        ):
            i = int(idx[s])
            if self._open is not None and self._open.index != i:
                done += self.finish()
            if self._open is None:
                self._open = _Sums(i)
            acc = self._open
            cov = features.coverage[s:e]
            acc.seconds += np.bincount(labels[s:e], weights=cov, minlength=len(POSTURES))
            acc.enmo_sum += float((features.enmo_mg[s:e] * cov).sum())
            if has_mad:
                acc.mad_sum += float((features.mad_mg[s:e] * cov).sum())
            acc.covered += float(cov.sum())
            acc.steps += int(steps[s:e].sum())
        return done

    def finish(self) -> list[EpochSummary]:
        """End of stream: the open epoch's summary (if any)."""
        acc = self._open
        if acc is None:
            return []
        self._open = None
        ep = self.epoch_s
        secs = {POSTURES[i].value: float(v) for i, v in enumerate(acc.seconds) if v > 0}
        nonwear = acc.seconds[CODE[Posture.NONWEAR]]
        return [
            EpochSummary(
                start_ns=acc.index * ep * NS_PER_S,
                duration_s=float(ep),
                posture=POSTURES[int(np.argmax(acc.seconds))],
                enmo_mg=acc.enmo_sum / acc.covered if acc.covered > 0 else 0.0,
                mad_mg=acc.mad_sum / acc.covered if acc.covered > 0 else 0.0,
                steps=acc.steps,
                worn=bool(nonwear < 0.5 * acc.covered),
                posture_seconds=secs,
            )
        ]
