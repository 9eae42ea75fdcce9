"""The write path: everything the collector and pipeline store goes through here.

Writes are idempotent where the data has a natural identity (events by their deterministic
uuid, epochs by wearer and minute, devices by address), so replaying a stream or re-importing
a recording never duplicates anything.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Engine, Insert, Table, case, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sensorhub.alerts import AlertState, state_rank
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
    AlertRow,
    DeviceRow,
    EpochRow,
    EventRow,
    LiveStateRow,
    NudgeRow,
    WearerRow,
    WearerSettingsRow,
)
from sensorhub.store.nudge_loop import apply_response
from sensorhub.store.records import (
    AlertRecord,
    DeviceRecord,
    LiveRecord,
    NudgeRecord,
    NudgeResponseRecord,
    Record,
    WearerRecords,
)

_UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


_T = TypeVar("_T")


def utc_from_ns(t_ns: int) -> dt.datetime:
    """UTC datetime of a nanosecond Unix timestamp (truncated to microseconds, exact)."""
    return _UNIX_EPOCH + dt.timedelta(microseconds=t_ns // 1000)


def ns_from_utc(when: dt.datetime) -> int:
    """Nanosecond Unix timestamp of an aware datetime."""
    return (when - _UNIX_EPOCH) // dt.timedelta(microseconds=1) * 1000


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


#: Where a wearer's settings JSON keeps the hub config's values it was last seeded with.
CONFIG_SNAPSHOT_KEY = "_from_hub_config"


class Repository:
    """Write access to a sensorhub database (thread-safe; one short transaction per call).

    :meth:`write` stores a batch of records (events, epochs, nudges, live states, device
    health) in one transaction; the single-kind methods are shorthands for it. Every write
    is an idempotent upsert, so the outbox can replay a batch whose commit it did not see.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    def _read(self, what: str, work: Callable[[Session], _T]) -> _T:
        """Run ``work`` in a read session; a database error becomes one StorageError."""
        try:
            with self._session() as session:
                return work(session)
        except SQLAlchemyError as exc:
            raise StorageError(f"reading {what} failed: {describe_error(exc)}") from exc

    def _rows(self, what: str, statement: Any) -> list[Any]:
        """The rows of a SELECT of columns (one read session)."""
        return self._read(what, lambda session: list(session.execute(statement).all()))

    def _scalars(self, what: str, statement: Any) -> list[Any]:
        """The ORM rows of a SELECT of one table (one read session)."""
        return self._read(what, lambda session: list(session.scalars(statement).all()))

    def _write(self, work: Any) -> None:
        try:
            with self._session() as session, session.begin():
                work(session)
        except SQLAlchemyError as exc:
            # the engine hides bound parameters: no health data reaches the message
            problem = describe_error(exc).splitlines()[0]
            hint = (
                " Free space on the disk that holds the database."
                if "full" in problem or "disk I/O" in problem
                else ""
            )
            raise StorageError(
                f"writing to the database failed: {exc.__class__.__name__}: {problem}.{hint} "
                "Nothing of this write was stored; the caller keeps it to retry"
            ) from exc

    def write(self, records: Sequence[Record]) -> None:
        """Store ``records`` in one transaction (all or nothing).

        Raises
        ------
        StorageError
            If the database cannot be reached or refuses the write; nothing was stored.
        """
        if not records:
            return
        now = dt.datetime.now(dt.UTC)

        def work(session: Session) -> None:
            for record in records:
                if isinstance(record, WearerRecords):
                    _upsert_events(session, record.wearer_id, record.events, now)
                    _upsert_epochs(session, record.wearer_id, record.epochs)
                elif isinstance(record, NudgeRecord):
                    _upsert_nudge(session, record)
                elif isinstance(record, NudgeResponseRecord):
                    apply_response(
                        session,
                        record.nudge_id,
                        outcome=record.outcome,
                        responded_at=utc_from_ns(record.responded_ns),
                        response_s=record.response_s,
                        snoozed_until=None
                        if record.snoozed_until_ns is None
                        else utc_from_ns(record.snoozed_until_ns),
                    )
                elif isinstance(record, LiveRecord):
                    _upsert_live(session, record, now)
                elif isinstance(record, AlertRecord):
                    _upsert_alert(session, record)
                else:
                    _upsert_device(session, record)

        self._write(work)

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
        self.write([device])

    def save_events(self, wearer_id: str, events: Sequence[Event]) -> int:
        """Upsert events by their deterministic id; returns how many were given."""
        if events:
            self.write([WearerRecords(wearer_id, events=tuple(events))])
        return len(events)

    def save_epochs(self, wearer_id: str, epochs: Iterable[EpochSummary]) -> int:
        """Upsert one-minute epoch summaries; returns how many were given."""
        given = tuple(epochs)
        if given:
            self.write([WearerRecords(wearer_id, epochs=given)])
        return len(given)

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
        self.write([LiveRecord(wearer_id, posture, bout, device_time_ns, still_since_ns)])

    def save_nudge(self, nudge: NudgeRecord) -> None:
        """Store a nudge and its delivery result (upserted by its id)."""
        self.write([nudge])

    def seed_wearer_settings(
        self, wearer_id: str, defaults: dict[str, Any], *, by: str = "hub config"
    ) -> dict[str, Any]:
        """Bring the wearer's stored settings up to the hub config; return the stored JSON.

        A wearer without a ``wearer_settings`` row gets ``defaults``. In an existing row, a
        key missing is added from ``defaults`` (a setting new to the config), and a key whose
        stored value is still what the config said last time takes the config's new value
        (an administrator edited ``hub.toml``); a value someone changed since
        (``save_wearer_settings``, audited: the wearer or a clinician on the dashboard) stays.
        The config's values are kept under ``CONFIG_SNAPSHOT_KEY`` to tell the two apart.
        """
        out: dict[str, Any] = {}

        def work(session: Session) -> None:
            row = session.get(WearerSettingsRow, wearer_id, with_for_update=True)
            now = dt.datetime.now(dt.UTC)
            snapshot = {CONFIG_SNAPSHOT_KEY: dict(defaults)}
            if row is None:
                session.add(
                    WearerSettingsRow(
                        wearer_id=wearer_id,
                        settings={**defaults, **snapshot},
                        updated_at=now,
                        updated_by=by,
                    )
                )
                out.update(defaults)
                return
            stored = dict(row.settings)
            before = stored.get(CONFIG_SNAPSHOT_KEY)
            before = before if isinstance(before, dict) else {}
            changes = {
                key: value
                for key, value in defaults.items()
                if key not in stored
                or (key in before and stored[key] == before[key] and value != before[key])
            }
            if changes or before != defaults:
                row.settings = {**stored, **changes, **snapshot}
                if changes:
                    row.updated_at, row.updated_by = now, by
            out.update({k: v for k, v in row.settings.items() if k != CONFIG_SNAPSHOT_KEY})

        self._write(work)
        return out

    def wearer_settings(self, wearer_id: str) -> tuple[dict[str, Any], dt.datetime] | None:
        """The wearer's stored settings JSON and when it last changed (None: no row).

        Raises
        ------
        StorageError
            If the database cannot be read.
        """
        row = self._read(
            "the wearer settings", lambda session: session.get(WearerSettingsRow, wearer_id)
        )
        return None if row is None else (dict(row.settings), row.updated_at)

    def snoozes_since(self, wearer_id: str, since_ns: int) -> list[tuple[int, int]]:
        """``(bout_start_ns, snoozed_until_ns)`` of the wearer's snoozed nudges sent since
        ``since_ns`` (what the runtime's nudge engine holds for).

        Raises
        ------
        StorageError
            If the database cannot be read.
        """
        rows = self._rows(
            "the snoozed nudges",
            select(NudgeRow.bout_start_at, NudgeRow.snoozed_until).where(
                NudgeRow.wearer_id == wearer_id,
                NudgeRow.sent_at >= utc_from_ns(since_ns),
                NudgeRow.snoozed_until.is_not(None),
            ),
        )
        return [(ns_from_utc(start), ns_from_utc(until)) for start, until in rows if until]

    def walking_since(self, wearer_id: str, since_ns: int) -> dict[int, float]:
        """Start (ns) -> duration (s) of the wearer's gait bouts starting at or after
        ``since_ns`` (the walking of the day so far, for the walking goal after a restart).

        Raises
        ------
        StorageError
            If the database cannot be read.
        """
        rows = self._rows(
            "the walking of the day",
            select(EventRow.start_at, EventRow.end_at).where(
                EventRow.wearer_id == wearer_id,
                EventRow.kind == GaitBout.kind,
                EventRow.start_at >= utc_from_ns(since_ns),
            ),
        )
        return {ns_from_utc(start): (end - start).total_seconds() for start, end in rows}

    def save_alert(self, alert: AlertRecord) -> None:
        """Store one alert transition (upserted by id, never moving the alert backwards)."""
        self.write([alert])

    # ------------------------------------------------------------------ resuming

    def live_state(self, wearer_id: str) -> LiveRecord | None:
        """The wearer's stored live state (what a restarted hub resumes from), if any.

        Raises
        ------
        StorageError
            If the database cannot be read.
        """
        row = self._read("the live state", lambda session: session.get(LiveStateRow, wearer_id))
        if row is None:
            return None
        bout = None
        if row.bout_posture is not None and row.bout_start_at is not None:
            device_ns = ns_from_utc(row.device_time_at)
            bout = CurrentBout(ns_from_utc(row.bout_start_at), Posture(row.bout_posture), device_ns)
        return LiveRecord(
            wearer_id,
            Posture(row.posture),
            bout,
            ns_from_utc(row.device_time_at),
            None if row.still_since_at is None else ns_from_utc(row.still_since_at),
        )

    def alerts_to_resume(self, wearer_id: str, *, gait_since_ns: int) -> list[AlertRecord]:
        """The wearer's alerts that are pending or open, and the gait-change alerts raised
        at or after ``gait_since_ns`` (device time) in any state, oldest first: what a
        restarted hub's alert rules continue from.

        Raises
        ------
        StorageError
            If the database cannot be read.
        """
        rows = self._scalars(
            "the open alerts",
            select(AlertRow)
            .where(AlertRow.wearer_id == wearer_id)
            .where(
                or_(
                    AlertRow.state.in_(("pending", "open")),
                    (AlertRow.kind == "gait_change")
                    & (AlertRow.opened_device_at >= utc_from_ns(gait_since_ns)),
                )
            )
            .order_by(AlertRow.opened_at),
        )
        return [alert_record_of(row) for row in rows]

    def gait_history(
        self, wearer_id: str, since_ns: int
    ) -> tuple[list[GaitBout], list[EpochSummary]]:
        """The wearer's gait bouts and epochs from ``since_ns`` on (what the daily gait review
        needs: the bouts' metrics and the hours of wear per day).

        Raises
        ------
        StorageError
            If the database cannot be read.
        """
        since = utc_from_ns(since_ns)

        def _work(session: Session) -> Any:
            bout_rows = session.scalars(
                select(EventRow)
                .where(EventRow.wearer_id == wearer_id, EventRow.kind == GaitBout.kind)
                .where(EventRow.start_at >= since)
                .order_by(EventRow.start_at)
            ).all()
            epoch_rows = session.scalars(
                select(EpochRow)
                .where(EpochRow.wearer_id == wearer_id, EpochRow.start_at >= since)
                .order_by(EpochRow.start_at)
            ).all()
            return (bout_rows, epoch_rows)

        bout_rows, epoch_rows = self._read("the gait history", _work)
        bouts = [
            GaitBout(
                start_ns=ns_from_utc(r.start_at),
                end_ns=ns_from_utc(r.end_at),
                steps=int(r.data.get("steps", 0)),
                cadence_spm=math.nan
                if r.data.get("cadence_spm") is None
                else float(r.data["cadence_spm"]),
                stride_time_cv_pct=r.data.get("stride_time_cv_pct"),
                asymmetry_pct=r.data.get("asymmetry_pct"),
                speed_mps=r.data.get("speed_mps"),
            )
            for r in bout_rows
        ]
        epochs = [
            EpochSummary(
                start_ns=ns_from_utc(r.start_at),
                duration_s=r.duration_s,
                posture=Posture(r.posture),
                enmo_mg=math.nan if r.enmo_mg is None else r.enmo_mg,
                steps=r.steps,
                worn=r.worn,
            )
            for r in epoch_rows
        ]
        return bouts, epochs

    def nudges_since(self, wearer_id: str, since_ns: int) -> list[NudgeRecord]:
        """The wearer's nudges sent at or after ``since_ns`` (device time), oldest first.

        Raises
        ------
        StorageError
            If the database cannot be read.
        """
        rows = self._scalars(
            "the recent nudges",
            select(NudgeRow)
            .where(NudgeRow.wearer_id == wearer_id)
            .where(NudgeRow.sent_at >= utc_from_ns(since_ns))
            .order_by(NudgeRow.sent_at),
        )
        return [
            NudgeRecord(
                wearer_id=row.wearer_id,
                sent_ns=ns_from_utc(row.sent_at),
                reason=row.reason,
                bout_start_ns=ns_from_utc(row.bout_start_at),
                bout_duration_s=row.bout_duration_s,
                level=row.level,
                message=row.message,
                channel=row.channel,
                delivery=row.delivery,
                exercise_id=row.exercise_id,
                id=row.id,
            )
            for row in rows
        ]


