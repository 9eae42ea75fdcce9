"""Per-frame features: gravity, movement intensity (ENMO, dynamic RMS), periodicity.

All features are computed per one-second frame from a centred context window, from per-frame
partial sums combined in a fixed order, so a frame's features do not depend on how many frames
were computed together (streaming equals batch).

References
----------
van Hees V.T. et al. (2013) Separating movement and gravity components in an acceleration signal
and implications for the assessment of human daily physical activity. PLoS ONE 8:e61691 (ENMO).
Iluz T. et al. (2014) Automated detection of missteps during community ambulation in patients
with Parkinson's disease. J NeuroEng Rehabil 11:48 (locomotion band for gait detection).
Moe-Nilssen R., Helbostad J.L. (2004) Estimation of gait cycle characteristics by trunk
accelerometry. J Biomech 37:121-126 (unbiased autocorrelation of trunk acceleration).
Vähä-Ypyä H. et al. (2015) A universal, accurate intensity-based classification of different
physical activities using raw data of accelerometer. Clin Physiol Funct Imaging 35:64-70 (MAD).
Menz H.B., Lord S.R., Fitzpatrick R.C. (2003) Acceleration patterns of the head and pelvis when
walking on level and irregular surfaces. Gait Posture 18:35-46 (harmonic ratio; after Smidt G.L.
et al. 1971, Arch Phys Med Rehabil 52:200-207).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from sensorhub.signal.frames import FrameBatch

#: Step periods searched for periodicity: 180 down to 40 steps/min (DESIGN.md section 6).
MIN_STEP_PERIOD_S = 60.0 / 180.0
MAX_STEP_PERIOD_S = 60.0 / 40.0


@dataclass(frozen=True, slots=True, eq=False)
class FrameFeatures:
    """Features of consecutive frames (all arrays have n rows).

    Attributes
    ----------
    k
        Absolute frame index.
    coverage
        Fraction of real samples in the frame.
    gravity_g
        Mean acceleration over the gravity window (device axes), shape (n, 3).
    dyn_rms_g
        RMS of the acceleration minus its window mean, summed over axes (orientation-free).
    enmo_mg
        Mean of max(0, |a| - 1 g) over the frame itself (van Hees 2013), milli-g.
    peak_g
        Largest |a| in the frame.
    peak_offset_s
        Time of that largest |a| from the frame start.
    trough_g
        Smallest |a| in the frame (free fall drives it towards 0 g).
    frame_sd_g
        Standard deviation of |a| within the frame itself (movement in this very second).
    mag_mean_g
        Mean |a| over the frame.
    periodicity
        Height of the highest autocorrelation peak at a step- or stride-like lag (0 where not
        computed).
    step_period_s
        Lag of the first peak at least half as high (the step; NaN where none).
    half_period_r
        Vertical autocorrelation at half that lag (positive: the period holds two events, so it
        is a stride).
    step_regularity, stride_regularity
        Vertical autocorrelation near the step and stride lag (Moe-Nilssen & Helbostad 2004).
    mad_mg
        Mean amplitude deviation of |a| within the frame itself (Vähä-Ypyä et al. 2015),
        milli-g: the mean of ||a_i| - mean |a||. The source uses 6-s epochs; here it is per
        one-second frame and epochs average the frames. (Empty when not computed, e.g. by
        hand-built features in tests.)
    """

    k: NDArray[np.int64]
    coverage: NDArray[np.float64]
    gravity_g: NDArray[np.float64]
    dyn_rms_g: NDArray[np.float64]
    enmo_mg: NDArray[np.float64]
    peak_g: NDArray[np.float64]
    peak_offset_s: NDArray[np.float64]
    trough_g: NDArray[np.float64]
    frame_sd_g: NDArray[np.float64]
    mag_mean_g: NDArray[np.float64]
    periodicity: NDArray[np.float64]
    step_period_s: NDArray[np.float64]
    half_period_r: NDArray[np.float64]
    step_regularity: NDArray[np.float64]
    stride_regularity: NDArray[np.float64]
    mad_mg: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return int(self.k.shape[0])


def _frame_stats(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per-frame partial sums of x (m, spf, 3): [S1(3), S2(3)] -> (m, 6)."""
    xt = np.ascontiguousarray(x.transpose(0, 2, 1))  # reduce along the contiguous last axis
    return np.concatenate((xt.sum(axis=2), (xt * xt).sum(axis=2)), axis=1)


