"""Accelerometer autocalibration from still periods (van Hees et al. 2014, GGIR ``g.calibrate``).

While a device lies still, the only acceleration it measures is gravity, so every still
period's mean vector should have a length of exactly 1 g. A badly calibrated axis (a zero-g
offset, a gain that is not 1) moves those means off the unit sphere. Given still means in
enough different orientations, a per-axis offset and scale that put them back on the sphere can
be fitted, with no reference equipment.

Steps (as in the paper and GGIR):

1. Cut the signal into non-overlapping 10-s windows, aligned to the sample index (window ``k``
   is samples ``[k * L, (k + 1) * L)``), so the windows do not depend on how a long recording is
   read in chunks; a window is *still* when the standard deviation of every axis is below 13 mg.
2. Keep the mean acceleration vector of each still window.
3. Refuse to fit unless every axis has still means both above ``+0.3 g`` and below ``-0.3 g``
   (GGIR's ``spherecrit``): with fewer orientations the fit is under-determined.
4. Iterate: correct the means with the current parameters, project each corrected mean to the
   closest point of the unit sphere, regress per axis the projected target on the corrected
   value (weighted least squares, weights ``min(1 / residual, 100)``), fold the regression into
   the parameters; stop when the weighted residual stops changing.
5. Refuse the result when it does not reduce the error or is physically implausible (scale
   outside 0.8-1.2, offset above 0.3 g).

Convention: ``corrected = (acc_g - offset_g) * scale``. ``offset_g`` is the reading of an axis at
zero g; ``scale`` is the correction factor (one over the axis gain). GGIR writes the same model as
``(acc + offset) * scale``, so its offset is the negative of ``offset_g`` here.

References
----------
.. [1] van Hees V.T., Fang Z., Langford J., et al. Autocalibration of accelerometer data for
   free-living physical activity assessment using local gravity and temperature: an evaluation
   on four continents. J Appl Physiol 117:738-744, 2014. doi:10.1152/japplphysiol.00421.2014
.. [2] GGIR (wadpac/GGIR, Apache-2.0), ``R/g.calibrate.R``.
"""

from __future__ import annotations

import math
from typing import Final, Self

import numpy as np
from numpy.typing import NDArray

#: Largest weight of a still mean in the fit (GGIR: ``1 / 0.01``).
_MAX_WEIGHT: Final = 100.0
#: Orientation bins for bounding memory: unit vectors rounded to multiples of 1/_BIN_DIV.
_BIN_DIV: Final = 4
#: Still means with any axis beyond this are not used (clipping; GGIR uses 2 g).
_MAX_ABS_MEAN_G: Final = 2.0


def apply_calibration(
    acc_g: NDArray[np.floating], offset_g: NDArray[np.floating], scale: NDArray[np.floating]
) -> NDArray[np.float64]:
    """Correct acceleration with per-axis offset and scale: ``(acc_g - offset_g) * scale``.

    Parameters
    ----------
    acc_g
        Acceleration in g, shape (N, 3).
    offset_g
        Per-axis zero-g reading in g, shape (3,).
    scale
        Per-axis correction factor, shape (3,).

    Returns
    -------
    numpy.ndarray
        Corrected acceleration in g, float64, shape (N, 3) (a new array).
    """
    off = np.asarray(offset_g, dtype=np.float64).reshape(3)
    sc = np.asarray(scale, dtype=np.float64).reshape(3)
    return (np.asarray(acc_g, dtype=np.float64) - off) * sc


def _rms_from_1g_mg(means: NDArray[np.float64]) -> float:
    if len(means) == 0:
        return math.nan
    return float(np.sqrt(np.mean((np.linalg.norm(means, axis=1) - 1.0) ** 2)) * 1000.0)


def _priority(index: NDArray[np.int64]) -> NDArray[np.uint64]:
    """A fixed pseudo-random priority per window index (splitmix64), for bottom-k sampling."""
    with np.errstate(over="ignore"):
        z = index.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _bin_keys(means: NDArray[np.float64]) -> NDArray[np.int64]:
    u = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-9)
    q = np.rint(u * _BIN_DIV).astype(np.int64) + _BIN_DIV
    w = 2 * _BIN_DIV + 1
    return np.asarray((q[:, 0] * w + q[:, 1]) * w + q[:, 2], dtype=np.int64)


