"""The leave-one-subject-out rule that chooses the pocket fall impact level."""

from __future__ import annotations

from eval.loso import choose_level
from eval.padded_trials import TrialOutcome


def _trials(falls_found: int, alarms: int, stress_alarms: int) -> list[TrialOutcome]:
    """10 fall trials, 50 daily-activity trials of one person."""
    out = [TrialOutcome("1", "fall", "FOL", i < falls_found, i < falls_found) for i in range(10)]
    out += [TrialOutcome("1", "adl", "CSI", i < alarms, i < stress_alarms) for i in range(50)]
    return out


def test_the_most_sensitive_level_that_keeps_both_specificity_targets() -> None:
    by_level = {
        1.7: _trials(10, 0, 5),  # stress-test specificity 0.90: too low
        1.8: _trials(10, 0, 2),  # 0.96: kept, and the most sensitive
        1.9: _trials(10, 0, 1),  # as sensitive, higher stress-test specificity
        2.0: _trials(8, 0, 0),
    }
    assert choose_level(by_level) == 1.9


def test_without_a_level_that_keeps_the_targets_the_best_balance() -> None:
    by_level = {1.8: _trials(10, 2, 15), 1.9: _trials(9, 2, 6), 2.0: _trials(6, 2, 3)}
    assert choose_level(by_level) == 1.9  # 0.9 + 0.88 beats 1.0 + 0.7 and 0.6 + 0.94