def _centres(batch: FrameBatch, samples_per_frame: int, pre: int) -> NDArray[np.float64]:
    """The frames' own samples, (n, spf, 3), read from the contiguous stream when possible."""
    n, spf = len(batch), samples_per_frame
    s = batch.samples
    if n and batch.offsets[-1] == n - 1:  # no frame dropped: the centres are one slice
        return s[pre : pre + n * spf].reshape(n, spf, 3)
    return np.asarray(batch.windows[:, pre : pre + spf])


def compute_features(
    batch: FrameBatch,
    *,
    fs_hz: float,
    samples_per_frame: int,
    context_frames: int,
    gravity_half_frames: int,
    periodicity_min_rms_g: float,
) -> FrameFeatures:
    """Compute :class:`FrameFeatures` for a released :class:`FrameBatch`.

    Parameters
    ----------
    batch
        Frames with windows of ``(2 * context_frames + 1) * samples_per_frame`` samples.
    fs_hz
        Grid rate.
    samples_per_frame
        Samples per frame.
    context_frames
        Whole frames of context on each side of a frame in its window.
    gravity_half_frames
        Frames on each side averaged for gravity and movement (<= ``context_frames``).
    periodicity_min_rms_g
        Only frames moving at least this much get the (costlier) autocorrelation.

    Returns
    -------
    FrameFeatures
        One row per frame of the batch.
    """
    n = len(batch)
    spf, c = samples_per_frame, context_frames
    w = batch.windows
    centre = _centres(batch, spf, c * spf)
    stats_c = _frame_stats(centre)
    left = _frame_stats(w[0, : c * spf].reshape(c, spf, 3))
    right = _frame_stats(w[-1, (c + 1) * spf :].reshape(c, spf, 3))
    allstats = np.concatenate((left, stats_c, right))  # frame k-c ... k_last+c
    h = gravity_half_frames
    acc = np.zeros((n, 6))
    for d in range(-h, h + 1):  # fixed order of addition
        acc = acc + allstats[c + d : c + d + n]
    cnt = float((2 * h + 1) * spf)
    mean = acc[:, :3] / cnt
    var = np.maximum(acc[:, 3:] / cnt - mean * mean, 0.0)
    dyn_rms = np.sqrt(var.sum(axis=1))
    sq = centre * centre
    mag = np.sqrt(sq[:, :, 0] + sq[:, :, 1] + sq[:, :, 2])
    enmo = np.maximum(mag - 1.0, 0.0).mean(axis=1) * 1000.0
    peak = mag.max(axis=1)
    peak_off = np.argmax(mag, axis=1) / fs_hz
    trough = mag.min(axis=1)
    frame_sd = mag.std(axis=1)
    mag_mean = mag.mean(axis=1)
    mad = np.abs(mag - mag_mean[:, None]).mean(axis=1) * 1000.0
    periodicity = np.zeros(n)
    period = np.full(n, np.nan)
    half_r = np.full(n, np.nan)
    step_reg = np.full(n, np.nan)
    stride_reg = np.full(n, np.nan)
    cand = np.nonzero(dyn_rms >= periodicity_min_rms_g)[0]
    if len(cand):
        up = mean[cand] / np.maximum(np.linalg.norm(mean[cand], axis=1, keepdims=True), 1e-9)
        p, lag, half, reg1, reg2 = _periodicity(
            batch.samples,
            batch.offsets[cand] * spf,
            w.shape[1],
            fs_hz,
            up,
        )
        periodicity[cand] = p
        period[cand] = lag
        half_r[cand] = half
        step_reg[cand] = reg1
        stride_reg[cand] = reg2
    return FrameFeatures(
        batch.k,
        batch.coverage,
        mean,
        dyn_rms,
        enmo,
        peak,
        peak_off,
        trough,
        frame_sd,
        mag_mean,
        periodicity,
        period,
        half_r,
        step_reg,
        stride_reg,
        mad,
    )


