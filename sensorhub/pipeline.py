"""Per-wearer streaming detection pipeline: sample blocks in, events out (pure computation).

``Pipeline.feed(block)`` accepts :class:`~sensorhub.model.SampleBlock` s of any size and returns
the events whose evidence is complete. The same code serves live BLE streams and recorded files
(``sensorhub analyze``): the input is resampled onto an absolute time grid, cut into absolute
one-second frames with a fixed context window, and every later stage works on frames in order,
so the events do not depend on how the stream was chunked (tests prove it). Memory is bounded:
only the context window and the open bouts are kept.

Stages (DESIGN.md section 3): resampling -> frame features (gravity, movement, periodicity) ->
posture/activity per frame -> static-load tracker (StaticBout, live current bout) -> posture
segments -> 60-s epoch summaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sensorhub.detect.falls import FallDetector
from sensorhub.detect.gait import GaitBoutAssembler
from sensorhub.detect.limb_steps import StrideDecider
from sensorhub.detect.posture import CODE, POSTURES, PostureClassifier, PostureFrames
from sensorhub.detect.static_load import StaticLoadTracker
from sensorhub.detect.steps import StepDetector
from sensorhub.detect.wear import WearDetector
from sensorhub.model import (
    NS_PER_S,
    CurrentBout,
    EpochSummary,
    Event,
    Placement,
    Posture,
    PostureSegment,
    SampleBlock,
)
from sensorhub.signal.features import (
    MAX_STEP_PERIOD_S,
    FrameFeatures,
    compute_features,
    harmonic_ratio,
)
from sensorhub.signal.frames import FrameBatch, FrameWindower
from sensorhub.signal.resample import GridResampler
from sensorhub.signal.transitions import vertical_displacement

__all__ = ["Pipeline", "PipelineSettings"]

#: Placements on a limb: the sensor sees its own limb's cycle (one stride per peak).
LIMB = frozenset({Placement.THIGH, Placement.POCKET, Placement.WRIST, Placement.FOOT})
#: Placements on the trunk: the vertical acceleration there gives the harmonic ratio.
TRUNK = frozenset({Placement.LOWER_BACK, Placement.HIP, Placement.CHEST})
#: Shortest stride a limb's rhythm is taken for (160 steps/min); shorter periods are steps.
LIMB_MIN_STRIDE_S = 0.75
#: Below this input rate (Hz) steps cannot be seen: no walking, steps or falls are detected.
MIN_GAIT_RATE_HZ = 10.0
#: ... and show at least this much rhythm (autocorrelation peak; walking needs 0.3).
STEP_CANDIDATE_PERIODICITY = 0.0
#: Context (s) on each side of a frame used for step detection.
STEP_CONTEXT_S = 1.6
#: Frames moving at least this much (dynamic RMS, g) are searched for steps.
STEP_CANDIDATE_RMS_G = 0.03
#: Frames moving at least this much (dynamic RMS, g) are searched for sit/stand transitions.
TRANSITION_MIN_RMS_G = 0.03
#: A period is a stride when the vertical autocorrelation at half of it exceeds this.
STRIDE_HALF_R = -0.2


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    """Tunable settings of a :class:`Pipeline` (defaults from DESIGN.md section 6).

    Attributes
    ----------
    work_fs_hz
        Internal grid rate; 1e9 / rate must be whole nanoseconds (50 Hz keeps gait content,
        which lies below 20 Hz, and halves the work of 100 Hz streams).
    max_interp_gap_s
        Input intervals up to this long are bridged by interpolation; longer ones are gaps.
    context_s
        Context on each side of a one-second frame (whole seconds).
    gravity_half_s
        Half-width of the window for gravity and movement (whole seconds, <= ``context_s``).
    min_break_s, max_return_s, max_gap_s, min_static_bout_s
        Static-load tracker settings (:class:`~sensorhub.detect.static_load.StaticLoadTracker`).
    epoch_s
        Length of the stored epoch summaries (whole seconds).
    upright_axis
        Known vertical body axis in device coordinates (e.g. from the device profile or a
        pre-scan of a recording); None learns it from walking.
    sitting_trunk_inclination_deg
        Lower back / hip pelvic-tilt threshold for sitting vs standing, used only while no
        postural transition is known (None: ``stationary``). The pelvis rotates posteriorly by
        18.3 deg on average from standing to sitting (Endo et al. 2012, J Orthop Sci
        17:682-686), with a wide spread between people; 10 deg keeps most seated pelves
        sitting. 15 deg scored better on the open hip recordings (balanced accuracy 0.970 vs
        0.962, standing at recording starts) but turned a real seated pelvis of 12-15 deg to
        "standing" after a fidget (tests/io/test_real_static_bouts.py), so it was not kept.
    height_m, sensor_height_m
        Wearer's height and the sensor's height above the ground (for walking speed).
    min_nonwear_s
        Stillness this long is non-wear (GGIR: 60 min).
    emit_posture_segments
        Whether ``feed`` returns :class:`~sensorhub.model.PostureSegment` events.
    """

    work_fs_hz: float = 50.0
    max_interp_gap_s: float = 2.0
    context_s: int = 3
    gravity_half_s: int = 1
    min_break_s: float = 60.0
    max_return_s: float = 3.0
    max_gap_s: float = 300.0
    min_static_bout_s: float = 60.0
    epoch_s: int = 60
    upright_axis: tuple[float, float, float] | None = None
    sitting_trunk_inclination_deg: float | None = 10.0
    height_m: float | None = None
    sensor_height_m: float | None = None
    emit_posture_segments: bool = True
    min_nonwear_s: float = 3600.0


@dataclass(slots=True)
class _EpochAcc:
    index: int
    seconds: NDArray[np.float64] = field(default_factory=lambda: np.zeros(len(POSTURES)))
    enmo_sum: float = 0.0
    mad_sum: float = 0.0
    covered: float = 0.0
    steps: int = 0


def _min_interval_keep(t: NDArray[np.int64], last_ns: int | None, min_ns: int) -> NDArray[np.bool_]:
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


class Pipeline:
    """Streaming pipeline for one wearer and one device placement.

    Parameters
    ----------
    placement
        Where the device is worn.
    fs_hz
        Nominal sampling rate of the device (informational; blocks carry their own).
    settings
        Tunables; None uses :class:`PipelineSettings` defaults.
    """

    def __init__(
        self,
        placement: Placement,
        *,
        fs_hz: float | None = None,
        settings: PipelineSettings | None = None,
    ) -> None:
        self.placement = Placement(placement)
        self.fs_hz = fs_hz
        self.settings = settings or PipelineSettings()
        st = self.settings
        self._resampler = GridResampler(fs_hz=st.work_fs_hz, max_interp_gap_s=st.max_interp_gap_s)
        self._spf = round(st.work_fs_hz)
        if abs(self._spf - st.work_fs_hz) > 1e-9:
            raise ValueError("work_fs_hz must be a whole number of samples per second")
        self._windower = FrameWindower(
            samples_per_frame=self._spf,
            pre_samples=st.context_s * self._spf,
            post_samples=st.context_s * self._spf,
        )
        sit_thr = st.sitting_trunk_inclination_deg
        self._posture = PostureClassifier(
            placement=self.placement,
            sitting_trunk_inclination_deg=sit_thr,
            upright_axis=st.upright_axis,
        )
        self._tracker = StaticLoadTracker(
            min_break_s=st.min_break_s,
            max_return_s=st.max_return_s,
            max_gap_s=st.max_gap_s,
            min_bout_s=st.min_static_bout_s,
        )
        # lower back: the trunk wavelet initial-contact method (sensorhub.signal.trunk_ic)
        sensor_h = st.sensor_height_m
        if (
            sensor_h is None
            and st.height_m is not None
            and self.placement
            in (
                Placement.LOWER_BACK,
                Placement.HIP,
            )
        ):
            sensor_h = 0.53 * st.height_m  # greater trochanter height (Winter's anthropometry)
        self._gait = GaitBoutAssembler(sensor_height_m=sensor_h)
        # lower back: the trunk wavelet initial-contact method (sensorhub.signal.trunk_ic)
        self._steps = StepDetector(
            method="trunk_wavelet" if self.placement == Placement.LOWER_BACK else "peak",
            excursion=sensor_h is not None and self.placement not in LIMB,
        )
        self._falls = FallDetector(placement=self.placement)
        self._wear = WearDetector(min_nonwear_s=st.min_nonwear_s)
        self._last_step_ns: int | None = None
        self._last_stride_ns: int | None = None
        self._limb = self.placement in LIMB
        self._stride = StrideDecider(min_stride_s=LIMB_MIN_STRIDE_S, threshold_r=STRIDE_HALF_R)
        self._step_buf: list[NDArray[np.int64]] = []
        self._seg_label: int | None = None
        self._seg_start = 0
        self._seg_end = 0
        self._epoch: _EpochAcc | None = None
        self._epochs: list[EpochSummary] = []
        self._current_posture = Posture.UNKNOWN
        self._last_t: int | None = None
        self._low_rate: bool | None = None

    # -- public API --------------------------------------------------------------------------
    @property
    def current_bout(self) -> CurrentBout | None:
        """The live static bout (for the nudge engine and the dashboard timer)."""
        return self._tracker.current_bout

    @property
    def current_posture(self) -> Posture:
        """Posture of the latest analysed frame (lags the data by ``context_s``)."""
        return self._current_posture

    def feed(self, block: SampleBlock) -> list[Event]:
        """Analyse a block of samples; return the events completed by it."""
        events: list[Event] = []
        if len(block) == 0:
            return events
        if self._low_rate is None:
            rate = self.fs_hz if self.fs_hz is not None else block.fs_hz
            # irregular sources (RFID tags) read in bursts: their median interval (the nominal
            # rate) can be 0.05 s while they deliver 2 samples/s, and steps need the mean rate
            # (over the intervals the resampler bridges; longer ones are gaps)
            dt = np.diff(block.t_ns) / NS_PER_S
            dt = dt[(dt > 0) & (dt <= self.settings.max_interp_gap_s)]
            if len(dt) and dt.sum() > 0:
                rate = min(rate, len(dt) / float(dt.sum()))
            self._low_rate = rate < MIN_GAIT_RATE_HZ
        for chunk in self._resampler.push(block.t_ns, block.acc_g, block.gap_before_ns):
            if chunk.new_segment:
                self._end_segment(events)
                if chunk.gap_ns > 0:
                    events.extend(self._tracker.gap(chunk.last_input_ns, chunk.gap_ns))
            if len(chunk.acc_g):
                batch = self._windower.push(chunk.j0, chunk.acc_g)
                if batch is not None:
                    self._process(batch, events)
        self._last_t = (
            int(block.t_ns[-1]) if self._last_t is None else max(self._last_t, int(block.t_ns[-1]))
        )
        return events

    def flush(self) -> list[Event]:
        """End of stream: analyse what is pending and close every open bout."""
        events: list[Event] = []
        self._end_segment(events)
        if self._last_t is not None:
            events.extend(self._tracker.finish(self._last_t))
        self._finish_epoch()
        return events

    def motionless_s(self, now_ns: int) -> float:
        """How long (s of device time up to ``now_ns``) the device has not moved at all.

        "Not at all" is a dynamic RMS below the sensor-noise level of
        :class:`~sensorhub.detect.wear.WearDetector` (5 mg per 3-s window); 0 while the latest
        analysed frame moves. Frames are analysed with a lag of
        ``context_s``, which this figure also has.
        """
        since = self.still_since_ns
        return 0.0 if since is None else max(0.0, (now_ns - since) / NS_PER_S)

    @property
    def still_since_ns(self) -> int | None:
        """Device time since which the device has not moved at all (None while it moves)."""
        return self._wear.still_since_ns

    @property
    def gait_settled_ns(self) -> int | None:
        """No gait bout reported later starts before this device time (None before any
        analysis); lets bouts of another source of the same walks be judged."""
        return self._gait.settled_ns_

    @property
    def worn(self) -> bool:
        """False while confirmed non-wear (``min_nonwear_s`` without movement) goes on."""
        return self._wear.worn

    def learned_upright_axis(self) -> tuple[float, float, float] | None:
        """The body's vertical axis learnt from walking so far (None before any walking)."""
        ref = self._posture.upright_ref_
        if ref is None or not self._posture.walking_frames_:
            return None
        return (float(ref[0]), float(ref[1]), float(ref[2]))

    def walking_seconds(self) -> float:
        """Seconds of walking analysed so far (frames labelled walking)."""
        return float(self._posture.walking_frames_)

    def pop_steps(self) -> NDArray[np.int64]:
        """Step (initial-contact) times in UTC ns detected since the last call."""
        out = np.concatenate(self._step_buf) if self._step_buf else np.empty(0, np.int64)
        self._step_buf = []
        return out

    def pop_epochs(self) -> list[EpochSummary]:
        """Epoch summaries finished since the last call."""
        out, self._epochs = self._epochs, []
        return out

    # -- stages ------------------------------------------------------------------------------
    def _end_segment(self, events: list[Event]) -> None:
        batch = self._windower.end_segment()
        if batch is not None:
            self._process(batch, events, final=True)
        self._close_posture_segment(events)
        events.extend(self._gait.finish())
        events.extend(self._wear.finish())

    def _process(self, batch: FrameBatch, events: list[Event], *, final: bool = False) -> None:
        st = self.settings
        feats = compute_features(
            batch,
            fs_hz=st.work_fs_hz,
            samples_per_frame=self._spf,
            context_frames=st.context_s,
            gravity_half_frames=st.gravity_half_s,
            periodicity_min_rms_g=STEP_CANDIDATE_RMS_G,
        )
        postures = self._classify_posture(batch, feats)
        labels = postures.postures
        start = feats.k * NS_PER_S
        end = start + NS_PER_S
        wear = self._wear.update(start, end, feats.dyn_rms_g)
        events.extend(wear.intervals)
        labels[wear.nonwear_mask] = CODE[Posture.NONWEAR]
        c = wear.confirmed_index
        if c >= 0 and wear.confirmed_start_ns is not None:
            # the device was off since the stillness began: end the bout there
            events.extend(self._tracker.update(start[:c], end[:c], labels[:c]))
            events.extend(self._tracker.end_at(wear.confirmed_start_ns))
            events.extend(self._tracker.update(start[c:], end[c:], labels[c:]))
        else:
            events.extend(self._tracker.update(start, end, labels))
        self._posture_segments(start, end, labels, events)
        if self._low_rate:
            self._epochs_from(feats, labels, np.zeros(len(labels), dtype=np.int64))
            self._current_posture = POSTURES[int(labels[-1])]
            return
        steps_per_frame = self._detect_steps(batch, feats, labels, events)
        falls = self._falls.update(
            feats.k,
            feats.peak_g,
            feats.peak_offset_s,
            feats.trough_g,
            feats.gravity_g,
            feats.dyn_rms_g,
            coverage=feats.coverage,
            inclination_deg=np.where(postures.reference_known, postures.inclination_deg, np.nan),
            final=final,
        )
        events.extend(falls)
        self._epochs_from(feats, labels, steps_per_frame)
        self._current_posture = POSTURES[int(labels[-1])]

    def _classify_posture(self, batch: FrameBatch, feats: FrameFeatures) -> PostureFrames:
        """Posture per frame; lower back and hip also get sit-to-stand transition evidence."""
        if self.placement not in (Placement.LOWER_BACK, Placement.HIP) or self._low_rate:
            return self._posture.classify(feats, steps_visible=not self._low_rate)
        # only moving frames can centre a transition (quiet sway stays below 0.03 g)
        rows = np.nonzero(feats.dyn_rms_g >= TRANSITION_MIN_RMS_G)[0]
        disp, speed = np.full(len(feats), np.nan), np.zeros(len(feats))
        if len(rows):
            d, v = vertical_displacement(batch.windows[rows], self.settings.work_fs_hz)
            disp[rows], speed[rows] = d, v
        return self._posture.classify(feats, vertical_displacement_m=disp, vertical_speed_m_s=speed)

    def _detect_steps(
        self,
        batch: FrameBatch,
        feats: FrameFeatures,
        labels: NDArray[np.int8],
        events: list[Event],
    ) -> NDArray[np.int64]:
        st = self.settings
        per_frame = np.zeros(len(labels), dtype=np.int64)
        # candidates in every moving, upright frame; the assembler keeps rhythmic sequences
        rows = np.nonzero(
            (feats.dyn_rms_g >= STEP_CANDIDATE_RMS_G)
            & (feats.periodicity >= STEP_CANDIDATE_PERIODICITY)
            & (labels != CODE[Posture.LYING])
            & (labels != CODE[Posture.NONWEAR])
            & (labels != CODE[Posture.UNKNOWN])
        )[0]
        now = int(feats.k[-1] + 1) * NS_PER_S
        if len(rows) == 0:
            assembled = self._gait.add(
                np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0),
                self._step_horizon(now), harmonic_ratio=np.empty(0),
            )  # fmt: skip
            events.extend(assembled.bouts)
            self._count_steps(assembled.steps_ns, feats.k, per_frame)
            return per_frame
        g = feats.gravity_g[rows]
        g_unit = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-9)
        period = feats.step_period_s[rows]
        # a limb sensor's dominant rhythm is often its own leg's (or arm's) cycle: a period of
        # LIMB_MIN_STRIDE_S or more there is a stride, one peak per stride is found and the
        # other leg's step is placed halfway
        # (a pure step rhythm anti-correlates at half its period; a stride, with its two
        # unequal left/right events, does not)
        if self._limb:
            stride_mode = self._stride.decide(feats.k[rows], period, feats.half_period_r[rows])
        else:
            stride_mode = np.zeros(len(rows), dtype=bool)
        # steps need the frame and about a second either side (neighbourhood, filter edges)
        ctx = st.context_s * self._spf
        margin = min(ctx, round(STEP_CONTEXT_S * self._spf))
        det = self._steps.detect(
            np.asarray(batch.windows[rows, ctx - margin : ctx + self._spf + margin]),
            g_unit,
            period,
            fs_hz=st.work_fs_hz,
            pre_samples=margin,
            samples_per_frame=self._spf,
            gait_rows=labels[rows] == CODE[Posture.WALKING],
        )
        r, smp = det.rows, det.samples
        dt_ns = self._resampler.dt_ns
        t = feats.k[rows[r]] * NS_PER_S + smp.astype(np.int64) * dt_ns
        keep = _min_interval_keep(
            t, self._last_step_ns, int(self._steps.min_step_interval_s * NS_PER_S)
        )
        if keep.any():
            self._last_step_ns = int(t[keep][-1])
        t, r, smp = t[keep], r[keep], smp[keep]
        exc = det.excursion_m[keep]
        if self._limb:
            t, r = self._add_contralateral(t, r, stride_mode)
            exc = np.full(len(t), np.nan)
        fr = rows[r]
        hr = self._harmonic_ratio(batch, feats, labels, fr, smp)
        assembled = self._gait.add(
            t, feats.step_regularity[fr], feats.stride_regularity[fr], exc,
            self._step_horizon(now), harmonic_ratio=hr,
        )  # fmt: skip
        events.extend(assembled.bouts)
        self._count_steps(assembled.steps_ns, feats.k, per_frame)
        return per_frame

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

    def _step_horizon(self, now_ns: int) -> int:
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
        lo, hi = int(LIMB_MIN_STRIDE_S * 0.6 * NS_PER_S), int(2 * MAX_STEP_PERIOD_S * NS_PER_S)
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

    def _count_steps(
        self, steps: NDArray[np.int64], k: NDArray[np.int64], per_frame: NDArray[np.int64]
    ) -> None:
        """Record confirmed steps; count those in this batch's frames (earlier ones are
        credited to the current epoch)."""
        if len(steps) == 0:
            return
        self._step_buf.append(steps)
        fk = steps // NS_PER_S
        pos = np.clip(np.searchsorted(k, fk), 0, len(k) - 1)
        np.add.at(per_frame, pos, 1)

    def _posture_segments(
        self,
        start: NDArray[np.int64],
        end: NDArray[np.int64],
        labels: NDArray[np.int8],
        events: list[Event],
    ) -> None:
        change = np.nonzero(labels[1:] != labels[:-1])[0] + 1
        for s, e in zip(
            np.concatenate(([0], change)).tolist(),
            np.concatenate((change, [len(labels)])).tolist(),
            strict=True,
        ):
            lab = int(labels[s])
            if self._seg_label == lab and self._seg_end == int(start[s]):
                self._seg_end = int(end[e - 1])
                continue
            self._close_posture_segment(events)
            self._seg_label, self._seg_start, self._seg_end = lab, int(start[s]), int(end[e - 1])

    def _close_posture_segment(self, events: list[Event]) -> None:
        if self._seg_label is not None and self.settings.emit_posture_segments:
            events.append(PostureSegment(self._seg_start, self._seg_end, POSTURES[self._seg_label]))
        self._seg_label = None

    def _epochs_from(
        self, feats: FrameFeatures, labels: NDArray[np.int8], steps: NDArray[np.int64]
    ) -> None:
        ep = self.settings.epoch_s
        idx = feats.k // ep
        bounds = np.nonzero(np.diff(idx))[0] + 1
        for s, e in zip(
            np.concatenate(([0], bounds)).tolist(),
            np.concatenate((bounds, [len(idx)])).tolist(),
            strict=True,
        ):
            i = int(idx[s])
            if self._epoch is not None and self._epoch.index != i:
                self._finish_epoch()
            if self._epoch is None:
                self._epoch = _EpochAcc(i)
            acc = self._epoch
            cov = feats.coverage[s:e]
            acc.seconds += np.bincount(labels[s:e], weights=cov, minlength=len(POSTURES))
            acc.enmo_sum += float((feats.enmo_mg[s:e] * cov).sum())
            if len(feats.mad_mg) == len(feats):
                acc.mad_sum += float((feats.mad_mg[s:e] * cov).sum())
            acc.covered += float(cov.sum())
            acc.steps += int(steps[s:e].sum())

    def _finish_epoch(self) -> None:
        acc = self._epoch
        if acc is None:
            return
        self._epoch = None
        ep = self.settings.epoch_s
        secs = {POSTURES[i].value: float(v) for i, v in enumerate(acc.seconds) if v > 0}
        nonwear = acc.seconds[CODE[Posture.NONWEAR]]
        self._epochs.append(
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
        )
