"""Offline analysis of one recording through the streaming pipeline (``sensorhub analyze``).

The recording enters the same :class:`~sensorhub.pipeline.Pipeline` as live data, in large
blocks, and the events are turned into the stable JSON document ``sensorhub.analysis/1``
(DESIGN.md section 4.1). Times in the document are seconds from the first sample.

Before the real pass, a short pre-scan (at most ``prescan_s`` of data) learns the body's vertical
axis from walking, so postures before the wearer's first walk are judged against the right
"upright" too. The pre-scan only sets a pipeline setting; the pass itself is the streaming code.

A first pre-scan (at most ``calibration_prescan_s``, 24 h) gathers the still 10-s windows and
fits the accelerometer's offset and scale to gravity (van Hees et al. 2014, as GGIR's
``g.calibrate``; :mod:`sensorhub.signal.calibration`). When the fit is accepted (enough
orientations, plausible, lower error), every block that enters the upright pre-scan and the
pipeline is corrected with it; the document's ``calibration`` object says what was done.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, Final

import numpy as np

from sensorhub.io.readers import AnyRecording, iter_blocks
from sensorhub.model import (
    NS_PER_S,
    EpochSummary,
    Event,
    Fall,
    GaitBout,
    NonWear,
    Placement,
    Posture,
    PostureSegment,
    SampleBlock,
    StaticBout,
)
from sensorhub.pipeline import Pipeline, PipelineSettings
from sensorhub.signal.calibration import AutoCalibrator, apply_calibration

SCHEMA: Final = "sensorhub.analysis/1"

#: The pre-scan stops once it has seen this much walking (s).
PRESCAN_WALK_S: Final = 120.0

#: Progress callback: fraction done in [0, 1].
Progress = Callable[[float], None]


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def _r_list(x: np.ndarray, nd: int = 3) -> list[float | None]:
    """``[_r(v, nd) for v in x]``, quicker when every value is finite (step times)."""
    if np.isfinite(x).all():
        return [round(v, nd) for v in x.astype(np.float64).tolist()]
    return [_r(v, nd) for v in x.tolist()]


def prescan_calibration(
    rec: AnyRecording, *, prescan_s: float = 24 * 3600, block_s: float = 3600.0
) -> AutoCalibrator:
    """Accelerometer calibration fitted to the still windows of the first ``prescan_s``.

    Returns the fitted :class:`~sensorhub.signal.calibration.AutoCalibrator`; check its
    ``calibrated_`` before applying ``offset_g_`` and ``scale_``. Samples are windowed by their
    position in the stream of finite samples (rows with NaN are skipped, as the pipeline skips
    them) at the nominal rate, also for irregular recordings. About 0.5 s per day of 100 Hz.
    """
    cal = AutoCalibrator()
    fs = rec.nominal_fs_hz
    limit = int(prescan_s * fs)
    seen = 0
    for block in iter_blocks(rec, block_s=block_s):
        acc = block.acc_g[: max(0, limit - seen)]
        cal.partial_fit(acc, fs)
        seen += len(block)
        if seen >= limit:
            break
    return cal.fit()


def calibrated_blocks(
    rec: AnyRecording, calibration: AutoCalibrator | None, *, block_s: float
) -> Iterator[SampleBlock]:
    """:func:`~sensorhub.io.readers.iter_blocks`, corrected when ``calibration`` is accepted."""
    for block in iter_blocks(rec, block_s=block_s):
        if calibration is None or not calibration.calibrated_:
            yield block
        else:
            acc = apply_calibration(block.acc_g, calibration.offset_g_, calibration.scale_)
            yield replace(block, acc_g=acc)


def calibration_summary(calibration: AutoCalibrator | None) -> dict[str, Any]:
    """The document's ``calibration`` object (``applied`` false when not attempted or refused)."""
    if calibration is None:
        return {
            "applied": False,
            "offset_g": None,
            "scale": None,
            "error_before_mg": None,
            "error_after_mg": None,
            "still_windows": None,
            "reason": "calibration not attempted",
        }
    c = calibration
    return {
        "applied": bool(c.calibrated_),
        "offset_g": [_r(v, 5) for v in c.offset_g_.tolist()] if c.calibrated_ else None,
        "scale": [_r(v, 5) for v in c.scale_.tolist()] if c.calibrated_ else None,
        "error_before_mg": _r(c.error_before_mg_, 2),
        "error_after_mg": _r(c.error_after_mg_, 2),
        "still_windows": c.n_still_windows_,
        "reason": c.reason_,
    }


