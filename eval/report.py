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
    "Hip posture (issue 13): pooled balanced accuracy 0.970 with the shipped thresholds (2 of "
    "21 people below 0.95, worst 0.902), but 0.958 leave-one-subject-out (worst held-out "
    "person 0.760, 2 of 21 below 0.92): both LOSO targets (>= 0.97, nobody below 0.92) are "
    "missed. The upright is now learnt from walks only and without the first frame's weight "
    "(before, an exponential average starting at the first frame kept ~13 % of it after the "
    "pre-scan's 120 s of walking; the open recordings all start standing, which made that bias "
    "helpful here and wrong for a wearer already seated: joined sitting read as standing for "
    "20 of 21 people). Against a pure walking upright, standing sits 2-17 deg away on this set "
    "(the trunk leans forward when walking), so the pelvic-tilt threshold is 14 deg (chosen in "
    "20 of 21 folds). A sit-to-stand is trusted only when the integration's own error (the "
    "vertical velocity left at the window's end) is smaller than the movement's peak speed: "
    "+0.004 here, and the tiled hip sitting of tests/io/test_real_static_bouts.py no longer "
    "reads a seat shift as a rise. Person 19 sits reclined (50-76 deg from the walking "
    "upright), which a 60-deg lying threshold reads as lying; 70 deg fixes it on the pool, but "
    "the other 20 people do not need it, so the fold that holds 19 out picks 60 deg and scores "
    "0.760. Person 8 stands 17 deg from the walking upright at a recording's start: only a "
    "seen transition tells that apart. The same cost shows on the two-sample lower-back smoke "
    "set (HARTH, 0.821 -> 0.771): the older adult of HAR70+ stands 33-37 deg from the "
    "orientation of their only walk, 8 s long, so their standing before it reads as sitting. The "
    "joined-sitting test (35 min of a person's sitting, two 5-s walks, no sit-down; "
    "eval/joined_sitting.py, section above) gives one sitting bout for 18 of the 21 open "
    "people; the other 3 sit with the pelvis less than 14 deg from the walking upright in "
    "some or all of their sittings, which reads as standing (the code before issue 13: 1 of "
    "21, and 0 of 21 live). Streamed as a live hub would, "
    "with no upright known at the start (a band put on at the desk), 14 of 21: the pelvis is "
    "`stationary` until the first walk and the bout goes on as sitting after it (before this "
    "release such a wearer read as standing until then and the bout split at the walk); the "
    "rest split where a seat shift before the first walk is read as a rise, which nothing "
    "corrects until the upright is known. How the sittings are joined "
    "matters: with joins that turn the acceleration vector (as a tilting pelvis does) or cut "
    "hard, 18 of 21 pass; a plain linear cross-fade shortens the vector at each join, which "
    "the vertical integration can read as a fall and a rise of the pelvis: 17 of 21. The "
    "hold of a pelvis tilted > 25 deg for 5 s as seated is what keeps a person's less tilted "
    "sittings seated (without it 10-12 of 21); it assumes no one stands 25 deg from the "
    "walking orientation, which the HAR70+ adult above breaks. No model was trained: the two "
    "thresholds above are the only settings chosen by the grid.",
    "Static bouts (issue 13): interruptions inside a bout now count in total towards the 1-min "
    "break (walking and other postures; moving in place does not, but a bout must stay mostly "
    "its own posture), walking runs shorter than 4 s read as moving in place, and a short "
    "data gap carries the posture before it. Every reported bout of every open recording "
    "agrees with the same analysis's postures (rows above; eval/bout_consistency.py; with the "
    "code before issue 13, 46 of 165 reported bouts broke these rules): the "
    "lower-back circuits (Test11) report no static bout (their pauses are shorter than a "
    "minute; issue 13 saw 'sitting 0-110 s' around four walks) and the first HAPT recording "
    "none (issue 13: 'sitting 0-113 s' over standing, sitting and lying, 'standing 312-402 s' "
    "over stairs). The open sets hold few bouts of a minute or more (HAPT postures last 12-41 s), "
    "so the joined-sitting tests and the hypothesis property of the tracker "
    "(tests/detect/test_static_load.py) carry most of the evidence.",
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
    ("static_bouts_checked", "static bouts (>= 1 min) reported"),
    (
        "static_bouts_inconsistent",
        "... holding >= 1 min of walking/other postures, or not mostly their own posture",
    ),
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


def write_results(
    path: Path,
    results: list[dict[str, Any]],
    *,
    only: bool = False,
    extra: list[str] | None = None,
) -> None:
    """Write the markdown report (``only``: a partial run, says so in the header; ``extra``:
    the leave-one-subject-out section, placed after the datasets)."""
    lines = [
        "# sensorhub detection engine: accuracy on the shared datasets",
        "",
        "Produced by `make eval` (`python -m eval`), which analyses every recording in "
        "`../shared/datasets` with the same code as `sensorhub analyze` and scores it with the "
        "datasets' own `score.py` (rules in `../shared/datasets/README.md`). No model is "
        "trained. Three thresholds are chosen on data and cross-validated "
        "leave-one-subject-out (`python -m eval --no-loso` skips it): the pocket fall impact "
        "level, by a fixed rule (eval/loso.py, per-fold figures below), and the hip/lower-back "
        "pelvic tilt for sitting and trunk inclination for lying, by a grid (eval/loso_posture.py, "
        "section below: each held-out person is scored with the grid point that is best on the "
        "other people). Per-person figures (median and worst person) show how much a result "
        "depends on who wore the sensor. Other thresholds come from physiology or the cited "
        "literature (detector docstrings); a few were chosen after looking at these recordings "
        "and are therefore optimistic here: the stride-or-step bounds for limb sensors "
        "(autocorrelation at half the period: > 0.2 stride, < -0.5 step, in between the walk's "
        "cadence decides), the recurrence floor of limb steps outside walking (0.5) and the "
        "0.05 g walking movement floor. The `diagnostic` rows of the lower-back set check the "
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
    lines += extra or []
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
