"""Issue 13: sitting that began before the recording (no sit-down seen), at the hip: every
open waist person's sitting joined to 35 min with two 5-s walks inside and nothing before it
(built by :mod:`eval.joined_sitting`, whose docstring tells how) must be one sitting bout of
the full length, within +-1 minute at either end.

Not met yet for 3 of the 21 people (issue 13 stays open on this point): their seated pelvis
tilts less than the 14-deg sitting threshold from the walking-learnt upright in some or all of
their sittings, nothing else is known, so those stretches read as standing; joined 35 minutes
long that adds up to more than a minute of "standing", which (by DESIGN.md section 6) ends
the bout. Those people are marked ``xfail``
(strict: a fix shows up as an unexpected pass). About 0.6 s per person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eval.bout_consistency import violations
from eval.joined_sitting import analyse, first_recordings, one_sitting_bout

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
HAPT = DATASETS / "posture_hip_hapt"

pytestmark = pytest.mark.skipif(
    not HAPT.is_dir(),
    reason=f"shared datasets not found at {DATASETS} (they sit beside the repository)",
)

#: People whose joined sitting is one sitting bout today.
PASSING = frozenset(
    {
        "exp01_user01",
        "exp05_user03",
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
        "exp52_user26",
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
        for r in (first_recordings(HAPT) if HAPT.is_dir() else [])
    ]


@pytest.mark.parametrize("recording", _cases())
def test_sitting_from_the_start_with_two_walking_fidgets_is_one_sitting_bout(
    recording: str,
) -> None:
    doc = analyse(HAPT, recording)
    bouts = [b for b in doc["static_bouts"] if b["end_s"] - b["start_s"] > 60.0]
    assert one_sitting_bout(doc), f"sitting reported as {bouts}"
    assert violations(doc) == []