def _upsert_events(
    session: Session, wearer_id: str, events: Sequence[Event], now: dt.datetime
) -> None:
    if not events:
        return
    rows = [_event_row(wearer_id, event, now) for event in events]
    stmt = _insert_for(session, EventRow.__table__)  # type: ignore[arg-type]
    update = {k: stmt.excluded[k] for k in ("end_at", "posture", "data")}  # type: ignore[attr-defined]
    session.execute(
        stmt.on_conflict_do_update(index_elements=["id"], set_=update),  # type: ignore[attr-defined]
        rows,
    )


def _upsert_epochs(session: Session, wearer_id: str, epochs: Sequence[EpochSummary]) -> None:
    if not epochs:
        return
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


def _upsert(session: Session, table: Any, key: str, values: dict[str, Any]) -> None:
    stmt = _insert_for(session, table).values(**values)
    update = {k: stmt.excluded[k] for k in values if k != key}  # type: ignore[attr-defined]
    session.execute(stmt.on_conflict_do_update(index_elements=[key], set_=update))  # type: ignore[attr-defined]


def _upsert_device(session: Session, device: DeviceRecord) -> None:
    _upsert(
        session,
        DeviceRow.__table__,
        "address",
        {
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
        },
    )


def _upsert_live(session: Session, live: LiveRecord, now: dt.datetime) -> None:
    bout = live.bout
    _upsert(
        session,
        LiveStateRow.__table__,
        "wearer_id",
        {
            "wearer_id": live.wearer_id,
            "posture": str(live.posture),
            "bout_posture": None if bout is None else str(bout.posture),
            "bout_start_at": None if bout is None else utc_from_ns(bout.start_ns),
            "device_time_at": utc_from_ns(live.device_time_ns),
            "updated_at": now,
            "still_since_at": None
            if live.still_since_ns is None
            else utc_from_ns(live.still_since_ns),
        },
    )


