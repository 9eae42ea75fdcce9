"""Writes eval/RESULTS.md: sensorhub's figures next to the anchors' published ones."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

ANCHORS: dict[str, list[tuple[str, str]]] = {
    "gait_lowerback_mobgap": [
        (
            "mobgap (Mobilise-D) on TVS lab data, per-recording median",
            "IC F1 0.93; cadence MAE 3.3 spm lab / 4.5 spm free-living",
        ),
        (
            "skdh GaitLumbar on IPOL lower-back trials (verified by running it)",
            "IC precision 0.969, recall 0.836, F1 0.897",
        ),
        ("issue 5 target", "IC F1 >= 0.95; cadence error <= 2 spm; >= 95 % of bouts found"),
    ],
    "steps_phone_oxford": [
        ("stepcount (OxWearables), free-living wrist", "12.5 % MAPE"),
        ("the phone app's own count on this data (research notes)", "-7 % ... +46 %"),
        ("issue 5 target", "step-count error <= 3 % per recording"),
    ],
    "posture_hip_hapt": [
        (
            "issue 5 target (waist-worn)",
            "balanced accuracy >= 0.95 (lying, sitting, standing, walking; transitions excluded)",
        ),
        (
            "Reyes-Ortiz et al. 2016 (SVM on hand-crafted features, same data)",
            "~96 % accuracy incl. sitting/standing (fitted, 70/30 split by subject)",
        ),
    ],
    "falls_pocket_mobifall": [
        ("peak |a| > 2.5 g rule on this data (README)", "sensitivity 0.72, specificity 0.87"),
        ("issue 5 target", "sensitivity >= 0.95 at specificity >= 0.98"),
    ],
    "posture_chest_older_uci427": [
        ("scored classes here", "lying vs sitting only ('ambulating' is excluded)"),
    ],
    "samples_back_thigh_harth": [
        ("smoke test only", "two short samples; no accuracy claim"),
    ],
}

GAPS = [
    "Lower back: IC F1 (wavelet initial contacts, McCamley 2012 / Paraschiv-Ionescu 2020) and "
    "cadence error are below the issue's targets (F1 >= 0.95, <= 2 spm). Most of the gap is the "
    "reference, not the detector: (1) the INDIP reference has no contacts where it lost the "
    "feet, mostly in turns; 37 of the 48 unmatched detections inside reference bouts fall in "
    "such gaps (the trunk turns by more than 30 deg in about 60 % of them), and without them "
    "F1 is 0.935; a detector that found every reference contact and every real step would "
    "score at most about 0.93 here. (2) The reference's own contacts, put through the same "
    "bout cadence code, differ from the reference cadence by 6 spm on average (the reference "
    "cadence follows its per-stride values, 120 / mean stride time, including strides whose "
    "contacts it lost), so no contact detector reaches 2 spm against it. Where the reference "
    "has every contact of a bout (5 of the 19 bouts), the detected bout's cadence is off by "
    "2.5 spm and the cadence of the detected contacts inside the reference bout by 0.7 spm: "
    "what remains is where the detected bout begins and ends (it keeps the slowing steps "
    "after a straight walk that the reference bout leaves out), not the cadence estimate. "
    "Bout cadence now comes from the bout's steady contacts (transitional end steps trimmed, "
    "interquartile mean of the step times; sensorhub/detect/cadence.py): 6.7 -> 6.2 spm on "
    "all bouts. A per-second cadence as in mobgap (Hampel-filtered step times averaged per "
    "second, the bout's mean of per-second cadence) was tried and scored worse here (7.5 spm "
    "on all bouts), and it weighs seconds, not steps, unlike the reference; it was not kept. "
    "Remaining real misses: 19 reference contacts in "
    "irregular daily-living circuits (Test11), detected bouts that join two reference bouts "
    "across a turn. Only 236 reference ICs from 3 people; the 0.5-4 Hz band and the lead-in "
    "trimming were chosen after looking at this data.",
    "Phone steps: mean error 1.9 %, but several recordings are still above 3 % (front and "
    "back pockets, where the detected period sometimes locks on the wrong multiple of the "
    "step); frames at the end of a walk still labelled walking pick up a few extra steps. At "
    "a limb, steps count only once a walk has gone on for 4 s (the pedometer 4-s filter, "
    "sensorhub/detect/gait.py LIMB_MIN_SEQUENCE_S), so weight shifts and a phone settling in "
    "a pocket are not steps (synthetic standing with shifts: about 400 false steps per hour "
    "without it, <= 10 with it, tests/detect/test_false_steps.py); it costs 1.7 -> 1.9 % here "
    "(a few steps at the start of recordings that begin mid-walk) and walks shorter than 4 s "
    "are not counted. The open static recordings cannot show the held-out problem (0 false "
    "steps in the pocket before and after). The stride-or-step bounds and the recurrence floor "
    "were set after looking at this data (the error moves by < 0.1 point across +-0.1 of the "
    "bounds).",
    "Falls: the pocket impact level (1.9 g) is chosen on data by a fixed rule and "
    "cross-validated leave-one-subject-out (eval/loso.py; folds above): 0.979 sensitivity, "
    "1.000 specificity and 0.952 stress-test specificity for people the level never saw. "
    "Specificity on the trials as given is 1.00 partly because the car step-in/out (CSI/CSO) "
    "trials end 2-5 s after the impact; with 20 s of stillness appended car transfers are "
    "most of the false alarms: dropping into a low car seat has the free-fall dip and the "
    "impact of a fall, and a pocket phone cannot tell sitting from lying (step-out alarms come "
    "from trials that start seated, where the upright axis is not known). Requiring a free "
    "fall, or a deeper one, or looking at when the thigh turns did not separate them; the "
    "impact level does, which puts it on a cliff: at 2.0 g sensitivity falls to 0.948 (several "
    "falls peak at 1.9-2.0 g), at 1.8 g stress-test specificity to 0.930, and the folds "
    "choose 1.9 or 2.0 g. People who fall softer than these (the held-out sensitivity was "
    "0.911 at 1.8 g) may still be missed. The orientation change for a thigh or pocket is now "
    "45 deg (Skotte 2014, the thigh's 'no longer standing') and stillness may begin up to ~5 s "
    "after the impact (DESIGN.md section 6), which found 2 more open falls. The caregiver "
    "alert (DESIGN.md section 6) waits 60 s for the wearer to get up or cancel, which is where "
    "car transfers have to be caught.",
    "Hip posture: balanced accuracy 0.962 (target met on the pool), but 6 of 21 people are "
    "below 0.95 (worst 0.90). Sit/stand comes from the transition that began a static "
    "period (Najafi 2002 / Adamowicz 2020) with rules from physiology (getting up from lying "
    "leaves one sitting until the pelvis rises; only walks that keep the trunk's orientation "
    "clear the state); each constant moved by +-50 % changes the figure by <= 0.004. The "
    "pelvic-tilt fallback stays at 10 deg: 15 deg (Endo 2012: 18.3 deg average posterior "
    "rotation) scored 0.970 here but turned a real seated pelvis to standing after a "
    "fidget. Remaining errors: sit/stand transitions longer than the 7-s window, still "
    "epochs next to a transition called walking.",
    "Chest (UCI 427): the blind pipeline reports `stationary`, never `sitting`, for an upright "
    "chest (a chest strap cannot tell sitting from standing; relative to each trial's own "
    "ambulating orientation bed sitting is only 12 deg away), so the scorer's sitting recall "
    "is 0. Walking cannot be seen at ~2 samples/s, so the body's vertical axis is not learnt: "
    "in trials that start in bed 'upright' is the lying orientation and lying is missed. A "
    "device profile's known upright axis would fix it; none is assumed for these tags.",
    "Non-wear needs 60 min of stillness (GGIR). Before that, nudges are held once the device has"
    " not moved above its sensor noise (5 mg per 3-s window) for 10 min; no worn phone of the "
    "hip set goes below 6.6 mg, and a third of its static windows move more than 13 mg "
    "(tests/io/test_real_recordings.py). A band put down less than 10 min before the 30-min mark"
    " can still get that one nudge, and so can a device whose own noise exceeds 5 mg.",
]

KEYS = [
    ("ic_f1", "IC/step F1 (+-0.25 s)"),
    ("ic_precision", "precision"),
    ("ic_recall", "recall"),
    ("cadence_mae_spm", "cadence MAE (spm)"),
    ("cadence_bouts_matched", "bouts matched"),
    ("cadence_bouts_ref", "reference bouts"),
    ("gait_bout_recall", "gait-bout recall"),
    (
        "ref_ic_cadence_mae_spm",
        "diagnostic: cadence MAE of the reference's own ICs through the same bout code (spm)",
    ),
    (
        "cadence_mae_complete_reference_spm",
        "cadence MAE where the reference has every contact of the bout (spm)",
    ),
    ("cadence_bouts_complete_reference", "... bouts with a complete reference"),
    (
        "cadence_mae_inside_complete_reference_spm",
        "... the detected contacts inside those reference bouts' own spans (spm)",
    ),
    ("ic_fp_total", "diagnostic: unmatched detections inside reference bouts"),
    ("ic_fp_in_reference_gaps", "diagnostic: ... of which in gaps of the reference ICs"),
    (
        "reference_gaps_turning_share",
        "diagnostic: share of those gaps where the trunk turns > 30 deg (gyroscope)",
    ),
    ("ic_f1_without_gap_detections", "diagnostic: IC F1 without detections in reference gaps"),
    ("step_mape_pct", "step-count MAPE (%)"),
    ("step_ape_max_pct", "worst recording (%)"),
    ("subject_step_mape_worst_pct", "per person: worst mean error (%)"),
    ("subjects_above_step_target", "people above 3 %"),
    ("posture_bacc", "posture balanced accuracy"),
    ("posture_epochs", "scored 1-s epochs"),
    ("subject_posture_bacc_median", "per person: median balanced accuracy"),
    ("subject_posture_bacc_worst", "per person: worst balanced accuracy"),
    ("subjects_below_posture_target", "people below 0.95"),
    (
        "lying_vs_upright_bacc",
        "lying vs upright-still balanced accuracy (stationary counts as upright)",
    ),
    ("fall_sensitivity", "fall sensitivity"),
    ("fall_specificity", "fall specificity"),
    ("fall_trials", "fall trials"),
    ("adl_trials", "daily-activity trials"),
    ("padded_fall_sensitivity", "stress test, trials + 20 s of stillness: fall sensitivity"),
    ("padded_fall_specificity", "stress test, trials + 20 s of stillness: fall specificity"),
    ("padded_false_alarms", "stress test: most false alarms (kind alarms/trials)"),
    (
        "loso_fall_sensitivity",
        "leave-one-subject-out (impact level chosen without the person): fall sensitivity",
    ),
    ("loso_fall_specificity", "leave-one-subject-out: fall specificity"),
    ("loso_fall_stress_specificity", "leave-one-subject-out: stress-test specificity"),
    ("loso_fall_level_all", "pocket impact level the rule picks on everyone (g)"),
    ("false_steps_per_static_hour", "false steps per hour sitting/standing/lying"),
    ("static_hours", "static hours checked"),
    ("recordings", "recordings"),
    ("analysis_cpu_s", "analysis CPU time (s)"),
]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "n/a" if not math.isfinite(v) else f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


_CARRIED = "*(figures carried over from"


def _section(path: Path, title: str) -> list[str]:
    """The body lines of section ``title`` in an existing report (empty if none)."""
    if not path.is_file():
        return []
    body: list[str] = []
    inside = False
    for ln in path.read_text().splitlines():
        if ln.startswith("## "):
            if inside:
                break
            inside = ln == title
            continue
        if inside and ln.strip():
            body.append(ln)
    return body


def _cell(v: Any) -> str:
    return "-" if v is None else _fmt(v)


def _loso_lines(m: dict[str, Any]) -> list[str]:
    """The leave-one-subject-out folds and the per-level figures (eval/loso.py), if any."""
    folds = m.get("loso_fall_folds")
    if not folds:
        return []
    lines = [
        "",
        "Pocket impact level, leave-one-subject-out (eval/loso.py: per fold the level is "
        "chosen on the other people, then the left-out person is scored):",
        "",
        "| left-out person | level chosen (g) | fall trials | sensitivity | daily-activity "
        "trials | specificity | stress-test specificity |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in folds:
        lines.append(
            f"| {f['subject']} | {_fmt(f['impact_g'])} | {f['fall_trials']} | "
            f"{_cell(f['sensitivity'])} | {f['adl_trials']} | {_cell(f['specificity'])} | "
            f"{_cell(f['stress_specificity'])} |"
        )
    levels = m.get("fall_levels") or []
    if levels:
        lines += [
            "",
            "Every person, per level (what the rule sees; not a cross-validated figure):",
            "",
            "| impact level (g) | sensitivity | specificity | stress-test specificity |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {_fmt(x['impact_g'])} | {_cell(x['sensitivity'])} | {_cell(x['specificity'])} "
            f"| {_cell(x['stress'])} |"
            for x in levels
        ]
    return lines


def write_results(path: Path, results: list[dict[str, Any]], *, only: bool = False) -> None:
    """Write the markdown report (``only``: a partial run, says so in the header)."""
    lines = [
        "# sensorhub detection engine: accuracy on the shared datasets",
        "",
        "Produced by `make eval` (`python -m eval`), which analyses every recording in "
        "`../shared/datasets` with the same code as `sensorhub analyze` and scores it with the "
        "datasets' own `score.py` (rules in `../shared/datasets/README.md`). No parameter is "
        "fitted by an optimiser and no model is trained in this engine. One threshold is chosen on "
        "data by a fixed rule, the pocket fall impact level, and it is cross-validated "
        "leave-one-subject-out (eval/loso.py; `python -m eval --no-loso` skips it) with the "
        "per-fold figures below. Per-person figures (median and worst person) show how much a "
        "result depends on who wore the sensor. Other thresholds come from physiology or the "
        "cited literature (detector docstrings); a few were chosen after looking at these "
        "recordings and are therefore optimistic here: the stride-or-step "
        "bounds for limb sensors (autocorrelation at half the period: > 0.2 stride, < -0.5 "
        "step, in between the walk's cadence decides), the recurrence floor of limb steps "
        "outside walking (0.5), the 10 deg pelvic-tilt sitting threshold and the 0.05 g "
        "walking movement floor. The `diagnostic` rows of the lower-back set check the "
        "reference itself (eval/reference_checks.py). These are small, mostly scripted "
        "laboratory datasets; the figures describe these conditions, not free-living use.",
        "",
    ]
    if only:
        lines += ["*Partial run (`--only`): not every dataset was evaluated.*", ""]
    for m in results:
        ds = m["dataset"]
        lines += [f"## {ds}", "", "| metric | sensorhub |", "|---|---|"]
        for key, label in KEYS:
            if key in m and m[key] is not None:
                lines.append(f"| {label} | {_fmt(m[key])} |")
        conf = m.get("posture_confusion")
        if conf:
            lines += [
                "",
                "Posture confusion (rows reference, columns prediction, 1-s epochs):",
                "",
                "| | " + " | ".join(conf["cols"]) + " |",
                "|---" * (len(conf["cols"]) + 1) + "|",
            ]
            for name, row in zip(conf["rows"], conf["counts"], strict=True):
                lines.append(f"| {name} | " + " | ".join(str(c) for c in row) + " |")
        lines += _loso_lines(m)
        anchors = ANCHORS.get(ds)
        if anchors:
            lines += ["", "| anchor / target | published figure |", "|---|---|"]
            lines += [f"| {a} | {b} |" for a, b in anchors]
        lines.append("")
    bench = Path(__file__).resolve().parent.parent / "bench" / "out" / "results.json"
    speed_title = "## Speed and memory (`make bench`, bench/bench_analyze.py)"
    earlier = _section(path, speed_title)
    lines += [speed_title, ""]
    if bench.is_file():
        import json

        b = json.loads(bench.read_text()).get("bench_analyze")
        if isinstance(b, dict) and "samples_per_s" in b:
            lines.append(
                f"7 days of 100 Hz data ({b['samples']:,} samples, {b['walking_share']:.0%} "
                f"walking, memory-mapped .npy): {b['wall_s']:.1f} s wall, "
                f"{b['samples_per_s'] / 1e6:.2f} M samples/s, peak RSS {b['peak_rss_mb']:.0f} MB "
                "(target <= 20 s, <= 1 GB)."
            )
            sk = b.get("skdh")
            if isinstance(sk, dict) and "ratio" in sk:
                lines.append(
                    f"scikit-digital-health GaitLumbar + ActivityLevelClassification on "
                    f"{sk['samples']:,} samples: {sk['samples_per_s'] / 1e6:.3f} M samples/s; "
                    f"sensorhub is {sk['ratio']:.0f}x faster."
                )
    elif earlier:
        lines += [ln for ln in earlier if not ln.startswith(_CARRIED)]
        lines.append(f"{_CARRIED} the last `make bench`; this machine has no bench results)*")
    else:
        lines.append("Run `make bench` to measure.")
    lines += ["", "## Where the targets are missed (honest notes)", ""] + [f"- {g}" for g in GAPS]
    path.write_text("\n".join(lines) + "\n")
