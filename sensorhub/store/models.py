"""SQLAlchemy 2 typed table models (DESIGN.md section 7).

ORM rows never leave ``sensorhub.store``: the repository and the query API convert them to
plain domain dataclasses at the boundary. Times are stored as timezone-aware UTC timestamps
(``timestamptz`` on PostgreSQL; ISO text normalised to UTC on SQLite).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the backend.

    SQLite has no time zone type: values are stored as UTC and tagged with UTC on the way
    out, so comparisons never mix naive and aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: sensorhub stores UTC-aware times only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
        raise TypeError(f"unexpected timestamp value {value!r}")


class Base(DeclarativeBase):
    """Declarative base of every sensorhub table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UtcDateTime, dict[str, Any]: JSON}


class WearerRow(Base):
    """A person who wears one or more devices."""

    __tablename__ = "wearer"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    birth_year: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime]


class DeviceRow(Base):
    """A wearable bound to a wearer at a body placement."""

    __tablename__ = "device"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    wearer_id: Mapped[str] = mapped_column(ForeignKey("wearer.id"), index=True)
    profile: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    placement: Mapped[str] = mapped_column(String(32))
    battery_pct: Mapped[int | None] = mapped_column(Integer, default=None)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    counters: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EventRow(Base):
    """A detected event (static bout, gait bout, fall, non-wear, ...), idempotent by id."""

    __tablename__ = "event"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    wearer_id: Mapped[str] = mapped_column(ForeignKey("wearer.id"))
    kind: Mapped[str] = mapped_column(String(32))
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    posture: Mapped[str | None] = mapped_column(String(32), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime]

    __table_args__ = (Index("ix_event_wearer_kind_start", "wearer_id", "kind", "start_at"),)


class EpochRow(Base):
    """One-minute summary of a wearer's activity."""

    __tablename__ = "epoch"

    wearer_id: Mapped[str] = mapped_column(ForeignKey("wearer.id"), primary_key=True)
    start_at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    duration_s: Mapped[float] = mapped_column(Float)
    posture: Mapped[str] = mapped_column(String(32))
    #: None where the device measures no acceleration (step counters, foot pods)
    enmo_mg: Mapped[float | None] = mapped_column(Float, default=None)
    steps: Mapped[int] = mapped_column(Integer, default=0)
    worn: Mapped[bool] = mapped_column(default=True)


