"""Device clock -> UTC with drift correction against the host clock (sans-I/O).

A wearable stamps samples with its own clock (the PMD clock of a Polar strap, the
microsecond counter of the open IMU profile) or with nothing at all (then the sample counter
at the nominal rate is its clock). That clock has an unknown offset from UTC, runs a little
fast or slow (a crystal's tens of ppm), may be stepped (set by an app, or reset by a reboot),
and every notification reaches the host after a variable delay. :class:`DeviceClockMapper`
maps device time to UTC so that sample times are continuous, monotonic and on the host's
timeline.

Method (running minimum delay + linear fit of the lower envelope)
-----------------------------------------------------------------
Each notification gives an observation ``o = host_utc - device_time`` of its last sample.
Because a sample cannot arrive before it was taken, ``o = offset + delay`` with ``delay >= 0``,
so the *smallest* observations are the best estimates of the offset (the minimum-delay filter
of NTP's clock filter and of Paxson's clock-skew estimation):

1. Observations are grouped into windows of ``window_s`` of device time; the minimum of each
   window is kept (the last ``fit_windows`` of them).
2. Once the minima span at least ``min_fit_span_s``, a least-squares line through them gives
   the skew (clamped to ``max_skew_ppm``); before that the skew is taken as zero.
3. Between fits, an observation below the current line lowers the line at once (the running
   minimum), so no sample is ever mapped later than it arrived.
4. An observation that puts the device ``step_threshold_s`` *ahead* of the line (a forward
   step of the device clock), or a device time going back by more than the threshold, is a
   clock step: the caller decides how to re-anchor (see ``sensorhub.ble.streams``) and the
   fit restarts.

The mapping is ``utc = device + intercept + skew * (device - reference)``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from sensorhub.model import NS_PER_S

__all__ = ["DeviceClockMapper", "MapperState"]

#: Default threshold of a device-clock step: real transport delays are well below it.
DEFAULT_STEP_THRESHOLD_S: Final = 5.0


@dataclass(frozen=True, slots=True)
class MapperState:
    """Snapshot of the mapping (for health reports and tests)."""

    intercept_ns: int
    reference_device_ns: int
    skew_ppm: float
    windows: int


class DeviceClockMapper:
    """Maps one device clock to UTC, correcting offset and drift.

    Parameters
    ----------
    window_s
        Device-time length of one minimum-delay window.
    fit_windows
        How many window minima the line is fitted through (a sliding history).
    min_fit_span_s
        Device-time span the minima must cover before a skew is estimated.
    max_skew_ppm
        Largest skew believed; a fit beyond it is clamped (real crystals: < 100 ppm).
    step_threshold_s
        How far (in host time) the device may run ahead of the mapping before it is called
        a clock step. Must exceed the worst transport delay.
    """

    def __init__(
        self,
        *,
        window_s: float = 20.0,
        fit_windows: int = 30,
        min_fit_span_s: float = 120.0,
        max_skew_ppm: float = 1000.0,
        step_threshold_s: float = DEFAULT_STEP_THRESHOLD_S,
    ) -> None:
        if window_s <= 0 or fit_windows < 2 or step_threshold_s <= 0:
            raise ValueError("window_s and step_threshold_s must be positive, fit_windows >= 2")
        self.window_ns = round(window_s * NS_PER_S)
        self.min_fit_span_ns = round(min_fit_span_s * NS_PER_S)
        self.max_skew = max_skew_ppm * 1e-6
        self.step_threshold_ns = round(step_threshold_s * NS_PER_S)
        self._minima: deque[tuple[int, int]] = deque(maxlen=fit_windows)
        self._window_start: int | None = None
        self._window_min: tuple[int, int] | None = None
        self._intercept: int = 0  # UTC - device at the reference device time
        self._reference: int = 0
        self._skew: float = 0.0
        self._anchored = False

    # ------------------------------------------------------------------ queries

    @property
    def anchored(self) -> bool:
        """True once an observation has anchored the mapping."""
        return self._anchored

    @property
    def state(self) -> MapperState:
        """The current line."""
        return MapperState(self._intercept, self._reference, self._skew * 1e6, len(self._minima))

    def offset_ns(self, device_ns: int) -> int:
        """UTC minus device time at ``device_ns`` according to the current line."""
        # integer intercept: float64 cannot hold ns since 1970 exactly
        return self._intercept + round(self._skew * (device_ns - self._reference))

    def to_utc(self, device_ns: int) -> int:
        """UTC (ns since the Unix epoch) of one device time."""
        return device_ns + self.offset_ns(device_ns)

    def to_utc_array(self, device_ns: NDArray[np.int64]) -> NDArray[np.int64]:
        """UTC of many device times (int64, exact integer offset arithmetic)."""
        base = self.to_utc(int(device_ns[0])) - int(device_ns[0])
        # the skew's contribution across one array is tiny; apply it exactly in float64
        rel = (device_ns - device_ns[0]).astype(np.float64) * self._skew
        mapped: NDArray[np.int64] = device_ns + base + np.rint(rel).astype(np.int64)
        return mapped

    def to_device(self, utc_ns: int) -> int:
        """Device time that maps to ``utc_ns`` (inverse of :meth:`to_utc`)."""
        # utc = d + offset(d): fixed-point iteration in exact integers (float64 cannot hold
        # ns since 1970 exactly); each step shrinks the error by the skew (1e-4).
        guess = utc_ns - self._intercept
        guess = utc_ns - self.offset_ns(guess)
        return utc_ns - self.offset_ns(guess)

    def residual_ns(self, device_ns: int, host_utc_ns: int) -> int:
        """Host arrival minus mapped device time: the delay (positive) or a step (large)."""
        return host_utc_ns - self.to_utc(device_ns)

    def is_forward_step(self, device_ns: int, host_utc_ns: int) -> bool:
        """True if the device time is impossibly far ahead of the host (a clock step)."""
        return self._anchored and self.residual_ns(device_ns, host_utc_ns) < (
            -self.step_threshold_ns
        )

    # ----------------------------------------------------------------- updates

    def reset(self) -> None:
        """Forget everything (a different device clock, e.g. after a reboot)."""
        self._minima.clear()
        self._window_start = None
        self._window_min = None
        self._skew = 0.0
        self._anchored = False

    def anchor(self, device_ns: int, utc_ns: int) -> None:
        """Make ``device_ns`` map to ``utc_ns`` from now on, keeping the skew (after a step)."""
        self._minima.clear()
        self._window_start = None
        self._window_min = None
        self._reference = device_ns
        self._intercept = utc_ns - device_ns
        self._anchored = True

    def observe(self, device_ns: int, host_utc_ns: int) -> None:
        """Feed one observation: the device time of a sample and when the host received it.

        The caller checks :meth:`is_forward_step` first; observations are assumed to be on
        a continuous device clock.
        """
        observed = host_utc_ns - device_ns
        if not self._anchored:
            self._reference = device_ns
            self._intercept = observed
            self._anchored = True
        elif observed < self.offset_ns(device_ns):
            # running minimum: the line may never put a sample after its arrival
            self._intercept += observed - self.offset_ns(device_ns)
        if self._window_start is None:
            self._window_start = device_ns
        if self._window_min is None or observed < self._window_min[1]:
            self._window_min = (device_ns, observed)
        if device_ns - self._window_start >= self.window_ns:
            self._minima.append(self._window_min)
            self._window_start = device_ns
            self._window_min = None
            self._refit()

    def _refit(self) -> None:
        if len(self._minima) < 3:
            return
        t = np.array([m[0] for m in self._minima], dtype=np.int64)
        o_int = np.array([m[1] for m in self._minima], dtype=np.int64)
        span = int(t[-1] - t[0])
        if span < self.min_fit_span_ns:
            return
        reference = int(t[-1])
        x = (t - reference).astype(np.float64)
        o_rel = (o_int - o_int[-1]).astype(np.float64)
        slope, intercept_rel = np.polyfit(x, o_rel, 1)
        slope = float(np.clip(slope, -self.max_skew, self.max_skew))
        # Lower envelope: shift the fitted line down onto the lowest minimum.
        intercept_rel = float(np.min(o_rel - slope * x))
        self._reference = reference
        self._intercept = int(o_int[-1]) + round(intercept_rel)
        self._skew = slope
