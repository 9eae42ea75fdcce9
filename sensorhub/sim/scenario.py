"""Scripted, time-compressible motion scenarios and realistic body-worn accelerations.

A :class:`Scenario` is a named sequence of :class:`Segment` s (sitting 40 min, walking 3 min at
105 steps/min, ...). A :class:`MotionGenerator` turns it into the accelerations a body-worn
accelerometer would measure, in g, in the *device's* axes, streamed in chunks of any size.
The ground truth (segment bounds, heel-strike times) comes with it, so tests and the demo can
judge the detectors against what really "happened".

Signal model (chest placement; the trunk frame is x anterior, y left, z up when standing):

* **Gravity** from the trunk orientation of each segment: standing 0-5 deg of tilt, sitting
  leaning back 12-18 deg, lying supine ~90 deg, walking with a slight forward lean. Postures
  change smoothly (minimum-jerk, 1.2-2 s) at the start of the new segment, with the vertical
  acceleration of the trunk rising or lowering (sit-to-stand moves the chest ~0.45 m).
* **Breathing**: 0.2-0.3 Hz trunk rocking of ~0.3 deg in every posture.
* **Walking**: heel strikes at the segment's cadence (stride-time CV ~1.5 %, left/right step
  time and amplitude differing by ``asymmetry_pct``); vertical and anterior-posterior
  acceleration at the step frequency with a second harmonic (vertical ~0.2 g at 105 steps/min),
  medio-lateral at the stride frequency. Shuffling is the same with a low cadence, a stronger
  forward lean and a third of the amplitude.
* **Fidget**: a few irregular movements while seated (shifting, reaching: 0.6-2 s each,
  0.05-0.15 g, leaning a few degrees and back), deliberately not rhythmic like steps.
* **Fall**: 0.4 s of partial free fall, a ~3 g impact, then lying still.
* **Off**: the band taken off and put down on a table: a fixed orientation, no breathing, and
  the noise of a MEMS accelerometer at rest (``OFF_NOISE_MG``, 2 mg RMS per axis) instead of
  the worn noise, which stands for the sensor and the body's tiny movements together.
* **Sensor**: white noise (default 7 mg RMS per axis), a fixed offset of up to 5 mg per axis,
  and a fixed random mounting rotation of a few degrees applied to everything.

After the scenario ends the generator keeps producing the final posture, still.

Every :class:`~sensorhub.model.Placement` has a :class:`PlacementModel` (chest, lower back,
hip, thigh, pocket, wrist, foot): a placement decides the nominal device mounting, the body
segment's orientation in each activity (a seated thigh is horizontal, a hanging wrist points
down) and the gait amplitudes (a foot sees impacts of a few g, a wrist behind a rollator no
arm swing); :data:`PLACEMENT_MODELS` lists them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

from sensorhub.model import Placement, Posture

__all__ = [
    "ACTIVITIES",
    "PLACEMENT_MODELS",
    "SCENARIOS",
    "MotionGenerator",
    "PlacementModel",
    "Scenario",
    "Segment",
    "TruthInterval",
    "few_steps",
    "get_scenario",
    "with_breaks",
]

#: Standard gravity, for converting the trunk's linear accelerations (m/s^2) to g.
STANDARD_GRAVITY_MS2: Final = 9.80665

#: Activities a segment can script, and the posture label a detector should give each.
ACTIVITY_POSTURE: Final[Mapping[str, Posture]] = MappingProxyType(
    {
        "sitting": Posture.SITTING,
        "standing": Posture.STANDING,
        "walking": Posture.WALKING,
        "lying": Posture.LYING,
        # a few seconds of movement while seated: still a sitting (static) period
        "fidget": Posture.SITTING,
        "shuffle": Posture.WALKING,
        # the impact is an instant; the rest of the segment is spent lying on the floor
        "fall": Posture.LYING,
        # the band lies on a table
        "off": Posture.NONWEAR,
    }
)
ACTIVITIES: Final = tuple(ACTIVITY_POSTURE)

#: Cadence used when a gait segment does not give one (steps per minute).
DEFAULT_CADENCE_SPM: Final[Mapping[str, float]] = MappingProxyType(
    {"walking": 105.0, "shuffle": 80.0}
)
_GAIT_ACTIVITIES: Final = frozenset(DEFAULT_CADENCE_SPM)

#: Sensor noise (RMS per axis, mg) of a band lying on a table ("off"): a typical MEMS
#: accelerometer at rest; the worn default is higher (it includes tremor, pulse, sway).
OFF_NOISE_MG: Final = 2.0

#: Noise stream blocks: noise is drawn per block from a generator keyed by the block index,
#: so any chunking of the stream gives the same samples.
_NOISE_BLOCK_SAMPLES: Final = 4096
_NOISE_STREAM_KEY: Final = 0x6E6F697365  # "noise"
_NOISE_CACHE_BLOCKS: Final = 4


@dataclass(frozen=True, slots=True)
class Segment:
    """One scripted activity of a scenario.

    Parameters
    ----------
    activity
        One of :data:`ACTIVITIES`: ``sitting``, ``standing``, ``walking``, ``lying``,
        ``fidget`` (movement while seated), ``shuffle`` (short dragging steps), ``fall`` or
        ``off`` (the band put down on a table).
    duration_s
        Length of the segment in seconds of scenario (device) time.
    cadence_spm
        Steps per minute of a ``walking`` or ``shuffle`` segment (default 105 and 80).
        Must be None for the other activities.
    asymmetry_pct
        Left/right difference of step time and step amplitude of a gait segment, in percent
        of the mean (0 = symmetric).

    Raises
    ------
    ValueError
        For an unknown activity or an out-of-range value.
    """

    activity: str
    duration_s: float
    cadence_spm: float | None = None
    asymmetry_pct: float = 0.0

    def __post_init__(self) -> None:
        if self.activity not in ACTIVITY_POSTURE:
            raise ValueError(
                f"unknown activity {self.activity!r}; choose one of {', '.join(ACTIVITIES)}"
            )
        if not (math.isfinite(self.duration_s) and self.duration_s > 0):
            raise ValueError(f"duration_s must be positive, got {self.duration_s}")
        if self.cadence_spm is not None:
            if self.activity not in _GAIT_ACTIVITIES:
                raise ValueError(
                    f"cadence_spm only applies to walking/shuffle, not to {self.activity!r}"
                )
            if not 30.0 <= self.cadence_spm <= 200.0:
                raise ValueError(f"cadence_spm must be within 30-200, got {self.cadence_spm}")
        if not 0.0 <= self.asymmetry_pct <= 40.0:
            raise ValueError(f"asymmetry_pct must be within 0-40, got {self.asymmetry_pct}")

    @property
    def posture(self) -> Posture:
        """The posture label a detector should give this segment."""
        return ACTIVITY_POSTURE[self.activity]

    @property
    def effective_cadence_spm(self) -> float | None:
        """The cadence the generator uses (the default for gait without one), else None."""
        if self.activity not in _GAIT_ACTIVITIES:
            return None
        return self.cadence_spm or DEFAULT_CADENCE_SPM[self.activity]


class TruthInterval(NamedTuple):
    """A ground-truth interval of a scenario, in seconds from its start."""

    start_s: float
    end_s: float
    activity: str


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named, seeded sequence of segments.

    Parameters
    ----------
    name
        Registry name, e.g. ``"demo-day"``.
    segments
        The segments in order; they follow each other without gaps.
    seed
        Seed of the random details (postures within their ranges, step variability, noise).
    description
        One line for ``--simulate list`` style listings.
    """

    name: str
    segments: tuple[Segment, ...]
    seed: int = 0
    description: str = ""

    def __post_init__(self) -> None:
        if not self.segments:
            raise ValueError(f"scenario {self.name!r} has no segments")
        # Accept any sequence but store a tuple, so the scenario stays immutable.
        object.__setattr__(self, "segments", tuple(self.segments))

    @property
    def duration_s(self) -> float:
        """Total scripted duration in seconds."""
        return math.fsum(segment.duration_s for segment in self.segments)

    def segment_bounds(self) -> list[tuple[float, float, Segment]]:
        """Each segment with its start and end time in seconds."""
        bounds: list[tuple[float, float, Segment]] = []
        start_s = 0.0
        for segment in self.segments:
            end_s = start_s + segment.duration_s
            bounds.append((start_s, end_s, segment))
            start_s = end_s
        return bounds

    def truth(self) -> list[TruthInterval]:
        """Ground truth: ``(start_s, end_s, activity)`` with equal neighbours merged."""
        merged: list[TruthInterval] = []
        for start_s, end_s, segment in self.segment_bounds():
            if merged and merged[-1].activity == segment.activity:
                merged[-1] = merged[-1]._replace(end_s=end_s)
            else:
                merged.append(TruthInterval(start_s, end_s, segment.activity))
        return merged

    def segment_at(self, time_s: float) -> Segment:
        """The segment scripted at ``time_s`` (the last one after the end)."""
        for _, end_s, segment in self.segment_bounds():
            if time_s < end_s:
                return segment
        return self.segments[-1]

    def activity_at(self, time_s: float) -> str:
        """The scripted activity at ``time_s`` (the last one after the end)."""
        return self.segment_at(time_s).activity


