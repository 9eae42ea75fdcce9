"""Offline analysis of one recording through the streaming pipeline (``sensorhub analyze``).

The recording enters the same :class:`~sensorhub.pipeline.Pipeline` as live data, in large
blocks, and the events are turned into the stable JSON document ``sensorhub.analysis/1``
(DESIGN.md section 4.1). Times in the document are seconds from the first sample.

Before the real pass, a short pre-scan (at most ``prescan_s`` of data) learns the body's vertical
axis from walking, so postures before the wearer's first walk are judged against the right
"upright" too. The pre-scan only sets a pipeline setting; the pass itself is the streaming code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

import numpy as np

from sensorhub.io.readers import Recording, iter_blocks
from sensorhub.model import (
    NS_PER_S,
    Event,
    Fall,
    GaitBout,
    NonWear,
    Placement,
    Posture,
    PostureSegment,
    StaticBout,
)
from sensorhub.pipeline import Pipeline, PipelineSettings

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


def prescan_upright(
    rec: Recording, placement: Placement, settings: PipelineSettings, *, prescan_s: float = 6 * 3600
) -> tuple[float, float, float] | None:
    """Upright axis learnt from the walking in the first ``prescan_s`` of a recording."""
    if placement in (Placement.WRIST, Placement.FOOT):
        return None
    pipe = Pipeline(placement, settings=settings)
    fs = rec.nominal_fs_hz
    limit = int(prescan_s * fs)
    seen = 0
    for block in iter_blocks(rec, block_s=300.0):
        pipe.feed(block)
        seen += len(block)
        if seen >= limit or pipe.walking_seconds() >= PRESCAN_WALK_S:
            break
    pipe.flush()
    return pipe.learned_upright_axis()


def analyze_recording(
    rec: Recording,
    placement: Placement,
    *,
    settings: PipelineSettings | None = None,
    progress: Progress | None = None,
    block_s: float = 3600.0,
) -> dict[str, Any]:
    """Analyse a recording; return the ``sensorhub.analysis/1`` document as a dict.

    ``block_s`` is how much of the recording enters the pipeline at a time (the pipeline is
    designed so that results do not depend on it). An hour per block (about 9 MB of float64
    samples at 100 Hz) keeps the per-batch overheads of the pipeline's stages small while
    memory stays far below a gigabyte.
    """
    placement = Placement(placement)
    st = settings or PipelineSettings()
    if st.upright_axis is None:
        axis = prescan_upright(rec, placement, st)
        if axis is not None:
            st = _replace(st, upright_axis=axis)
    pipe = Pipeline(placement, fs_hz=rec.nominal_fs_hz, settings=st)
    events: list[Event] = []
    steps: list[np.ndarray] = []
    n = len(rec)
    done = 0
    for block in iter_blocks(rec, block_s=block_s):
        events += pipe.feed(block)
        steps.append(pipe.pop_steps())
        done += len(block)
        if progress is not None:
            progress(done / n)
    events += pipe.flush()
    steps.append(pipe.pop_steps())
    epochs = pipe.pop_epochs()
    step_s = np.concatenate(steps).astype(np.float64) / NS_PER_S if steps else np.empty(0)
    return build_document(rec, placement, events, step_s, epochs_steps=sum(e.steps for e in epochs))


def _replace(st: PipelineSettings, **kw: Any) -> PipelineSettings:
    from dataclasses import replace

    return replace(st, **kw)


def build_document(
    rec: Recording,
    placement: Placement,
    events: list[Event],
    steps_s: np.ndarray,
    *,
    epochs_steps: int | None = None,
) -> dict[str, Any]:
    """Turn pipeline events into the JSON document (times in s from the first sample)."""
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
            "walking_s": _r(secs.get(Posture.WALKING.value, 0.0), 1),
            "longest_static_bout_s": _r(max((b.duration_s for b in static), default=0.0), 1),
            "breaks": breaks,
        },
    }
