"""Leave-one-subject-out choice of the fitted thresholds (``python -m eval --loso``).

One threshold of the detection engine is chosen on data rather than taken from the
literature: the fall detector's impact level for a phone in the trouser pocket (phones clip
at +-2 g per axis, so Bourke et al. 2007's 2.74 g thigh threshold cannot be used as it is).
It is chosen from :data:`IMPACT_GRID_G` by a fixed rule on the trials of every person but
one, and scored on that person's trials (as given, and with 20 s of stillness appended,
:mod:`eval.padded_trials`):

* **rule**: the level with the highest fall sensitivity among those that keep the issue's
  specificity targets on the training people (>= 0.98 on the trials, >= 0.95 on the stress
  test); ties go to the higher stress-test specificity, then to the lower level. If no
  level keeps both, the one with the highest sensitivity + stress-test specificity.

Per fold the chosen level and the left-out person's figures are reported; the pooled
figures are those of all left-out people together (each scored by a level that never saw
them). The level in :data:`sensorhub.detect.falls.IMPACT_G` is the rule applied to everyone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.padded_trials import TrialOutcome, trial_outcomes

#: Impact levels (g) tried for the pocket placement.
IMPACT_GRID_G = (1.6, 1.7, 1.8, 1.9, 2.0, 2.1, 2.2)
#: The issue's targets the rule keeps on the training people.
MIN_SPECIFICITY = 0.98
MIN_STRESS_SPECIFICITY = 0.95


def _rates(outcomes: list[TrialOutcome]) -> tuple[float | None, float | None, float | None]:
    """(sensitivity, specificity, stress-test specificity); None where there are no trials."""
    falls = [o for o in outcomes if o.kind == "fall"]
    adl = [o for o in outcomes if o.kind != "fall"]
    sens = sum(o.hit for o in falls) / len(falls) if falls else None
    spec = 1.0 - sum(o.hit for o in adl) / len(adl) if adl else None
    stress = 1.0 - sum(o.hit_padded for o in adl) / len(adl) if adl else None
    return sens, spec, stress


def choose_level(by_level: dict[float, list[TrialOutcome]]) -> float:
    """The rule of the module docstring applied to the outcomes per impact level."""
    scored = []
    for level, outcomes in by_level.items():
        sens, spec, stress = _rates(outcomes)
        s, p, q = sens or 0.0, 1.0 if spec is None else spec, 1.0 if stress is None else stress
        scored.append((level, s, p, q))
    ok = [x for x in scored if x[2] >= MIN_SPECIFICITY and x[3] >= MIN_STRESS_SPECIFICITY]
    if ok:
        return min(ok, key=lambda x: (-x[1], -x[3], x[0]))[0]
    return min(scored, key=lambda x: (-(x[1] + x[3]), x[0]))[0]


def loso_fall_impact(
    truth_dir: Path, placement_map: dict[str, str], *, jobs: int = 1
) -> dict[str, Any]:
    """Leave-one-subject-out choice of the pocket impact level (module docstring)."""
    by_level = {
        g: trial_outcomes(truth_dir, placement_map, impact_g=g, jobs=jobs) for g in IMPACT_GRID_G
    }
    subjects = sorted({o.subject for o in by_level[IMPACT_GRID_G[0]]}, key=_subject_key)
    folds: list[dict[str, Any]] = []
    pooled: list[TrialOutcome] = []
    for s in subjects:
        train = {g: [o for o in oc if o.subject != s] for g, oc in by_level.items()}
        level = choose_level(train)
        test = [o for o in by_level[level] if o.subject == s]
        pooled += test
        sens, spec, stress = _rates(test)
        folds.append(
            {
                "subject": s,
                "impact_g": level,
                "fall_trials": sum(o.kind == "fall" for o in test),
                "sensitivity": sens,
                "adl_trials": sum(o.kind != "fall" for o in test),
                "specificity": spec,
                "stress_specificity": stress,
            }
        )
    sens, spec, stress = _rates(pooled)
    per_level = []
    for g, oc in by_level.items():
        a, b, c = _rates(oc)
        per_level.append({"impact_g": g, "sensitivity": a, "specificity": b, "stress": c})
    return {
        "loso_fall_folds": folds,
        "loso_fall_sensitivity": sens,
        "loso_fall_specificity": spec,
        "loso_fall_stress_specificity": stress,
        "loso_fall_level_all": choose_level(by_level),
        "fall_levels": per_level,
    }


def _subject_key(s: str) -> tuple[int, str]:
    return (int(s), s) if s.isdigit() else (1 << 30, s)