def few_steps(duration_s: float, steps: int, *, cadence_spm: float = 100.0) -> tuple[Segment, ...]:
    """Get up, take a few steps and stand for a moment, within ``duration_s``.

    Parameters
    ----------
    duration_s
        Total length of the interruption.
    steps
        Number of steps walked.
    cadence_spm
        Cadence of those steps.

    Returns
    -------
    tuple of Segment
        ``standing``, ``walking``, ``standing``, the standing halves padding the walk.

    Raises
    ------
    ValueError
        When the steps do not fit into ``duration_s`` with a second of standing either side.
    """
    walk_s = steps * 60.0 / cadence_spm
    pad_s = (duration_s - walk_s) / 2.0
    if pad_s < 1.0:
        raise ValueError(
            f"{steps} steps at {cadence_spm} steps/min take {walk_s:.1f} s; "
            f"they do not fit into {duration_s} s with time to get up"
        )
    return (
        Segment("standing", pad_s),
        Segment("walking", walk_s, cadence_spm=cadence_spm),
        Segment("standing", pad_s),
    )


def with_breaks(
    activity: str, duration_s: float, breaks: Sequence[tuple[float, Sequence[Segment]]]
) -> tuple[Segment, ...]:
    """A long ``activity`` with short interruptions inside it (total length unchanged).

    Parameters
    ----------
    activity
        The base activity, e.g. ``"sitting"``.
    duration_s
        Total length including the interruptions.
    breaks
        ``(offset_s, segments)`` pairs: at ``offset_s`` from the start, ``segments`` replace
        the base activity for their total duration. Offsets must increase and not overlap.

    Returns
    -------
    tuple of Segment
    """
    result: list[Segment] = []
    cursor_s = 0.0
    for offset_s, inserted in sorted(breaks, key=lambda item: item[0]):
        if offset_s < cursor_s:
            raise ValueError(f"break at {offset_s} s overlaps the previous one")
        if offset_s > cursor_s:
            result.append(Segment(activity, offset_s - cursor_s))
        result.extend(inserted)
        cursor_s = offset_s + math.fsum(s.duration_s for s in inserted)
    if cursor_s >= duration_s:
        raise ValueError(f"the breaks run past the {duration_s} s of {activity}")
    result.append(Segment(activity, duration_s - cursor_s))
    return tuple(result)


