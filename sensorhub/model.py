"""Domain types shared by every layer of sensorhub (pure: numpy only).

These are the contracts between the collector, the detection pipeline, the store, the nudge
engine and the dashboard. Times are integers in nanoseconds since the Unix epoch (UTC) and
named ``*_ns``; physical units are part of every field name.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Final

import numpy as np
from numpy.typing import NDArray

NS_PER_S: Final = 1_000_000_000

#: Namespace for deterministic event ids (uuid5), so that re-analysing the same data or
#: re-sending the same event upserts instead of duplicating.
EVENT_NAMESPACE: Final = uuid.UUID("6f1c2a9e-5d1b-4b8e-9a57-3f0d2c7b1e42")


class Placement(enum.StrEnum):
    """Where on the body a device is worn (DESIGN.md section 6)."""

    WRIST = "wrist"
    LOWER_BACK = "lower_back"
    HIP = "hip"
    THIGH = "thigh"
    CHEST = "chest"
    POCKET = "pocket"
    FOOT = "foot"


class Posture(enum.StrEnum):
    """Posture/activity label of an epoch (DESIGN.md section 4.1)."""

    LYING = "lying"
    SITTING = "sitting"
    STANDING = "standing"
    WALKING = "walking"
    ACTIVE = "active"
    #: still and upright where the placement cannot tell sitting from standing
    STATIONARY = "stationary"
    NONWEAR = "nonwear"
    UNKNOWN = "unknown"

    @property
    def is_static(self) -> bool:
        """True for the postures that load the body statically (sitting, standing, still)."""
        return self in (Posture.SITTING, Posture.STANDING, Posture.STATIONARY)


@dataclass(frozen=True, slots=True, eq=False)
class SampleBlock:
    """A block of consecutive inertial samples of one device.

    Parameters
    ----------
    t_ns
        Sample times, int64 ns since the Unix epoch (UTC), strictly increasing.
    acc_g
        Acceleration in g, float64, shape (N, 3), device axes.
    gyro_dps
        Angular rate in degrees per second, shape (N, 3), or None when the device has none.
    fs_hz
        Nominal sampling rate of the stream.
    gap_before_ns
        Length of a gap (missing data) immediately before the first sample, 0 if contiguous.
        Gaps are recorded, never filled with invented samples.
    """

    t_ns: NDArray[np.int64]
    acc_g: NDArray[np.float64]
    fs_hz: float
    gyro_dps: NDArray[np.float64] | None = None
    gap_before_ns: int = 0

    def __post_init__(self) -> None:
        if self.t_ns.ndim != 1 or self.acc_g.shape != (self.t_ns.shape[0], 3):
            raise ValueError(
                f"SampleBlock needs t_ns of shape (N,) and acc_g of shape (N, 3); got "
                f"{self.t_ns.shape} and {self.acc_g.shape}"
            )
        if self.gyro_dps is not None and self.gyro_dps.shape != self.acc_g.shape:
            raise ValueError(f"gyro_dps shape {self.gyro_dps.shape} != acc_g {self.acc_g.shape}")
        if not self.fs_hz > 0:
            raise ValueError(f"fs_hz must be positive, got {self.fs_hz}")

    def __len__(self) -> int:
        return int(self.t_ns.shape[0])

    @property
    def start_ns(self) -> int:
        """Time of the first sample (0 for an empty block)."""
        return int(self.t_ns[0]) if len(self) else 0

    @property
    def end_ns(self) -> int:
        """Time of the last sample (0 for an empty block)."""
        return int(self.t_ns[-1]) if len(self) else 0


def event_id(wearer_id: str, kind: str, start_ns: int) -> uuid.UUID:
    """Deterministic id of an event: the same wearer, kind and start give the same id."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{wearer_id}/{kind}/{start_ns}")


@dataclass(frozen=True, slots=True)
class StaticBout:
    """A finished period of continuous static loading (sitting, standing or still-upright)."""

    kind: ClassVar[str] = "static_bout"
    start_ns: int
    end_ns: int
    posture: Posture

    @property
    def duration_s(self) -> float:
        """Length of the bout in seconds."""
        return (self.end_ns - self.start_ns) / NS_PER_S


@dataclass(frozen=True, slots=True)
class CurrentBout:
    """The static bout in progress (live state for the nudge engine and the dashboard)."""

    start_ns: int
    posture: Posture
    #: device time of the latest evidence folded into the bout
    last_ns: int
    #: seconds of finished interruptions (short walks, other postures, moving in place) inside
    #: the bout so far (:class:`~sensorhub.detect.static_load.StaticLoadTracker`)
    interrupted_s: float = 0.0
    #: ... of which moving in place (``active``), which does not count towards a break
    active_s: float = 0.0

    @property
    def duration_s(self) -> float:
        """Length of the bout so far, in seconds of device time."""
        return (self.last_ns - self.start_ns) / NS_PER_S


@dataclass(frozen=True, slots=True)
class PostureSegment:
    """A run of epochs with the same posture label."""

    kind: ClassVar[str] = "posture"
    start_ns: int
    end_ns: int
    posture: Posture


@dataclass(frozen=True, slots=True)
class GaitBout:
    """A walking bout with its gait metrics (None where the placement cannot measure one)."""

    kind: ClassVar[str] = "gait_bout"
    start_ns: int
    end_ns: int
    steps: int
    cadence_spm: float
    stride_time_s: float | None = None
    stride_time_cv_pct: float | None = None
    step_regularity: float | None = None
    stride_regularity: float | None = None
    asymmetry_pct: float | None = None
    speed_mps: float | None = None
    #: median vertical harmonic ratio of the bout's strides (trunk placements; Menz 2003)
    harmonic_ratio: float | None = None
    #: share of the bout's steps that are shuffling (short steps; needs the sensor height)
    shuffling_pct: float | None = None


@dataclass(frozen=True, slots=True)
class Fall:
    """A possible fall: an impact followed by lying or a changed orientation and stillness."""

    kind: ClassVar[str] = "fall"
    start_ns: int
    confidence: float

    @property
    def end_ns(self) -> int:
        """A fall is an instant: it ends where it starts."""
        return self.start_ns


@dataclass(frozen=True, slots=True)
class NonWear:
    """An interval in which the device was not worn."""

    kind: ClassVar[str] = "nonwear"
    start_ns: int
    end_ns: int


@dataclass(frozen=True, slots=True)
class EpochSummary:
    """One epoch (default 60 s) of a wearer's day, as stored in the ``epoch`` table."""

    start_ns: int
    duration_s: float
    posture: Posture
    enmo_mg: float
    steps: int = 0
    worn: bool = True
    posture_seconds: Mapping[str, float] = field(default_factory=dict)
    #: mean amplitude deviation of |a| (Vähä-Ypyä et al. 2015), mean of one-second values, mg
    #: (None where not measured, e.g. epochs from a step counter)
    mad_mg: float | None = None


#: Everything a pipeline emits.
Event = StaticBout | PostureSegment | GaitBout | Fall | NonWear
