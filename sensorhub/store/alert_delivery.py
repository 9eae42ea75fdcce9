"""The alert notifier's door to the database: open alerts, who may be told, what was sent.

The notifier (:mod:`sensorhub.service.notifier`) keeps no state of its own that matters: what
was already sent to whom is read back from the ``alert_delivery`` rows written here, so a hub
that restarts neither repeats a notice nor loses one. The tables are the interface with the
code that raises alerts (which writes ``alert`` rows); nothing here decides when an alert opens.

* :meth:`AlertDeliveryStore.alerts_to_notify`: alerts that are ``open`` and neither
  acknowledged nor closed (and past their cancel window);
* :meth:`AlertDeliveryStore.deliveries_of`: every attempt for an alert, oldest first;
* :meth:`AlertDeliveryStore.record_delivery`: one attempt, in one transaction, idempotent (its
  id is derived from the alert, recipient, channel, notice number and time);
* :meth:`AlertDeliveryStore.recipients_sharing`: which of some accounts may be told about a
  wearer's alerts of a scope now (enabled account, share not revoked or expired).

Channels are stored masked (:func:`mask_channel`), whatever the caller passes: an apprise URL
holds passwords and tokens, and the delivery log is shown on the dashboard.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Final, TypeVar

from sqlalchemy import Engine, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from sensorhub.access import Scope
from sensorhub.channel_urls import mask_channel
from sensorhub.errors import StorageError
from sensorhub.store.database import describe_error
from sensorhub.store.models import AlertDeliveryRow, AlertRow, ShareRow, UserRow, WearerRow

__all__ = [
    "DELIVERED",
    "AlertDeliveryStore",
    "AlertToNotify",
    "DeliveryView",
    "delivery_id",
    "mask_channel",
]

_T = TypeVar("_T")

#: The result of an attempt that reached the channel's service; failures are "failed: why".
DELIVERED: Final = "delivered"
#: Longest stored result (the column's size).
_RESULT_CHARS: Final = 400
_NAMESPACE: Final = uuid.UUID("6d1f3c1e-0b7a-4e55-9d2c-a1e7d0c4b9f2")


def delivery_id(
    alert_id: uuid.UUID, recipient: str, channel: str, attempt: int, at: dt.datetime
) -> uuid.UUID:
    """The id of one attempt (recording the same attempt twice stores it once)."""
    when = at.astimezone(dt.UTC).isoformat()
    key = f"{alert_id}|{recipient}|{mask_channel(channel)}|{attempt}|{when}"
    return uuid.uuid5(_NAMESPACE, key)


@dataclass(frozen=True, slots=True)
class AlertToNotify:
    """An open alert as the notifier needs it (with the wearer's name and time zone)."""

    id: uuid.UUID
    wearer_id: str
    wearer_name: str
    wearer_timezone: str
    kind: str
    severity: str
    reason: str
    opened_at: dt.datetime
    opened_device_at: dt.datetime | None
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One stored attempt to tell one caregiver through one channel."""

    alert_id: uuid.UUID
    at: dt.datetime
    recipient: str
    channel: str
    attempt: int
    escalation_level: int
    result: str

    @property
    def delivered(self) -> bool:
        """Whether the channel's service took the message."""
        return self.result == DELIVERED


def _delivery_view(row: AlertDeliveryRow) -> DeliveryView:
    return DeliveryView(
        row.alert_id,
        row.at,
        row.recipient,
        row.channel,
        row.attempt,
        row.escalation_level,
        row.result,
    )


class AlertDeliveryStore:
    """Reads open alerts and shares, records delivery attempts (one transaction per call)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def of(cls, repository: object) -> AlertDeliveryStore:
        """The store on the same database as a :class:`~sensorhub.store.Repository`."""
        engine = getattr(repository, "_engine", None)
        if not isinstance(engine, Engine):
            raise TypeError(f"{repository!r} has no database engine")
        return cls(engine)

    def _run(self, work: Callable[[Session], _T], *, write: bool = False) -> _T:
        try:
            with Session(self._engine, expire_on_commit=False) as session:
                if not write:
                    return work(session)
                with session.begin():
                    return work(session)
        except SQLAlchemyError as exc:
            verb = "writing to" if write else "reading from"
            raise StorageError(
                f"{verb} the database failed (alert deliveries): {exc.__class__.__name__}: "
                f"{describe_error(exc).splitlines()[0]}"
            ) from exc

    def alerts_to_notify(self, now: dt.datetime) -> list[AlertToNotify]:
        """Open alerts not acknowledged or closed, oldest first.

        An alert whose wearer's cancel window (``cancel_until_at``) is still running at
        ``now`` is left out even when it is marked open.
        """

        def work(session: Session) -> list[AlertToNotify]:
            stmt = (
                select(AlertRow, WearerRow.display_name, WearerRow.timezone)
                .join(WearerRow, WearerRow.id == AlertRow.wearer_id)
                .where(
                    AlertRow.state == "open",
                    AlertRow.acknowledged_at.is_(None),
                    AlertRow.closed_at.is_(None),
                    or_(AlertRow.cancel_until_at.is_(None), AlertRow.cancel_until_at <= now),
                )
                .order_by(AlertRow.opened_at, AlertRow.id)
            )
            return [
                AlertToNotify(
                    row.id,
                    row.wearer_id,
                    name,
                    timezone or "UTC",
                    row.kind,
                    row.severity,
                    row.reason,
                    row.opened_at,
                    row.opened_device_at,
                    row.updated_at,
                )
                for row, name, timezone in session.execute(stmt)
            ]

        return self._run(work)

    def deliveries_of(self, alert_id: uuid.UUID) -> list[DeliveryView]:
        """Every recorded attempt for one alert, oldest first."""
        return self.deliveries_of_alerts([alert_id]).get(alert_id, [])

    def deliveries_of_alerts(
        self, alert_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, list[DeliveryView]]:
        """The attempts of several alerts (one query), oldest first per alert."""
        if not alert_ids:
            return {}

        def work(session: Session) -> dict[uuid.UUID, list[DeliveryView]]:
            out: dict[uuid.UUID, list[DeliveryView]] = {}
            stmt = (
                select(AlertDeliveryRow)
                .where(AlertDeliveryRow.alert_id.in_(list(alert_ids)))
                .order_by(AlertDeliveryRow.at, AlertDeliveryRow.id)
            )
            for row in session.scalars(stmt):
                out.setdefault(row.alert_id, []).append(_delivery_view(row))
            return out

        return self._run(work)

    def record_delivery(
        self,
        alert_id: uuid.UUID,
        *,
        recipient: str,
        channel: str,
        attempt: int,
        escalation_level: int,
        at: dt.datetime,
        result: str,
    ) -> DeliveryView:
        """Store one attempt (the channel masked); storing the same attempt again does nothing.

        ``result`` is :data:`DELIVERED` or ``"failed: why"`` (cut to the column's size).

        Raises
        ------
        StorageError
            If the database cannot be written (nothing is stored then).
        """
        view = DeliveryView(
            alert_id,
            at,
            recipient,
            mask_channel(channel),
            attempt,
            escalation_level,
            result[:_RESULT_CHARS],
        )
        self.record_deliveries([view])
        return view

    def record_deliveries(self, deliveries: Iterable[DeliveryView]) -> int:
        """Store attempts in one transaction (each idempotent); returns how many were new."""
        views = [
            dataclasses.replace(d, channel=mask_channel(d.channel), result=d.result[:_RESULT_CHARS])
            for d in deliveries
        ]

        def work(session: Session) -> int:
            new = 0
            for view in views:
                row_id = delivery_id(
                    view.alert_id, view.recipient, view.channel, view.attempt, view.at
                )
                if session.get(AlertDeliveryRow, row_id) is not None:
                    continue
                session.add(
                    AlertDeliveryRow(
                        id=row_id,
                        alert_id=view.alert_id,
                        at=view.at,
                        recipient=view.recipient,
                        channel=view.channel,
                        attempt=view.attempt,
                        escalation_level=view.escalation_level,
                        result=view.result,
                    )
                )
                new += 1
            return new

        try:
            return self._run(work, write=True)
        except StorageError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
        if len(views) == 1:  # written meanwhile by another writer, or its alert was deleted
            return 0
        return sum(self.record_deliveries([view]) for view in views)  # the others one by one

    def recipients_sharing(
        self, wearer_id: str, usernames: Collection[str], scope: Scope, now: dt.datetime
    ) -> frozenset[str]:
        """Those of ``usernames`` whose enabled account has an active share of ``scope``.

        Active at ``now``: not revoked, not expired. A wearer's own account counts too (a
        wearer sees all of their own data).
        """
        if not usernames:
            return frozenset()

        def work(session: Session) -> frozenset[str]:
            users = session.execute(
                select(UserRow.id, UserRow.username, UserRow.wearer_id).where(
                    UserRow.username.in_(list(usernames)), UserRow.disabled.is_(False)
                )
            ).all()
            allowed = {name for _id, name, own in users if own == wearer_id}
            by_id = {user_id: name for user_id, name, _own in users}
            if by_id:
                shares = select(ShareRow.grantee_id, ShareRow.scopes).where(
                    ShareRow.wearer_id == wearer_id,
                    ShareRow.grantee_id.in_(list(by_id)),
                    ShareRow.revoked_at.is_(None),
                    or_(ShareRow.expires_at.is_(None), ShareRow.expires_at > now),
                )
                for grantee, stored in session.execute(shares):
                    if scope.value in stored.split(","):
                        allowed.add(by_id[grantee])
            return frozenset(allowed)

        return self._run(work)

    def known_usernames(self, usernames: Collection[str]) -> frozenset[str]:
        """Those of ``usernames`` that have an account (to warn about the others)."""
        if not usernames:
            return frozenset()

        def work(session: Session) -> frozenset[str]:
            found = session.scalars(
                select(UserRow.username).where(UserRow.username.in_(list(usernames)))
            )
            return frozenset(found)

        return self._run(work)
