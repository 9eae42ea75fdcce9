"""Initial contacts from the vertical acceleration of the lower trunk (wavelet method).

The method is McCamley et al. (2012) as modified by Paraschiv-Ionescu et al. (2020) and
implemented in mobgap's ``IcdIonescu`` (the Mobilise-D recommended IC detector): the vertical
acceleration is band-limited to the locomotion band, integrated, and the integral is
differentiated twice over with a Gaussian continuous wavelet (``gaus2``). Integration followed
by the ``gaus2`` wavelet equals one Gaussian-smoothed derivative of the acceleration, which is
what is computed here, so the result does not depend on where the integral starts (the windows
are short and streamed). Heel strike makes the trunk's upward acceleration rise steeply
(Zijlstra & Hof 2003), so each stretch where the smoothed derivative is positive holds one step,
and its steepest point is the initial contact: "the minimum between two zero crossings" of the
negated signal, as in mobgap.

Parameters and their sources
----------------------------
* Gaussian scale: mobgap applies ``gaus2`` with scale 9 at 40 Hz. The pywt ``gaus2`` wavelet
  is the second derivative of exp(-x^2), i.e. a Gaussian of standard deviation 1/sqrt(2) in
  wavelet units, so the smoothing has sigma = 9 / (sqrt(2) * 40 Hz) = 0.159 s at any rate.
* The scale is kept relative to the step: at step times shorter than 0.545 s (faster than
  110 steps/min) sigma shrinks in proportion to the frame's step period, otherwise a fixed
  0.159-s Gaussian derivative (peak response at 1 Hz) all but removes a 3-Hz step rhythm
  (180 steps/min, the fastest walking cadence of issue 5).
* Band: 0.5-4 Hz, the locomotion band of Iluz et al. (2014) (0.5-3 Hz) widened so that
  180 steps/min (3 Hz) is not attenuated (mobgap's EPFL gait filter passes about
  0.15-3.1 Hz). It removes slow trunk tilts, which otherwise leak into the projection on
  gravity.

References
----------
McCamley J., Donati M., Grimpampi E., Mazza C. (2012) An enhanced estimate of initial contact
and final contact instants of time using lower trunk inertial sensor data. Gait Posture
36:316-318.
Paraschiv-Ionescu A., Soltani A., Aminian K. (2020) Real-world speed estimation using single
trunk IMU: methodological challenges for impaired gait patterns. IEEE EMBC 2020:4596-4599.
Micó-Amigo M.E. et al. (2023) Assessing real-world gait with digital technology? Validation,
insights and recommendations from the Mobilise-D consortium. J NeuroEng Rehabil 20:78.
Iluz T. et al. (2014) J NeuroEng Rehabil 11:48 (locomotion band 0.5-3 Hz).
Zijlstra W., Hof A.L. (2003) Gait Posture 18:1-10.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d
from scipy.signal import butter, sosfiltfilt

#: Smoothing of the wavelet (s): mobgap ``IcdIonescu`` gaus2 scale 9 at 40 Hz.
IC_SIGMA_S = 9.0 / (math.sqrt(2.0) * 40.0)
#: Band (Hz) of the vertical acceleration: above 40 and below 180 steps/min with margin.
IC_BAND_HZ = (0.5, 4.0)
#: Step time (s) at which mobgap's scale applies unchanged (110 steps/min, a typical cadence
#: of the Mobilise-D cohorts); faster steps get a proportionally narrower Gaussian.
IC_REFERENCE_STEP_S = 60.0 / 110.0


def trunk_ic_signal(
    vertical_g: NDArray[np.float64],
    fs_hz: float,
    *,
    sigma_s: float = IC_SIGMA_S,
    band_hz: tuple[float, float] = IC_BAND_HZ,
    step_period_s: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Negated, Gaussian-smoothed derivative of the band-limited vertical acceleration.

    Parameters
    ----------
    vertical_g
        Vertical acceleration (g, positive upwards), shape (m, w): one window per row.
    fs_hz
        Sampling rate.
    sigma_s
        Standard deviation of the Gaussian (s).
    band_hz
        Band-pass edges (Hz), second-order Butterworth run forwards and backwards.
    step_period_s
        Step period of each row (s; NaN: unknown); shorter than ``IC_REFERENCE_STEP_S``
        narrows that row's Gaussian in proportion. None: fixed ``sigma_s``.

    Returns
    -------
    numpy.ndarray
        Same shape; negative where the upward acceleration rises, most negative at the
        initial contact.
    """
    sos = butter(2, band_hz, "bandpass", fs=fs_hz, output="sos")
    x = sosfiltfilt(sos, vertical_g, axis=1)
    sig = np.full(len(x), sigma_s * fs_hz)
    if step_period_s is not None:
        scale = np.clip(np.nan_to_num(step_period_s, nan=1.0) / IC_REFERENCE_STEP_S, 0.0, 1.0)
        sig = np.maximum(1.0, np.round(2.0 * sig * scale) / 2.0)  # half-sample steps
    y = np.empty_like(x)
    for sv in np.unique(sig):
        rows = sig == sv
        y[rows] = gaussian_filter1d(x[rows], float(sv), order=1, axis=1, mode="nearest")
    return np.asarray(-y, dtype=np.float64)


def minima_between_zero_crossings(
    y: NDArray[np.float64], lo: int, hi: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The lowest sample of every negative lobe of each row whose minimum lies in ``[lo, hi)``.

    A lobe counts only when it is closed on both sides inside the row (a positive-to-negative
    and a negative-to-positive crossing), as in mobgap's ``IcdIonescu``.

    Parameters
    ----------
    y
        Signals, shape (m, w).
    lo, hi
        Column range where minima are reported.

    Returns
    -------
    tuple of numpy.ndarray
        Row and column of each minimum, sorted by row then column.
    """
    m, w = y.shape
    if m == 0 or w < 3:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    neg = y < 0.0
    # a new lobe starts at every sign change and at every row start
    start = np.ones((m, w), dtype=bool)
    start[:, 1:] = neg[:, 1:] != neg[:, :-1]
    flat_start = np.flatnonzero(start.ravel())
    yf = y.ravel()
    lobe_min = np.minimum.reduceat(yf, flat_start)
    lobe_len = np.diff(np.append(flat_start, m * w))
    lobe_col = flat_start % w
    closed = (lobe_col > 0) & (lobe_col + lobe_len < w) & neg.ravel()[flat_start]
    # position of the (first) minimum inside each lobe
    lobe_id = np.cumsum(start.ravel()) - 1
    is_min = yf == lobe_min[lobe_id]
    first = np.zeros(m * w, dtype=bool)
    cand = np.flatnonzero(is_min)
    _, first_idx = np.unique(lobe_id[cand], return_index=True)
    first[cand[first_idx]] = True
    pick = first & closed[lobe_id]
    idx = np.flatnonzero(pick)
    rows, cols = idx // w, idx % w
    ok = (cols >= lo) & (cols < hi)
    return rows[ok].astype(np.intp), cols[ok].astype(np.intp)


def trunk_initial_contacts(
    vertical_g: NDArray[np.float64],
    fs_hz: float,
    lo: int,
    hi: int,
    step_period_s: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Initial contacts (row, column) in columns ``[lo, hi)`` of each vertical-acceleration
    window (see the module docstring). Windows need about 1 s of context on each side."""
    y = trunk_ic_signal(vertical_g, fs_hz, step_period_s=step_period_s)
    return minima_between_zero_crossings(y, lo, hi)
