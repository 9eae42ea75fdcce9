"""Storage adapter: SQLAlchemy models, migrations, the write path and the read path.

``Store.open(url)`` is the one way in: it creates the engine with the per-backend settings,
brings the schema to the newest migration and hands out a :class:`Repository` (writes),
:class:`Queries` (reads, each for a viewer: see ``queries``) and :class:`Accounts` (the care
circle: accounts, shares, audit log, and the wearer's own answers to nudges and settings).
The nudge loop's rules (outcomes, first response wins, adherence) are in ``nudge_loop``.
``Store.open_read_only(url)`` is the dashboard's data
door: it never creates, migrates or writes. Every URL shown in a message goes through
:func:`redact_url`.
"""

from __future__ import annotations

import os

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from sensorhub.errors import StorageError
from sensorhub.store.accounts import (
    Accounts,
    Action,
    AuditEntry,
    LoginRefusedError,
    ShareView,
    UnknownAlertError,
    UserView,
)
from sensorhub.store.database import (
    DB_URL_ENV,
    create_db_engine,
    describe_error,
    redact_url,
    schema_revision,
    upgrade_schema,
)
from sensorhub.store.nudge_loop import RESPONSE_WINDOW_S, NudgeAdherence
from sensorhub.store.outbox import Outbox, OutboxEntry, outbox_path_for
from sensorhub.store.queries import (
    AlertDeliveryView,
    AlertView,
    DeviceView,
    EpochView,
    EventView,
    LiveView,
    NudgeView,
    Queries,
    WearerView,
)
from sensorhub.store.records import (
    AlertRecord,
    DeviceRecord,
    LiveRecord,
    NudgeRecord,
    NudgeResponseRecord,
    Record,
    WearerRecords,
    nudge_id,
)
from sensorhub.store.repository import Repository, ns_from_utc, utc_from_ns

DEFAULT_DB_URL = "sqlite:///var/sensorhub.db"


def database_url(given: str | None = None) -> str:
    """The database to use: ``given`` (a ``--db``), else ``$SENSORHUB_DB_URL``, else the default."""
    return given or os.environ.get(DB_URL_ENV) or DEFAULT_DB_URL


class Store:
    """An open sensorhub database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.repository = Repository(engine)
        self.queries = Queries(engine)
        self.accounts = Accounts(engine)

    @classmethod
    def open(cls, url: str = DEFAULT_DB_URL, *, upgrade: bool = True) -> Store:
        """Open the database at ``url``, migrating its schema to the newest revision.

        Raises
        ------
        StorageError
            If the URL is invalid or the database cannot be reached or migrated.
        """
        engine = create_db_engine(url)
        if upgrade:
            upgrade_schema(engine)
        return cls(engine)

    @classmethod
    def open_read_only(cls, url: str = DEFAULT_DB_URL) -> Store:
        """Open the database at ``url`` for reading only, as it is (no migration).

        A SQLite file is opened with ``mode=ro`` and never created; on PostgreSQL every
        transaction defaults to read-only (use a role that may only SELECT as well). Writes
        through the returned store fail.

        Raises
        ------
        StorageError
            If the URL is invalid, or names a SQLite file that does not exist.
        """
        return cls(create_db_engine(url, read_only=True))

    def schema_revision(self) -> str | None:
        """The schema revision of the database (None when it holds no sensorhub schema).

        Raises
        ------
        StorageError
            If the database cannot be reached.
        """
        try:
            return schema_revision(self.engine)
        except SQLAlchemyError as exc:
            raise StorageError(
                f"cannot read the database at {redact_url(self.engine.url)}: {describe_error(exc)}"
            ) from exc

    def close(self) -> None:
        """Release every pooled connection (the database file stays consistent)."""
        self.engine.dispose()


__all__ = [
    "DB_URL_ENV",
    "DEFAULT_DB_URL",
    "RESPONSE_WINDOW_S",
    "Accounts",
    "Action",
    "AlertDeliveryView",
    "AlertRecord",
    "AlertView",
    "AuditEntry",
    "DeviceRecord",
    "DeviceView",
    "EpochView",
    "EventView",
    "LiveRecord",
    "LiveView",
    "LoginRefusedError",
    "NudgeAdherence",
    "NudgeRecord",
    "NudgeResponseRecord",
    "NudgeView",
    "Outbox",
    "OutboxEntry",
    "Queries",
    "Record",
    "Repository",
    "ShareView",
    "Store",
    "UnknownAlertError",
    "UserView",
    "WearerRecords",
    "WearerView",
    "database_url",
    "ns_from_utc",
    "nudge_id",
    "outbox_path_for",
    "redact_url",
    "utc_from_ns",
]