def _min(minutes: float) -> float:
    return minutes * 60.0


def _build_scenarios() -> dict[str, Scenario]:
    demo_day = Scenario(
        "demo-day",
        (
            # Uninterrupted first sit, so that the 30-min nudge comes early in the demo.
            Segment("sitting", _min(40)),
            Segment("walking", _min(3), cadence_spm=108),
            Segment("standing", _min(50)),
            Segment("walking", _min(2), cadence_spm=104),
            *with_breaks(
                "sitting",
                _min(35),
                [
                    (_min(7), [Segment("fidget", 20)]),
                    (_min(16), few_steps(30, steps=10, cadence_spm=90)),
                    (_min(26), [Segment("fidget", 20)]),
                ],
            ),
            Segment("walking", _min(5), cadence_spm=112),
            Segment("lying", _min(20)),
        ),
        seed=20260815,
        description="an office afternoon: long sits and stands, short walks, a rest",
    )
    e2e_short = Scenario(
        "e2e-short",
        (
            *with_breaks(
                "sitting",
                _min(35),
                [
                    (_min(10), [Segment("fidget", 20)]),
                    (_min(15), few_steps(25, steps=30, cadence_spm=100)),
                ],
            ),
            Segment("walking", _min(3), cadence_spm=105),
            Segment("standing", _min(10)),
        ),
        seed=7,
        description="35 min sit (a fidget and a few steps inside), 3 min walk, 10 min stand",
    )
    office_day = Scenario(
        "office-day",
        (
            Segment("walking", _min(6), cadence_spm=110),
            *with_breaks(
                "sitting",
                _min(55),
                [
                    (_min(12), [Segment("fidget", 15)]),
                    (_min(31), few_steps(40, steps=16, cadence_spm=95)),
                    (_min(44), [Segment("fidget", 25)]),
                ],
            ),
            Segment("standing", _min(4)),
            Segment("walking", _min(4), cadence_spm=106),
            Segment("standing", _min(48)),
            Segment("walking", _min(12), cadence_spm=115),
            Segment("sitting", _min(33)),
            Segment("walking", _min(2), cadence_spm=100),
            Segment("lying", _min(16)),
        ),
        seed=11,
        description="three hours of a working day with long sits, a standing desk and walks",
    )
    gait_check = Scenario(
        "gait-check",
        (
            Segment("standing", 20),
            Segment("walking", 60, cadence_spm=110),
            Segment("standing", 15),
            Segment("walking", 60, cadence_spm=95, asymmetry_pct=12.0),
            Segment("standing", 15),
            Segment("shuffle", 60, cadence_spm=75),
            Segment("standing", 20),
        ),
        seed=3,
        description="gait bouts: brisk, asymmetric, shuffling",
    )
    fall_test = Scenario(
        "fall-test",
        (
            Segment("standing", 30),
            Segment("walking", 30, cadence_spm=100),
            Segment("fall", 90),
        ),
        seed=5,
        description="a walk ending in a fall and 90 s lying on the floor",
    )
    fall_recovered = Scenario(
        "fall-recovered",
        (
            Segment("standing", 30),
            Segment("walking", 30, cadence_spm=100),
            Segment("fall", 12),
            Segment("standing", 6),
            Segment("walking", 40, cadence_spm=90),
            Segment("standing", 60),
        ),
        seed=5,
        description="a walk ending in a fall; up again after 12 s and walking within 20 s",
    )
    inactive_afternoon = Scenario(
        "inactive-afternoon",
        (
            Segment("walking", _min(5), cadence_spm=95),
            # an afternoon in the armchair: shifting now and then, never getting up
            *with_breaks(
                "sitting",
                _min(200),
                [(_min(m), [Segment("fidget", 20)]) for m in range(20, 200, 25)],
            ),
            Segment("walking", _min(4), cadence_spm=95),
            Segment("standing", _min(3)),
        ),
        seed=13,
        description="a short walk, 3 h 20 min in the armchair (shifting, never up), a walk",
    )
    band_off = Scenario(
        "band-off",
        (
            Segment("walking", _min(3), cadence_spm=105),
            Segment("sitting", _min(7)),
            Segment("off", _min(150)),
            Segment("walking", _min(5), cadence_spm=105),
            Segment("sitting", _min(5)),
        ),
        seed=17,
        description="the band left on a table for 2.5 h, then worn again",
    )
    return {
        s.name: s
        for s in (
            demo_day,
            e2e_short,
            office_day,
            gait_check,
            fall_test,
            fall_recovered,
            inactive_afternoon,
            band_off,
        )
    }


#: Built-in scenarios by name.
SCENARIOS: Final[Mapping[str, Scenario]] = MappingProxyType(_build_scenarios())


def get_scenario(name: str) -> Scenario:
    """Look a built-in scenario up by name.

    Raises
    ------
    KeyError
        With the list of known names.
    """
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(
            f"no scenario named {name!r}; built-in scenarios: {', '.join(SCENARIOS)}"
        ) from None


# --------------------------------------------------------------------------- placements


