"""The exercise library behind movement nudges (DESIGN.md section 6, "Exercises are personal").

Each exercise carries its position, difficulty and contraindications, so that a nudge only
suggests what the wearer can do where they are (a seated exercise while sitting at a desk,
nothing on the floor at work) and never what their physiotherapist has ruled out. The
selection follows the usual advice for hip and lower-back pain (product-and-defaults.md):
change position, micro-movements and hip-focused exercises. Cards inform; they do not treat.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Position(enum.StrEnum):
    """Where the exercise is done."""

    SEATED = "seated"
    STANDING = "standing"
    FLOOR = "floor"


class Contraindication(enum.StrEnum):
    """Conditions under which an exercise is left out unless a physio enables it."""

    HIP_REPLACEMENT = "hip_replacement"  # no deep hip flexion, no crossing legs
    FALL_RISK = "fall_risk"  # no unsupported single-leg balance
    KNEE_PAIN = "knee_pain"
    FLOOR_TRANSFER = "floor_transfer"  # cannot easily get down to and up from the floor


@dataclass(frozen=True, slots=True)
class Exercise:
    """One exercise card."""

    id: str
    name: str
    position: Position
    difficulty: int  # 1 (easiest) to 3
    duration_s: int
    instructions: str
    contraindications: frozenset[Contraindication] = frozenset()


SAFETY_NOTE = (
    "Stop if pain increases or you feel dizzy. If you have had hip or back surgery, check "
    "with your physiotherapist before starting a new exercise."
)

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "walk-break",
        "A short walk",
        Position.STANDING,
        1,
        120,
        "Stand up and walk for two minutes: to the window, the kitchen, down the corridor.",
    ),
    Exercise(
        "standing-hip-marches",
        "Standing hip marches",
        Position.STANDING,
        1,
        60,
        "Hold a chair or a counter. Lift one knee towards hip height, lower it, then the "
        "other. Ten on each side, slowly.",
    ),
    Exercise(
        "hip-flexor-stretch",
        "Standing hip-flexor stretch",
        Position.STANDING,
        1,
        60,
        "Hold a support, step one foot back, tuck your pelvis under and feel a gentle "
        "stretch at the front of the back hip. 20 seconds each side.",
    ),
    Exercise(
        "ankle-circles",
        "Ankle circles",
        Position.SEATED,
        1,
        45,
        "Sit tall, lift one foot a little and draw ten slow circles each way with the "
        "ankle. Then the other foot.",
    ),
    Exercise(
        "seated-pelvic-tilts",
        "Seated pelvic tilts",
        Position.SEATED,
        1,
        45,
        "Sit tall with feet flat. Roll your pelvis gently forwards to arch the low back, "
        "then backwards to round it. Ten slow tilts.",
    ),
    Exercise(
        "sit-to-stand",
        "Sit to stand",
        Position.SEATED,
        2,
        60,
        "From the front of a stable chair, stand up without using your hands if you can, "
        "then sit down slowly. Five to ten times.",
        frozenset({Contraindication.KNEE_PAIN}),
    ),
    Exercise(
        "glute-bridge",
        "Glute bridge",
        Position.FLOOR,
        2,
        90,
        "Lie on your back, knees bent, feet flat. Squeeze your buttocks and lift your hips "
        "until knees, hips and shoulders line up. Ten slow lifts.",
        frozenset({Contraindication.FLOOR_TRANSFER}),
    ),
    Exercise(
        "clamshell",
        "Clamshell",
        Position.FLOOR,
        2,
        90,
        "Lie on your side, knees bent, heels together. Open the top knee like a clamshell "
        "without rolling back. Ten each side.",
        frozenset({Contraindication.HIP_REPLACEMENT, Contraindication.FLOOR_TRANSFER}),
    ),
    Exercise(
        "cat-cow",
        "Cat-cow",
        Position.FLOOR,
        1,
        60,
        "On hands and knees, round your back up like a cat, then let it sag gently. Move "
        "slowly with your breath, eight times.",
        frozenset({Contraindication.FLOOR_TRANSFER, Contraindication.KNEE_PAIN}),
    ),
    Exercise(
        "bird-dog",
        "Bird-dog",
        Position.FLOOR,
        3,
        90,
        "On hands and knees, reach one arm forward and the opposite leg back, hold two "
        "seconds, return. Six each side.",
        frozenset(
            {
                Contraindication.FLOOR_TRANSFER,
                Contraindication.KNEE_PAIN,
                Contraindication.FALL_RISK,
            }
        ),
    ),
    Exercise(
        "knee-to-chest",
        "Knee to chest",
        Position.FLOOR,
        1,
        60,
        "Lie on your back and gently draw one knee towards your chest with both hands. "
        "Hold 20 seconds each side.",
        frozenset({Contraindication.HIP_REPLACEMENT, Contraindication.FLOOR_TRANSFER}),
    ),
)

_BY_ID = {exercise.id: exercise for exercise in EXERCISES}


def exercise_by_id(exercise_id: str) -> Exercise:
    """The exercise with this id.

    Raises
    ------
    KeyError
        With the list of known ids, if there is no such exercise.
    """
    try:
        return _BY_ID[exercise_id]
    except KeyError:
        raise KeyError(
            f"unknown exercise {exercise_id!r}; known: {', '.join(sorted(_BY_ID))}"
        ) from None


def suitable_exercises(
    positions: Iterable[Position],
    *,
    conditions: Iterable[Contraindication] = (),
    disabled: Iterable[str] = (),
    enabled: Iterable[str] = (),
) -> Sequence[Exercise]:
    """Exercises doable in one of ``positions`` and suitable for the wearer.

    An exercise is left out when it is contraindicated by one of the wearer's ``conditions``
    or ``disabled`` for them, unless a physiotherapist explicitly ``enabled`` it.
    """
    wanted = set(positions)
    conds, off, on = set(conditions), set(disabled), set(enabled)
    return tuple(
        e
        for e in EXERCISES
        if e.position in wanted
        and (e.id in on or (e.id not in off and not (e.contraindications & conds)))
    )
