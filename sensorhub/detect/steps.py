"""Step (initial-contact) detection inside walking frames, independent of mounting.

The vertical acceleration is the projection of each frame's acceleration on its own gravity
direction, so no device axis is assumed. It is low-pass filtered (zero phase, inside the frame's
context window) and every local maximum that dominates a neighbourhood of about half a step is a
step. At the trunk this peak follows heel strike by 40-90 ms (the loading response; Zijlstra &
Hof 2003), well inside the +-0.25 s matching tolerance of the evaluations. Each frame only
reports peaks inside its own second, so streaming and batch give the same steps.

The same windows give the vertical excursion of the sensor per step for the inverted-pendulum
step length (Zijlstra & Hof 2003).

References
----------
Zijlstra W., Hof A.L. (2003) Assessment of spatio-temporal gait parameters from trunk
accelerations during human walking. Gait Posture 18:1-10.
Moe-Nilssen R., Helbostad J.L. (2004) Estimation of gait cycle characteristics by trunk
accelerometry. J Biomech 37:121-126.
McCamley J. et al. (2012) An enhanced estimate of initial contact and final contact instants of
time using lower trunk inertial sensor data. Gait Posture 36:316-318.
"""

from __future__ import annotations

from typing import Literal, Self

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import maximum_filter1d
from scipy.signal import butter, sosfiltfilt

from sensorhub.signal.features import MAX_STEP_PERIOD_S, MIN_STEP_PERIOD_S
from sensorhub.signal.trunk_ic import trunk_initial_contacts


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

    Attributes
    ----------
    step_index_
        (frame row, sample in frame) of each detected step in the last call.
    excursion_m_
        Peak-to-peak vertical sensor displacement after each step (m), for the step length
        (NaN unless ``excursion``).
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
        self.step_index_: tuple[NDArray[np.intp], NDArray[np.intp]] = (
            np.empty(0, np.intp),
            np.empty(0, np.intp),
        )
        self.excursion_m_: NDArray[np.float64] = np.empty(0)

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
    ) -> Self:
        """Find steps in the central second of each window (rows = moving frames).

        With ``method="trunk_wavelet"``, ``gait_rows`` marks the rows that lie in gait (the
        wavelet finds a "step" in any oscillation, so it is applied only where walking has
        been recognised, as mobgap applies it inside gait sequences); the other rows use the
        peak method. None: every row is gait."""
        m = len(windows)
        if m == 0:
            self.step_index_ = (np.empty(0, np.intp), np.empty(0, np.intp))
            self.excursion_m_ = np.empty(0)
            return self
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
                pr, pc = self._peaks(v[pi], period[pi], fs_hz, c0, c1)
                rr, cc = np.concatenate((rr, pi[pr])), np.concatenate((cc, pc))
                order = np.lexsort((cc, rr))
                rr, cc = rr[order], cc[order]
            self._finish(v, fs_hz, c0, rr, cc, period)
            return self
        rr, ss = self._peaks(v, period, fs_hz, c0, c1)
        self._finish(v, fs_hz, c0, rr, ss, period)
        return self

    def _peaks(
        self,
        v: NDArray[np.float64],
        period: NDArray[np.float64],
        fs_hz: float,
        c0: int,
        c1: int,
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Peak method: (row, sample in frame) of each step, sorted."""
        sos = butter(4, self.lowpass_hz, "low", fs=fs_hz, output="sos")
        vf = sosfiltfilt(sos, v, axis=1)
        found_r: list[NDArray[np.intp]] = []
        found_s: list[NDArray[np.intp]] = []
        # group rows by neighbourhood size so the maximum filter runs vectorised
        half = np.maximum(1, np.round(self.neighbourhood_steps * period * fs_hz)).astype(int)
        half = np.maximum(1, 2 * (half // 2))  # even sizes only: half as many filter passes
        for h in np.unique(half):
            rows = np.nonzero(half == h)[0]
            seg = vf[rows]
            mx = maximum_filter1d(seg, size=2 * int(h) + 1, axis=1, mode="nearest")
            centre = seg[:, c0:c1]
            top = np.max(seg[:, c0 - int(h) : c1 + int(h)], axis=1, keepdims=True)
            ok = (centre >= mx[:, c0:c1]) & (centre >= self.min_peak_g)
            ok &= centre >= self.relative_peak * top
            ok[:, 1:] &= centre[:, 1:] > centre[:, :-1]  # first sample of a plateau only
            r, s = np.nonzero(ok)
            found_r.append(rows[r])
            found_s.append(s)
        rr = np.concatenate(found_r)
        ss = np.concatenate(found_s)
        order = np.lexsort((ss, rr))
        return rr[order], ss[order]

    def _finish(
        self,
        v: NDArray[np.float64],
        fs_hz: float,
        c0: int,
        rows: NDArray[np.intp],
        samples: NDArray[np.intp],
        period: NDArray[np.float64],
    ) -> None:
        """Store the steps (sorted by row, then sample) and, if asked, their excursions."""
        self.step_index_ = (rows, samples)
        if self.excursion:
            self.excursion_m_ = self._excursion(v, fs_hz, c0, rows, samples, period)
        else:
            self.excursion_m_ = np.full(len(rows), np.nan)

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