class AutoCalibrator:
    """Per-axis offset and scale of an accelerometer fitted to gravity in still periods.

    Use :meth:`fit` on a whole recording, or :meth:`partial_fit` chunk by chunk followed by
    :meth:`fit` with no arguments; both give the same result, whatever the chunk sizes.

    Parameters
    ----------
    window_s
        Length of the non-overlapping windows (s); 10 s in [1]_ and GGIR.
    still_sd_g
        A window is still when the standard deviation of every axis is below this (g);
        13 mg in [1]_ and GGIR (``sdcriter``).
    min_axis_range_g
        Every axis needs still means above ``+min_axis_range_g`` and below
        ``-min_axis_range_g`` (GGIR ``spherecrit`` 0.3 g).
    min_still_windows
        Fewest still windows to attempt a fit (six parameters are fitted).
    max_windows_per_bin
        Memory bound: still means are grouped by orientation (unit vector rounded to 0.25 per
        axis, about 200 bins on the sphere) and each bin keeps at most this many, chosen by a
        fixed pseudo-random priority of the window index, so the kept set depends neither on the
        chunking nor on the order of arrival and spans the whole recording.
    scale_range
        Allowed interval of each fitted scale factor (physically plausible gains).
    max_offset_g
        Largest allowed absolute offset per axis (g).
    max_iter, tol
        Iteration limit and convergence tolerance of the weighted mean squared residual
        (GGIR: 1000 and 1e-10).

    Attributes
    ----------
    offset_g_ : numpy.ndarray
        Fitted zero-g reading per axis (g), zeros when not calibrated.
    scale_ : numpy.ndarray
        Fitted correction factor per axis, ones when not calibrated.
    error_before_mg_ : float
        RMS distance of the still means from 1 g before correction (mg); NaN without windows.
    error_after_mg_ : float
        The same after correction with ``offset_g_`` and ``scale_`` (equals
        ``error_before_mg_`` when not calibrated).
    calibrated_ : bool
        True when the fit was accepted.
    reason_ : str
        Why no calibration was applied ("" when calibrated).
    n_still_windows_ : int
        Still windows seen in all the data gathered.
    n_windows_used_ : int
        Still means that entered the fit (after the memory bound).
    n_iter_ : int
        Iterations of the fit (0 when it was not attempted).

    Notes
    -----
    Temperature, which [1]_ also models when the device logs it, is not used.

    References
    ----------
    .. [1] van Hees V.T. et al. Autocalibration of accelerometer data for free-living physical
       activity assessment using local gravity and temperature: an evaluation on four
       continents. J Appl Physiol 117:738-744, 2014.
    .. [2] GGIR (wadpac/GGIR), ``R/g.calibrate.R``.
    """

    def __init__(
        self,
        *,
        window_s: float = 10.0,
        still_sd_g: float = 0.013,
        min_axis_range_g: float = 0.3,
        min_still_windows: int = 10,
        max_windows_per_bin: int = 24,
        scale_range: tuple[float, float] = (0.8, 1.2),
        max_offset_g: float = 0.3,
        max_iter: int = 1000,
        tol: float = 1e-10,
    ) -> None:
        self.window_s = window_s
        self.still_sd_g = still_sd_g
        self.min_axis_range_g = min_axis_range_g
        self.min_still_windows = min_still_windows
        self.max_windows_per_bin = max_windows_per_bin
        self.scale_range = scale_range
        self.max_offset_g = max_offset_g
        self.max_iter = max_iter
        self.tol = tol
        self._reset()

    # -- gathering -------------------------------------------------------------------------------

    def _reset(self) -> None:
        self._fs_hz: float | None = None
        self._rest: NDArray[np.float64] = np.empty((0, 3))
        self._next_window = 0  # window index of the first sample of _rest
        self._means: NDArray[np.float64] = np.empty((0, 3))
        self._index: NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.n_still_windows_ = 0

    @property
    def still_means_g(self) -> NDArray[np.float64]:
        """The kept still-window means (g), shape (n, 3), in window order."""
        return self._means.copy()

    def partial_fit(self, acc_g_chunk: NDArray[np.floating], fs_hz: float) -> Self:
        """Gather the still windows of the next consecutive chunk of the recording.

        Parameters
        ----------
        acc_g_chunk
            Acceleration in g, shape (n, 3), directly following the previous chunk.
        fs_hz
            Sampling rate (Hz); must be the same for every chunk.

        Returns
        -------
        AutoCalibrator
            ``self``.
        """
        acc = np.asarray(acc_g_chunk, dtype=np.float64)
        if acc.ndim != 2 or acc.shape[1] != 3:
            raise ValueError(f"acc_g_chunk must have shape (n, 3), got {acc.shape}")
        if not (math.isfinite(fs_hz) and fs_hz > 0):
            raise ValueError(f"fs_hz must be a positive number, got {fs_hz}")
        if self._fs_hz is None:
            self._fs_hz = float(fs_hz)
        elif float(fs_hz) != self._fs_hz:
            raise ValueError(f"fs_hz changed from {self._fs_hz} to {fs_hz} between chunks")
        win = self._window_samples()
        buf = np.concatenate([self._rest, acc]) if len(self._rest) else acc
        nw = len(buf) // win
        self._rest = buf[nw * win :].copy()
        if nw == 0:
            return self
        w = buf[: nw * win].reshape(nw, win, 3)
        mean = w.mean(axis=1)
        sd = w.std(axis=1, ddof=1)
        still = (
            np.all(sd < self.still_sd_g, axis=1)
            & np.all(np.isfinite(mean), axis=1)
            & np.all(np.abs(mean) < _MAX_ABS_MEAN_G, axis=1)
        )
        idx = self._next_window + np.flatnonzero(still).astype(np.int64)
        self._next_window += nw
        self.n_still_windows_ += int(idx.size)
        if idx.size:
            self._means = np.concatenate([self._means, mean[still]])
            self._index = np.concatenate([self._index, idx])
            self._bound_memory()
        return self

    def _window_samples(self) -> int:
        assert self._fs_hz is not None
        return max(2, round(self.window_s * self._fs_hz))

    def _bound_memory(self) -> None:
        """Keep, per orientation bin, the ``max_windows_per_bin`` lowest-priority windows."""
        keys = _bin_keys(self._means)
        _, counts = np.unique(keys, return_counts=True)
        if counts.max() <= self.max_windows_per_bin:
            return
        order = np.lexsort((_priority(self._index), keys))
        sk = keys[order]
        starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
        rank = np.arange(len(sk)) - np.repeat(starts, np.diff(np.r_[starts, len(sk)]))
        keep = np.sort(order[rank < self.max_windows_per_bin])  # back to window order
        self._means = self._means[keep]
        self._index = self._index[keep]

    # -- fitting ---------------------------------------------------------------------------------

    def fit(self, acc_g: NDArray[np.floating] | None = None, fs_hz: float | None = None) -> Self:
        """Fit offset and scale; with ``acc_g`` (and ``fs_hz``) gather that recording first.

        Without arguments the fit uses what :meth:`partial_fit` gathered. With ``acc_g`` the
        gathered windows are discarded and ``acc_g`` is the whole recording.

        Returns
        -------
        AutoCalibrator
            ``self``, with the attributes ending in ``_`` set.
        """
        if acc_g is not None:
            if fs_hz is None:
                raise ValueError("fit(acc_g, fs_hz) needs the sampling rate")
            self._reset()
            self.partial_fit(acc_g, fs_hz)
        self._solve(self._means)
        return self

    def _refuse(self, reason: str) -> None:
        self.offset_g_ = np.zeros(3)
        self.scale_ = np.ones(3)
        self.error_after_mg_ = self.error_before_mg_
        self.calibrated_ = False
        self.reason_ = reason

    def _solve(self, x: NDArray[np.float64]) -> None:
        self.n_windows_used_ = len(x)
        self.n_iter_ = 0
        self.error_before_mg_ = _rms_from_1g_mg(x)
        if len(x) < self.min_still_windows:
            self._refuse(
                f"only {len(x)} still {self.window_s:g}-s windows "
                f"(need {self.min_still_windows}), no calibration"
            )
            return
        r = self.min_axis_range_g
        short = ["xyz"[k] for k in range(3) if not (x[:, k].max() > r and x[:, k].min() < -r)]
        if short:
            self._refuse(
                f"not enough orientations, no calibration: still means of axis "
                f"{', '.join(short)} do not reach both +{r:g} g and -{r:g} g"
            )
            return
        offset, scale = np.zeros(3), np.ones(3)
        weights = np.ones(len(x))
        res_prev = math.inf
        for it in range(1, self.max_iter + 1):
            curr = (x - offset) * scale
            target = curr / np.linalg.norm(curr, axis=1, keepdims=True)
            a, b = np.empty(3), np.empty(3)
            for k in range(3):
                a[k], b[k] = _wls_line(curr[:, k], target[:, k], weights)
            fitted = a + b * curr
            scale = scale * b
            offset = offset - a / scale
            d2 = np.sum((fitted - target) ** 2, axis=1)
            res = float(3.0 * np.mean(weights * d2) / np.sum(weights))
            weights = np.minimum(1.0 / np.maximum(np.sqrt(d2), 1e-12), _MAX_WEIGHT)
            self.n_iter_ = it
            if not (np.all(np.isfinite(offset)) and np.all(np.isfinite(scale))):
                self._refuse("the fit diverged, no calibration")
                return
            if abs(res - res_prev) < self.tol:
                break
            res_prev = res
        after = _rms_from_1g_mg((x - offset) * scale)
        lo, hi = self.scale_range
        if not after < self.error_before_mg_:
            self._refuse(
                f"the fit does not reduce the error ({self.error_before_mg_:.1f} -> "
                f"{after:.1f} mg), no calibration"
            )
        elif np.any((scale < lo) | (scale > hi)):
            self._refuse(
                f"implausible scale {np.round(scale, 3).tolist()} (allowed {lo:g}-{hi:g}), "
                "no calibration"
            )
        elif np.any(np.abs(offset) > self.max_offset_g):
            self._refuse(
                f"implausible offset {np.round(offset, 3).tolist()} g (allowed "
                f"±{self.max_offset_g:g} g), no calibration"
            )
        else:
            self.offset_g_ = offset
            self.scale_ = scale
            self.error_after_mg_ = after
            self.calibrated_ = True
            self.reason_ = ""


def _wls_line(
    x: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64]
) -> tuple[float, float]:
    """Weighted least-squares line ``y ~ a + b x``; returns ``(a, b)``."""
    sw = float(np.sum(w))
    mx = float(np.sum(w * x)) / sw
    my = float(np.sum(w * y)) / sw
    dx = x - mx
    sxx = float(np.sum(w * dx * dx))
    if sxx <= 0.0:
        return 0.0, 1.0
    b = float(np.sum(w * dx * (y - my))) / sxx
    return my - b * mx, b
