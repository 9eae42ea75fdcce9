"""Records on their way to the database, and their JSON form in the on-disk outbox.

Everything the hub stores passes through :class:`~sensorhub.store.outbox.Outbox` before it
reaches the database, so every record has a plain JSON form here: explicit, versioned by the
``type`` tag, and never pickled (an outbox file is data, not code).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sensorhub.model import (
    EVENT_NAMESPACE,
    CurrentBout,
    EpochSummary,
    Event,
    Fall,
    GaitBout,
    NonWear,
    Posture,
    PostureSegment,
    StaticBout,
)

__all__ = [
    "AlertRecord",
    "DeviceRecord",
    "LiveRecord",
    "NudgeRecord",
    "NudgeResponseRecord",
    "Record",
    "WearerRecords",
    "nudge_id",
    "record_from_json",
    "record_to_json",
]


def nudge_id(wearer_id: str, bout_start_ns: int, ordinal: int) -> uuid.UUID:
    """Deterministic id of the ``ordinal``-th nudge (1, 2, ...) of a static bout.

    Ordinal 0 is the day's walking-goal nudge, ``bout_start_ns`` then the start of the
    wearer's local day (one a day). A replay of the same data, or a restart that resumes
    the bout, gives the same id, so a nudge is stored once however often its record is
    written.
    """
    return uuid.uuid5(EVENT_NAMESPACE, f"{wearer_id}/nudge/{bout_start_ns}/{ordinal}")


@dataclass(frozen=True, slots=True)
class NudgeRecord:
    """A nudge that the engine decided on, and what delivering it gave.

    ``delivery`` is ``"pending"`` when decided, then the band's result (see
    :class:`sensorhub.service.dispatcher.NudgeDispatcher`). The record is upserted by ``id``.
    """

    wearer_id: str
    sent_ns: int
    reason: str
    bout_start_ns: int
    bout_duration_s: float
    level: int
    message: str
    channel: str
    delivery: str
    exercise_id: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True, slots=True)
class NudgeResponseRecord:
    """What came of a nudge: ``outcome`` is ``"moved"`` (the runtime saw a break follow it),
    ``"done"`` or ``"snoozed"`` (the wearer's answer).

    ``responded_ns`` is when (device time), ``response_s`` how long after the nudge, and
    ``snoozed_until_ns`` the end of a snooze. Applied by
    :func:`sensorhub.store.nudge_loop.apply_response` (first response wins), so writing it
    twice, or after a restart, changes nothing.
    """

    wearer_id: str
    nudge_id: uuid.UUID
    outcome: str
    responded_ns: int
    response_s: float
    snoozed_until_ns: int | None = None


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One transition of a caregiver alert (see :mod:`sensorhub.alerts`), upserted by ``id``.

    The store never moves an alert backwards: a record whose state is not ahead of the
    stored one (pending < open < acknowledged/resolved/cancelled) changes nothing, so a
    replay, or a transition the rules decided after a caregiver acknowledged or the wearer
    cancelled, leaves the stored alert as it is.

    Attributes
    ----------
    updated_ns
        UTC (the hub's clock) of this transition; the first record of an alert also sets
        its ``opened_at``.
    cause_ns
        The device clock's time of the cause (``opened_device_at``).
    cancel_until_ns
        End of the wearer's window to cancel (possible falls).
    subject
        The device or gait metric the alert is about ("" when none; kept in the evidence).
    """

    id: uuid.UUID
    wearer_id: str
    kind: str
    severity: str
    state: str
    reason: str
    updated_ns: int
    cause_ns: int | None = None
    cancel_until_ns: int | None = None
    subject: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """A device bound to a wearer, with its latest health figures."""

    address: str
    wearer_id: str
    profile: str
    name: str
    placement: str
    battery_pct: int | None = None
    last_seen_ns: int | None = None
    counters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LiveRecord:
    """A wearer's live state: posture, the bout in progress, and since when the device has
    not moved at all (None while it moves); ``device_time_ns`` is the latest sample's.

    ``upright_axis`` is the body's vertical axis the pipeline learnt from walking (device
    axes), kept so that a restarted hub reads a thigh or hip sensor's posture as before the
    restart instead of taking the first orientation it sees for upright (outbox only: the
    database's live state has no column for it, nor for the bout's ``interrupted_s`` and
    ``active_s``, which a hub resumed from the database takes as 0).
    """

    wearer_id: str
    posture: Posture
    bout: CurrentBout | None
    device_time_ns: int
    still_since_ns: int | None = None
    upright_axis: tuple[float, float, float] | None = None
    #: start of the wearer's current period without steps (the long-inactivity alert's
    #: count), so that a restart does not start it again (outbox only, like upright_axis)
    quiet_since_ns: int | None = None


@dataclass(frozen=True, slots=True)
class WearerRecords:
    """Events and epochs of one wearer, written in one transaction."""

    wearer_id: str
    events: tuple[Event, ...] = ()
    epochs: tuple[EpochSummary, ...] = ()


#: What the outbox carries.
Record = WearerRecords | NudgeRecord | NudgeResponseRecord | DeviceRecord | LiveRecord | AlertRecord

_EVENT_TYPES: Final[Mapping[str, type[Any]]] = {
    cls.kind: cls for cls in (StaticBout, PostureSegment, GaitBout, Fall, NonWear)
}


def _float(value: float | None) -> float | None:
    # JSON has no NaN: stored as null, read back as NaN where the field is a float
    return None if value is None or not math.isfinite(value) else float(value)


def _event_to_json(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": event.kind, "start_ns": event.start_ns}
    if isinstance(event, StaticBout | PostureSegment):
        out.update(end_ns=event.end_ns, posture=str(event.posture))
    elif isinstance(event, NonWear):
        out.update(end_ns=event.end_ns)
    elif isinstance(event, Fall):
        out.update(confidence=event.confidence)
    else:
        out.update(
            end_ns=event.end_ns,
            steps=event.steps,
            cadence_spm=_float(event.cadence_spm),
            **{
                name: _float(getattr(event, name))
                for name in (
                    "stride_time_s",
                    "stride_time_cv_pct",
                    "step_regularity",
                    "stride_regularity",
                    "asymmetry_pct",
                    "speed_mps",
                    "harmonic_ratio",
                    "shuffling_pct",
                )
            },
        )
    return out


def _event_from_json(data: Mapping[str, Any]) -> Event:
    fields = {k: v for k, v in data.items() if k != "kind"}
    cls = _EVENT_TYPES[data["kind"]]
    if "posture" in fields:
        fields["posture"] = Posture(fields["posture"])
    if cls is GaitBout and fields.get("cadence_spm") is None:
        fields["cadence_spm"] = math.nan
    event: Event = cls(**fields)
    return event


def _epoch_to_json(epoch: EpochSummary) -> dict[str, Any]:
    return {
        "start_ns": epoch.start_ns,
        "duration_s": epoch.duration_s,
        "posture": str(epoch.posture),
        "enmo_mg": _float(epoch.enmo_mg),
        "steps": epoch.steps,
        "worn": epoch.worn,
        "posture_seconds": dict(epoch.posture_seconds),
        "mad_mg": _float(epoch.mad_mg),
    }


def _epoch_from_json(data: Mapping[str, Any]) -> EpochSummary:
    return EpochSummary(
        start_ns=data["start_ns"],
        duration_s=data["duration_s"],
        posture=Posture(data["posture"]),
        enmo_mg=math.nan if data["enmo_mg"] is None else data["enmo_mg"],
        steps=data["steps"],
        worn=data["worn"],
        posture_seconds=data["posture_seconds"],
        mad_mg=data["mad_mg"],
    )


def _bout_to_json(bout: CurrentBout | None) -> dict[str, Any] | None:
    if bout is None:
        return None
    return {
        "start_ns": bout.start_ns,
        "posture": str(bout.posture),
        "last_ns": bout.last_ns,
        "interrupted_s": bout.interrupted_s,
        "active_s": bout.active_s,
    }


def _bout_from_json(data: Mapping[str, Any] | None) -> CurrentBout | None:
    if data is None:
        return None
    return CurrentBout(
        data["start_ns"],
        Posture(data["posture"]),
        data["last_ns"],
        float(data.get("interrupted_s", 0.0)),
        float(data.get("active_s", 0.0)),
    )


def _axis(value: Any) -> tuple[float, float, float] | None:
    if value is None:
        return None
    x, y, z = (float(v) for v in value)
    return (x, y, z)


def record_to_json(record: Record) -> dict[str, Any]:
    """The JSON form of a record (a ``type`` tag and its fields)."""
    if isinstance(record, WearerRecords):
        return {
            "type": "wearer_records",
            "wearer_id": record.wearer_id,
            "events": [_event_to_json(e) for e in record.events],
            "epochs": [_epoch_to_json(e) for e in record.epochs],
        }
    if isinstance(record, NudgeRecord):
        return {
            "type": "nudge",
            "wearer_id": record.wearer_id,
            "sent_ns": record.sent_ns,
            "reason": record.reason,
            "bout_start_ns": record.bout_start_ns,
            "bout_duration_s": record.bout_duration_s,
            "level": record.level,
            "message": record.message,
            "channel": record.channel,
            "delivery": record.delivery,
            "exercise_id": record.exercise_id,
            "id": str(record.id),
        }
    if isinstance(record, NudgeResponseRecord):
        return {
            "type": "nudge_response",
            "wearer_id": record.wearer_id,
            "nudge_id": str(record.nudge_id),
            "outcome": record.outcome,
            "responded_ns": record.responded_ns,
            "response_s": record.response_s,
            "snoozed_until_ns": record.snoozed_until_ns,
        }
    if isinstance(record, AlertRecord):
        return {
            "type": "alert",
            "id": str(record.id),
            "wearer_id": record.wearer_id,
            "kind": record.kind,
            "severity": record.severity,
            "state": record.state,
            "reason": record.reason,
            "updated_ns": record.updated_ns,
            "cause_ns": record.cause_ns,
            "cancel_until_ns": record.cancel_until_ns,
            "subject": record.subject,
            "evidence": record.evidence,
        }
    if isinstance(record, DeviceRecord):
        return {
            "type": "device",
            "address": record.address,
            "wearer_id": record.wearer_id,
            "profile": record.profile,
            "name": record.name,
            "placement": record.placement,
            "battery_pct": record.battery_pct,
            "last_seen_ns": record.last_seen_ns,
            "counters": record.counters,
        }
    return {
        "type": "live",
        "wearer_id": record.wearer_id,
        "posture": str(record.posture),
        "bout": _bout_to_json(record.bout),
        "device_time_ns": record.device_time_ns,
        "still_since_ns": record.still_since_ns,
        "upright_axis": None if record.upright_axis is None else list(record.upright_axis),
        "quiet_since_ns": record.quiet_since_ns,
    }


def record_from_json(data: Mapping[str, Any]) -> Record:
    """The record of a JSON form written by :func:`record_to_json`.

    Raises
    ------
    ValueError
        If the data is not a record of a known type (a damaged or foreign outbox).
    """
    try:
        kind = data["type"]
        fields = {k: v for k, v in data.items() if k != "type"}
        if kind == "wearer_records":
            return WearerRecords(
                fields["wearer_id"],
                tuple(_event_from_json(e) for e in fields["events"]),
                tuple(_epoch_from_json(e) for e in fields["epochs"]),
            )
        if kind == "nudge":
            fields["id"] = uuid.UUID(fields["id"])
            return NudgeRecord(**fields)
        if kind == "nudge_response":
            fields["nudge_id"] = uuid.UUID(fields["nudge_id"])
            return NudgeResponseRecord(**fields)
        if kind == "device":
            return DeviceRecord(**fields)
        if kind == "alert":
            fields["id"] = uuid.UUID(fields["id"])
            return AlertRecord(**fields)
        if kind == "live":
            return LiveRecord(
                fields["wearer_id"],
                Posture(fields["posture"]),
                _bout_from_json(fields["bout"]),
                fields["device_time_ns"],
                fields["still_since_ns"],
                _axis(fields.get("upright_axis")),
                fields.get("quiet_since_ns"),
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a sensorhub outbox record ({exc!r})") from exc
    raise ValueError(f"unknown outbox record type {kind!r}")