@functools.lru_cache(maxsize=8)
def _ac_plan(width: int, fs_hz: float) -> tuple[int, int, int, int, int, int]:
    """FFT length, lag range and locomotion-band bins for windows of ``width`` samples."""
    max_lag = min(width - 1, round(2 * MAX_STEP_PERIOD_S * fs_hz) + 1)
    nfft = 1 << int(np.ceil(np.log2(width + max_lag)))  # no circular wrap up to max_lag
    # keep the locomotion band only (0.6-5 Hz; Iluz et al. 2014 use 0.5-3 Hz): slow posture
    # and heading changes would otherwise swamp the rhythm
    freqs = np.fft.rfftfreq(nfft, 1.0 / fs_hz)
    band = np.nonzero((freqs >= 0.6) & (freqs <= 5.0))[0]
    lo = max(1, round(MIN_STEP_PERIOD_S * fs_hz * 0.9))
    hi = min(max_lag - 1, round(MAX_STEP_PERIOD_S * fs_hz * 1.05))
    return max_lag, nfft, int(band[0]), int(band[-1]) + 1, lo, hi


def _periodicity(
    samples: NDArray[np.float64],
    starts: NDArray[np.intp],
    width: int,
    fs_hz: float,
    up: NDArray[np.float64],
) -> tuple[NDArray[np.float64], ...]:
    """Step-like autocorrelation peak of the dynamic acceleration per window.

    The windows are ``samples[s : s + width]`` for each ``s`` in ``starts`` (samples is the
    contiguous grid stream the frames' windows are cut from). Two signals are examined, both
    invariant to device rotation: the acceleration along gravity (``up``, unit vectors per
    window), whose rhythm at the trunk is the step, and the whole dynamic vector
    (autocorrelation summed over axes), whose rhythm at a limb is often the stride. The
    locomotion band (0.6-5 Hz) is kept. A candidate peak must lie at a lag in the step-period
    range, be a local maximum, and follow a dip below zero (an oscillation, not a drift).
    Periodicity is the higher of the two signals' best peaks; the step period comes from the
    vertical signal when it has a peak. The stream is averaged in pairs down to half the rate
    first when that stays above 20 Hz (the band of interest ends at 5 Hz); pairs never straddle
    a window start because windows start at even samples.

    Every window is processed on its own (no arithmetic mixes windows), so a window's result
    does not depend on which other windows share the call.

    Returns periodicity, step period (s), vertical autocorrelation at half the period, and
    the trunk's step and stride regularity (highest vertical autocorrelation within +-20 % of
    the step and stride lag; Moe-Nilssen & Helbostad 2004).
    """
    m = len(starts)
    chans = np.ascontiguousarray(samples.T)  # channel-major stream (3, s)
    # window views of the stream (3, windows, width) and each window's index in them
    if fs_hz >= 40.0 and width % 2 == 0:
        # pairs start at each window's first sample: windows starting at odd samples use the
        # stream's odd-phase pairs
        fs_hz, width = fs_hz / 2.0, width // 2
        phases = []
        for phase in (0, 1) if np.any(starts % 2) else (0,):
            c = chans[:, phase:]
            c = c[:, : c.shape[1] // 2 * 2]
            phases.append(sliding_window_view(0.5 * (c[:, 0::2] + c[:, 1::2]), width, axis=1))
        which = starts % 2
        pos = (starts - which) // 2
    else:
        phases = [sliding_window_view(chans, width, axis=1)]
        which = np.zeros(m, dtype=np.intp)
        pos = starts
    out = np.empty((5, m))
    nfft = _ac_plan(width, fs_hz)[1]
    # work buffers shared by the blocks: only the data parts are written, the zero padding of
    # the windows and the zeros outside the locomotion band stay as they are
    buf = np.zeros((3, min(m, _BLOCK), nfft))
    power = np.zeros((2, min(m, _BLOCK), nfft // 2 + 1))
    for i in range(0, m, _BLOCK):  # blocks of windows small enough to stay in cache
        sl = slice(i, min(m, i + _BLOCK))
        if len(phases) == 1:
            xw = phases[0][:, pos[sl]]
        else:
            xw = np.where(which[sl, None] == 0, phases[0][:, pos[sl]], phases[1][:, pos[sl]])
        n_sl = sl.stop - sl.start
        out[:, sl] = _periodicity_block(xw, fs_hz, up[sl], buf[:, :n_sl], power[:, :n_sl])
    return out[0], out[1], out[2], out[3], out[4]


#: Windows analysed together by :func:`_periodicity` (the work arrays then fit in the cache).
_BLOCK = 128


def _periodicity_block(
    xw: NDArray[np.float64],
    fs_hz: float,
    up: NDArray[np.float64],
    buf: NDArray[np.float64],
    power: NDArray[np.float64],
) -> NDArray[np.float64]:
    """:func:`_periodicity` of windows ``xw`` (3, m, width); returns its five rows stacked.

    ``buf`` (3, m, nfft) and ``power`` (2, m, nfft // 2 + 1) are work arrays that must be zero
    beyond the window length and outside the locomotion band respectively (this function only
    writes inside those parts).
    """
    _, m, width = xw.shape
    max_lag, nfft, b0, b1, lo, hi = _ac_plan(width, fs_hz)
    np.subtract(xw, xw.mean(axis=2, keepdims=True), out=buf[:, :, :width])
    # the locomotion band of each axis' spectrum, as interleaved (re, im) pairs: (3, m, 2 * band)
    spec = np.fft.rfft(buf, axis=2).view(np.float64)[:, :, 2 * b0 : 2 * b1]
    # the vertical signal's spectrum: projection on each window's gravity direction (linear,
    # so it is done on the spectra), summed over the axes in a fixed order
    u = up.T[:, :, None]
    spec_v = spec[0] * u[0]
    spec_v += spec[1] * u[1]
    spec_v += spec[2] * u[2]
    sq = spec * spec
    sq_v = spec_v * spec_v
    power[0, :, b0:b1] = sq_v[:, 0::2] + sq_v[:, 1::2]  # vertical
    pw = sq[:, :, 0::2] + sq[:, :, 1::2]
    power[1, :, b0:b1] = pw[0] + pw[1] + pw[2]  # whole vector: summed over axes
    # inverse transform of a real, even spectrum: a type-I DCT equals irfft (times nfft) and is
    # several times cheaper
    ac = scipy.fft.dct(power, type=1, axis=2)[:, :, : max_lag + 1] / nfft
    lags = np.arange(max_lag + 1)
    ac = ac / (width - lags)  # unbiased
    r = ac / np.maximum(ac[:, :, :1], 1e-12)  # (2, m, lags)
    dipped = np.minimum.accumulate(r, axis=2) < 0.0
    ok = np.zeros_like(r, dtype=bool)
    ok[:, :, lo : hi + 1] = (r[:, :, lo : hi + 1] >= r[:, :, lo - 1 : hi]) & (
        r[:, :, lo : hi + 1] > r[:, :, lo + 1 : hi + 2]
    )
    ok &= dipped
    score = np.where(ok, r, -np.inf)
    top = np.max(score, axis=2, keepdims=True)
    # the first strong peak is the step (its double, the stride, may be as high)
    first_good = ok & (r >= 0.5 * top)
    first = np.argmax(first_good, axis=2)
    has = first_good.any(axis=2)
    best = np.maximum(np.where(has, top[:, :, 0], 0.0), 0.0)
    t_all = np.where(has, first / fs_hz, np.nan)
    b_v, b_x = best[0], best[1]
    t_v, t_x = t_all[0], t_all[1]
    r_v = r[0]
    period = np.where(np.isfinite(t_v), t_v, t_x)
    # autocorrelation of the vertical signal at half the period: a rhythm whose half period
    # also correlates positively has two (left/right) events per period, i.e. it is a stride
    half = np.full(m, np.nan)
    ok_p = np.isfinite(period)
    if ok_p.any():
        lag = np.clip(np.round(period[ok_p] * fs_hz / 2).astype(int), 1, max_lag)
        half[ok_p] = r_v[np.nonzero(ok_p)[0], lag]
    regs = []
    for mult in (1.0, 2.0):
        centre = np.where(ok_p, period, 0.0) * fs_hz * mult
        lo_i = np.clip(np.round(0.8 * centre).astype(int), 1, max_lag)
        hi_i = np.clip(np.round(1.2 * centre).astype(int), 1, max_lag)
        span = int(max(1, (hi_i - lo_i).max() + 1))
        idx = lo_i[:, None] + np.arange(span)[None, :]
        valid = idx <= hi_i[:, None]
        vals = np.where(valid, r_v[np.arange(m)[:, None], np.minimum(idx, max_lag)], -np.inf)
        regs.append(np.where(ok_p & (hi_i > lo_i), vals.max(axis=1), np.nan))
    return np.stack((np.maximum(b_v, b_x), period, half, regs[0], regs[1]))


#: Harmonics of the stride frequency summed by the harmonic ratio (Menz et al. 2003).
HR_HARMONICS = 20
#: Samples per stride after time normalisation (at least 2 * HR_HARMONICS + 1).
_HR_POINTS = 64
#: Strides around the window's centre that give its harmonic ratio: the frame's own walking
#: (a longer span would mix in the standing before and after a short walk).
_HR_STRIDES = 2
#: The stride lag is searched within this fraction of twice the step period (the step period
#: comes from a half-rate autocorrelation, so it is quantised to two samples of the grid).
_HR_LAG_SEARCH = 0.08


def harmonic_ratio(
    windows: NDArray[np.float64],
    up: NDArray[np.float64],
    step_period_s: NDArray[np.float64],
    fs_hz: float,
    start: NDArray[np.float64] | None = None,
    window_of: NDArray[np.intp] | None = None,
) -> NDArray[np.float64]:
    """Vertical harmonic ratio of trunk acceleration (Menz et al. 2003).

    The ratio of the summed amplitudes of the even to the odd harmonics of the stride
    frequency (first :data:`HR_HARMONICS` harmonics) of the acceleration along gravity (``up``,
    a unit vector per window). Steps of the two legs that are alike make the vertical
    acceleration repeat every step, i.e. every second harmonic of the stride: healthy adults
    walk with about 2-3.5 vertically, lower values mean a less smooth or symmetric gait. Only
    the vertical direction is used: the anteroposterior axis is unknown for an unknown mounting.

    The stride lag is refined at the full rate (the highest unbiased autocorrelation within
    +-8 % of twice ``step_period_s``, with parabolic interpolation); a stride is resampled to
    64 points, so the harmonics are exact FFT bins. Harmonics at or above the grid's Nyquist
    frequency are left out. Each window is processed on its own (streaming equals batch).

    Parameters
    ----------
    windows
        Acceleration windows (m, width, 3), g.
    up
        Unit gravity direction per window (m, 3).
    step_period_s
        Step period per window (NaN: no value).
    fs_hz
        Sampling rate of the windows.
    start
        Samples where one stride each is taken from (initial contacts: the stride from a step
        to the same foot's next step, as Menz et al. cut them; moved back when it would run
        past the window). None: one value per window, the mean ratio of the two strides
        centred on it.
    window_of
        The window of each ``start`` (None: ``start`` has one entry per window).

    Returns
    -------
    NDArray[np.float64]
        Harmonic ratio per window, or per ``start`` (NaN where the period is unknown or no
        whole stride fits).
    """
    m, width = windows.shape[0], windows.shape[1]
    lag0 = 2.0 * np.asarray(step_period_s, dtype=np.float64) * fs_hz
    ok = np.isfinite(lag0) & (lag0 >= 4.0) & (lag0 < 0.8 * width)
    rows = np.nonzero(ok)[0]
    v = np.zeros((m, width))
    period = np.full(m, np.nan)
    if len(rows):
        vr = np.einsum("mwc,mc->mw", windows[rows], up[rows])
        vr -= vr.mean(axis=1, keepdims=True)
        v[rows] = vr
        period[rows] = _stride_lag(vr, lag0[rows])
    if start is None:
        sel = np.arange(m)
        n_str = np.minimum(np.floor((width - 1) / np.where(ok, period, width)), _HR_STRIDES)
        first = 0.5 * (width - 1 - n_str * np.where(ok, period, 0.0))
    else:
        sel = np.arange(len(start)) if window_of is None else np.asarray(window_of)
        p_sel = np.where(ok[sel], period[sel], 0.0)
        n_str = np.where(ok[sel] & (p_sel <= width - 1), 1.0, 0.0)
        first = np.clip(np.asarray(start, dtype=np.float64), 0.0, width - 1 - p_sel)
    out = np.full(len(sel), np.nan)
    e = np.nonzero(ok[sel] & (n_str >= 1))[0]
    if len(e) == 0:
        return out
    w_e = sel[e]
    p_e = period[w_e]
    ns = n_str[e].astype(np.intp)
    s_max = int(ns.max())
    frac_pos = np.arange(_HR_POINTS) / _HR_POINTS
    pos = first[e, None, None] + p_e[:, None, None] * (
        np.arange(s_max)[None, :, None] + frac_pos[None, None, :]
    )  # (entries, strides, points)
    pos = np.clip(pos, 0.0, width - 1.0)
    i0 = np.minimum(np.floor(pos).astype(np.intp), width - 2)
    w1 = pos - i0
    flat = v.reshape(-1)
    base = (w_e * width)[:, None, None]
    seg = flat[base + i0] * (1.0 - w1) + flat[base + i0 + 1] * w1
    amp = np.abs(np.fft.rfft(seg, axis=2)[:, :, 1 : HR_HARMONICS + 1])  # harmonics 1..20
    k = np.arange(1, HR_HARMONICS + 1)
    amp = amp * (k[None, :] < 0.5 * p_e[:, None])[:, None, :]  # below the Nyquist frequency
    even = amp[:, :, 1::2].sum(axis=2)
    odd = amp[:, :, 0::2].sum(axis=2)
    valid = (np.arange(s_max)[None, :] < ns[:, None]) & (odd > 0)
    ratio = np.where(valid, even / np.where(odd > 0, odd, 1.0), 0.0)
    cnt = valid.sum(axis=1)
    out[e] = np.where(cnt > 0, ratio.sum(axis=1) / np.maximum(cnt, 1), np.nan)
    return out


def _stride_lag(v: NDArray[np.float64], lag0: NDArray[np.float64]) -> NDArray[np.float64]:
    """The stride lag (samples, fractional) of each row of ``v`` (n, width): the highest
    unbiased autocovariance within +-8 % of ``lag0`` (whole lags; FFT per row), refined by a
    parabola through it and its neighbours."""
    n, width = v.shape
    nfft = 1 << int(np.ceil(np.log2(2 * width)))
    spec = np.fft.rfft(v, n=nfft, axis=1)
    ac = np.fft.irfft(spec.real**2 + spec.imag**2, n=nfft, axis=1)[:, :width]
    ac = ac / (width - np.arange(width))[None, :]
    d = int(np.ceil(_HR_LAG_SEARCH * float(lag0.max()))) + 1
    offs = np.arange(-d, d + 1)
    lags = np.round(lag0).astype(np.intp)[:, None] + offs[None, :]  # (n, 2d + 1)
    inside = (np.abs(offs[None, :]) <= _HR_LAG_SEARCH * lag0[:, None] + 1) & (
        (lags >= 1) & (lags < width - 1)
    )
    vals = np.where(inside, np.take_along_axis(ac, np.clip(lags, 0, width - 1), axis=1), -np.inf)
    best = np.argmax(vals, axis=1)
    ar = np.arange(n)
    a0 = vals[ar, best]
    am = vals[ar, np.maximum(best - 1, 0)]
    ap = vals[ar, np.minimum(best + 1, len(offs) - 1)]
    den = am - 2.0 * a0 + ap
    interior = (best > 0) & (best < len(offs) - 1)
    ok_par = interior & np.isfinite(am) & np.isfinite(ap) & (den < 0)
    shift = np.where(ok_par, 0.5 * (am - ap) / np.where(ok_par, den, -1.0), 0.0)
    out: NDArray[np.float64] = lags[ar, best] + np.clip(shift, -0.5, 0.5)
    return out