@dataclass(frozen=True, slots=True)
class PlacementModel:
    """How a body placement sees each activity.

    Orientations are ``(pitch_deg, roll_deg)`` ranges of the segment of body the device sits
    on, relative to upright: pitch positive = leaning back (the anterior axis tilting up),
    roll positive = tilting towards the left side.

    Attributes
    ----------
    placement
        The placement it models.
    nominal_mounting
        3x3 rotation from the body-segment frame (x anterior, y left, z up) to the device
        axes, before the random mounting error.
    pitch_range_deg, roll_range_deg
        Per activity, the range the segment's orientation is drawn from.
    trunk_height_m
        Per activity, the height of the device relative to sitting, for the vertical
        acceleration of posture transitions.
    vertical_gait_g
        Amplitude of the step-frequency vertical acceleration at 105 steps/min.
    """

    placement: Placement
    nominal_mounting: NDArray[np.float64]
    pitch_range_deg: Mapping[str, tuple[float, float]]
    roll_range_deg: Mapping[str, tuple[float, float]]
    trunk_height_m: Mapping[str, float]
    vertical_gait_g: float = 0.2
    anterior_gait_ratio: float = 0.6
    lateral_gait_ratio: float = 0.35
    shuffle_amplitude_ratio: float = 0.35
    max_gait_g: float = 0.35


def _rotation_z(angle_deg: float) -> NDArray[np.float64]:
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    rotation: NDArray[np.float64] = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return rotation


def _rotation_x(angle_deg: float) -> NDArray[np.float64]:
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    rotation: NDArray[np.float64] = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    return rotation


def _table(**values: tuple[float, float]) -> Mapping[str, tuple[float, float]]:
    return MappingProxyType(values)


_CHEST = PlacementModel(
    placement=Placement.CHEST,
    nominal_mounting=np.eye(3),
    pitch_range_deg=MappingProxyType(
        {
            "sitting": (12.0, 18.0),
            "fidget": (12.0, 18.0),
            "standing": (-3.0, 3.0),
            "walking": (-5.0, -2.0),
            "shuffle": (-12.0, -7.0),
            "lying": (86.0, 92.0),
            "fall": (80.0, 95.0),
        }
    ),
    roll_range_deg=MappingProxyType(
        {
            "sitting": (-3.0, 3.0),
            "fidget": (-3.0, 3.0),
            "standing": (-2.0, 2.0),
            "walking": (-1.5, 1.5),
            "shuffle": (-2.0, 2.0),
            "lying": (-15.0, 15.0),
            "fall": (-40.0, 40.0),
        }
    ),
    trunk_height_m=MappingProxyType(
        {
            "sitting": 0.0,
            "fidget": 0.0,
            "standing": 0.45,
            "walking": 0.45,
            "shuffle": 0.42,
            "lying": -0.1,
            "fall": -0.9,
        }
    ),
)

# Pelvis (lower back, hip): sitting tilts the pelvis back 20-35 deg, standing is upright.
_PELVIS_PITCH = _table(
    sitting=(20.0, 32.0), fidget=(20.0, 32.0), standing=(-4.0, 4.0), walking=(-4.0, 2.0),
    shuffle=(-12.0, -6.0), lying=(84.0, 92.0), fall=(75.0, 95.0),
)  # fmt: skip
_PELVIS_ROLL = _table(
    sitting=(-4.0, 4.0), fidget=(-4.0, 4.0), standing=(-3.0, 3.0), walking=(-2.0, 2.0),
    shuffle=(-3.0, 3.0), lying=(-20.0, 20.0), fall=(-45.0, 45.0),
)  # fmt: skip
_PELVIS_HEIGHT = MappingProxyType(
    {"sitting": 0.0, "fidget": 0.0, "standing": 0.4, "walking": 0.4, "shuffle": 0.38,
     "lying": -0.3, "fall": -0.8}
)  # fmt: skip
_LOWER_BACK = PlacementModel(
    placement=Placement.LOWER_BACK,
    nominal_mounting=np.eye(3),
    pitch_range_deg=_PELVIS_PITCH,
    roll_range_deg=_PELVIS_ROLL,
    trunk_height_m=_PELVIS_HEIGHT,
    vertical_gait_g=0.25,
    lateral_gait_ratio=0.45,
)
# A hip clip sits on the side of the pelvis: device x points to the wearer's right.
_HIP = dataclasses.replace(_LOWER_BACK, placement=Placement.HIP, nominal_mounting=_rotation_z(90.0))
# Thigh (activPAL position, front of the thigh): seated or lying, the thigh is horizontal
# and its anterior face points up; standing, it is vertical.
_THIGH_PITCH = _table(
    sitting=(80.0, 95.0), fidget=(80.0, 95.0), standing=(-4.0, 4.0), walking=(-6.0, 6.0),
    shuffle=(-8.0, 4.0), lying=(80.0, 92.0), fall=(60.0, 95.0),
)  # fmt: skip
_THIGH_ROLL = _table(
    sitting=(-10.0, 10.0), fidget=(-10.0, 10.0), standing=(-4.0, 4.0), walking=(-4.0, 4.0),
    shuffle=(-4.0, 4.0), lying=(-30.0, 30.0), fall=(-60.0, 60.0),
)  # fmt: skip
_THIGH_HEIGHT = MappingProxyType(
    {"sitting": 0.0, "fidget": 0.0, "standing": 0.3, "walking": 0.3, "shuffle": 0.28,
     "lying": -0.3, "fall": -0.6}
)  # fmt: skip
_THIGH = PlacementModel(
    placement=Placement.THIGH,
    nominal_mounting=np.eye(3),
    pitch_range_deg=_THIGH_PITCH,
    roll_range_deg=_THIGH_ROLL,
    trunk_height_m=_THIGH_HEIGHT,
    vertical_gait_g=0.3,
    anterior_gait_ratio=1.0,
    max_gait_g=0.6,
)
# A phone or clip in the trouser pocket: the thigh, turned a quarter about its long axis.
_POCKET = PlacementModel(
    placement=Placement.POCKET,
    nominal_mounting=_rotation_z(-90.0) @ _rotation_x(20.0),
    pitch_range_deg=_THIGH_PITCH,
    roll_range_deg=_THIGH_ROLL,
    trunk_height_m=_THIGH_HEIGHT,
    vertical_gait_g=0.3,
    anterior_gait_ratio=1.0,
    max_gait_g=0.6,
)
# Wrist (x along the forearm to the hand, z out of the watch face): resting on a desk or lap
# the face points up; hanging while standing or walking the forearm points down (pitch
# -90); behind a rollator the hands hold the handles (forearm near horizontal) and the arms
# do not swing.
_WRIST = PlacementModel(
    placement=Placement.WRIST,
    nominal_mounting=np.eye(3),
    pitch_range_deg=_table(
        sitting=(-15.0, 25.0),
        fidget=(-15.0, 25.0),
        standing=(-85.0, -65.0),
        walking=(-85.0, -70.0),
        shuffle=(-25.0, -5.0),
        lying=(-20.0, 20.0),
        fall=(-60.0, 60.0),
    ),
    roll_range_deg=_table(
        sitting=(-35.0, 35.0),
        fidget=(-35.0, 35.0),
        standing=(-20.0, 20.0),
        walking=(-15.0, 15.0),
        shuffle=(-10.0, 10.0),
        lying=(-80.0, 80.0),
        fall=(-90.0, 90.0),
    ),
    trunk_height_m=MappingProxyType(
        {
            "sitting": 0.0,
            "fidget": 0.0,
            "standing": 0.1,
            "walking": 0.1,
            "shuffle": 0.25,
            "lying": -0.4,
            "fall": -0.8,
        }
    ),
    vertical_gait_g=0.15,
    anterior_gait_ratio=1.6,
    lateral_gait_ratio=0.3,
    shuffle_amplitude_ratio=0.15,
    max_gait_g=0.5,
)
# Foot pod on the laces (x forward, z up): flat while standing or sitting, toes up lying
# on the back; every step is a heel strike and a push-off of a few g.
_FOOT = PlacementModel(
    placement=Placement.FOOT,
    nominal_mounting=np.eye(3),
    pitch_range_deg=_table(
        sitting=(-12.0, 8.0),
        fidget=(-12.0, 8.0),
        standing=(-3.0, 3.0),
        walking=(-4.0, 4.0),
        shuffle=(-3.0, 3.0),
        lying=(60.0, 85.0),
        fall=(30.0, 85.0),
    ),
    roll_range_deg=_table(
        sitting=(-10.0, 10.0),
        fidget=(-10.0, 10.0),
        standing=(-3.0, 3.0),
        walking=(-3.0, 3.0),
        shuffle=(-3.0, 3.0),
        lying=(-30.0, 30.0),
        fall=(-45.0, 45.0),
    ),
    trunk_height_m=MappingProxyType(
        {
            "sitting": 0.0,
            "fidget": 0.0,
            "standing": 0.0,
            "walking": 0.0,
            "shuffle": 0.0,
            "lying": 0.0,
            "fall": -0.05,
        }
    ),
    vertical_gait_g=0.9,
    anterior_gait_ratio=1.2,
    lateral_gait_ratio=0.2,
    max_gait_g=2.0,
)

