"""Non-wear detection (GGIR-style): a device that has not moved at all for a long time is off.

A frame is *still* when the dynamic RMS of its 3-s window is below ``still_rms_g`` (13 mg: the
GGIR / van Hees 2013 standard-deviation criterion, applied here to the vector of all axes, which
is stricter). A run of still frames lasting ``min_nonwear_s`` (60 min, GGIR's window length) is
non-wear from its first frame; it ends at the first moving frame. Once non-wear is confirmed the
pipeline ends any static bout at the start of the stillness, so a band lying on a table is not
counted as sitting. Before that, a run of frames with no movement above the sensor's own noise
(dynamic RMS below ``motionless_rms_g``, 5 mg: under the quietest 3-s window of any worn phone in
the open hip recordings, 6.6 mg) lets the nudge engine hold static-load nudges for a device that
has stopped moving altogether (``still_since_ns``). GGIR's 13 mg is too loose for that: a worn
device sitting very still, or an emulated one with 7 mg of sensor noise, stays under it for
minutes; a noisier device put down on a table is then not caught before non-wear is confirmed.

References
----------
van Hees V.T. et al. (2013) Separating movement and gravity components in an acceleration signal
and implications for the assessment of human daily physical activity. PLoS ONE 8:e61691.
Migueles J.H. et al. (2019) GGIR. J Meas Phys Behav 2:188-196.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sensorhub.model import NS_PER_S, NonWear


@dataclass(frozen=True, slots=True, eq=False)
class WearFrames:
    """What :meth:`WearDetector.update` found in the frames it was given.

    Attributes
    ----------
    nonwear_mask
        Frames that lie in confirmed non-wear.
    confirmed_index
        Index (within these frames) where non-wear was confirmed, or -1.
    confirmed_start_ns
        Start of the still run that was confirmed as non-wear here (None: none was).
    intervals
        Non-wear intervals that ended in these frames.
    """

    nonwear_mask: NDArray[np.bool_]
    confirmed_index: int
    confirmed_start_ns: int | None
    intervals: list[NonWear]


class WearDetector:
    """Streaming non-wear detector (see the module docstring).

    Parameters
    ----------
    still_rms_g
        Largest dynamic RMS of a still frame.
    min_nonwear_s
        Stillness this long is non-wear.
    motionless_rms_g
        Largest dynamic RMS of a frame that shows no movement at all (``still_since_ns``).

    :meth:`update` returns a :class:`WearFrames`; :meth:`finish` the interval it closed.
    """

    def __init__(
        self,
        *,
        still_rms_g: float = 0.013,
        min_nonwear_s: float = 3600.0,
        motionless_rms_g: float = 0.005,
    ) -> None:
        self.still_rms_g = still_rms_g
        self.min_nonwear_s = min_nonwear_s
        self._intervals: list[NonWear] = []  # intervals ended by the running action
        self._run_start: int | None = None
        self._run_end = 0
        self.motionless_rms_g = motionless_rms_g
        self._quiet_start: int | None = None  # start of the current motionless run
        self._quiet_end = 0
        self._confirmed = False

    @property
    def worn(self) -> bool:
        """False while confirmed non-wear is going on."""
        return not self._confirmed

    @property
    def nonwear_since_ns(self) -> int | None:
        """Start of the confirmed non-wear going on (None while worn)."""
        return self._run_start if self._confirmed else None

    @property
    def still_since_ns(self) -> int | None:
        """Start of the motionless run (below ``motionless_rms_g``) the latest frame belongs
        to (None: the device moves). Not non-wear yet, but the early evidence the nudge engine
        uses to hold a nudge for a device that may have been taken off."""
        return self._quiet_start

    def update(
        self, start_ns: NDArray[np.int64], end_ns: NDArray[np.int64], dyn_rms_g: NDArray[np.float64]
    ) -> WearFrames:
        """Fold consecutive frames in; return what was found in them."""
        n = len(start_ns)
        confirmed_index = -1
        confirmed_start_ns: int | None = None
        self._intervals = []
        mask = np.zeros(n, dtype=bool)
        still = dyn_rms_g < self.still_rms_g
        if n == 0:
            return WearFrames(mask, confirmed_index, confirmed_start_ns, self._take())
        self._track_motionless(start_ns, end_ns, dyn_rms_g < self.motionless_rms_g)
        change = np.nonzero(still[1:] != still[:-1])[0] + 1
        need = int(self.min_nonwear_s * NS_PER_S)
        for s, e in zip(
            np.concatenate(([0], change)).tolist(),
            np.concatenate((change, [n])).tolist(),
            strict=True,
        ):
            if not still[s]:
                self._end()
                continue
            if self._run_start is None or int(start_ns[s]) - self._run_end > NS_PER_S:
                self._end()
                self._run_start = int(start_ns[s])
            self._run_end = int(end_ns[e - 1])
            if self._confirmed:
                mask[s:e] = True
                continue
            # first frame at which the run reaches the required length
            reach = int(np.searchsorted(end_ns[s:e], self._run_start + need, side="left"))
            if reach < e - s:
                self._confirmed = True
                confirmed_index = s + reach
                confirmed_start_ns = self._run_start
                mask[s + reach : e] = True
        return WearFrames(mask, confirmed_index, confirmed_start_ns, self._take())

    def _track_motionless(
        self, start_ns: NDArray[np.int64], end_ns: NDArray[np.int64], quiet: NDArray[np.bool_]
    ) -> None:
        if self._quiet_start is not None and int(start_ns[0]) - self._quiet_end > NS_PER_S:
            self._quiet_start = None  # a gap in the data breaks the run
        moving = np.flatnonzero(~quiet)
        if len(moving):
            tail = int(moving[-1]) + 1
            self._quiet_start = int(start_ns[tail]) if tail < len(quiet) else None
        elif self._quiet_start is None:
            self._quiet_start = int(start_ns[0])
        self._quiet_end = int(end_ns[-1])

    def finish(self) -> list[NonWear]:
        """A gap or the end of the stream: close a confirmed non-wear interval; return it."""
        self._intervals = []
        self._end()
        return self._take()

    def _take(self) -> list[NonWear]:
        out, self._intervals = self._intervals, []
        return out

    def _end(self) -> None:
        if self._confirmed and self._run_start is not None:
            self._intervals.append(NonWear(self._run_start, self._run_end))
        self._run_start = None
        self._confirmed = False