def prescan_upright(
    rec: AnyRecording,
    placement: Placement,
    settings: PipelineSettings,
    *,
    prescan_s: float = 6 * 3600,
    calibration: AutoCalibrator | None = None,
) -> tuple[float, float, float] | None:
    """Upright axis learnt from the walking in the first ``prescan_s`` of a recording.

    ``calibration``, when accepted, corrects the samples first (as in the real pass).
    """
    if placement in (Placement.WRIST, Placement.FOOT):
        return None
    pipe = Pipeline(placement, settings=settings)
    fs = rec.nominal_fs_hz
    limit = int(prescan_s * fs)
    seen = 0
    for block in calibrated_blocks(rec, calibration, block_s=300.0):
        pipe.feed(block)
        seen += len(block)
        if seen >= limit or pipe.walking_seconds() >= PRESCAN_WALK_S:
            break
    pipe.flush()
    return pipe.learned_upright_axis()


def analyze_recording(
    rec: AnyRecording,
    placement: Placement,
    *,
    settings: PipelineSettings | None = None,
    progress: Progress | None = None,
    block_s: float = 3600.0,
    calibrate: bool = True,
) -> dict[str, Any]:
    """Analyse a recording; return the ``sensorhub.analysis/1`` document as a dict.

    With ``calibrate`` (the default) the accelerometer is first autocalibrated from its still
    periods (:func:`prescan_calibration`); a refused fit leaves the samples as they are.

    ``block_s`` is how much of the recording enters the pipeline at a time (the pipeline is
    designed so that results do not depend on it). An hour per block (about 9 MB of float64
    samples at 100 Hz) keeps the per-batch overheads of the pipeline's stages small while
    memory stays far below a gigabyte.
    """
    placement = Placement(placement)
    st = settings or PipelineSettings()
    cal = prescan_calibration(rec) if calibrate else None
    if st.upright_axis is None:
        axis = prescan_upright(rec, placement, st, calibration=cal)
        if axis is not None:
            st = _replace(st, upright_axis=axis)
    pipe = Pipeline(placement, fs_hz=rec.nominal_fs_hz, settings=st)
    events: list[Event] = []
    steps: list[np.ndarray] = []
    epochs: list[EpochSummary] = []
    n = len(rec)
    done = 0
    for block in calibrated_blocks(rec, cal, block_s=block_s):
        out = pipe.feed(block)
        events += out.events
        steps.append(out.steps_ns)
        epochs += out.epochs
        done += len(block)
        if progress is not None:
            progress(done / n)
    out = pipe.flush()
    events += out.events
    steps.append(out.steps_ns)
    epochs += out.epochs
    step_s = np.concatenate(steps).astype(np.float64) / NS_PER_S if steps else np.empty(0)
    return build_document(
        rec,
        placement,
        events,
        step_s,
        epochs_steps=sum(e.steps for e in epochs),
        calibration=calibration_summary(cal),
        mean_mad_mg=_mean_mad(epochs),
    )


def _mean_mad(epochs: list[EpochSummary]) -> float | None:
    """Mean MAD (mg) over the analysed seconds of the epochs (None without any)."""
    w = [(sum(e.posture_seconds.values()), e.mad_mg) for e in epochs if e.mad_mg is not None]
    total = sum(x for x, _ in w)
    return sum(x * m for x, m in w) / total if total > 0 else None


def _replace(st: PipelineSettings, **kw: Any) -> PipelineSettings:
    return replace(st, **kw)


