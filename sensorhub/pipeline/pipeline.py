"""The per-wearer :class:`Pipeline`: the chain that wires the stages (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sensorhub.detect.falls import FallDetector
from sensorhub.detect.gait import LIMB_MIN_SEQUENCE_S, GaitBoutAssembler
from sensorhub.detect.posture import CODE, POSTURES, PostureClassifier, PostureFrames
from sensorhub.detect.static_load import StaticLoadTracker
from sensorhub.detect.wear import WearDetector, WearFrames
from sensorhub.model import (
    NS_PER_S,
    CurrentBout,
    EpochSummary,
    Event,
    Placement,
    Posture,
    SampleBlock,
)
from sensorhub.pipeline.epochs import EpochAccumulator, steps_per_frame
from sensorhub.pipeline.output import LiveState, PipelineOutput
from sensorhub.pipeline.segments import PostureSegmenter, ShortWalkFilter
from sensorhub.pipeline.settings import PipelineSettings
from sensorhub.pipeline.step_timeline import LIMB, StepTimeline
from sensorhub.signal.features import FrameFeatures, compute_features
from sensorhub.signal.frames import FrameBatch, FrameWindower
from sensorhub.signal.resample import GridResampler
from sensorhub.signal.transitions import vertical_displacement

__all__ = ["Pipeline"]

#: Greater trochanter height as a fraction of body height (Winter's anthropometry): the
#: sensor height of a lower-back or hip sensor when only the wearer's height is known.
TROCHANTER_HEIGHT_FRACTION = 0.53

#: Trunk inclination (deg) above which a still chest is lying (the research notes' "lying >
#: 60 deg"); lower back and hip use ``PipelineSettings.lying_trunk_inclination_deg``.
LITERATURE_LYING_DEG = 60.0


@dataclass(slots=True)
class _Emitted:
    """What the running call has produced so far."""

    events: list[Event] = field(default_factory=list)
    epochs: list[EpochSummary] = field(default_factory=list)
    steps: list[NDArray[np.int64]] = field(default_factory=list)


def _sensor_height_m(placement: Placement, settings: PipelineSettings) -> float | None:
    if settings.sensor_height_m is not None:
        return settings.sensor_height_m
    if settings.height_m is not None and placement in (Placement.LOWER_BACK, Placement.HIP):
        return TROCHANTER_HEIGHT_FRACTION * settings.height_m
    return None


class Pipeline:
    """Streaming pipeline for one wearer and one device placement.

    Parameters
    ----------
    placement
        Where the device is worn.
    fs_hz
        Nominal sampling rate of the device (None: the first block's); with the first block's
        mean rate it decides whether steps can be seen (``min_gait_rate_hz``).
    settings
        Tunables; None uses :class:`~sensorhub.pipeline.PipelineSettings` defaults.
    resume
        The static bout that was in progress when an earlier pipeline of this wearer stopped
        (the hub restarted: it stores the live bout). The silence from the bout's ``last_ns``
        to the first new sample is treated exactly like a data gap of that length in one
        stream: up to ``max_gap_s`` the bout goes on (the same start, so the same event id,
        and a nudge timer that does not restart) and a new posture begins a break after the
        silence, as after any short gap; a longer silence ends the bout at ``last_ns``.
        None: start afresh.

    Notes
    -----
    :meth:`feed` and :meth:`flush` return a :class:`~sensorhub.pipeline.PipelineOutput`:
    the events, epochs and steps of that call and the live state after it. Nothing is kept
    for a later call, so memory does not grow with the length of the stream.
    """

    def __init__(
        self,
        placement: Placement,
        *,
        fs_hz: float | None = None,
        settings: PipelineSettings | None = None,
        resume: CurrentBout | None = None,
    ) -> None:
        self.placement = Placement(placement)
        self.fs_hz = fs_hz
        self.settings = settings or PipelineSettings()
        self.resume = resume
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
        self._posture = PostureClassifier(
            placement=self.placement,
            sitting_trunk_inclination_deg=st.sitting_trunk_inclination_deg,
            # chosen on waist recordings: the chest keeps the classifier's literature value
            lying_inclination_deg=(
                st.lying_trunk_inclination_deg
                if self.placement in (Placement.LOWER_BACK, Placement.HIP)
                else LITERATURE_LYING_DEG
            ),
            upright_axis=st.upright_axis,
            resume_posture=None if resume is None else resume.posture,
        )
        self._wear = WearDetector(min_nonwear_s=st.min_nonwear_s)
        self._tracker = StaticLoadTracker(
            min_break_s=st.min_break_s,
            max_return_s=st.max_return_s,
            max_gap_s=st.max_gap_s,
            min_bout_s=st.min_static_bout_s,
            resume=resume,
        )
        self._segments = PostureSegmenter() if st.emit_posture_segments else None
        # static bouts and posture segments see walks, not a second or two of rhythm
        self._walk_filter = ShortWalkFilter()
        sensor_h = _sensor_height_m(self.placement, st)
        self._steps = StepTimeline(
            self.placement,
            settings=st,
            measure_excursion=sensor_h is not None and self.placement not in LIMB,
        )
        self._gait = GaitBoutAssembler(
            sensor_height_m=sensor_h,
            min_sequence_s=LIMB_MIN_SEQUENCE_S if self.placement in LIMB else 0.0,
        )
        self._falls = FallDetector(placement=self.placement, impact_g=st.fall_impact_g)
        self._epochs = EpochAccumulator(epoch_s=st.epoch_s)
        self._current_posture = Posture.UNKNOWN
        self._last_t: int | None = None
        self._low_rate: bool | None = None
        # the silence since the resumed bout's last evidence is told at the first sample
        self._resume_from_ns = None if resume is None else resume.last_ns

    # -- public API --------------------------------------------------------------------------
    def feed(self, block: SampleBlock) -> PipelineOutput:
        """Analyse a block of samples; return what it completed (events, epochs, steps) and
        the live state after it."""
        out = _Emitted()
        if len(block) == 0:
            return self._output(out)
        if self._low_rate is None:
            self._low_rate = self._rate_hz(block) < self.settings.min_gait_rate_hz
        if self._resume_from_ns is not None:
            silence_ns = int(block.t_ns[0]) - self._resume_from_ns
            out.events += self._tracker.gap(self._resume_from_ns, silence_ns)
            self._resume_from_ns = None
        for chunk in self._resampler.push(block.t_ns, block.acc_g, block.gap_before_ns):
            if chunk.new_segment:
                self._end_segment(out)
                if chunk.gap_ns > 0:
                    out.events += self._tracker.gap(chunk.last_input_ns, chunk.gap_ns)
            if len(chunk.acc_g):
                batch = self._windower.push(chunk.j0, chunk.acc_g)
                if batch is not None:
                    self._process(batch, out)
        last = int(block.t_ns[-1])
        self._last_t = last if self._last_t is None else max(self._last_t, last)
        return self._output(out)

    def flush(self) -> PipelineOutput:
        """End of stream: analyse what is pending, close every open bout and the last epoch."""
        out = _Emitted()
        self._end_segment(out)
        # a resumed bout without new data ends at its stored last evidence
        last = self._resume_from_ns if self._last_t is None else self._last_t
        if last is not None:
            out.events += self._tracker.finish(last)
        out.epochs += self._epochs.finish()
        return self._output(out)

    @property
    def live(self) -> LiveState:
        """The live state now (also returned by every call as ``PipelineOutput.live``)."""
        return LiveState(
            posture=self._current_posture,
            bout=self._tracker.current_bout,
            worn=self._wear.worn,
            still_since_ns=self._wear.still_since_ns,
            gait_settled_ns=self._gait.settled_ns_,
            device_time_ns=self._last_t,
            nonwear_since_ns=self._wear.nonwear_since_ns,
        )

    def motionless_s(self, now_ns: int) -> float:
        """How long (s of device time up to ``now_ns``) the device has not moved at all.

        "Not at all" is a dynamic RMS below the sensor-noise level of
        :class:`~sensorhub.detect.wear.WearDetector` (5 mg per 3-s window); 0 while the latest
        analysed frame moves. Frames are analysed with a lag of
        ``context_s``, which this figure also has.
        """
        since = self._wear.still_since_ns
        return 0.0 if since is None else max(0.0, (now_ns - since) / NS_PER_S)

    def learned_upright_axis(self) -> tuple[float, float, float] | None:
        """The body's vertical axis learnt from walking so far (None before any walking)."""
        ref = self._posture.upright_ref_
        if ref is None or not self._posture.walking_frames_:
            return None
        return (float(ref[0]), float(ref[1]), float(ref[2]))

    def walking_seconds(self) -> float:
        """Seconds of walking analysed so far (frames labelled walking)."""
        return float(self._posture.walking_frames_)

    # -- the chain ---------------------------------------------------------------------------
    def _rate_hz(self, block: SampleBlock) -> float:
        """The input rate that decides whether steps can be seen."""
        rate = self.fs_hz if self.fs_hz is not None else block.fs_hz
        # irregular sources (RFID tags) read in bursts: their median interval (the nominal
        # rate) can be 0.05 s while they deliver 2 samples/s, and steps need the mean rate
        # (over the intervals the resampler bridges; longer ones are gaps)
        dt = np.diff(block.t_ns) / NS_PER_S
        dt = dt[(dt > 0) & (dt <= self.settings.max_interp_gap_s)]
        if len(dt) and dt.sum() > 0:
            rate = min(rate, len(dt) / float(dt.sum()))
        return rate

    def _output(self, out: _Emitted) -> PipelineOutput:
        steps = np.concatenate(out.steps) if out.steps else np.empty(0, np.int64)
        steps.flags.writeable = False
        return PipelineOutput(tuple(out.events), tuple(out.epochs), steps, self.live)

    def _end_segment(self, out: _Emitted) -> None:
        """A gap or the end of the stream: analyse the pending frames, end what a gap ends."""
        batch = self._windower.end_segment()
        if batch is not None:
            self._process(batch, out, final=True)
        self._settled_frames(*self._walk_filter.flush(), out)
        if self._segments is not None:
            out.events += self._segments.close()
        out.events += self._gait.finish()
        out.events += self._wear.finish()

    def _process(self, batch: FrameBatch, out: _Emitted, *, final: bool = False) -> None:
        """One batch of frames through every stage, in order."""
        st = self.settings
        feats = compute_features(
            batch,
            fs_hz=st.work_fs_hz,
            samples_per_frame=self._spf,
            context_frames=st.context_s,
            gravity_half_frames=st.gravity_half_s,
            periodicity_min_rms_g=st.step_candidate_min_rms_g,
        )
        postures = self._classify_posture(batch, feats)
        labels = postures.postures
        start = feats.k * NS_PER_S
        end = start + NS_PER_S
        wear = self._wear.update(start, end, feats.dyn_rms_g)
        out.events += wear.intervals
        labels[wear.nonwear_mask] = CODE[Posture.NONWEAR]
        self._track_static_load(start, end, labels, wear, out)
        if self._low_rate:
            steps = np.zeros(len(labels), dtype=np.int64)
        else:
            candidates = self._steps.detect(batch, feats, labels)
            assembled = self._gait.add(
                candidates.t_ns,
                candidates.step_regularity,
                candidates.stride_regularity,
                candidates.excursion_m,
                candidates.horizon_ns,
                harmonic_ratio=candidates.harmonic_ratio,
            )
            out.events += assembled.bouts
            if len(assembled.steps_ns):
                out.steps.append(assembled.steps_ns)
            # steps confirmed late (their frames analysed earlier) count in this batch's first
            # frame, so in the current epoch
            steps = steps_per_frame(assembled.steps_ns, feats.k)
            out.events += self._falls.update(
                feats.k,
                feats.peak_g,
                feats.peak_offset_s,
                feats.trough_g,
                feats.gravity_g,
                feats.dyn_rms_g,
                coverage=feats.coverage,
                inclination_deg=np.where(
                    postures.reference_known, postures.inclination_deg, np.nan
                ),
                final=final,
            )
        out.epochs += self._epochs.accumulate(feats, labels, steps)
        self._current_posture = POSTURES[int(labels[-1])]

    def _classify_posture(self, batch: FrameBatch, feats: FrameFeatures) -> PostureFrames:
        """Posture per frame; lower back and hip also get sit-to-stand transition evidence."""
        steps_visible = not self._low_rate
        if self.placement not in (Placement.LOWER_BACK, Placement.HIP) or self._low_rate:
            return self._posture.classify(feats, steps_visible=steps_visible)
        # only moving frames can centre a transition (quiet sway stays below 0.03 g)
        rows = np.nonzero(feats.dyn_rms_g >= self.settings.transition_min_rms_g)[0]
        disp, speed = np.full(len(feats), np.nan), np.zeros(len(feats))
        if len(rows):
            d, v = vertical_displacement(batch.windows[rows], self.settings.work_fs_hz)
            disp[rows], speed[rows] = d, v
        return self._posture.classify(
            feats,
            vertical_displacement_m=disp,
            vertical_speed_m_s=speed,
            steps_visible=steps_visible,
        )

    def _track_static_load(
        self,
        start: NDArray[np.int64],
        end: NDArray[np.int64],
        labels: NDArray[np.int8],
        wear: WearFrames,
        out: _Emitted,
    ) -> None:
        """Static bouts and posture segments finished by these frames (walking runs too
        short to be a walk read as ``active``, :class:`ShortWalkFilter`); confirmed non-wear
        ends the bout where the stillness began (the device was off since then)."""
        c = wear.confirmed_index
        if c < 0 or wear.confirmed_start_ns is None:
            self._settled_frames(*self._walk_filter.push(start, end, labels), out)
            return
        self._settled_frames(*self._walk_filter.push(start[:c], end[:c], labels[:c]), out)
        out.events += self._tracker.end_at(wear.confirmed_start_ns)
        self._settled_frames(*self._walk_filter.push(start[c:], end[c:], labels[c:]), out)

    def _settled_frames(
        self,
        start: NDArray[np.int64],
        end: NDArray[np.int64],
        labels: NDArray[np.int8],
        out: _Emitted,
    ) -> None:
        """Frames whose walking runs are settled: into the static-load tracker and segments."""
        if len(labels) == 0:
            return
        out.events += self._tracker.update(start, end, labels)
        if self._segments is not None:
            out.events += self._segments.segment(start, end, labels)
