"""The write path: everything the collector and pipeline store goes through here.

Writes are idempotent where the data has a natural identity (events by their deterministic
uuid, epochs by wearer and minute, devices by address), so replaying a stream or re-importing
a recording never duplicates anything.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sensorhub.errors import StorageError
from sensorhub.model import (
    CurrentBout,
    EpochSummary,
    Event,
    Fall,
    GaitBout,
    NonWear,
    Posture,
    PostureSegment,
    StaticBout,
    event_id,
)
from sensorhub.store.database import describe_error
from sensorhub.store.models import (
    DeviceRow,
    EpochRow,
    EventRow,
    LiveStateRow,
    NudgeRow,
    WearerRow,
)

_UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def utc_from_ns(t_ns: int) -> dt.datetime:
    """UTC datetime of a nanosecond Unix timestamp (truncated to microseconds, exact)."""
    return _UNIX_EPOCH + dt.timedelta(microseconds=t_ns // 1000)


def ns_from_utc(when: dt.datetime) -> int:
    """Nanosecond Unix timestamp of an aware datetime."""
    return (when - _UNIX_EPOCH) // dt.timedelta(microseconds=1) * 1000


@dataclass(frozen=True, slots=True)
class NudgeRecord:
    """A nudge that the engine decided on and a channel tried to deliver."""

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


def _insert_for(session: Session, table: Table) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise StorageError(f"unsupported database dialect {dialect!r}")


def _event_row(wearer_id: str, event: Event, now: dt.datetime) -> dict[str, Any]:
    posture: str | None = None
    data: dict[str, Any] = {}
    if isinstance(event, StaticBout | PostureSegment):
        posture = str(event.posture)
    elif isinstance(event, GaitBout):
        data = {
            name: getattr(event, name)
            for name in (
                "steps",
                "cadence_spm",
                "stride_time_s",
                "stride_time_cv_pct",
                "step_regularity",
                "stride_regularity",
                "asymmetry_pct",
                "speed_mps",
                "harmonic_ratio",
                "shuffling_pct",
            )
        }
    elif isinstance(event, Fall):
        data = {"confidence": event.confidence}
    elif not isinstance(event, NonWear):
        raise TypeError(f"not a storable event: {event!r}")
    return {
        "id": event_id(wearer_id, event.kind, event.start_ns),
        "wearer_id": wearer_id,
        "kind": event.kind,
        "start_at": utc_from_ns(event.start_ns),
        "end_at": utc_from_ns(event.end_ns),
        "posture": posture,
        "data": data,
        "created_at": now,
    }


class Repository:
    """Write access to a sensorhub database (thread-safe; one short transaction per call)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    def _write(self, work: Any) -> None:
        try:
            with self._session() as session, session.begin():
                work(session)
        except SQLAlchemyError as exc:
            raise StorageError(
                f"writing to the database failed: {exc.__class__.__name__}: {describe_error(exc)}. "
                "Nothing of this write was stored; the caller keeps it to retry"
            ) from exc

    def ensure_wearer(self, wearer_id: str, display_name: str, *, timezone: str = "UTC") -> None:
        """Create the wearer if it does not exist (an existing wearer is left unchanged)."""

        def work(session: Session) -> None:
            stmt = _insert_for(session, WearerRow.__table__).values(  # type: ignore[arg-type]
                id=wearer_id,
                display_name=display_name,
                timezone=timezone,
                created_at=dt.datetime.now(dt.UTC),
            )
            session.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))  # type: ignore[attr-defined]

        self._write(work)

    def upsert_device(self, device: DeviceRecord) -> None:
        """Create or update a device (binding, battery, last seen, counters)."""

        def work(session: Session) -> None:
            values = {
                "address": device.address,
                "wearer_id": device.wearer_id,
                "profile": device.profile,
                "name": device.name,
                "placement": device.placement,
                "battery_pct": device.battery_pct,
                "last_seen_at": None
                if device.last_seen_ns is None
                else utc_from_ns(device.last_seen_ns),
                "counters": device.counters,
            }
            stmt = _insert_for(session, DeviceRow.__table__).values(**values)  # type: ignore[arg-type]
            update = {k: stmt.excluded[k] for k in values if k != "address"}  # type: ignore[attr-defined]
            session.execute(
                stmt.on_conflict_do_update(index_elements=["address"], set_=update)  # type: ignore[attr-defined]
            )

        self._write(work)

    def save_events(self, wearer_id: str, events: Sequence[Event]) -> int:
        """Upsert events by their deterministic id; returns how many were given."""
        if not events:
            return 0
        now = dt.datetime.now(dt.UTC)
        rows = [_event_row(wearer_id, event, now) for event in events]

        def work(session: Session) -> None:
            stmt = _insert_for(session, EventRow.__table__)  # type: ignore[arg-type]
            update = {k: stmt.excluded[k] for k in ("end_at", "posture", "data")}  # type: ignore[attr-defined]
            session.execute(
                stmt.on_conflict_do_update(index_elements=["id"], set_=update),  # type: ignore[attr-defined]
                rows,
            )

        self._write(work)
        return len(rows)

    def save_epochs(self, wearer_id: str, epochs: Iterable[EpochSummary]) -> int:
        """Upsert one-minute epoch summaries; returns how many were given."""
        rows = [
            {
                "wearer_id": wearer_id,
                "start_at": utc_from_ns(epoch.start_ns),
                "duration_s": epoch.duration_s,
                "posture": str(epoch.posture),
                "enmo_mg": epoch.enmo_mg if math.isfinite(epoch.enmo_mg) else None,
                "steps": epoch.steps,
                "worn": epoch.worn,
            }
            for epoch in epochs
        ]
        if not rows:
            return 0

        def work(session: Session) -> None:
            stmt = _insert_for(session, EpochRow.__table__)  # type: ignore[arg-type]
            update = {
                k: stmt.excluded[k]  # type: ignore[attr-defined]
                for k in ("duration_s", "posture", "enmo_mg", "steps", "worn")
            }
            session.execute(
                stmt.on_conflict_do_update(  # type: ignore[attr-defined]
                    index_elements=["wearer_id", "start_at"], set_=update
                ),
                rows,
            )

        self._write(work)
        return len(rows)

    def save_live_state(
        self,
        wearer_id: str,
        *,
        posture: Posture,
        bout: CurrentBout | None,
        device_time_ns: int,
        still_since_ns: int | None = None,
    ) -> None:
        """Replace the wearer's live state (current posture, the bout in progress, and since
        when the device has not moved at all, if it is motionless)."""
        values = {
            "wearer_id": wearer_id,
            "posture": str(posture),
            "bout_posture": None if bout is None else str(bout.posture),
            "bout_start_at": None if bout is None else utc_from_ns(bout.start_ns),
            "device_time_at": utc_from_ns(device_time_ns),
            "updated_at": dt.datetime.now(dt.UTC),
            "still_since_at": None if still_since_ns is None else utc_from_ns(still_since_ns),
        }

        def work(session: Session) -> None:
            stmt = _insert_for(session, LiveStateRow.__table__).values(**values)  # type: ignore[arg-type]
            update = {k: stmt.excluded[k] for k in values if k != "wearer_id"}  # type: ignore[attr-defined]
            session.execute(
                stmt.on_conflict_do_update(index_elements=["wearer_id"], set_=update)  # type: ignore[attr-defined]
            )

        self._write(work)

    def save_nudge(self, nudge: NudgeRecord) -> None:
        """Store a nudge and its delivery result."""

        def work(session: Session) -> None:
            session.add(
                NudgeRow(
                    id=nudge.id,
                    wearer_id=nudge.wearer_id,
                    sent_at=utc_from_ns(nudge.sent_ns),
                    reason=nudge.reason,
                    bout_start_at=utc_from_ns(nudge.bout_start_ns),
                    bout_duration_s=nudge.bout_duration_s,
                    level=nudge.level,
                    message=nudge.message,
                    exercise_id=nudge.exercise_id,
                    channel=nudge.channel,
                    delivery=nudge.delivery,
                )
            )

        self._write(work)
