"""The read path: what the dashboard, reports and caregivers may see.

Every read takes the viewer it is made for, and access is checked in the same transaction
as the read: a :class:`~sensorhub.access.Viewer` gets only the wearers and scopes that are
theirs (their own wearer) or shared with them by an active share of an enabled account, so a
revocation, an expiry or a disabled account takes effect on the next query. Administrators
see the wearer list and device health (the ``devices`` scope of every wearer), no health
data unless shared. An :class:`~sensorhub.store.operator.Operator` (the hub, the command
line) reads everything. A read outside the viewer's scopes returns nothing (an empty list or
None), exactly as if there were no data.

Results are plain frozen dataclasses; ORM rows never leave this package.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sensorhub.access import ALERT_KIND_SCOPES, ALL_SCOPES, Scope, Viewer, scope_of_event
from sensorhub.errors import StorageError
from sensorhub.store.database import describe_error
from sensorhub.store.models import (
    AlertDeliveryRow,
    AlertRow,
    DeviceRow,
    EpochRow,
    EventRow,
    LiveStateRow,
    NudgeRow,
    ShareRow,
    UserRow,
    WearerRow,
    WearerSettingsRow,
)
from sensorhub.store.nudge_loop import NudgeAdherence, adherence
from sensorhub.store.operator import Operator
from sensorhub.wearer_settings import WearerSettings

#: Who a read is for.
Reader = Viewer | Operator


@dataclass(frozen=True, slots=True)
class WearerView:
    """A wearer as listed on the dashboard."""

    id: str
    display_name: str
    timezone: str
    #: what the viewer may see of this wearer
    scopes: frozenset[Scope] = ALL_SCOPES


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
    #: "done", "moved", "snoozed", or None while nothing came of it (sensorhub.store.nudge_loop)
    outcome: str | None = None
    responded_at: dt.datetime | None = None
    response_s: float | None = None
    snoozed_until: dt.datetime | None = None


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


@dataclass(frozen=True, slots=True)
class AlertDeliveryView:
    """One attempt to tell one caregiver about an alert through one channel."""

    at: dt.datetime
    #: the caregiver's username
    recipient: str
    #: the channel, secrets masked
    channel: str
    #: 1 for the first notice, then each repeat
    attempt: int
    escalation_level: int
    #: "delivered" or "failed: <why>"
    result: str


@dataclass(frozen=True, slots=True)
class AlertView:
    """A caregiver alert with every delivery attempt (oldest first)."""

    id: uuid.UUID
    wearer_id: str
    #: possible_fall, long_inactivity, band_not_worn, device_offline, battery_low, gait_change
    kind: str
    #: urgent, warning, info
    severity: str
    #: pending, open, acknowledged, resolved, cancelled
    state: str
    #: in plain words, for a caregiver
    reason: str
    evidence: dict[str, Any]
    #: when the hub raised it (UTC)
    opened_at: dt.datetime
    #: the device clock's time of the cause (the impact, the last walk, ...)
    opened_device_at: dt.datetime | None
    updated_at: dt.datetime
    #: end of the wearer's window to cancel (possible falls)
    cancel_until_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    closed_at: dt.datetime | None
    deliveries: tuple[AlertDeliveryView, ...] = ()


def alert_view(row: AlertRow, deliveries: Collection[AlertDeliveryRow] = ()) -> AlertView:
    """The view of a stored alert and its deliveries."""
    return AlertView(
        id=row.id,
        wearer_id=row.wearer_id,
        kind=row.kind,
        severity=row.severity,
        state=row.state,
        reason=row.reason,
        evidence=dict(row.evidence),
        opened_at=row.opened_at,
        opened_device_at=row.opened_device_at,
        updated_at=row.updated_at,
        cancel_until_at=row.cancel_until_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        closed_at=row.closed_at,
        deliveries=tuple(
            AlertDeliveryView(d.at, d.recipient, d.channel, d.attempt, d.escalation_level, d.result)
            for d in sorted(deliveries, key=lambda d: (d.at, d.attempt))
        ),
    )


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Queries:
    """Read access to a sensorhub database, filtered for the viewer of each read."""

    def __init__(self, engine: Engine, *, clock: Any = _utcnow) -> None:
        self._engine = engine
        self._clock = clock

    def _read(self, reader: Reader, wearer_id: str | None, work: Any) -> Any:
        """Run ``work(session, access)`` in one transaction; ``access`` maps wearer -> scopes."""
        try:
            with Session(self._engine) as session:
                access = self._access(session, reader, wearer_id)
                return work(session, access)
        except SQLAlchemyError as exc:
            raise StorageError(
                f"reading from the database failed: {exc.__class__.__name__}: {describe_error(exc)}"
            ) from exc

    def _access(
        self, session: Session, reader: Reader, wearer_id: str | None
    ) -> dict[str, frozenset[Scope]] | None:
        """The scopes the reader has per wearer (None: every scope of every wearer)."""
        if isinstance(reader, Operator):
            return None
        user_id = _user_uuid(reader.user_id)
        user = None if user_id is None else session.get(UserRow, user_id)
        if user is None or user.disabled:
            return {}
        access: dict[str, set[Scope]] = {}
        if user.role == "admin":
            stmt = select(WearerRow.id)
            if wearer_id is not None:
                stmt = stmt.where(WearerRow.id == wearer_id)
            for wid in session.scalars(stmt):
                access.setdefault(wid, set()).add(Scope.DEVICES)
        if user.wearer_id is not None and wearer_id in (None, user.wearer_id):
            access.setdefault(user.wearer_id, set()).update(ALL_SCOPES)
        now = self._clock()
        shares = select(ShareRow.wearer_id, ShareRow.scopes).where(
            ShareRow.grantee_id == user.id,
            ShareRow.revoked_at.is_(None),
            or_(ShareRow.expires_at.is_(None), ShareRow.expires_at > now),
        )
        if wearer_id is not None:
            shares = shares.where(ShareRow.wearer_id == wearer_id)
        for wid, stored in session.execute(shares):
            access.setdefault(wid, set()).update(Scope(name) for name in stored.split(",") if name)
        return {wid: frozenset(scopes) for wid, scopes in access.items()}

    @staticmethod
    def _may(access: dict[str, frozenset[Scope]] | None, wearer_id: str, scope: Scope) -> bool:
        return access is None or scope in access.get(wearer_id, frozenset())

    def scopes(self, reader: Reader, wearer_id: str) -> frozenset[Scope]:
        """What the reader may see of one wearer (empty: nothing)."""

        def work(_: Session, access: dict[str, frozenset[Scope]] | None) -> frozenset[Scope]:
            return ALL_SCOPES if access is None else access.get(wearer_id, frozenset())

        result: frozenset[Scope] = self._read(reader, wearer_id, work)
        return result

    def wearers(self, reader: Reader) -> list[WearerView]:
        """The wearers the reader may see anything of, by display name (then id)."""

        def work(session: Session, access: dict[str, frozenset[Scope]] | None) -> list[WearerView]:
            stmt = select(WearerRow).order_by(WearerRow.display_name, WearerRow.id)
            if access is not None:
                if not access:
                    return []
                stmt = stmt.where(WearerRow.id.in_(list(access)))
            return [
                WearerView(
                    r.id,
                    r.display_name,
                    r.timezone,
                    ALL_SCOPES if access is None else access[r.id],
                )
                for r in session.scalars(stmt)
            ]

        result: list[WearerView] = self._read(reader, None, work)
        return result

    def live(self, reader: Reader, wearer_id: str) -> LiveView | None:
        """The wearer's live state (scope ``status``), or None if none (or not shared)."""

        def work(session: Session, access: dict[str, frozenset[Scope]] | None) -> LiveView | None:
            if not self._may(access, wearer_id, Scope.STATUS):
                return None
            r = session.get(LiveStateRow, wearer_id)
            if r is None:
                return None
            return LiveView(
                r.posture,
                r.bout_posture,
                r.bout_start_at,
                r.device_time_at,
                r.updated_at,
                r.still_since_at,
            )

        result: LiveView | None = self._read(reader, wearer_id, work)
        return result

    def events(
        self,
        reader: Reader,
        wearer_id: str,
        kind: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[EventView]:
        """Events of one kind that end after ``since`` and start before ``until``, by start.

        Falls need the ``falls`` scope, gait bouts ``gait``, every other kind ``activity``.
        """

        def work(session: Session, access: dict[str, frozenset[Scope]] | None) -> list[EventView]:
            if not self._may(access, wearer_id, scope_of_event(kind)):
                return []
            stmt = select(EventRow).where(EventRow.wearer_id == wearer_id, EventRow.kind == kind)
            if since is not None:
                stmt = stmt.where(EventRow.end_at >= since)
            if until is not None:
                stmt = stmt.where(EventRow.start_at < until)
            return [
                EventView(r.id, r.kind, r.start_at, r.end_at, r.posture, r.data)
                for r in session.scalars(stmt.order_by(EventRow.start_at))
            ]

        result: list[EventView] = self._read(reader, wearer_id, work)
        return result

    def nudges(
        self,
        reader: Reader,
        wearer_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[NudgeView]:
        """Nudges sent to the wearer in [since, until), oldest first (scope ``activity``)."""

        def work(session: Session, access: dict[str, frozenset[Scope]] | None) -> list[NudgeView]:
            if not self._may(access, wearer_id, Scope.ACTIVITY):
                return []
            stmt = select(NudgeRow).where(NudgeRow.wearer_id == wearer_id)
            if since is not None:
                stmt = stmt.where(NudgeRow.sent_at >= since)
            if until is not None:
                stmt = stmt.where(NudgeRow.sent_at < until)
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
                    r.outcome,
                    r.responded_at,
                    r.response_s,
                    r.snoozed_until,
                )
                for r in session.scalars(stmt.order_by(NudgeRow.sent_at))
            ]

        result: list[NudgeView] = self._read(reader, wearer_id, work)
        return result

    def nudge_adherence(
        self, reader: Reader, wearer_id: str, *, week_start: dt.date | dt.datetime
    ) -> NudgeAdherence | None:
        """How the wearer answered the nudges of one week (scope ``activity``; None if not
        shared or no such wearer).

        ``week_start`` is a local date of the wearer (the week runs from its midnight in the
        wearer's time zone for 7 days) or an aware datetime (7 x 24 h from it). Counts are
        those of :func:`sensorhub.store.nudge_loop.adherence`.
        """

        def work(
            session: Session, access: dict[str, frozenset[Scope]] | None
        ) -> NudgeAdherence | None:
            if not self._may(access, wearer_id, Scope.ACTIVITY):
                return None
            wearer = session.get(WearerRow, wearer_id)
            if wearer is None:
                return None
            if isinstance(week_start, dt.datetime):
                if week_start.tzinfo is None:
                    raise ValueError("week_start: give a date or an aware datetime")
                start, end = week_start, week_start + dt.timedelta(days=7)
            else:
                tz = ZoneInfo(wearer.timezone)
                start = dt.datetime.combine(week_start, dt.time(), tz)
                end = dt.datetime.combine(week_start + dt.timedelta(days=7), dt.time(), tz)
            rows = session.execute(
                select(NudgeRow.outcome, NudgeRow.response_s).where(
                    NudgeRow.wearer_id == wearer_id,
                    NudgeRow.sent_at >= start,
                    NudgeRow.sent_at < end,
                )
            ).all()
            return adherence(
                wearer_id,
                start.astimezone(dt.UTC),
                end.astimezone(dt.UTC),
                [(o, r) for o, r in rows],
            )

        result: NudgeAdherence | None = self._read(reader, wearer_id, work)
        return result

    def wearer_settings(self, reader: Reader, wearer_id: str) -> WearerSettings | None:
        """The wearer's own limits, quiet hours, goal and body figures (scope ``status`` or
        ``activity``: the live card shows the limits); None if not shared or none stored.

        Keys absent from the stored JSON take the defaults of DESIGN.md section 6.
        """

        def work(
            session: Session, access: dict[str, frozenset[Scope]] | None
        ) -> WearerSettings | None:
            if not (
                self._may(access, wearer_id, Scope.STATUS)
                or self._may(access, wearer_id, Scope.ACTIVITY)
            ):
                return None
            row = session.get(WearerSettingsRow, wearer_id)
            return None if row is None else WearerSettings.from_json(row.settings)

        result: WearerSettings | None = self._read(reader, wearer_id, work)
        return result

    def devices(self, reader: Reader, wearer_id: str | None = None) -> list[DeviceView]:
        """Devices (of one wearer, or of every wearer the reader may see), by name.

        Scope ``devices``; administrators see every wearer's devices.
        """

        def work(session: Session, access: dict[str, frozenset[Scope]] | None) -> list[DeviceView]:
            stmt = select(DeviceRow)
            if wearer_id is not None:
                stmt = stmt.where(DeviceRow.wearer_id == wearer_id)
            if access is not None:
                allowed = [w for w, scopes in access.items() if Scope.DEVICES in scopes]
                if not allowed:
                    return []
                stmt = stmt.where(DeviceRow.wearer_id.in_(allowed))
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
                for r in session.scalars(stmt.order_by(DeviceRow.name, DeviceRow.address))
            ]

        result: list[DeviceView] = self._read(reader, wearer_id, work)
        return result

    def epochs(
        self, reader: Reader, wearer_id: str, *, since: dt.datetime, until: dt.datetime
    ) -> list[EpochView]:
        """Epoch summaries in [since, until), oldest first (scope ``activity``)."""

        def work(session: Session, access: dict[str, frozenset[Scope]] | None) -> list[EpochView]:
            if not self._may(access, wearer_id, Scope.ACTIVITY):
                return []
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
                for r in session.scalars(stmt)
            ]

        result: list[EpochView] = self._read(reader, wearer_id, work)
        return result

    def alerts(
        self,
        reader: Reader,
        wearer_id: str | None = None,
        *,
        state: str | Collection[str] | None = None,
        since: dt.datetime | None = None,
    ) -> list[AlertView]:
        """Alerts (of one wearer, or of every wearer the reader may see) with their
        deliveries, oldest first.

        Parameters
        ----------
        state
            Only alerts in this state (or these states), e.g. ``"open"`` for the notifier.
        since
            Only alerts opened at or after this time.

        Possible falls need the ``falls`` scope, every other kind ``status``; an
        administrator sees none unless a wearer shared them.
        """

        def work(session: Session, access: dict[str, frozenset[Scope]] | None) -> list[AlertView]:
            stmt = select(AlertRow)
            if wearer_id is not None:
                stmt = stmt.where(AlertRow.wearer_id == wearer_id)
            if state is not None:
                states = [state] if isinstance(state, str) else list(state)
                stmt = stmt.where(AlertRow.state.in_(states))
            if since is not None:
                stmt = stmt.where(AlertRow.opened_at >= since)
            if access is not None:
                conditions = []
                for wid, scopes in access.items():
                    if Scope.FALLS in scopes and Scope.STATUS in scopes:
                        conditions.append(AlertRow.wearer_id == wid)
                    elif Scope.FALLS in scopes:
                        conditions.append(
                            (AlertRow.wearer_id == wid) & AlertRow.kind.in_(list(ALERT_KIND_SCOPES))
                        )
                    elif Scope.STATUS in scopes:
                        conditions.append(
                            (AlertRow.wearer_id == wid)
                            & AlertRow.kind.not_in(list(ALERT_KIND_SCOPES))
                        )
                if not conditions:
                    return []
                stmt = stmt.where(or_(*conditions))
            rows = list(session.scalars(stmt.order_by(AlertRow.opened_at, AlertRow.id)))
            if not rows:
                return []
            deliveries: dict[uuid.UUID, list[AlertDeliveryRow]] = {}
            ids = [r.id for r in rows]
            for start in range(0, len(ids), 500):  # bounded IN lists
                for d in session.scalars(
                    select(AlertDeliveryRow).where(
                        AlertDeliveryRow.alert_id.in_(ids[start : start + 500])
                    )
                ):
                    deliveries.setdefault(d.alert_id, []).append(d)
            return [alert_view(r, deliveries.get(r.id, ())) for r in rows]

        result: list[AlertView] = self._read(reader, wearer_id, work)
        return result


def _user_uuid(user_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(user_id)
    except ValueError:
        return None
