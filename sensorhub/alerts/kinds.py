"""What an alert is: its kind, state, severity and identity (plain values, no I/O).

An alert has one id per cause, derived from the wearer, the kind, the thing it is about (a
device, a gait metric; empty for most kinds) and the device-clock time of the cause
(:func:`alert_id`): replaying the same data, or a restart that meets the same cause again,
gives the same id, and the store upserts it, so an alert is never raised twice for one cause.

States move forward only (:func:`moves_forward`)::

    pending --> open --> acknowledged
       |          \\---> resolved
       \\--> cancelled (the wearer got up or said "I'm OK" within the cancel window)

``pending`` exists for possible falls only (the wearer's window to cancel); every other kind
opens at once. ``acknowledged``, ``resolved`` and ``cancelled`` are final.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from sensorhub.model import EVENT_NAMESPACE

__all__ = [
    "FINAL_STATES",
    "SEVERITY",
    "Alert",
    "AlertKind",
    "AlertState",
    "Severity",
    "alert_id",
    "moves_forward",
    "state_rank",
]


class AlertKind(enum.StrEnum):
    """What an alert is about."""

    POSSIBLE_FALL = "possible_fall"
    LONG_INACTIVITY = "long_inactivity"
    BAND_NOT_WORN = "band_not_worn"
    DEVICE_OFFLINE = "device_offline"
    BATTERY_LOW = "battery_low"
    GAIT_CHANGE = "gait_change"


class AlertState(enum.StrEnum):
    """Where an alert is in its life (see the module docstring)."""

    #: a possible fall inside the wearer's window to cancel; caregivers are not told yet
    PENDING = "pending"
    #: caregivers are to be told (the notifier delivers open alerts)
    OPEN = "open"
    #: a caregiver said they are on it
    ACKNOWLEDGED = "acknowledged"
    #: the cause went away by itself (the wearer moved, the band is back)
    RESOLVED = "resolved"
    #: the wearer got up and walked, or said "I'm OK", within the cancel window
    CANCELLED = "cancelled"


class Severity(enum.StrEnum):
    """How urgent an alert is; the notifier holds non-urgent ones during quiet hours."""

    #: a possible fall: told at once, also during quiet hours
    URGENT = "urgent"
    WARNING = "warning"
    INFO = "info"


#: Severity of each kind.
SEVERITY: Final[Mapping[AlertKind, Severity]] = MappingProxyType(
    {
        AlertKind.POSSIBLE_FALL: Severity.URGENT,
        AlertKind.LONG_INACTIVITY: Severity.WARNING,
        AlertKind.BAND_NOT_WORN: Severity.WARNING,
        AlertKind.DEVICE_OFFLINE: Severity.WARNING,
        AlertKind.BATTERY_LOW: Severity.INFO,
        AlertKind.GAIT_CHANGE: Severity.INFO,
    }
)

#: States an alert never leaves.
FINAL_STATES: Final = frozenset(
    {AlertState.ACKNOWLEDGED, AlertState.RESOLVED, AlertState.CANCELLED}
)

_RANK: Final[Mapping[AlertState, int]] = MappingProxyType(
    {
        AlertState.PENDING: 0,
        AlertState.OPEN: 1,
        AlertState.ACKNOWLEDGED: 2,
        AlertState.RESOLVED: 2,
        AlertState.CANCELLED: 2,
    }
)


def state_rank(state: AlertState | str) -> int:
    """0 pending, 1 open, 2 final: a stored alert only moves to a higher rank."""
    return _RANK[AlertState(state)]


def moves_forward(stored: AlertState | str, new: AlertState | str) -> bool:
    """Whether an alert stored in ``stored`` may move to ``new`` (never backwards, and a
    final state stays)."""
    return state_rank(new) > state_rank(stored)


def alert_id(wearer_id: str, kind: AlertKind | str, cause_ns: int, subject: str = "") -> uuid.UUID:
    """Deterministic id of the alert of one cause: uuid5 of ``wearer/kind/cause_ns``.

    ``subject`` tells apart alerts of one kind whose causes may coincide (the device address
    of ``device_offline`` and ``battery_low``, the metric of ``gait_change``):
    ``wearer/kind/subject/cause_ns``.
    """
    key = f"{wearer_id}/{AlertKind(kind)}/{cause_ns}"
    if subject:
        key = f"{wearer_id}/{AlertKind(kind)}/{subject}/{cause_ns}"
    return uuid.uuid5(EVENT_NAMESPACE, key)


@dataclass(frozen=True, slots=True)
class Alert:
    """One transition of one alert, as the rules produce it (times in ns since the epoch).

    Attributes
    ----------
    id
        The alert's identity (:func:`alert_id`); every transition of it carries the same id.
    wearer_id, kind, severity, state
        Whose, what, how urgent, and the state it moves to.
    reason
        In plain words for a caregiver; never a diagnosis.
    cause_ns
        Device-clock time of the cause (the impact, the last walk, the start of non-wear; the
        hub's clock for device health).
    at_ns
        When this transition was decided, on the clock of the data that decided it.
    subject
        The device address or gait metric the alert is about ("" when none).
    cancel_until_ns
        End of the wearer's window to cancel (possible falls), else None.
    evidence
        Figures behind it (JSON-compatible).
    """

    id: uuid.UUID
    wearer_id: str
    kind: AlertKind
    state: AlertState
    reason: str
    cause_ns: int
    at_ns: int
    subject: str = ""
    cancel_until_ns: int | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        """How urgent the alert is (by kind)."""
        return SEVERITY[self.kind]
