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
from pathlib import Path
from typing import Any

import numpy as np

from sensorhub.io.analysis import analyze_recording
from sensorhub.io.readers import Recording, read_recording
from sensorhub.model import Placement

PAD_S = 20.0
NOISE_G = 0.005


def padded_trials(truth_dir: Path, placement_map: dict[str, str]) -> dict[str, Any]:
    """Sensitivity / specificity of the trials with ``PAD_S`` of stillness appended
    (``placement_map``: dataset placements that are not sensorhub placements)."""
    rng = np.random.default_rng(0)
    falls = found = 0
    adl: Counter[str] = Counter()
    alarms: Counter[str] = Counter()
    for tp in sorted(truth_dir.glob("*.truth.json")):
        tr = json.loads(tp.read_text())
        trial = tr.get("trial")
        if not trial:
            continue
        placement = Placement(placement_map.get(tr["placement"], tr["placement"]))
        rec = read_recording(truth_dir / f"{tr['recording']}.npz")
        if rec.t_s is not None:
            continue  # irregular sources: not padded
        acc = np.asarray(rec.acc_g, dtype=np.float64)
        fs = rec.fs_hz
        last = acc[-max(1, round(0.5 * fs)) :].mean(axis=0)
        pad = last + rng.normal(0.0, NOISE_G, size=(round(PAD_S * fs), 3))
        doc = analyze_recording(
            Recording(np.concatenate([acc, pad]).astype(np.float32), fs), placement
        )
        hit = any(0.0 <= f["time_s"] <= tr["duration_s"] + 1.0 for f in doc["falls"])
        if trial["kind"] == "fall":
            falls += 1
            found += hit
        else:
            adl[trial["activity"]] += 1
            alarms[trial["activity"]] += hit
    if not falls or not adl:
        return {}
    worst = sorted(adl, key=lambda a: -alarms[a] / adl[a])[:2]
    return {
        "padded_fall_sensitivity": found / falls,
        "padded_fall_specificity": 1.0 - sum(alarms.values()) / sum(adl.values()),
        "padded_false_alarms": ", ".join(f"{a} {alarms[a]}/{adl[a]}" for a in worst),
    }