#: Implemented placements.
PLACEMENT_MODELS: Final[Mapping[Placement, PlacementModel]] = MappingProxyType(
    {m.placement: m for m in (_CHEST, _LOWER_BACK, _HIP, _THIGH, _POCKET, _WRIST, _FOOT)}
)


# ----------------------------------------------------------------------------- generator


@dataclass(slots=True)
class _Plan:
    """The random details of one segment, drawn once so that streaming is deterministic."""

    index: int
    segment: Segment
    start_s: float
    end_s: float
    pitch_rad: float
    roll_rad: float
    height_m: float
    previous_pitch_rad: float
    previous_roll_rad: float
    previous_height_m: float
    transition_s: float
    breathing_hz: float
    breathing_phase: float
    heel_strikes_s: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    step_amplitude_g: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    harmonic_phase: float = 0.0
    # fidget movements, one row each: start_s (from the segment start), duration_s,
    # direction x/y/z (unit vector), peak_g, pitch change (rad), roll change (rad)
    movements: NDArray[np.float64] = field(default_factory=lambda: np.empty((0, 8)))


def _continues_posture(previous: Segment, current: Segment) -> bool:
    """Whether ``current`` keeps the body where ``previous`` left it.

    A fidget does not re-settle the seat, and after a fall one lies where one fell.
    """
    seated = ("sitting", "fidget")
    return (previous.activity in seated and current.activity in seated) or (
        previous.activity == "fall" and current.activity == "lying"
    )


#: Peak of the minimum-jerk acceleration profile 60s - 180s^2 + 120s^3 (at s = 0.5 - sqrt(3)/6).
_MINIMUM_JERK_PEAK: Final = 10.0 * math.sqrt(3.0) / 3.0


def _minimum_jerk(s: NDArray[np.float64]) -> NDArray[np.float64]:
    return s * s * s * (10.0 - 15.0 * s + 6.0 * s * s)


def _minimum_jerk_second_derivative(s: NDArray[np.float64]) -> NDArray[np.float64]:
    return 60.0 * s - 180.0 * s * s + 120.0 * s * s * s


