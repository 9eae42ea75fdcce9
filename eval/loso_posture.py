"""Leave-one-subject-out check of the settings chosen after looking at the open data.

Two hip/lower-back posture thresholds were chosen on the open waist set (UCI HAPT): the pelvic
tilt from the walking-learnt upright above which a still pelvis is sitting
(``sitting_trunk_inclination_deg``), and the inclination above which a still trunk is lying
(``lying_trunk_inclination_deg``). Nothing else is fitted. To say how such a choice does on a
person it has not seen, each person in turn is held out: the grid point with the best pooled
balanced accuracy on the *other* people is chosen (ties: the first in grid order, which starts
at the literature values), and the held-out person is scored with it. The held-out people's
1-s epochs, pooled, give the leave-one-subject-out balanced accuracy; each fold's choice and
score go into eval/RESULTS.md. The shipped defaults are the choice on all people.
"""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from sensorhub.io.analysis import analyze_recording
from sensorhub.io.readers import read_recording
from sensorhub.model import Placement
from sensorhub.pipeline import PipelineSettings

#: The dataset whose thresholds were chosen on it.
DATASET = "posture_hip_hapt"

#: (sitting tilt deg, lying inclination deg); literature values first (Endo 2012 gives an
#: 18.3 deg mean posterior pelvic rotation, "lying > 60 deg" in the research notes).
GRID: tuple[tuple[float, float], ...] = tuple(
    (sit, lie) for lie in (60.0, 65.0, 70.0) for sit in (10.0, 12.0, 14.0, 16.0, 18.0)
)

Pairs = list[tuple[str, str]]


def _pairs_one(args: tuple[str, str, float, float, str]) -> tuple[str, float, float, Pairs]:
    npz, truth_path, sit, lie, score_py = args
    import importlib.util

    spec = importlib.util.spec_from_file_location("shared_score", score_py)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {score_py}")
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    truth = json.loads(Path(truth_path).read_text())
    st = PipelineSettings(sitting_trunk_inclination_deg=sit, lying_trunk_inclination_deg=lie)
    doc = analyze_recording(read_recording(npz), Placement.HIP, settings=st)
    pairs = [(str(a), str(b)) for a, b in scorer.posture_pairs(truth, doc)]
    return str((truth.get("subject") or {}).get("id", "?")), sit, lie, pairs


def _bacc(pairs: Pairs, classes: tuple[str, ...]) -> float:
    recalls = []
    for c in classes:
        preds = [p for r, p in pairs if r == c]
        if preds:
            recalls.append(sum(p == c for p in preds) / len(preds))
    return float(np.mean(recalls)) if recalls else float("nan")


def loso(scorer: ModuleType, datasets: Path, *, jobs: int) -> dict[str, Any]:
    """Run the grid on every recording and the leave-one-subject-out selection."""
    d = datasets / DATASET
    jobs_args = [
        (str(p), str(d / (p.stem + ".truth.json")), sit, lie, str(datasets / "score.py"))
        for sit, lie in GRID
        for p in sorted(d.glob("*.npz"))
    ]
    by: dict[tuple[float, float], dict[str, Pairs]] = defaultdict(lambda: defaultdict(list))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for who, sit, lie, pairs in pool.map(_pairs_one, jobs_args, chunksize=4):
            by[(sit, lie)][who] += pairs
    classes = tuple(scorer.POSTURE_CLASSES)
    people = sorted(by[GRID[0]], key=lambda s: (len(s), s))

    def pooled(g: tuple[float, float], leave_out: str | None) -> float:
        return _bacc([x for who, v in by[g].items() if who != leave_out for x in v], classes)

    folds = []
    held: Pairs = []
    for who in people:
        best = max(GRID, key=lambda g: pooled(g, who))  # first of equal scores wins
        held += by[best][who]
        folds.append(
            {
                "subject": who,
                "sitting_deg": best[0],
                "lying_deg": best[1],
                "train_bacc": pooled(best, who),
                "held_out_bacc": _bacc(by[best][who], classes),
            }
        )
    everyone = max(GRID, key=lambda g: pooled(g, None))
    per = [f["held_out_bacc"] for f in folds]
    return {
        "grid": [
            {"sitting_deg": s, "lying_deg": lie, "bacc": pooled((s, lie), None)} for s, lie in GRID
        ],
        "folds": folds,
        "loso_bacc": _bacc(held, classes),
        "loso_worst": float(np.min(per)),
        "loso_below_092": sum(b < 0.92 for b in per),
        "chosen_on_all": {"sitting_deg": everyone[0], "lying_deg": everyone[1]},
    }


def write_loso(path: Path, result: dict[str, Any]) -> list[str]:
    """Markdown lines of the leave-one-subject-out section (also kept in ``path`` as JSON)."""
    path.write_text(json.dumps(result, indent=1) + "\n")
    c = result["chosen_on_all"]
    lines = [
        "## posture_hip_hapt: leave-one-subject-out (thresholds chosen on this data)",
        "",
        "eval/loso.py: for each person, the (sitting tilt, lying inclination) grid point with "
        "the best pooled balanced accuracy on the other 20 people is chosen and the held-out "
        "person is scored with it. Grid: sitting 10-18 deg in 2-deg steps x lying 60/65/70 deg.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| leave-one-subject-out balanced accuracy (held-out epochs pooled) | "
        f"{result['loso_bacc']:.3f} |",
        f"| worst held-out person | {result['loso_worst']:.3f} |",
        f"| people below 0.92 | {result['loso_below_092']}/{len(result['folds'])} |",
        f"| choice on all people (the shipped default) | sitting > {c['sitting_deg']:.0f} deg, "
        f"lying > {c['lying_deg']:.0f} deg |",
        "",
        "| held-out person | chosen sitting deg | chosen lying deg | others' BA | held-out BA |",
        "|---|---|---|---|---|",
    ]
    for f in result["folds"]:
        lines.append(
            f"| {f['subject']} | {f['sitting_deg']:.0f} | {f['lying_deg']:.0f} | "
            f"{f['train_bacc']:.3f} | {f['held_out_bacc']:.3f} |"
        )
    lines += ["", "Pooled balanced accuracy of every grid point (all 21 people):", ""]
    lines += ["| sitting deg | lying deg | BA |", "|---|---|---|"]
    lines += [
        f"| {g['sitting_deg']:.0f} | {g['lying_deg']:.0f} | {g['bacc']:.3f} |"
        for g in result["grid"]
    ]
    return [*lines, ""]