def _upsert_nudge(session: Session, nudge: NudgeRecord) -> None:
    _upsert(
        session,
        NudgeRow.__table__,
        "id",
        {
            "id": nudge.id,
            "wearer_id": nudge.wearer_id,
            "sent_at": utc_from_ns(nudge.sent_ns),
            "reason": nudge.reason,
            "bout_start_at": utc_from_ns(nudge.bout_start_ns),
            "bout_duration_s": nudge.bout_duration_s,
            "level": nudge.level,
            "message": nudge.message,
            "exercise_id": nudge.exercise_id,
            "channel": nudge.channel,
            "delivery": nudge.delivery,
        },
    )


#: Rank of each stored alert state (sensorhub.alerts.state_rank): an upsert only moves an
#: alert to a higher rank, so it never goes backwards and a final state stays.
_ALERT_RANK = {str(state): state_rank(state) for state in AlertState}


def _alert_rank(column: Any) -> Any:
    return case(_ALERT_RANK, value=column, else_=max(_ALERT_RANK.values()))


def _upsert_alert(session: Session, alert: AlertRecord) -> None:
    """Insert an alert, or move the stored one forward (never backwards: see AlertRecord)."""
    at = utc_from_ns(alert.updated_ns)
    final = alert.state in (AlertState.RESOLVED, AlertState.CANCELLED)
    evidence = dict(alert.evidence)
    if alert.subject:
        evidence["subject"] = alert.subject
    values = {
        "id": alert.id,
        "wearer_id": alert.wearer_id,
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "reason": alert.reason,
        "evidence": evidence,
        "opened_at": at,
        "opened_device_at": None if alert.cause_ns is None else utc_from_ns(alert.cause_ns),
        "updated_at": at,
        "cancel_until_at": None
        if alert.cancel_until_ns is None
        else utc_from_ns(alert.cancel_until_ns),
        "closed_at": at if final else None,
    }
    table = AlertRow.__table__
    stmt = _insert_for(session, table).values(**values)  # type: ignore[arg-type]
    excluded = stmt.excluded  # type: ignore[attr-defined]
    update = {k: excluded[k] for k in ("state", "reason", "evidence", "updated_at", "closed_at")}
    session.execute(
        stmt.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=["id"],
            set_=update,
            where=_alert_rank(excluded.state) > _alert_rank(table.c.state),
        )
    )


def alert_record_of(row: AlertRow) -> AlertRecord:
    """The record of a stored alert (its latest state)."""
    evidence = dict(row.evidence)
    subject = str(evidence.pop("subject", ""))
    return AlertRecord(
        id=row.id,
        wearer_id=row.wearer_id,
        kind=row.kind,
        severity=row.severity,
        state=row.state,
        reason=row.reason,
        updated_ns=ns_from_utc(row.updated_at),
        cause_ns=None if row.opened_device_at is None else ns_from_utc(row.opened_device_at),
        cancel_until_ns=None if row.cancel_until_at is None else ns_from_utc(row.cancel_until_at),
        subject=subject,
        evidence=evidence,
    )
