"""The read path: what the dashboard, reports and caregivers may see.

Results are plain frozen dataclasses; ORM rows never leave this package.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sensorhub.errors import StorageError
from sensorhub.store.database import describe_error
from sensorhub.store.models import DeviceRow, EpochRow, EventRow, LiveStateRow, NudgeRow, WearerRow


@dataclass(frozen=True, slots=True)
class WearerView:
    """A wearer as listed on the dashboard."""

    id: str
    display_name: str
    timezone: str


@dataclass(frozen=True, slots=True)
class LiveView:
    """The live state of a wearer: current posture and the static bout in progress."""

    posture: str
    bout_posture: str | None
    bout_start_at: dt.datetime | None
    device_time_at: dt.datetime
    updated_at: dt.datetime
    still_since_at: dt.datetime | None = None

    @property
    def motionless_s(self) -> float:
        """How long the device had not moved at all at ``device_time_at`` (0 if moving)."""
        if self.still_since_at is None:
            return 0.0
        return max(0.0, (self.device_time_at - self.still_since_at).total_seconds())

    @property
    def bout_duration_s(self) -> float | None:
        """Length of the bout in progress in seconds of device time (None if no bout)."""
        if self.bout_start_at is None:
            return None
        return (self.device_time_at - self.bout_start_at).total_seconds()


@dataclass(frozen=True, slots=True)
class EventView:
    """A stored event."""

    id: uuid.UUID
    kind: str
    start_at: dt.datetime
    end_at: dt.datetime
    posture: str | None
    data: dict[str, Any]

    @property
    def duration_s(self) -> float:
        """Length of the event in seconds."""
        return (self.end_at - self.start_at).total_seconds()


@dataclass(frozen=True, slots=True)
class NudgeView:
    """A stored nudge."""

    id: uuid.UUID
    sent_at: dt.datetime
    reason: str
    bout_start_at: dt.datetime
    bout_duration_s: float
    level: int
    message: str
    exercise_id: str | None
    channel: str
    delivery: str


@dataclass(frozen=True, slots=True)
class DeviceView:
    """A device and its health figures."""

    address: str
    wearer_id: str
    profile: str
    name: str
    placement: str
    battery_pct: int | None
    last_seen_at: dt.datetime | None
    counters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EpochView:
    """A one-minute epoch summary."""

    start_at: dt.datetime
    duration_s: float
    posture: str
    #: None for a device without an accelerometer (step counter, foot pod)
    enmo_mg: float | None
    steps: int
    worn: bool


class Queries:
    """Read access to a sensorhub database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _read(self, statement: Any) -> list[Any]:
        try:
            with Session(self._engine) as session:
                return list(session.scalars(statement))
        except SQLAlchemyError as exc:
            raise StorageError(
                f"reading from the database failed: {exc.__class__.__name__}: {describe_error(exc)}"
            ) from exc

    def wearers(self) -> list[WearerView]:
        """All wearers, by display name."""
        rows = self._read(select(WearerRow).order_by(WearerRow.display_name))
        return [WearerView(r.id, r.display_name, r.timezone) for r in rows]

    def live(self, wearer_id: str) -> LiveView | None:
        """The wearer's live state, or None if nothing has been collected yet."""
        rows = self._read(select(LiveStateRow).where(LiveStateRow.wearer_id == wearer_id))
        if not rows:
            return None
        r = rows[0]
        return LiveView(
            r.posture,
            r.bout_posture,
            r.bout_start_at,
            r.device_time_at,
            r.updated_at,
            r.still_since_at,
        )

    def events(
        self,
        wearer_id: str,
        kind: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[EventView]:
        """Events of one kind that end after ``since`` and start before ``until``, by start."""
        stmt = select(EventRow).where(EventRow.wearer_id == wearer_id, EventRow.kind == kind)
        if since is not None:
            stmt = stmt.where(EventRow.end_at >= since)
        if until is not None:
            stmt = stmt.where(EventRow.start_at < until)
        rows = self._read(stmt.order_by(EventRow.start_at))
        return [EventView(r.id, r.kind, r.start_at, r.end_at, r.posture, r.data) for r in rows]

    def nudges(
        self,
        wearer_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[NudgeView]:
        """Nudges sent to the wearer in [since, until), oldest first."""
        stmt = select(NudgeRow).where(NudgeRow.wearer_id == wearer_id)
        if since is not None:
            stmt = stmt.where(NudgeRow.sent_at >= since)
        if until is not None:
            stmt = stmt.where(NudgeRow.sent_at < until)
        rows = self._read(stmt.order_by(NudgeRow.sent_at))
        return [
            NudgeView(
                r.id,
                r.sent_at,
                r.reason,
                r.bout_start_at,
                r.bout_duration_s,
                r.level,
                r.message,
                r.exercise_id,
                r.channel,
                r.delivery,
            )
            for r in rows
        ]

    def devices(self, wearer_id: str | None = None) -> list[DeviceView]:
        """Devices (of one wearer, or all), by name."""
        stmt = select(DeviceRow)
        if wearer_id is not None:
            stmt = stmt.where(DeviceRow.wearer_id == wearer_id)
        rows = self._read(stmt.order_by(DeviceRow.name))
        return [
            DeviceView(
                r.address,
                r.wearer_id,
                r.profile,
                r.name,
                r.placement,
                r.battery_pct,
                r.last_seen_at,
                dict(r.counters),
            )
            for r in rows
        ]

    def epochs(self, wearer_id: str, *, since: dt.datetime, until: dt.datetime) -> list[EpochView]:
        """Epoch summaries in [since, until), oldest first."""
        stmt = (
            select(EpochRow)
            .where(
                EpochRow.wearer_id == wearer_id,
                EpochRow.start_at >= since,
                EpochRow.start_at < until,
            )
            .order_by(EpochRow.start_at)
        )
        return [
            EpochView(r.start_at, r.duration_s, r.posture, r.enmo_mg, r.steps, r.worn)
            for r in self._read(stmt)
        ]
