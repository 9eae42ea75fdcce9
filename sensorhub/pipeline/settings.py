"""The tunables of a :class:`~sensorhub.pipeline.Pipeline`, in one frozen settings object."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PipelineSettings"]


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    """Tunable settings of a :class:`~sensorhub.pipeline.Pipeline` (defaults from DESIGN.md
    section 6 where it has one; each attribute says where its value comes from).

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
        Lower back / hip pelvic-tilt threshold for sitting vs standing, from the walking-learnt
        upright, used only while no postural transition is known (None: ``stationary``). The
        pelvis rotates posteriorly by 18.3 deg on average from standing to sitting (Endo et
        al. 2012, J Orthop Sci 17:682-686), with a wide spread between people, and the walking
        orientation leans a few degrees forward of the standing one. 14 deg is the choice of
        a leave-one-subject-out check on the open waist set over 10-18 deg (eval/loso.py; the
        per-fold choices and figures are in eval/RESULTS.md): 14 deg in 20 of 21 folds.
    lying_trunk_inclination_deg
        Lower back / hip (the chest keeps 60 deg): a still trunk tilted more than this from
        its walking orientation is lying. The research notes give "lying > 60 deg" for trunk
        sensors; a waist-belt phone of a reclined sitter reads 50-76 deg on the open waist
        set, lying 80-100 deg. 70 deg is the choice on all 21 people of the same
        leave-one-subject-out grid (60/65/70 deg); with the one reclined sitter held out, the
        others show no difference and 60 deg is kept (the held-out figure in
        eval/RESULTS.md says what that costs).
    height_m, sensor_height_m
        Wearer's height and the sensor's height above the ground (for walking speed).
    emit_posture_segments
        Whether ``feed`` returns :class:`~sensorhub.model.PostureSegment` events.
    min_nonwear_s
        Stillness this long is non-wear (GGIR: 60 min).
    min_gait_rate_hz
        Below this input rate (the mean over the intervals the resampler bridges, judged on
        the first block) steps cannot be seen: no walking, steps or falls are detected, and
        the stream gives posture, static load, wear and epochs only. The fastest cadence
        (180 steps/min, 3 Hz: :data:`~sensorhub.signal.features.MIN_STEP_PERIOD_S`) needs
        more than 6 Hz (Nyquist), and a heel strike's peak is sharper than that; 10 Hz is
        the margin chosen with the low-rate mode (commit 7c69027) for sources that read a
        few samples a second (RFID tags). Not tuned on data between 6 and 10 Hz.
    step_candidate_min_rms_g
        Frames moving at least this much (dynamic RMS of the frame's window, g) are searched
        for steps, and only they get a periodicity. Quiet standing sways below 0.03 g, while
        the slowest walkers of the Mobilise-D examples move the trunk by more than 0.07 g
        (:class:`~sensorhub.detect.posture.PostureClassifier` ``walking_min_rms_g``): the
        search starts below walking's own floor and
        :class:`~sensorhub.detect.gait.GaitBoutAssembler` keeps rhythmic sequences only.
    step_candidate_min_periodicity
        ... and whose autocorrelation peak at a step or stride lag reaches this. Walking
        frames need 0.3 (Moe-Nilssen & Helbostad 2004); 0 searches every moving frame, since
        the assembler's rhythm check (commit ccd106a) rejects what is not walking.
    step_context_s
        Context (s, at most ``context_s``) on each side of a frame given to the step
        detector: about a second either side for a step peak's neighbourhood (+-0.6 step
        periods, 0.9 s at 40 steps/min; :class:`~sensorhub.detect.steps.StepDetector`) and the
        low-pass filter's edges. Shorter than the full context for speed (commit 224d1a2;
        step counts checked by the eval).
    transition_min_rms_g
        Lower back / hip: frames moving at least this much (dynamic RMS, g) are searched for
        sit-to-stand transitions; quiet sway stays below 0.03 g, so only moving frames can
        centre a transition (commit 7e1182a; Najafi 2002 / Adamowicz 2020 thresholds in
        :mod:`sensorhub.signal.transitions`).
    limb_min_stride_s
        Limb placements (thigh, pocket, wrist, foot): the shortest dominant period taken for
        a stride of the sensor's own limb (one peak per stride, the other leg's step placed
        halfway); shorter periods are steps. A 0.75-s stride is 160 steps/min. Set with the
        limb step method (commit 09a6e1c, Oxford phone recordings; eval/RESULTS.md).
    stride_half_period_r
        Limb placements, at the start of a walk: a period is a stride when the vertical
        autocorrelation at half of it exceeds this (a step rhythm anti-correlates there; a
        stride, with its two unequal left/right events, does not). ``threshold_r`` of
        :class:`~sensorhub.detect.limb_steps.StrideDecider`, whose module docstring tells how
        it was set (commit 09a6e1c).
    fall_impact_g
        Impact threshold of the fall detector (|a| in g); None: the placement's default
        (:data:`~sensorhub.detect.falls.IMPACT_G`). For evaluation (``python -m eval``'s
        leave-one-subject-out choice of the level) and for devices that clip lower.
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
    sitting_trunk_inclination_deg: float | None = 14.0
    lying_trunk_inclination_deg: float = 70.0
    height_m: float | None = None
    sensor_height_m: float | None = None
    emit_posture_segments: bool = True
    min_nonwear_s: float = 3600.0
    min_gait_rate_hz: float = 10.0
    step_candidate_min_rms_g: float = 0.03
    step_candidate_min_periodicity: float = 0.0
    step_context_s: float = 1.6
    transition_min_rms_g: float = 0.03
    limb_min_stride_s: float = 0.75
    stride_half_period_r: float = -0.2
    fall_impact_g: float | None = None
