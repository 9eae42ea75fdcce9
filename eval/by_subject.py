"""Figures per person: the open data is a few people, and the issue's figures must hold for
others, so the spread between the people here says more than the pooled mean.

Per subject (``subject.id`` of the truth files): posture balanced accuracy (pooled 1-s epochs
of that person, the scorer's own epoch rules) and mean step-count error. Reported as the
median and the worst subject, and how many subjects miss the issue's target. Nothing here is
fitted, so this is not a leave-one-subject-out split; it shows how much the result depends on
the person.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from eval.recordings import truth_and_output

#: Issue 5 targets these figures are compared with.
POSTURE_TARGET = 0.95
STEP_TARGET_PCT = 3.0


def _bacc(pairs: list[tuple[str, str]], classes: tuple[str, ...]) -> float | None:
    recalls = []
    for c in classes:
        preds = [p for r, p in pairs if r == c]
        if preds:
            recalls.append(sum(p == c for p in preds) / len(preds))
    return float(np.mean(recalls)) if recalls else None


def by_subject(scorer: ModuleType, truth_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Per-subject posture balanced accuracy and step-count error (see the module docstring)."""
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    ape: dict[str, list[float]] = defaultdict(list)
    for tr, doc in truth_and_output(truth_dir, out_dir):
        who = str((tr.get("subject") or {}).get("id", "?"))
        if tr.get("posture_segments"):
            pairs[who] += scorer.posture_pairs(tr, doc)
        if tr.get("step_count"):
            ref = float(tr["step_count"])
            ape[who].append(100.0 * abs(scorer.out_step_count(doc) - ref) / ref)
    out: dict[str, Any] = {}
    classes = tuple(scorer.POSTURE_CLASSES)
    bacc = [b for b in (_bacc(p, classes) for p in pairs.values()) if b is not None]
    if len(bacc) > 1:
        out["subject_posture_bacc_median"] = float(np.median(bacc))
        out["subject_posture_bacc_worst"] = float(np.min(bacc))
        out["subjects_below_posture_target"] = (
            f"{sum(b < POSTURE_TARGET for b in bacc)}/{len(bacc)}"
        )
    mape = [float(np.mean(v)) for v in ape.values() if v]
    if len(mape) > 1:
        out["subject_step_mape_worst_pct"] = float(np.max(mape))
        out["subjects_above_step_target"] = f"{sum(m > STEP_TARGET_PCT for m in mape)}/{len(mape)}"
    return out
