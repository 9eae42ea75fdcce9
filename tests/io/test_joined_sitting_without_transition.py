"""Issue 13: sitting that began before the recording (no sit-down seen), at the hip.

For every person of the open waist set (UCI HAPT, one recording each: the first), their real
sitting segments are joined into 35 minutes (each trimmed by 1 s at both ends, joined with
1-s linear cross-fades, repeated in order when they are shorter), and two 5-s walking fidgets
from the same recording are put inside it (at 10 and 22 minutes, 0.5-s cross-fades): the
wearer gets up for a few steps without a sit-to-stand being seen. Nothing comes before the
sitting: no walk to the seat, no sit-down. ``sensorhub analyze`` must report one sitting bout
of the full length, within +-1 minute at either end.

Not met yet for 5 of the 21 people (issue 13 stays open on this point): where a person's
seated pelvis tilts less than the 14-deg sitting threshold from the walking-learnt upright in
some of their sittings and nothing else is known, those stretches read as standing; and seat
movements in the open sitting segments (partial rises of up to 0.5 m) are read as
sit-to-stand transitions. Joined 35 minutes long, either adds up to more than a minute of
"standing", which (by DESIGN.md section 6) ends the bout. Those people are marked ``xfail``
(strict: a fix shows up as an unexpected pass).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from eval.bout_consistency import violations
from sensorhub.io.analysis import analyze_recording
from sensorhub.io.readers import Recording
from sensorhub.model import Placement

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
HAPT = DATASETS / "posture_hip_hapt"

pytestmark = pytest.mark.skipif(
    not (HAPT / "index.json").parent.is_dir(),
    reason=f"shared datasets not found at {DATASETS} (they sit beside the repository)",
)

SITTING_S = 35 * 60.0
FIDGETS_AT_S = (10 * 60.0, 22 * 60.0)
FIDGET_S = 5.0


def first_recordings() -> list[str]:
    """The first recording of each person of the open waist set."""
    if not HAPT.is_dir():
        return []
    first: dict[str, str] = {}
    for p in sorted(HAPT.glob("*.truth.json")):
        tr = json.loads(p.read_text())
        first.setdefault(str(tr["subject"]["id"]), tr["recording"])
    return sorted(first.values())


def _join(parts: list[NDArray[np.float64]], fade: int) -> NDArray[np.float64]:
    """Parts one after another, each join a linear cross-fade of ``fade`` samples."""
    w = np.linspace(0.0, 1.0, fade)[:, None]
    out = parts[0]
    for p in parts[1:]:
        out = np.concatenate([out[:-fade], out[-fade:] * (1 - w) + p[:fade] * w, p[fade:]])
    return out


def joined_sitting(
    truth: dict[str, Any], acc: NDArray[np.float32], fs: float
) -> NDArray[np.float64]:
    """The recording described in the module docstring (``SITTING_S`` long)."""
    margin = round(fs)
    segs = [
        acc[round(s["start_s"] * fs) + margin : round(s["end_s"] * fs) - margin].astype(np.float64)
        for s in truth["posture_segments"]
        if s["label"] == "sitting" and s["end_s"] - s["start_s"] > 4.0
    ]
    n = round(SITTING_S * fs)
    parts: list[NDArray[np.float64]] = []
    total = 0
    while total < n + margin:
        seg = segs[len(parts) % len(segs)]
        parts.append(seg)
        total += len(seg) - margin
    seat = _join(parts, margin)[:n]
    walk = max(
        (s for s in truth["posture_segments"] if s["label"] == "walking"),
        key=lambda s: s["end_s"] - s["start_s"],
    )
    mid = round((walk["start_s"] + walk["end_s"]) / 2 * fs)
    fade = round(0.5 * fs)
    half = round(FIDGET_S * fs) // 2 + fade
    steps = acc[mid - half : mid + half].astype(np.float64)
    for at_s in FIDGETS_AT_S:
        i = round(at_s * fs)
        seat = _join([seat[: i + fade], steps, seat[i + len(steps) - fade :]], fade)
    return seat[:n]


#: People whose joined sitting is one sitting bout today.
PASSING = frozenset(
    {
        "exp01_user01",
        "exp09_user05",
        "exp13_user07",
        "exp15_user08",
        "exp22_user11",
        "exp28_user14",
        "exp30_user15",
        "exp38_user19",
        "exp42_user21",
        "exp44_user22",
        "exp46_user23",
        "exp50_user25",
        "exp54_user27",
        "exp56_user28",
        "exp58_user29",
        "exp60_user30",
    }
)


def _cases() -> list[Any]:
    reason = "issue 13: joined sitting without a sit-down is not yet one sitting bout"
    return [
        r if r in PASSING else pytest.param(r, marks=pytest.mark.xfail(strict=True, reason=reason))
        for r in first_recordings()
    ]


@pytest.mark.parametrize("recording", _cases())
def test_sitting_from_the_start_with_two_walking_fidgets_is_one_sitting_bout(
    recording: str,
) -> None:
    truth = json.loads((HAPT / f"{recording}.truth.json").read_text())
    z = np.load(HAPT / f"{recording}.npz")
    fs = float(z["fs"])
    acc = joined_sitting(truth, z["acc"], fs)
    doc = analyze_recording(Recording(acc.astype(np.float32), fs), Placement.HIP)
    bouts = [b for b in doc["static_bouts"] if b["end_s"] - b["start_s"] > 60.0]
    assert len(bouts) == 1, f"sitting reported as {bouts}"
    b = bouts[0]
    assert b["posture"] == "sitting", b
    assert b["start_s"] <= 60.0, b
    assert b["end_s"] >= SITTING_S - 60.0, b
    assert violations(doc) == []
