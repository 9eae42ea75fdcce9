"""Fall trials as part of a continuous stream: each trial followed by 20 s of stillness.

MobiFall's trials end 2-5 s after the impact, so for most of them the detector never sees the
post-impact window complete and cannot confirm a fall; on a worn device the stream goes on.
Each trial is therefore analysed again with 20 s appended at the orientation of its last half
second (5 mg of sensor noise per axis, no movement: the hardest case, since real wearers
move again), and sensitivity and specificity are reported per daily-activity kind. This is a
stress test beside the scored figures, not a replacement for them.
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sensorhub.io.analysis import analyze_recording
from sensorhub.io.readers import Recording, read_recording
from sensorhub.model import Placement
from sensorhub.pipeline import PipelineSettings

PAD_S = 20.0
NOISE_G = 0.005


@dataclass(frozen=True, slots=True)
class TrialOutcome:
    """Whether a fall was reported inside one trial, as given and with stillness appended."""

    subject: str
    kind: str
    activity: str
    hit: bool
    hit_padded: bool


def _one(args: tuple[str, str, float | None, int]) -> TrialOutcome | None:
    """Analyse one trial as given and padded (runs in a worker process)."""
    truth_path, placement_name, impact_g, seed = args
    tp = Path(truth_path)
    tr = json.loads(tp.read_text())
    trial = tr.get("trial")
    if not trial:
        return None
    rec = read_recording(tp.parent / f"{tr['recording']}.npz")
    if rec.t_s is not None:
        return None  # irregular sources: not padded
    placement = Placement(placement_name)
    settings = PipelineSettings(fall_impact_g=impact_g)
    end = tr["duration_s"] + 1.0

    def hit(doc: dict[str, Any]) -> bool:
        return any(0.0 <= f["time_s"] <= end for f in doc["falls"])

    plain = hit(analyze_recording(rec, placement, settings=settings))
    acc = np.asarray(rec.acc_g, dtype=np.float64)
    fs = rec.fs_hz
    last = acc[-max(1, round(0.5 * fs)) :].mean(axis=0)
    rng = np.random.default_rng(seed)
    pad = last + rng.normal(0.0, NOISE_G, size=(round(PAD_S * fs), 3))
    padded = Recording(np.concatenate([acc, pad]).astype(np.float32), fs)
    return TrialOutcome(
        str((tr.get("subject") or {}).get("id", "?")),
        str(trial["kind"]),
        str(trial["activity"]),
        plain,
        hit(analyze_recording(padded, placement, settings=settings)),
    )


def trial_outcomes(
    truth_dir: Path,
    placement_map: dict[str, str],
    *,
    impact_g: float | None = None,
    jobs: int = 1,
) -> list[TrialOutcome]:
    """Each trial's outcome with the fall detector's impact level ``impact_g`` (None: the
    placement's default); ``placement_map``: dataset placements that are not sensorhub
    placements. The stillness noise of trial ``i`` is seeded with ``i``."""
    args: list[tuple[str, str, float | None, int]] = []
    for i, tp in enumerate(sorted(truth_dir.glob("*.truth.json"))):
        placement = json.loads(tp.read_text())["placement"]
        args.append((str(tp), placement_map.get(placement, placement), impact_g, i))
    if jobs <= 1:
        found = [_one(a) for a in args]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            found = list(pool.map(_one, args, chunksize=8))
    return [o for o in found if o is not None]


def padded_trials(
    truth_dir: Path, placement_map: dict[str, str], *, jobs: int = 1
) -> dict[str, Any]:
    """Sensitivity / specificity of the trials with ``PAD_S`` of stillness appended
    (``placement_map``: dataset placements that are not sensorhub placements)."""
    outcomes = trial_outcomes(truth_dir, placement_map, jobs=jobs)
    falls = [o for o in outcomes if o.kind == "fall"]
    adl: Counter[str] = Counter(o.activity for o in outcomes if o.kind != "fall")
    alarms: Counter[str] = Counter(
        o.activity for o in outcomes if o.kind != "fall" and o.hit_padded
    )
    if not falls or not adl:
        return {}
    worst = sorted(adl, key=lambda a: -alarms[a] / adl[a])[:2]
    return {
        "padded_fall_sensitivity": sum(o.hit_padded for o in falls) / len(falls),
        "padded_fall_specificity": 1.0 - sum(alarms.values()) / sum(adl.values()),
        "padded_false_alarms": ", ".join(f"{a} {alarms[a]}/{adl[a]}" for a in worst),
    }