def _random_rotation(rng: np.random.Generator, max_angle_deg: float) -> NDArray[np.float64]:
    """A rotation about a random axis by an angle between 40 % and 100 % of the maximum."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = math.radians(rng.uniform(0.4, 1.0) * max_angle_deg)
    x, y, z = (float(c) for c in axis)
    cross: NDArray[np.float64] = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    # Rodrigues' formula
    rotation: NDArray[np.float64] = (
        np.eye(3) + math.sin(angle) * cross + (1.0 - math.cos(angle)) * (cross @ cross)
    )
    return rotation


class MotionGenerator:
    """Accelerations a body-worn sensor measures during a scenario, streamed in chunks.

    Parameters
    ----------
    scenario
        The scripted scenario.
    placement
        Where the device is worn; :data:`PLACEMENT_MODELS` lists the implemented ones.
    fs_hz
        Sampling rate.
    seed
        Seed of all random details; defaults to the scenario's seed. The same seed gives the
        same samples however the stream is chunked.
    noise_mg
        RMS of the white sensor noise per axis, in mg.
    mounting_error_deg
        Maximum angle of the fixed random mounting rotation.

    Examples
    --------
    >>> generator = MotionGenerator(SCENARIOS["e2e-short"], fs_hz=100.0)
    >>> generator.next_samples(3).shape
    (3, 3)
    """

    def __init__(
        self,
        scenario: Scenario,
        placement: Placement | str = Placement.CHEST,
        *,
        fs_hz: float = 100.0,
        seed: int | None = None,
        noise_mg: float = 7.0,
        mounting_error_deg: float = 4.0,
    ) -> None:
        placement = Placement(placement)
        if placement not in PLACEMENT_MODELS:
            implemented = ", ".join(p.value for p in PLACEMENT_MODELS)
            raise ValueError(
                f"placement {placement.value!r} is not simulated yet (implemented: {implemented})"
            )
        if not (math.isfinite(fs_hz) and fs_hz > 0):
            raise ValueError(f"fs_hz must be positive, got {fs_hz}")
        if noise_mg < 0 or mounting_error_deg < 0:
            raise ValueError("noise_mg and mounting_error_deg must not be negative")
        self.scenario = scenario
        self.placement = placement
        self.fs_hz = float(fs_hz)
        self.seed = scenario.seed if seed is None else seed
        self.noise_g = noise_mg / 1000.0
        self._model = PLACEMENT_MODELS[placement]
        rng = np.random.default_rng([self.seed, 1])
        self.mounting_rotation: NDArray[np.float64] = self._model.nominal_mounting @ (
            _random_rotation(rng, mounting_error_deg) if mounting_error_deg > 0 else np.eye(3)
        )
        self.offset_g: NDArray[np.float64] = rng.uniform(-0.005, 0.005, size=3)
        self._plans = self._plan_segments(rng)
        self._starts_s = np.array([plan.start_s for plan in self._plans])
        # the band on a table: quieter noise (a last "off" segment goes on after the end)
        self._off_bounds = [
            (plan.start_s, plan.end_s if plan is not self._plans[-1] else math.inf)
            for plan in self._plans
            if plan.segment.activity == "off"
        ]
        self._next_index = 0
        self._noise_cache: dict[int, NDArray[np.float64]] = {}

    # ----------------------------------------------------------------------- public API

    @property
    def duration_s(self) -> float:
        """Scripted duration of the scenario in seconds."""
        return self.scenario.duration_s

    @property
    def total_samples(self) -> int:
        """Number of samples covering the scripted duration."""
        return math.ceil(self.duration_s * self.fs_hz)

    @property
    def samples_emitted(self) -> int:
        """Samples returned by :meth:`next_samples` so far."""
        return self._next_index

    @property
    def elapsed_s(self) -> float:
        """Scenario time of the next sample."""
        return self._next_index / self.fs_hz

    @property
    def exhausted(self) -> bool:
        """True once the whole scripted duration has been emitted."""
        return self._next_index >= self.total_samples

    def next_samples(self, n: int) -> NDArray[np.float64]:
        """The next ``n`` samples of the stream.

        Parameters
        ----------
        n
            Number of samples (may be 0).

        Returns
        -------
        numpy.ndarray
            float64, shape (n, 3), acceleration in g in device axes. Sample ``i`` of the
            stream is at ``i / fs_hz`` seconds of scenario time.
        """
        samples = self.samples_at(self._next_index, n)
        self._next_index += n
        return samples

    def samples_at(self, first_index: int, n: int) -> NDArray[np.float64]:
        """Samples ``first_index .. first_index + n - 1`` without moving the stream.

        Gives exactly what :meth:`next_samples` gives for the same indices.
        """
        if first_index < 0 or n < 0:
            raise ValueError("first_index and n must not be negative")
        indices = np.arange(first_index, first_index + n, dtype=np.int64)
        t_s = indices / self.fs_hz
        body = self._body_signal(t_s)
        device = body @ self.mounting_rotation.T
        noise = self._noise(first_index, n)
        if self._off_bounds and self.noise_g > 0:
            off = np.zeros(n, dtype=bool)
            for start_s, end_s in self._off_bounds:
                off |= (t_s >= start_s) & (t_s < end_s)
            noise[off] *= min(1.0, OFF_NOISE_MG / 1000.0 / self.noise_g)
        return device + self.offset_g + noise

    def reset(self) -> None:
        """Rewind the stream to the start of the scenario."""
        self._next_index = 0

    def truth(self) -> list[TruthInterval]:
        """Ground truth ``(start_s, end_s, activity)`` of the scenario."""
        return self.scenario.truth()

    def step_times_s(self) -> NDArray[np.float64]:
        """Ground-truth heel-strike (initial contact) times of all gait segments, seconds."""
        strikes = [plan.heel_strikes_s[:-1] for plan in self._plans if plan.heel_strikes_s.size]
        return np.concatenate(strikes) if strikes else np.empty(0)

    # --------------------------------------------------------------------- planning

    def _plan_segments(self, rng: np.random.Generator) -> list[_Plan]:
        plans: list[_Plan] = []
        previous: _Plan | None = None
        for index, (start_s, end_s, segment) in enumerate(self.scenario.segment_bounds()):
            if previous is not None and _continues_posture(previous.segment, segment):
                pitch, roll, height = previous.pitch_rad, previous.roll_rad, previous.height_m
            elif segment.activity == "off":  # flat on a table, at about the same height
                pitch = math.radians(rng.uniform(85.0, 95.0))
                roll = math.radians(rng.uniform(-5.0, 5.0))
                height = previous.height_m if previous else 0.0
            else:
                pitch, roll = self._draw_orientation(rng, segment.activity)
                height = self._model.trunk_height_m[segment.activity]
            plan = _Plan(
                index=index,
                segment=segment,
                start_s=start_s,
                end_s=end_s,
                pitch_rad=pitch,
                roll_rad=roll,
                height_m=height,
                previous_pitch_rad=previous.pitch_rad if previous else pitch,
                previous_roll_rad=previous.roll_rad if previous else roll,
                previous_height_m=previous.height_m if previous else height,
                transition_s=(1.0 if segment.activity == "fall" else float(rng.uniform(1.2, 2.0))),
                breathing_hz=float(rng.uniform(0.2, 0.3)),
                breathing_phase=float(rng.uniform(0, 2 * math.pi)),
            )
            if segment.activity in _GAIT_ACTIVITIES:
                self._plan_gait(rng, plan)
            elif segment.activity == "fidget":
                self._plan_fidget(rng, plan)
            plans.append(plan)
            previous = plan
        return plans

    def _draw_orientation(self, rng: np.random.Generator, activity: str) -> tuple[float, float]:
        pitch_low, pitch_high = self._model.pitch_range_deg[activity]
        roll_low, roll_high = self._model.roll_range_deg[activity]
        return (
            math.radians(rng.uniform(pitch_low, pitch_high)),
            math.radians(rng.uniform(roll_low, roll_high)),
        )

    def _plan_gait(self, rng: np.random.Generator, plan: _Plan) -> None:
        segment = plan.segment
        cadence = segment.cadence_spm or DEFAULT_CADENCE_SPM[segment.activity]
        mean_step_s = 60.0 / cadence
        half_asymmetry = segment.asymmetry_pct / 200.0
        n_max = math.ceil(segment.duration_s / (mean_step_s * (1 - half_asymmetry) * 0.9)) + 2
        # Alternate left/right: +1 for one side, -1 for the other.
        side = np.where(np.arange(n_max) % 2 == 0, 1.0, -1.0)
        step_s = mean_step_s * (1.0 + side * half_asymmetry) * (1.0 + rng.normal(0, 0.015, n_max))
        strikes = plan.start_s + np.concatenate(([0.0], np.cumsum(step_s)))
        # Keep the strikes inside the segment plus the one that closes the last step.
        last = int(np.searchsorted(strikes, plan.end_s, side="left"))
        plan.heel_strikes_s = strikes[: last + 1]
        amplitude = self._model.vertical_gait_g * (cadence / 105.0) ** 2
        if segment.activity == "shuffle":
            amplitude *= self._model.shuffle_amplitude_ratio
        amplitude = float(np.clip(amplitude, 0.03, self._model.max_gait_g))
        n_steps = plan.heel_strikes_s.size - 1
        plan.step_amplitude_g = (
            amplitude
            * (1.0 + side[:n_steps] * half_asymmetry)
            * (1.0 + rng.normal(0, 0.05, n_steps))
        )
        plan.harmonic_phase = float(rng.uniform(-0.5, 0.5))

    def _plan_fidget(self, rng: np.random.Generator, plan: _Plan) -> None:
        duration_s = plan.segment.duration_s
        count = max(1, min(round(duration_s / 5.0), 8))
        movement_s = rng.uniform(0.6, 2.0, count)
        # Irregular start times (sorted uniform draws), each movement inside the segment.
        latest_start = np.maximum(duration_s - movement_s, 0.0)
        starts = np.sort(rng.uniform(0.0, 1.0, count)) * latest_start
        # Mostly horizontal: shifting on the seat, reaching for something.
        directions = rng.normal(size=(count, 3)) * np.array([1.0, 1.0, 0.5])
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        peak_g = rng.uniform(0.05, 0.15, count)
        pitch_change = np.radians(rng.uniform(-5.0, 5.0, count))
        roll_change = np.radians(rng.uniform(-4.0, 4.0, count))
        # The last movement settles back into the seat the fidget started from.
        pitch_change[-1] = -pitch_change[:-1].sum()
        roll_change[-1] = -roll_change[:-1].sum()
        plan.movements = np.column_stack(
            (starts, movement_s, directions, peak_g, pitch_change, roll_change)
        )

    # ------------------------------------------------------------------- synthesis

    def _body_signal(self, t_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Specific force in the body-segment frame (gravity reaction + linear acceleration)."""
        out = np.empty((t_s.size, 3))
        if t_s.size == 0:
            return out
        # Beyond the end the last segment continues (still), so clip the plan lookup.
        plan_index = np.clip(np.searchsorted(self._starts_s, t_s, side="right") - 1, 0, None)
        for index in np.unique(plan_index):
            mask = plan_index == index
            out[mask] = self._segment_signal(self._plans[int(index)], t_s[mask])
        return out

    def _segment_signal(self, plan: _Plan, t_s: NDArray[np.float64]) -> NDArray[np.float64]:
        relative_s = t_s - plan.start_s
        progress = np.clip(relative_s / plan.transition_s, 0.0, 1.0)
        blend = _minimum_jerk(progress)
        pitch = plan.previous_pitch_rad + (plan.pitch_rad - plan.previous_pitch_rad) * blend
        roll = plan.previous_roll_rad + (plan.roll_rad - plan.previous_roll_rad) * blend
        if plan.segment.activity != "off":  # breathing rocks the trunk by ~0.3 degrees
            pitch = pitch + math.radians(0.3) * np.sin(
                2 * math.pi * plan.breathing_hz * t_s + plan.breathing_phase
            )
        linear = np.zeros((t_s.size, 3))
        activity = plan.segment.activity
        if activity == "fidget":
            pitch, roll = self._add_fidget(plan, relative_s, pitch, roll, linear)
        # Unit vector of "up" in the body frame: gravity's reaction, 1 g at rest.
        up = np.column_stack(
            (np.sin(pitch), np.cos(pitch) * np.sin(roll), np.cos(pitch) * np.cos(roll))
        )
        vertical_g = np.zeros(t_s.size)
        if activity == "fall":
            vertical_g += self._fall_vertical_g(relative_s)
        elif plan.height_m != plan.previous_height_m:
            # Raising or lowering the trunk along a minimum-jerk path.
            in_transition = progress < 1.0
            vertical_g[in_transition] = (
                (plan.height_m - plan.previous_height_m)
                / plan.transition_s**2
                * _minimum_jerk_second_derivative(progress[in_transition])
                / STANDARD_GRAVITY_MS2
            )
        if plan.heel_strikes_s.size:
            linear += self._gait_acceleration(plan, t_s)
        return up * (1.0 + vertical_g)[:, None] + linear

    def _add_fidget(
        self,
        plan: _Plan,
        relative_s: NDArray[np.float64],
        pitch: NDArray[np.float64],
        roll: NDArray[np.float64],
        linear: NDArray[np.float64],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        pitch = pitch.copy()
        roll = roll.copy()
        for start_s, movement_s, dx, dy, dz, peak_g, pitch_change, roll_change in plan.movements:
            progress = np.clip((relative_s - start_s) / movement_s, 0.0, 1.0)
            # A minimum-jerk movement: the trunk leans to its new angle, and the body part
            # moved accelerates then brakes (a biphasic pulse, zero outside the movement).
            pitch += pitch_change * _minimum_jerk(progress)
            roll += roll_change * _minimum_jerk(progress)
            pulse = np.where(
                (progress > 0.0) & (progress < 1.0),
                _minimum_jerk_second_derivative(progress) / _MINIMUM_JERK_PEAK,
                0.0,
            )
            linear += (peak_g * pulse)[:, None] * np.array([dx, dy, dz])
        return pitch, roll

    def _gait_acceleration(self, plan: _Plan, t_s: NDArray[np.float64]) -> NDArray[np.float64]:
        strikes = plan.heel_strikes_s
        step = np.clip(np.searchsorted(strikes, t_s, side="right") - 1, 0, strikes.size - 2)
        step_start = strikes[step]
        step_length = strikes[step + 1] - step_start
        phase = np.clip((t_s - step_start) / step_length, 0.0, 1.0)
        amplitude = plan.step_amplitude_g[step]
        side = np.where(step % 2 == 0, 1.0, -1.0)
        angle = 2 * math.pi * phase
        # Vertical: peak after initial contact, second harmonic from the double support.
        vertical = amplitude * (np.cos(angle) + 0.35 * np.cos(2 * angle + plan.harmonic_phase))
        anterior = (
            self._model.anterior_gait_ratio
            * amplitude
            * (-np.sin(angle) + 0.3 * np.sin(2 * angle + plan.harmonic_phase))
        )
        # Medio-lateral sway at the stride frequency: one half-wave per step, sign by side.
        lateral = self._model.lateral_gait_ratio * amplitude * side * np.sin(np.pi * phase)
        envelope = self._envelope(t_s - plan.start_s, plan.segment.duration_s, ramp_s=0.5)
        return envelope[:, None] * np.column_stack((anterior, lateral, vertical))

    @staticmethod
    def _envelope(
        relative_s: NDArray[np.float64], duration_s: float, *, ramp_s: float
    ) -> NDArray[np.float64]:
        ramp = min(ramp_s, duration_s / 2.0)
        rising = np.clip(relative_s / ramp, 0.0, 1.0)
        falling = np.clip((duration_s - relative_s) / ramp, 0.0, 1.0)
        return np.minimum(_minimum_jerk(rising), _minimum_jerk(falling))

    @staticmethod
    def _fall_vertical_g(relative_s: NDArray[np.float64]) -> NDArray[np.float64]:
        # 0.4 s of partial free fall (the sensor reads ~0.3 g), then an impact of ~3 g.
        free_fall = np.where(relative_s < 0.4, -0.7, 0.0)
        impact = 2.6 * np.exp(-0.5 * ((relative_s - 0.45) / 0.03) ** 2)
        return free_fall + impact

    def _noise(self, first_index: int, n: int) -> NDArray[np.float64]:
        if n == 0 or self.noise_g == 0:
            return np.zeros((n, 3))
        first_block = first_index // _NOISE_BLOCK_SAMPLES
        last_block = (first_index + n - 1) // _NOISE_BLOCK_SAMPLES
        blocks = [self._noise_block(block) for block in range(first_block, last_block + 1)]
        offset = first_index - first_block * _NOISE_BLOCK_SAMPLES
        return np.concatenate(blocks)[offset : offset + n]

    def _noise_block(self, block: int) -> NDArray[np.float64]:
        # Streams read small chunks in order: keep the latest blocks instead of redrawing.
        cached = self._noise_cache.get(block)
        if cached is None:
            cached = np.random.default_rng([self.seed, _NOISE_STREAM_KEY, block]).normal(
                0.0, self.noise_g, (_NOISE_BLOCK_SAMPLES, 3)
            )
            if len(self._noise_cache) >= _NOISE_CACHE_BLOCKS:
                del self._noise_cache[next(iter(self._noise_cache))]
            self._noise_cache[block] = cached
        return cached
