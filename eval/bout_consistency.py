"""The static bouts of an analysis agree with its postures (issue 13).

A reported static bout (``static_bouts``) must (1) overlap walking (``posture`` segments
labelled ``walking``; stairs are walking) for less than the break length in total, (2) overlap
walking and other postures (anything but its own posture and moving in place, ``active``) for
less than the break length in total, and (3) have its own posture for more than half of the
time its frames cover (the majority of its 1-s frames); and (4) the summary's sedentary time
inside bouts must not exceed its sedentary time. A data gap shorter than the static-load
tracker's ``max_gap_s`` counts as the posture before it, as the tracker treats it (the wearer
is taken to go on as before across a short gap; irregular sources such as the RFID chest tags
have many). DESIGN.md section
6: a break is a change of position or walking of at least a minute. ``make eval`` checks
every open recording; a CI test checks a few (tests/io/test_bout_consistency.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.recordings import truth_and_output

#: DESIGN.md section 6: the break length (s).
BREAK_S = 60.0

#: Gaps up to this long carry the posture before them (PipelineSettings.max_gap_s).
MAX_GAP_S = 300.0


def _bridged(posture: list[dict[str, Any]]) -> list[tuple[float, float, str]]:
    """Posture segments, each extended over a following gap shorter than ``MAX_GAP_S``."""
    segs = sorted((p["start_s"], p["end_s"], p["posture"]) for p in posture)
    out = []
    for i, (s, e, lab) in enumerate(segs):
        nxt = segs[i + 1][0] if i + 1 < len(segs) else e
        out.append((s, nxt if e < nxt <= e + MAX_GAP_S else e, lab))
    return out


def violations(doc: dict[str, Any], *, break_s: float = BREAK_S) -> list[str]:
    """What is wrong with the document's static bouts (empty when they agree)."""
    out: list[str] = []
    segments = _bridged(doc["posture"])
    for b in doc["static_bouts"]:
        s, e, own = b["start_s"], b["end_s"], b["posture"]
        secs: dict[str, float] = {}
        for ps, pe, lab in segments:
            ov = min(e, pe) - max(s, ps)
            if ov > 0:
                secs[lab] = secs.get(lab, 0.0) + ov
        # ``stationary`` (sitting or standing, not known which) is part of a sitting or
        # standing bout (sensorhub.detect.static_load)
        if own in ("sitting", "standing"):
            secs[own] = secs.get(own, 0.0) + secs.pop("stationary", 0.0)
        walking = secs.get("walking", 0.0)
        away = sum(v for k, v in secs.items() if k not in (own, "active"))
        if walking >= break_s:
            out.append(f"{own} {s}-{e} s holds {walking:.0f} s of walking")
        if away >= break_s:
            out.append(f"{own} {s}-{e} s holds {away:.0f} s of walking and other postures")
        covered = sum(secs.values())
        if secs.get(own, 0.0) <= 0.5 * covered:
            out.append(
                f"{own} {s}-{e} s is {own} for only {secs.get(own, 0.0):.0f} s of {covered:.0f} s"
            )
    summary = doc.get("summary") or {}
    in_bouts, sedentary = summary.get("sedentary_in_bouts_s"), summary.get("sedentary_s")
    if in_bouts is not None and sedentary is not None and in_bouts > sedentary + 0.1:
        out.append(f"summary: {in_bouts} s sedentary in bouts > {sedentary} s sedentary")
    return out


def bout_consistency(truth_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Static bouts checked and those that break the rules above, over a dataset's outputs."""
    checked = 0
    bad: list[str] = []
    for tr, doc in truth_and_output(truth_dir, out_dir):
        checked += len(doc["static_bouts"])
        bad += [f"{tr['recording']}: {v}" for v in violations(doc)]
    return {
        "static_bouts_checked": checked,
        "static_bouts_inconsistent": len(bad),
        "static_bouts_inconsistent_examples": bad[:3],
    }
