"""Movement nudges: when to nudge (rules), what to suggest (exercises), how to deliver."""

from sensorhub.nudge.exercises import EXERCISES, Exercise, exercise_by_id, suitable_exercises
from sensorhub.nudge.rules import NudgeDecision, NudgeEngine, NudgeSettings

__all__ = [
    "EXERCISES",
    "Exercise",
    "NudgeDecision",
    "NudgeEngine",
    "NudgeSettings",
    "exercise_by_id",
    "suitable_exercises",
]
