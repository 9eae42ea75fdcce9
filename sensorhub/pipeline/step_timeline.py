"""Candidate steps on one time line: detection, limb strides, the minimum step interval.

Every moving, upright frame is searched for steps (:class:`~sensorhub.detect.steps.StepDetector`
on the frame's central second with ``step_context_s`` of context); the detections become
absolute times, and of detections closer than the detector's ``min_step_interval_s`` the
earlier is kept (greedily, across calls). A limb sensor's dominant rhythm is often its own
leg's (or arm's) cycle: :class:`~sensorhub.detect.limb_steps.StrideDecider` tells per frame
whether the period is a stride, and then the other leg's step is placed halfway between two
consecutive stride peaks. Each candidate gets the quality values the gait-bout assembler needs
(step and stride regularity of its frame, vertical excursion, harmonic ratio at trunk
placements) and the call says up to when no more candidates can arrive (the horizon).

All state (last kept step, last stride peak, the stride decision's cadence) is carried between
calls, so the candidates do not depend on how the stream was chunked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sensorhub.detect.limb_steps import StrideDecider
from sensorhub.detect.posture import CODE
from sensorhub.detect.steps import StepDetector
from sensorhub.model import NS_PER_S, Placement, Posture
from sensorhub.pipeline.settings import PipelineSettings
from sensorhub.signal.features import MAX_STEP_PERIOD_S, FrameFeatures, harmonic_ratio
from sensorhub.signal.frames import FrameBatch

__all__ = ["LIMB", "TRUNK", "CandidateSteps", "StepTimeline"]

#: Placements on a limb: the sensor sees its own limb's cycle (one stride per peak).
LIMB = frozenset({Placement.THIGH, Placement.POCKET, Placement.WRIST, Placement.FOOT})
#: Placements on the trunk: the vertical acceleration there gives the harmonic ratio.
TRUNK = frozenset({Placement.LOWER_BACK, Placement.HIP, Placement.CHEST})


@dataclass(frozen=True, slots=True, eq=False)
class CandidateSteps:
    """Candidate steps of one call, for :meth:`~sensorhub.detect.gait.GaitBoutAssembler.add`.

    Attributes
    ----------
    t_ns
        Step times (UTC ns, increasing, after those of earlier calls).
    step_regularity, stride_regularity
        Of the frame each step was found in.
    excursion_m
        Vertical sensor excursion after each step (m; NaN where not measured).
    harmonic_ratio
        Vertical harmonic ratio of the stride that begins at each step (NaN where unknown).
    horizon_ns
        No candidate found later lies before this device time.
    """

    t_ns: NDArray[np.int64]
    step_regularity: NDArray[np.float64]
    stride_regularity: NDArray[np.float64]
    excursion_m: NDArray[np.float64]
    harmonic_ratio: NDArray[np.float64]
    horizon_ns: int

    @classmethod
    def none(cls, horizon_ns: int) -> CandidateSteps:
        """No candidates, up to ``horizon_ns``."""
        empty = np.empty(0)
        return cls(np.empty(0, np.int64), empty, empty, empty, empty, horizon_ns)


def min_interval_keep(t: NDArray[np.int64], last_ns: int | None, min_ns: int) -> NDArray[np.bool_]:
    """Which of the sorted times ``t`` survive the greedy "at least ``min_ns`` after the last
    kept time" rule (``last_ns``: last kept time before them, None for none)."""
    if len(t) == 0:
        return np.empty(0, dtype=bool)
    first = int(t[0]) - min_ns if last_ns is None else last_ns
    # a time far enough from all earlier ones is kept whatever happened to them
    prev = np.maximum.accumulate(np.concatenate(([first], t[:-1])))
    keep = t - prev >= min_ns
    close = np.nonzero(~keep)[0]
    for i in close.tolist():  # rare: a time close to the one before it
        j = i - 1
        while j >= 0 and not keep[j]:
            j -= 1
        ref = int(t[j]) if j >= 0 else last_ns
        keep[i] = ref is None or int(t[i]) - ref >= min_ns
    return keep


