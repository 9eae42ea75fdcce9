"""Vertical displacement of a trunk sensor across a frame's window (sit-to-stand evidence).

Sitting down lowers the pelvis by roughly the difference between standing hip height and seat
height (about 0.3-0.5 m); standing up raises it by as much. A waist or lower-back sensor sees
this as a vertical acceleration burst whose double integral is the displacement (Zijlstra &
Hof 2003 for the integration; Najafi et al. 2002 and Adamowicz et al. 2020 detect postural
transitions from the trunk's vertical movement). The vertical acceleration is the projection
on the slowly varying gravity direction (a 0.5-s moving average, so it follows the trunk's
pitch during the transition and needs no known mounting), minus its level at the window's
still ends (which cancels the phone's calibration offset); the velocity is detrended linearly
to zero at the window's end (the wearer is still at both ends of a transition), and a window
whose velocity before detrending ends further from zero than its peak speed is not trusted
(``MAX_RESIDUAL_SPEED_RATIO``).

Each frame's value is computed from its own context window only, so it does not depend on
chunking (streaming equals batch).

References
----------
Najafi B. et al. (2002) Measurement of stand-sit and sit-stand transitions using a miniature
gyroscope and its application in fall risk evaluation in the elderly. IEEE Trans Biomed Eng
49:843-851.
Zijlstra W., Hof A.L. (2003) Assessment of spatio-temporal gait parameters from trunk
accelerations during human walking. Gait Posture 18:1-10.
Adamowicz L. et al. (2020) Assessment of sit-to-stand transfers during daily life using an
accelerometer on the lower back. Sensors 20:6618 (displacement >= 0.125 m, velocity >= 0.2 m/s).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

#: Standard gravity (m/s^2).
G: Final = 9.80665
#: The window's ends count as still when |a| varies less than this (SD, g) over their first
#: and last ``EDGE_S`` seconds: quiet standing or sitting sways well below 0.03 g.
EDGE_STILL_SD_G: Final = 0.03
#: Below this SD (g) an end is padding, not data (sensor noise is ~1 mg RMS).
PAD_SD_G: Final = 1e-5
#: Length of the still ends (s).
EDGE_S: Final = 0.5
#: Largest distance (s) of the fastest moment from the window centre.
CENTRE_S: Final = 1.0
#: A movement from still to still (a sit-to-stand) ends at rest, so the integrated vertical
#: velocity returns to ~0 by itself; what is left at the window's end is integration error (a
#: calibration offset, gravity leaking in as the trunk turns, a change of |a| without
#: movement). When that error is larger than the peak speed of the movement itself (after
#: detrending), the displacement is not trusted. 1 is the plain "error smaller than the
#: signal" bound, not fitted (0.5 scored 0.0005 better on the open waist set).
MAX_RESIDUAL_SPEED_RATIO: Final = 1.0


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9))


def vertical_displacement(
    windows: NDArray[np.float64], fs_hz: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Net vertical displacement and peak vertical speed across each window.

    Parameters
    ----------
    windows
        Acceleration windows in g, shape (m, w, 3).
    fs_hz
        Sampling rate of the windows.

    Returns
    -------
    displacement_m
        Net vertical displacement from the window's start to its end (m, up positive); NaN
        where the window does not start and end still (the integration would be unreliable).
    peak_speed_m_s
        Largest absolute vertical speed within the window (m/s).
    """
    m, w, _ = windows.shape
    if m == 0:
        return np.empty(0), np.empty(0)
    mag = np.sqrt((windows * windows).sum(axis=2))
    # vertical = along the slowly varying gravity direction (0.5-s moving average)
    half = max(1, round(0.25 * fs_hz))
    c = np.cumsum(np.pad(windows, ((0, 0), (half + 1, half), (0, 0)), mode="edge"), axis=1)
    low = (c[:, 2 * half + 1 :] - c[:, : -2 * half - 1]) / (2 * half + 1)
    up = low / np.maximum(np.linalg.norm(low, axis=2, keepdims=True), 1e-9)
    proj = (windows * up).sum(axis=2)
    edge = max(2, round(EDGE_S * fs_hz))
    # the still level of an uncalibrated sensor depends on its orientation: interpolate between
    # the two ends' levels by how far the gravity direction has turned from one to the other
    l0 = proj[:, :edge].mean(axis=1, keepdims=True)
    l1 = proj[:, w - edge :].mean(axis=1, keepdims=True)
    u0 = _unit(up[:, :edge].mean(axis=1))[:, None, :]
    u1 = _unit(up[:, w - edge :].mean(axis=1))[:, None, :]
    a0 = np.arccos(np.clip((up * u0).sum(axis=2), -1.0, 1.0))
    a1 = np.arccos(np.clip((up * u1).sum(axis=2), -1.0, 1.0))
    frac = a0 / np.maximum(a0 + a1, 1e-9)
    av = (proj - (l0 + (l1 - l0) * frac)) * G
    dt = 1.0 / fs_hz
    v = np.cumsum(av, axis=1) * dt
    residual = np.abs(v[:, -1])  # a movement from still to still ends at rest by itself
    v = v - v[:, -1:] * (np.arange(1, w + 1) / w)[None, :]  # still at both ends: v(end) = 0
    disp = v.sum(axis=1) * dt
    sd0, sd1 = mag[:, :edge].std(axis=1), mag[:, w - edge :].std(axis=1)
    # a real accelerometer's noise (~1 mg) never gives an exactly constant end: such an end is
    # the frame cutter's padding at a segment edge, not a still wearer
    still = (sd0 < EDGE_STILL_SD_G) & (sd1 < EDGE_STILL_SD_G) & (sd0 > PAD_SD_G) & (sd1 > PAD_SD_G)
    # the transition must sit in the middle of the window (its fastest moment within
    # +-CENTRE_S of the centre), far from the ends where the detrending is least certain
    speed = np.abs(v)
    at = np.argmax(speed, axis=1) / fs_hz
    centred = np.abs(at - 0.5 * w / fs_hz) <= CENTRE_S
    # the integration is trusted only if its own error (the velocity left at the end) is
    # smaller than the movement it measured
    closed = residual <= MAX_RESIDUAL_SPEED_RATIO * speed.max(axis=1)
    return np.where(still & centred & closed, disp, np.nan), speed.max(axis=1)
