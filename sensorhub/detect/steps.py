"""Step (initial-contact) detection inside walking frames, independent of mounting.

The vertical acceleration is the projection of each frame's acceleration on its own gravity
direction, so no device axis is assumed. It is low-pass filtered (zero phase, inside the frame's
context window) and every local maximum that dominates a neighbourhood of about half a step is a
step. For the ``"peak"`` method the dominance is judged on the signal averaged over the
neighbouring periods (a comb), which keeps one foot's peaks ahead of the other's when a limb
sensor's period is a stride; outside walking frames the peaks must also recur in those periods
(fidgets do not; Brajdic & Harle 2013 review such periodicity tests for phone step counters).
At the trunk the peak follows heel strike by 40-90 ms (the loading response; Zijlstra & Hof
2003), well inside the +-0.25 s matching tolerance of the evaluations. Each frame only reports
peaks inside its own second, so streaming and batch give the same steps.

The same windows give the vertical excursion of the sensor per step for the inverted-pendulum
step length (Zijlstra & Hof 2003).

References
----------
Zijlstra W., Hof A.L. (2003) Assessment of spatio-temporal gait parameters from trunk
accelerations during human walking. Gait Posture 18:1-10.
Moe-Nilssen R., Helbostad J.L. (2004) Estimation of gait cycle characteristics by trunk
accelerometry. J Biomech 37:121-126.
Brajdic A., Harle R. (2013) Walk detection and step counting on unconstrained smartphones.
Proc. UbiComp 2013:225-234.
Hausdorff J.M. (2005) Gait variability: methods, modeling and meaning. J NeuroEng Rehabil 2:19.
McCamley J. et al. (2012) An enhanced estimate of initial contact and final contact instants of
time using lower trunk inertial sensor data. Gait Posture 36:316-318.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import maximum_filter1d
from scipy.signal import butter, sosfiltfilt

from sensorhub.signal.features import MAX_STEP_PERIOD_S, MIN_STEP_PERIOD_S
from sensorhub.signal.trunk_ic import trunk_initial_contacts

#: Strides on each side averaged by :func:`periodic_average` in the peak method (a 4-5 s
#: window holds the frame and two strides either side at 100 steps/min).
COMB_STRIDES = 2
#: The step is placed on the raw peak within this fraction of the period of a comb peak.
REFINE_PERIODS = 0.15
#: Outside frames labelled walking, the comb's highest peak must reach this fraction of the
#: raw signal's highest: steps recur stride after stride (stride time varies by 1-3 %,
#: Hausdorff 2005; peak heights by about 10 %), a fidget or a weight shift does not.
RECURRENCE_MIN = 0.5


def periodic_average(x: NDArray[np.float64], period: int, k: int) -> NDArray[np.float64]:
    """Average of each row of ``x`` with itself shifted by +-1 ... +-``k`` periods.

    The comb keeps what repeats with the period (one foot's peak recurs every stride) and
    averages out what does not; at each sample only the shifts that stay inside the row are
    averaged (fewer near its ends).

    Parameters
    ----------
    x
        Signals, one per row, shape (n, w).
    period
        Period in samples (< 1: ``x`` is returned unchanged).
    k
        Periods averaged on each side.

    Returns
    -------
    numpy.ndarray
        The averaged signals, shape of ``x``.
    """
    if period < 1:
        return x
    total = x.copy()
    count = np.ones(x.shape[1])
    w = x.shape[1]
    for j in range(1, k + 1):
        d = j * period
        if d >= w:
            break
        total[:, d:] += x[:, :-d]
        total[:, :-d] += x[:, d:]
        count[d:] += 1.0
        count[:-d] += 1.0
    return total / count


@dataclass(frozen=True, slots=True, eq=False)
class DetectedSteps:
    """Steps found by :meth:`StepDetector.detect`, sorted by row, then sample.

    Attributes
    ----------
    rows
        Row (frame) of each step in the windows given.
    samples
        Sample of each step within its frame's central second.
    excursion_m
        Peak-to-peak vertical sensor displacement after each step (m), for the step length
        (NaN unless the detector measures ``excursion``).
    """

    rows: NDArray[np.intp]
    samples: NDArray[np.intp]
    excursion_m: NDArray[np.float64]


class StepDetector:
    """Per-frame step detector (see the module docstring).

    Parameters
    ----------
    lowpass_hz
        Low-pass cut-off of the vertical acceleration (above the 3 Hz step rate of 180/min).
    min_peak_g
        Smallest peak height (g above the window mean) that counts as a step.
    relative_peak
        A peak must also reach this fraction of the window's largest peak (rejects the small
        secondary bumps of each step).
    neighbourhood_steps
        A step peak must be the maximum within +-this fraction of the frame's step period.
    min_step_interval_s
        Detections closer than this are merged (180 steps/min is the fastest walking cadence).
    excursion
        Also measure the vertical excursion per step (needed only for walking speed).
    method
        ``"peak"``: local maxima of the low-passed vertical acceleration (any placement).
        ``"trunk_wavelet"``: the lower-trunk wavelet initial-contact method of McCamley et
        al. (2012) / Paraschiv-Ionescu et al. (2020), as in mobgap's ``IcdIonescu``
        (:mod:`sensorhub.signal.trunk_ic`); for a sensor on the lower back. Both keep
        detections at least ``min_step_interval_s`` apart (done by the caller).

    :meth:`detect` returns the steps it found (:class:`DetectedSteps`).
    """

    def __init__(
        self,
        *,
        lowpass_hz: float = 4.0,
        min_peak_g: float = 0.02,
        relative_peak: float = 0.3,
        neighbourhood_steps: float = 0.6,
        min_step_interval_s: float = MIN_STEP_PERIOD_S * 0.75,
        excursion: bool = False,
        method: Literal["peak", "trunk_wavelet"] = "peak",
    ) -> None:
        self.lowpass_hz = lowpass_hz
        self.min_peak_g = min_peak_g
        self.relative_peak = relative_peak
        self.neighbourhood_steps = neighbourhood_steps
        self.min_step_interval_s = min_step_interval_s
        self.excursion = excursion
        self.method = method

    def detect(
        self,
        windows: NDArray[np.float64],
        gravity_unit: NDArray[np.float64],
        step_period_s: NDArray[np.float64],
        *,
        fs_hz: float,
        pre_samples: int,
        samples_per_frame: int,
        gait_rows: NDArray[np.bool_] | None = None,
    ) -> DetectedSteps:
        """Find steps in the central second of each window (rows = moving frames).

        With ``method="trunk_wavelet"``, ``gait_rows`` marks the rows that lie in gait (the
        wavelet finds a "step" in any oscillation, so it is applied only where walking has
        been recognised, as mobgap applies it inside gait sequences); the other rows use the
        peak method. None: every row is gait."""
        m = len(windows)
        if m == 0:
            return DetectedSteps(np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0))
        v = np.einsum("nwc,nc->nw", windows, gravity_unit)
        v = v - v.mean(axis=1, keepdims=True)
        period = np.where(np.isfinite(step_period_s), step_period_s, 0.5)
        period = np.clip(period, MIN_STEP_PERIOD_S, MAX_STEP_PERIOD_S)
        c0, c1 = pre_samples, pre_samples + samples_per_frame
        if self.method == "trunk_wavelet":
            gait = np.ones(m, dtype=bool) if gait_rows is None else gait_rows
            gi = np.flatnonzero(gait)
            rr, cc = trunk_initial_contacts(v[gi], fs_hz, c0, c1, period[gi])
            rr, cc = gi[rr], cc - c0
            pi = np.flatnonzero(~gait)
            if len(pi):
                pr, pc = self._peaks(v[pi], period[pi], fs_hz, c0, c1, comb=False)
                rr, cc = np.concatenate((rr, pi[pr])), np.concatenate((cc, pc))
                order = np.lexsort((cc, rr))
                rr, cc = rr[order], cc[order]
            return self._finish(v, fs_hz, c0, rr, cc, period)
        gait = np.ones(m, dtype=bool) if gait_rows is None else gait_rows
        rr, ss = self._peaks(v, period, fs_hz, c0, c1, comb=True, gait=gait)
        return self._finish(v, fs_hz, c0, rr, ss, period)

    def _peaks(
        self,
        v: NDArray[np.float64],
        period: NDArray[np.float64],
        fs_hz: float,
        c0: int,
        c1: int,
        *,
        comb: bool,
        gait: NDArray[np.bool_] | None = None,
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Peak method: (row, sample in frame) of each step, sorted.

        A step is a local maximum of the low-passed vertical acceleration that dominates
        +-``neighbourhood_steps`` of the frame's period. With ``comb`` (the ``"peak"``
        method) the dominance is judged on the stride-averaged signal
        (:func:`periodic_average`, :meth:`_comb_peaks`); without it (the rows of the
        ``"trunk_wavelet"`` method outside gait) on the raw signal. ``gait`` marks the rows
        labelled walking (None: all).
        """
        sos = butter(4, self.lowpass_hz, "low", fs=fs_hz, output="sos")
        vf = sosfiltfilt(sos, v, axis=1)
        found_r: list[NDArray[np.intp]] = []
        found_s: list[NDArray[np.intp]] = []
        per_smp = np.round(period * fs_hz).astype(int)
        # group rows by neighbourhood size so the maximum filter runs vectorised
        half = np.maximum(1, np.round(self.neighbourhood_steps * period * fs_hz)).astype(int)
        half = np.maximum(1, 2 * (half // 2))  # even sizes only: half as many filter passes
        keys = np.stack((half, per_smp if comb else np.zeros_like(half)), axis=1)
        groups, inverse = np.unique(keys, axis=0, return_inverse=True)
        for gi, (h_, p_) in enumerate(groups.tolist()):
            h, ps = int(h_), int(p_)
            rows = np.nonzero(inverse.ravel() == gi)[0]
            if comb:
                g = np.ones(len(rows), dtype=bool) if gait is None else gait[rows]
                r, s = self._comb_peaks(vf[rows], ps, h, c0, c1, g)
            else:
                r, s = self._dominant_peaks(vf[rows], h, c0, c1)
            found_r.append(rows[r])
            found_s.append(s)
        rr = np.concatenate(found_r)
        ss = np.concatenate(found_s)
        order = np.lexsort((ss, rr))
        return rr[order], ss[order]

    def _dominant_peaks(
        self, vf: NDArray[np.float64], h: int, c0: int, c1: int
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Maxima of ``vf`` in columns ``c0:c1`` that dominate +-``h`` samples and reach the
        amplitude floors: (row, sample from ``c0``)."""
        top = np.max(vf[:, max(0, c0 - h) : c1 + h], axis=1)
        return self._dominant(vf, h, c0, c1, top)

    def _dominant(
        self, x: NDArray[np.float64], h: int, a: int, b: int, top: NDArray[np.float64]
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Samples of ``x`` in columns ``a:b`` that are the maximum of their +-``h``
        neighbourhood (the first of a plateau), at least ``min_peak_g`` and at least
        ``relative_peak`` of their row's ``top``: (row, sample from ``a``)."""
        mx = maximum_filter1d(x, size=2 * h + 1, axis=1, mode="nearest")
        part = x[:, a:b]
        ok = (part >= mx[:, a:b]) & (part >= self.min_peak_g)
        ok &= part >= self.relative_peak * top[:, None]
        ok[:, 1:] &= part[:, 1:] > part[:, :-1]  # first sample of a plateau only
        r, s = np.nonzero(ok)
        return r.astype(np.intp), s.astype(np.intp)

    def _comb_peaks(
        self,
        vf: NDArray[np.float64],
        period: int,
        h: int,
        c0: int,
        c1: int,
        gait: NDArray[np.bool_],
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Steps chosen on the stride-averaged signal, placed on the raw peaks.

        Where the period is a stride (a limb sensor) and both feet's peaks are about as
        high, the raw dominance test drops every peak outranked by the other foot's next
        one, and with slowly changing heights one after the other: a chain of missed strides
        (back-pocket phones lost a quarter of their steps). Averaged over +-``COMB_STRIDES``
        strides, one foot's peaks consistently outrank the other's, so one peak per period
        is found; the step is then placed on the highest raw sample within
        +-``REFINE_PERIODS`` of the period. Outside walking frames the rhythm must also recur
        (``RECURRENCE_MIN``), which removes most steps found in fidgets and weight shifts.

        Parameters
        ----------
        vf
            Low-passed vertical acceleration, one window per row (all rows share
            ``period`` and ``h``).
        period
            The rows' step or stride period (samples).
        h
            Half-width of the dominance neighbourhood (samples).
        c0, c1
            Columns of the frame itself in the windows.
        gait
            Rows labelled walking; the others must also pass the recurrence test
            (``RECURRENCE_MIN``).

        Returns
        -------
        tuple of numpy.ndarray
            Row and sample from ``c0`` of each step, sorted, without duplicates.
        """
        w = vf.shape[1]
        lo, hi = max(0, c0 - h), min(w, c1 + h)
        comb = periodic_average(vf, period, COMB_STRIDES)
        comb_top = np.max(comb[:, lo:hi], axis=1)
        r, s = self._dominant(comb, h, lo, hi, comb_top)
        if len(r) == 0:
            return r.astype(np.intp), s.astype(np.intp)
        s = s + lo
        # the raw signal's highest sample near each comb peak is the step
        d = max(1, round(REFINE_PERIODS * period))
        idx = np.clip(s[:, None] + np.arange(-d, d + 1)[None, :], 0, w - 1)
        s = idx[np.arange(len(s)), np.argmax(vf[r[:, None], idx], axis=1)]
        val = vf[r, s]
        raw_top = np.max(vf[:, lo:hi], axis=1)
        # a frame reports the steps inside its own second (streaming equals batch); the
        # raw peak must itself reach the amplitude floors (a lone jolt's copies one period
        # away in the comb do not)
        keep = (s >= c0) & (s < c1) & (val >= self.min_peak_g)
        keep &= val >= self.relative_peak * raw_top[r]
        keep &= gait[r] | (comb_top[r] >= RECURRENCE_MIN * raw_top[r])
        r, s = r[keep], s[keep] - c0
        if len(r) > 1:  # two comb peaks placed on the same raw peak
            dup = np.concatenate(([False], (r[1:] == r[:-1]) & (s[1:] == s[:-1])))
            r, s = r[~dup], s[~dup]
        return r.astype(np.intp), s.astype(np.intp)

    def _finish(
        self,
        v: NDArray[np.float64],
        fs_hz: float,
        c0: int,
        rows: NDArray[np.intp],
        samples: NDArray[np.intp],
        period: NDArray[np.float64],
    ) -> DetectedSteps:
        """The steps (sorted by row, then sample) and, if asked, their excursions."""
        if self.excursion:
            excursion = self._excursion(v, fs_hz, c0, rows, samples, period)
        else:
            excursion = np.full(len(rows), np.nan)
        return DetectedSteps(rows, samples, excursion)

    @staticmethod
    def _excursion(
        v: NDArray[np.float64],
        fs: float,
        c0: int,
        rows: NDArray[np.intp],
        samples: NDArray[np.intp],
        period: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Vertical displacement range over one step period after each step (m)."""
        if len(rows) == 0:
            return np.empty(0)
        ur, where = np.unique(rows, return_inverse=True)
        sos_hp = butter(2, 0.1, "high", fs=fs, output="sos")
        sos_hp1 = butter(2, 1.0, "high", fs=fs, output="sos")
        a = sosfiltfilt(sos_hp, v[ur] * 9.80665, axis=1)
        vel = sosfiltfilt(sos_hp1, np.cumsum(a, axis=1) / fs, axis=1)
        pos = np.cumsum(vel, axis=1) / fs
        width = pos.shape[1]
        n = np.maximum(2, np.round(period[rows] * fs).astype(int))
        span = int(n.max())
        idx = (c0 + samples)[:, None] + np.arange(span)[None, :]
        valid = (idx < width) & (np.arange(span)[None, :] < n[:, None])
        seg = pos[where[:, None], np.minimum(idx, width - 1)]
        hi = np.where(valid, seg, -np.inf).max(axis=1)
        lo = np.where(valid, seg, np.inf).min(axis=1)
        return np.asarray(hi - lo, dtype=np.float64)