class StepTimeline:
    """Streaming candidate steps of one placement (see the module docstring).

    Parameters
    ----------
    placement
        Where the device is worn (limb placements get strides, the lower back the trunk
        wavelet initial-contact method, trunk placements the harmonic ratio).
    settings
        The pipeline's settings (grid rate, context, the step tunables).
    measure_excursion
        Measure each step's vertical excursion (for walking speed; trunk placements with a
        known sensor height).
    """

    def __init__(
        self, placement: Placement, *, settings: PipelineSettings, measure_excursion: bool
    ) -> None:
        self.placement = placement
        self.settings = settings
        self.measure_excursion = measure_excursion
        # lower back: the trunk wavelet initial-contact method (sensorhub.signal.trunk_ic)
        self._detector = StepDetector(
            method="trunk_wavelet" if placement == Placement.LOWER_BACK else "peak",
            excursion=measure_excursion,
        )
        self._limb = placement in LIMB
        self._stride = StrideDecider(
            min_stride_s=settings.limb_min_stride_s, threshold_r=settings.stride_half_period_r
        )
        self._spf = round(settings.work_fs_hz)
        self._dt_ns = round(NS_PER_S / settings.work_fs_hz)
        self._last_step_ns: int | None = None
        self._last_stride_ns: int | None = None

    def detect(
        self, batch: FrameBatch, features: FrameFeatures, labels: NDArray[np.int8]
    ) -> CandidateSteps:
        """Candidate steps in consecutive frames (their windows, features and postures)."""
        st = self.settings
        feats = features
        # candidates in every moving, upright frame; the assembler keeps rhythmic sequences
        rows = np.nonzero(
            (feats.dyn_rms_g >= st.step_candidate_min_rms_g)
            & (feats.periodicity >= st.step_candidate_min_periodicity)
            & (labels != CODE[Posture.LYING])
            & (labels != CODE[Posture.NONWEAR])
            & (labels != CODE[Posture.UNKNOWN])
        )[0]
        now = int(feats.k[-1] + 1) * NS_PER_S
        if len(rows) == 0:
            return CandidateSteps.none(self._horizon(now))
        g = feats.gravity_g[rows]
        g_unit = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-9)
        period = feats.step_period_s[rows]
        # a limb sensor's dominant rhythm is often its own leg's (or arm's) cycle: a period of
        # limb_min_stride_s or more there is a stride, one peak per stride is found and the
        # other leg's step is placed halfway
        # (a pure step rhythm anti-correlates at half its period; a stride, with its two
        # unequal left/right events, does not)
        if self._limb:
            stride_mode = self._stride.decide(feats.k[rows], period, feats.half_period_r[rows])
        else:
            stride_mode = np.zeros(len(rows), dtype=bool)
        # steps need the frame and about a second either side (neighbourhood, filter edges)
        ctx = st.context_s * self._spf
        margin = min(ctx, round(st.step_context_s * self._spf))
        found = self._detector.detect(
            np.asarray(batch.windows[rows, ctx - margin : ctx + self._spf + margin]),
            g_unit,
            period,
            fs_hz=st.work_fs_hz,
            pre_samples=margin,
            samples_per_frame=self._spf,
            gait_rows=labels[rows] == CODE[Posture.WALKING],
        )
        r, sample = found.rows, found.samples
        t = feats.k[rows[r]] * NS_PER_S + sample.astype(np.int64) * self._dt_ns
        keep = min_interval_keep(
            t, self._last_step_ns, int(self._detector.min_step_interval_s * NS_PER_S)
        )
        if keep.any():
            self._last_step_ns = int(t[keep][-1])
        t, r, sample = t[keep], r[keep], sample[keep]
        excursion = found.excursion_m[keep]
        if self._limb:
            t, r = self._add_contralateral(t, r, stride_mode)
            excursion = np.full(len(t), np.nan)
        frames = rows[r]
        return CandidateSteps(
            t,
            feats.step_regularity[frames],
            feats.stride_regularity[frames],
            excursion,
            self._harmonic_ratio(batch, feats, labels, frames, sample),
            self._horizon(now),
        )

    def _harmonic_ratio(
        self,
        batch: FrameBatch,
        feats: FrameFeatures,
        labels: NDArray[np.int8],
        frames: NDArray[np.intp],
        sample: NDArray[np.intp],
    ) -> NDArray[np.float64]:
        """Vertical harmonic ratio of the stride that begins at each step (trunk placements,
        steps in frames labelled walking; NaN elsewhere), from the step's frame's own context
        window at the frame's step period."""
        out = np.full(len(frames), np.nan)
        if self.placement not in TRUNK or self._limb or len(frames) == 0:
            return out
        walk = np.nonzero(labels[frames] == CODE[Posture.WALKING])[0]
        if len(walk) == 0:
            return out
        u, inv = np.unique(frames[walk], return_inverse=True)
        g = feats.gravity_g[u]
        up = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-9)
        start = (self.settings.context_s * self._spf + sample[walk]).astype(np.float64)
        out[walk] = harmonic_ratio(
            np.asarray(batch.windows[u]),
            up,
            feats.step_period_s[u],
            self.settings.work_fs_hz,
            start=start,
            window_of=inv.reshape(-1),
        )
        return out

    def _horizon(self, now_ns: int) -> int:
        """Time up to which no more candidate steps can arrive.

        For a limb sensor the other leg's step is placed halfway between two stride peaks, so
        while a stride peak waits for its successor (at most ``2 * MAX_STEP_PERIOD_S`` later)
        a step after that peak may still be inserted: the assembler must not judge pauses
        beyond the peak yet, or its bouts would depend on where the stream was cut.
        """
        last = self._last_stride_ns
        if not self._limb or last is None:
            return now_ns
        if now_ns - last > int(2 * MAX_STEP_PERIOD_S * NS_PER_S):
            return now_ns
        return min(now_ns, last)

    def _add_contralateral(
        self, t: NDArray[np.int64], r: NDArray[np.intp], stride_mode: NDArray[np.bool_]
    ) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
        """Insert the other leg's step halfway between consecutive stride peaks."""
        if len(t) == 0:
            return t, r
        lo = int(self.settings.limb_min_stride_s * 0.6 * NS_PER_S)
        hi = int(2 * MAX_STEP_PERIOD_S * NS_PER_S)
        sm = stride_mode[r]
        # the previous stride peak counts only when the step just before was one too
        prev_t = np.concatenate(
            ([0 if self._last_stride_ns is None else self._last_stride_ns], t[:-1])
        )
        prev_ok = np.concatenate(([self._last_stride_ns is not None], sm[:-1]))
        dt = t - prev_t
        mid = sm & prev_ok & (dt >= lo) & (dt <= hi)
        self._last_stride_ns = int(t[-1]) if sm[-1] else None
        if not mid.any():
            return t, r
        # each step is preceded by its midpoint (if any): output position of step i
        pos = np.arange(len(t)) + np.cumsum(mid)
        times = np.empty(len(t) + int(mid.sum()), dtype=np.int64)
        rows = np.empty(len(times), dtype=np.intp)
        times[pos], rows[pos] = t, r
        times[pos[mid] - 1] = (prev_t[mid] + t[mid]) // 2
        rows[pos[mid] - 1] = r[mid]
        return times, rows