class NudgeRow(Base):
    """A movement nudge: why it was sent, through which channel, and what came of it."""

    __tablename__ = "nudge"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    wearer_id: Mapped[str] = mapped_column(ForeignKey("wearer.id"))
    sent_at: Mapped[dt.datetime]
    reason: Mapped[str] = mapped_column(String(64))
    bout_start_at: Mapped[dt.datetime]
    bout_duration_s: Mapped[float] = mapped_column(Float)
    level: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    exercise_id: Mapped[str | None] = mapped_column(String(64), default=None)
    channel: Mapped[str] = mapped_column(String(32))
    #: "acknowledged", "written-unacknowledged", "failed: <reason>", or "dashboard-only" when
    #: the band cannot be buzzed (sensorhub.ble.drivers.NudgeDelivery); rows written before
    #: these were told apart say "delivered"
    delivery: Mapped[str] = mapped_column(String(200))
    responded_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: what came of it: "done" (the wearer said so), "moved" (a break followed within the
    #: response window), "snoozed", or None while nothing happened (migration 0004)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    #: seconds from the nudge to the response (the break's start, or the wearer's answer)
    response_s: Mapped[float | None] = mapped_column(Float, default=None)
    snoozed_until: Mapped[dt.datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_nudge_wearer_sent", "wearer_id", "sent_at"),)


class LiveStateRow(Base):
    """The latest live state of a wearer (the dashboard's bout timer reads it)."""

    __tablename__ = "live_state"

    wearer_id: Mapped[str] = mapped_column(ForeignKey("wearer.id"), primary_key=True)
    posture: Mapped[str] = mapped_column(String(32))
    bout_posture: Mapped[str | None] = mapped_column(String(32), default=None)
    bout_start_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: device time of the latest sample folded into this state
    device_time_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    #: start of the device's current run without any movement (None while it moves)
    still_since_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class WearerSettingsRow(Base):
    """A wearer's own limits, quiet hours, goals and body figures (defaults: the hub config).

    ``settings`` is a JSON object whose keys are documented by ``sensorhub.config``; a key
    that is absent takes the hub config's value.
    """

    __tablename__ = "wearer_settings"

    wearer_id: Mapped[str] = mapped_column(ForeignKey("wearer.id"), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(200))


class AlertRow(Base):
    """A caregiver alert: one per cause (its id is derived from wearer, kind and cause)."""

    __tablename__ = "alert"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    wearer_id: Mapped[str] = mapped_column(ForeignKey("wearer.id"))
    #: "possible_fall", "long_inactivity", "band_not_worn", "device_offline",
    #: "battery_low", "gait_change"
    kind: Mapped[str] = mapped_column(String(32))
    #: "urgent" (falls: also in quiet hours), "warning", "info"
    severity: Mapped[str] = mapped_column(String(16))
    #: "pending" (cancel window) -> "open" -> "acknowledged" / "resolved"; or "cancelled"
    state: Mapped[str] = mapped_column(String(16))
    #: in plain words, for a caregiver's phone ("possible fall at 14:02, not getting up")
    reason: Mapped[str] = mapped_column(Text)
    #: ids of the events behind it, and figures (JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    opened_at: Mapped[dt.datetime]
    #: the device clock's time of the cause (the sample that raised it)
    opened_device_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    updated_at: Mapped[dt.datetime]
    #: end of the wearer's window to cancel (pending alerts)
    cancel_until_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_alert_wearer_opened", "wearer_id", "opened_at"),)


class AlertDeliveryRow(Base):
    """One attempt to tell one caregiver about an alert through one channel."""

    __tablename__ = "alert_delivery"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alert.id"), index=True)
    at: Mapped[dt.datetime]
    #: the caregiver's username
    recipient: Mapped[str] = mapped_column(String(200))
    #: the channel with its secrets masked ("ntfys://ntfy.sh/***", "mailto://***@example.org")
    channel: Mapped[str] = mapped_column(String(400))
    #: 1 for the first notice, then each repeat; escalation raises the level
    attempt: Mapped[int] = mapped_column(Integer)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    #: "delivered" or "failed: <why>"
    result: Mapped[str] = mapped_column(String(400))


class UserRow(Base):
    """A person who logs in to the dashboard (unique id; HIPAA 164.312(a)(2)(i))."""

    __tablename__ = "app_user"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    #: argon2id hash (PHC string); None for an account that logs in through OIDC only
    password_hash: Mapped[str | None] = mapped_column(String(400), default=None)
    #: the wearer this account is (a wearer who logs in themselves); one account per wearer
    wearer_id: Mapped[str | None] = mapped_column(
        ForeignKey("wearer.id"), unique=True, default=None
    )
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]
    last_login_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: failed logins since the last successful one (lockout with backoff)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)


class ShareRow(Base):
    """A wearer's consent that one account sees some scopes of their data."""

    __tablename__ = "share"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    wearer_id: Mapped[str] = mapped_column(ForeignKey("wearer.id"), index=True)
    grantee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    #: comma-separated scope names (sensorhub.access.Scope), sorted
    scopes: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[dt.datetime]
    #: who granted it: the wearer's own account, or an admin on the wearer's behalf
    granted_by: Mapped[str] = mapped_column(String(200))
    #: "wearer" when the wearer granted it, else the documented basis of an admin's grant
    basis: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(200), default=None)

    __table_args__ = (Index("ix_share_grantee_wearer", "grantee_id", "wearer_id"),)


class AuditRow(Base):
    """One entry of the append-only audit log (HIPAA 164.312(b) audit controls).

    Triggers (migration 0003) refuse UPDATE and DELETE on both backends, and TRUNCATE on
    PostgreSQL: the application can only insert. ``wearer_id`` is not a foreign key, so the
    log keeps its entries, and the record of the deletion, when a wearer's data is deleted.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime]
    #: the account's username, or "cli:<os user>" for the command line
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    wearer_id: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_audit_wearer_at", "wearer_id", "at"),)


__all__ = [
    "AlertDeliveryRow",
    "AlertRow",
    "AuditRow",
    "Base",
    "DeviceRow",
    "EpochRow",
    "EventRow",
    "LiveStateRow",
    "NudgeRow",
    "ShareRow",
    "UserRow",
    "UtcDateTime",
    "WearerRow",
    "WearerSettingsRow",
]
