"""``python -m eval``: analyse every recording in ../shared/datasets and score it.

Recordings are read in place (never copied). Each recording goes through
:func:`sensorhub.io.analysis.analyze_recording` (the code behind ``sensorhub analyze``); the
outputs land in ``eval/out/<dataset>/<recording>.json`` and are scored with the datasets' own
``score.py``. ``eval/RESULTS.md`` gets the figures next to the anchors' published ones.

Usage: ``python -m eval [--datasets DIR] [--only NAME ...] [--jobs N] [--no-loso]``

Thresholds chosen on data are cross-validated leave-one-subject-out: the pocket fall impact
level (:mod:`eval.loso`, which analyses the fall trials once per candidate level, a few
CPU-minutes) and the waist sitting and lying angles (:mod:`eval.loso_posture`); ``--no-loso``
skips both. With the waist set evaluated, every person's sitting is also joined into 35 min
without a sit-down (:mod:`eval.joined_sitting`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from eval.bout_consistency import bout_consistency
from eval.by_subject import by_subject
from eval.joined_sitting import joined_sitting_report
from eval.loso import loso_fall_impact
from eval.loso_posture import DATASET as LOSO_DATASET
from eval.loso_posture import loso, write_loso
from eval.padded_trials import padded_trials
from eval.recordings import truth_and_output
from eval.reference_checks import reference_checks
from eval.report import write_results
from sensorhub.io.analysis import analyze_recording
from sensorhub.io.readers import read_recording
from sensorhub.model import Placement
from sensorhub.pipeline import PipelineSettings

HERE = Path(__file__).resolve().parent
DEFAULT_DATASETS = HERE.parent.parent / "shared" / "datasets"

#: Dataset placements that are not sensorhub placements.
PLACEMENT_MAP = {"other": "pocket"}


def load_scorer(datasets: Path) -> ModuleType:
    """Import the datasets' own ``score.py``."""
    spec = importlib.util.spec_from_file_location("shared_score", datasets / "score.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {datasets / 'score.py'}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def analyse_one(args: tuple[str, str, str]) -> tuple[str, float]:
    """Analyse one recording (runs in a worker process); returns (recording, seconds)."""
    npz, truth_path, out = args
    truth = json.loads(Path(truth_path).read_text())
    placement = Placement(PLACEMENT_MAP.get(truth["placement"], truth["placement"]))
    subject = truth.get("subject") or {}
    settings = PipelineSettings(
        height_m=subject.get("height_m"), sensor_height_m=subject.get("sensor_height_m")
    )
    t0 = time.perf_counter()
    rec = read_recording(npz)
    doc = analyze_recording(rec, placement, settings=settings)
    Path(out).write_text(json.dumps(doc) + "\n")
    return truth["recording"], time.perf_counter() - t0


def extra_metrics(truth_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Figures beyond score.py: false steps per hour in static postures, gait-bout recall."""
    static_s = 0.0
    false_steps = 0
    lie = {"tp": 0, "fn": 0, "tn": 0, "fp": 0}
    ref_bouts = found = 0
    for tr, doc in truth_and_output(truth_dir, out_dir):
        steps = np.asarray(doc["steps"]["times_s"], dtype=float)
        upright_pred = ("sitting", "standing", "stationary")
        for seg in tr.get("posture_segments", []):
            if seg["label"] in ("sitting", "standing", "lying"):
                for t in np.arange(np.floor(seg["start_s"]), seg["end_s"] - 0.5) + 0.5:
                    pred = next(
                        (p["posture"] for p in doc["posture"] if p["start_s"] <= t < p["end_s"]),
                        None,
                    )
                    if seg["label"] == "lying":
                        lie["tp" if pred == "lying" else "fn"] += 1
                    elif pred in upright_pred:
                        lie["tn"] += 1
                    else:
                        lie["fp" if pred == "lying" else "fn_up"] = (
                            lie.get("fp" if pred == "lying" else "fn_up", 0) + 1
                        )
                s, e = seg["start_s"] + 1.0, seg["end_s"] - 1.0  # keep clear of transitions
                if e > s:
                    static_s += e - s
                    false_steps += int(((steps >= s) & (steps < e)).sum())
        if tr.get("trial", {}).get("activity") == "STD" and not any(
            seg["label"] == "standing" for seg in tr.get("posture_segments", [])
        ):
            # a standing trial without posture segments (those above already counted it)
            static_s += tr["duration_s"]
            false_steps += len(steps)
        for rb in tr.get("gait_bouts", []):
            ref_bouts += 1
            if any(
                min(rb["end_s"], b["end_s"]) > max(rb["start_s"], b["start_s"])
                for b in doc["gait_bouts"]
            ):
                found += 1
    out: dict[str, Any] = {}
    n_lie = lie["tp"] + lie["fn"]
    n_up = lie["tn"] + lie["fp"] + lie.get("fn_up", 0)
    if n_lie and n_up:
        out["lying_vs_upright_bacc"] = 0.5 * (lie["tp"] / n_lie + lie["tn"] / n_up)
    if static_s > 0:
        out["false_steps_per_static_hour"] = false_steps / (static_s / 3600.0)
        out["static_hours"] = static_s / 3600.0
    if ref_bouts:
        out["gait_bout_recall"] = found / ref_bouts
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval", description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    ap.add_argument("--only", nargs="*", default=None, help="dataset names to run")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    ap.add_argument(
        "--no-loso",
        action="store_true",
        help="skip the leave-one-subject-out choice of fitted thresholds (eval/loso.py)",
    )
    args = ap.parse_args(argv)
    if not (args.datasets / "index.json").is_file():
        print(f"no datasets at {args.datasets} (expected index.json there)", file=sys.stderr)
        return 2
    scorer = load_scorer(args.datasets)
    dirs = [
        d for d in sorted(args.datasets.iterdir()) if d.is_dir() and any(d.glob("*.truth.json"))
    ]
    if args.only:
        dirs = [d for d in dirs if d.name in args.only]
    results: list[dict[str, Any]] = []
    for d in dirs:
        out_dir = args.out / d.name
        out_dir.mkdir(parents=True, exist_ok=True)
        jobs = [
            (str(p), str(d / (p.stem + ".truth.json")), str(out_dir / (p.stem + ".json")))
            for p in sorted(d.glob("*.npz"))
        ]
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            times = list(pool.map(analyse_one, jobs, chunksize=4))
        wall = time.perf_counter() - t0
        metrics = scorer.score_dataset(d, out_dir, 0.25, 0.0)
        metrics.update(extra_metrics(d, out_dir))
        metrics.update(reference_checks(d, out_dir))
        metrics.update(by_subject(scorer, d, out_dir))
        metrics.update(bout_consistency(d, out_dir))
        metrics.update(padded_trials(d, PLACEMENT_MAP, jobs=args.jobs))
        if not args.no_loso and any(
            (json.loads(p.read_text()).get("trial") or {}).get("kind") == "fall"
            for p in d.glob("*.truth.json")
        ):
            metrics.update(loso_fall_impact(d, PLACEMENT_MAP, jobs=args.jobs))
        metrics["analysis_cpu_s"] = sum(t for _, t in times)
        metrics["wall_s"] = wall
        results.append(metrics)
        print()
    (args.out / "metrics.json").write_text(json.dumps(_clean(results), indent=1) + "\n")
    loso_lines: list[str] = []
    if not args.no_loso and any(d.name == LOSO_DATASET for d in dirs):
        t0 = time.perf_counter()
        result = loso(scorer, args.datasets, jobs=args.jobs)
        loso_lines = write_loso(args.out / "loso.json", result)
        print(f"leave-one-subject-out: {time.perf_counter() - t0:.0f} s")
    if any(d.name == LOSO_DATASET for d in dirs):
        loso_lines += joined_sitting_report(args.datasets)
    write_results(args.results, results, only=args.only is not None, extra=loso_lines)
    print(f"wrote {args.results}")
    return 0


def _clean(o: Any) -> Any:
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_clean(v) for v in o]
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


if __name__ == "__main__":
    sys.exit(main())