def build_document(
    rec: AnyRecording,
    placement: Placement,
    events: list[Event],
    steps_s: np.ndarray,
    *,
    epochs_steps: int | None = None,
    calibration: dict[str, Any] | None = None,
    mean_mad_mg: float | None = None,
) -> dict[str, Any]:
    """Turn pipeline events into the JSON document (times in s from the first sample).

    ``calibration`` is the ``calibration`` object (:func:`calibration_summary`); without it
    the document says that no calibration was attempted. ``mean_mad_mg`` is the recording's
    mean amplitude deviation (Vähä-Ypyä et al. 2015; the document has no epochs to carry it).
    The summary's ``sedentary_s`` (seconds lying, sitting or ``stationary``) and
    ``sedentary_in_bouts_s`` (of those, the sitting or ``stationary`` seconds inside static
    bouts of that posture) come from the same posture segments as the bouts, so the second
    never exceeds the first. Walking endurance in the summary: the longest gait bout (first to
    last step) and how many bouts last at least 1 min (DESIGN.md section 6, brisk walking for
    >= 1 min) and 10 min.
    """
    s = 1.0 / NS_PER_S
    posture = [
        {"start_s": _r(e.start_ns * s), "end_s": _r(e.end_ns * s), "posture": e.posture.value}
        for e in events
        if isinstance(e, PostureSegment) and e.posture != Posture.UNKNOWN
    ]
    posture.sort(key=lambda d: d["start_s"] or 0.0)
    static = sorted((e for e in events if isinstance(e, StaticBout)), key=lambda b: b.start_ns)
    gait = sorted((e for e in events if isinstance(e, GaitBout)), key=lambda b: b.start_ns)
    falls = sorted((e for e in events if isinstance(e, Fall)), key=lambda f: f.start_ns)
    nonwear = sorted((e for e in events if isinstance(e, NonWear)), key=lambda f: f.start_ns)
    duration = rec.duration_s
    secs: dict[str, float] = {}
    for e in events:
        if isinstance(e, PostureSegment):
            secs[e.posture.value] = secs.get(e.posture.value, 0.0) + (e.end_ns - e.start_ns) * s
    sedentary = sum(
        secs.get(p.value, 0.0) for p in (Posture.SITTING, Posture.LYING, Posture.STATIONARY)
    )
    end_ns = duration * NS_PER_S
    breaks = sum(1 for b in static if b.end_ns < end_ns - NS_PER_S)
    # the sedentary seconds inside sedentary bouts (their own posture only, so never more
    # than ``sedentary_s``: a bout's interruptions are not sedentary time)
    seated = [b for b in static if b.posture in (Posture.SITTING, Posture.STATIONARY)]
    in_bouts_s = sum(
        max(0, min(b.end_ns, e.end_ns) - max(b.start_ns, e.start_ns)) * s
        for b in seated
        for e in events
        if isinstance(e, PostureSegment) and e.posture == b.posture
    )
    gait_s = [(b.end_ns - b.start_ns) * s for b in gait]
    return {
        "schema": SCHEMA,
        "placement": placement.value,
        "fs_hz": _r(rec.fs_hz if np.isfinite(rec.fs_hz) else None, 6),
        "duration_s": _r(duration),
        "steps": {"count": len(steps_s), "times_s": _r_list(steps_s)},
        "gait_bouts": [
            {
                "start_s": _r(b.start_ns * s),
                "end_s": _r(b.end_ns * s),
                "steps": b.steps,
                "cadence_spm": _r(b.cadence_spm, 2),
                "stride_time_s": _r(b.stride_time_s),
                "stride_time_cv_pct": _r(b.stride_time_cv_pct, 2),
                "step_regularity": _r(b.step_regularity),
                "stride_regularity": _r(b.stride_regularity),
                "asymmetry_pct": _r(b.asymmetry_pct, 2),
                "speed_mps": _r(b.speed_mps),
                "harmonic_ratio": _r(b.harmonic_ratio),
                "shuffling_pct": _r(b.shuffling_pct, 1),
            }
            for b in gait
        ],
        "posture": posture,
        "static_bouts": [
            {"start_s": _r(b.start_ns * s), "end_s": _r(b.end_ns * s), "posture": b.posture.value}
            for b in static
        ],
        "falls": [{"time_s": _r(f.start_ns * s), "confidence": _r(f.confidence)} for f in falls],
        "nonwear": [{"start_s": _r(w.start_ns * s), "end_s": _r(w.end_ns * s)} for w in nonwear],
        "summary": {
            "sedentary_s": _r(sedentary, 1),
            "sedentary_in_bouts_s": _r(in_bouts_s, 1),
            "walking_s": _r(secs.get(Posture.WALKING.value, 0.0), 1),
            "longest_static_bout_s": _r(max((b.duration_s for b in static), default=0.0), 1),
            "breaks": breaks,
            "longest_gait_bout_s": _r(max(gait_s, default=0.0), 1),
            "gait_bouts_ge_1min": sum(1 for d in gait_s if d >= 60.0),
            "gait_bouts_ge_10min": sum(1 for d in gait_s if d >= 600.0),
            "mean_mad_mg": _r(mean_mad_mg, 2),
        },
        "calibration": calibration if calibration is not None else calibration_summary(None),
    }
