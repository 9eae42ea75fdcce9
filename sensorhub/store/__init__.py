"""Storage adapter: SQLAlchemy models, migrations, the write path and the read path.

``Store.open(url)`` is the one way in: it creates the engine with the per-backend settings,
brings the schema to the newest migration and hands out a :class:`Repository` (writes) and
:class:`Queries` (reads).
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from sensorhub.errors import StorageError
from sensorhub.store.database import create_db_engine, schema_revision, upgrade_schema
from sensorhub.store.outbox import Outbox, OutboxEntry, outbox_path_for
from sensorhub.store.queries import (
    DeviceView,
    EpochView,
    EventView,
    LiveView,
    NudgeView,
    Queries,
    WearerView,
)
from sensorhub.store.records import (
    DeviceRecord,
    LiveRecord,
    NudgeRecord,
    Record,
    WearerRecords,
    nudge_id,
)
from sensorhub.store.repository import Repository, ns_from_utc, utc_from_ns

DEFAULT_DB_URL = "sqlite:///var/sensorhub.db"


class Store:
    """An open sensorhub database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.repository = Repository(engine)
        self.queries = Queries(engine)

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
                f"cannot read the database at "
                f"{self.engine.url.render_as_string(hide_password=True)}: {exc}"
            ) from exc

    def close(self) -> None:
        """Release every pooled connection (the database file stays consistent)."""
        self.engine.dispose()


__all__ = [
    "DEFAULT_DB_URL",
    "DeviceRecord",
    "DeviceView",
    "EpochView",
    "EventView",
    "LiveRecord",
    "LiveView",
    "NudgeRecord",
    "NudgeView",
    "Outbox",
    "OutboxEntry",
    "Queries",
    "Record",
    "Repository",
    "Store",
    "WearerRecords",
    "WearerView",
    "ns_from_utc",
    "nudge_id",
    "outbox_path_for",
    "utc_from_ns",
]
