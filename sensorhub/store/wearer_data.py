"""A wearer's data as a whole: export every row of theirs, or delete every row of theirs.

GDPR articles 15, 17 and 20 (access, erasure, portability) in practice: ``export`` writes one
file per table (CSV or Parquet) with every row that belongs to the wearer; ``delete`` removes
those rows, the wearer's own account and every share of their data in one transaction. The
audit log keeps its entries and gains one saying the deletion happened (it holds no health
data: who looked at which wearer, when).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, cast

from sqlalchemy import CursorResult, Delete, Engine, Table, delete, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sensorhub.access import AccessError
from sensorhub.errors import StorageError
from sensorhub.private_files import create_private_file
from sensorhub.store.accounts import Action
from sensorhub.store.database import describe_error
from sensorhub.store.models import (
    AlertDeliveryRow,
    AlertRow,
    AuditRow,
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

EXPORT_FORMATS: Final = ("csv", "parquet")

#: Tables with a ``wearer_id`` column, exported under these file names (deleted children
#: first: foreign keys point to ``wearer``).
_WEARER_TABLES: Final[tuple[tuple[str, Table], ...]] = (
    ("events", cast(Table, EventRow.__table__)),
    ("epochs", cast(Table, EpochRow.__table__)),
    ("nudges", cast(Table, NudgeRow.__table__)),
    ("live_state", cast(Table, LiveStateRow.__table__)),
    ("devices", cast(Table, DeviceRow.__table__)),
    ("shares", cast(Table, ShareRow.__table__)),
    ("alerts", cast(Table, AlertRow.__table__)),
    ("settings", cast(Table, WearerSettingsRow.__table__)),
)


def _cell(value: Any) -> Any:
    """A value as it goes into an export file (times ISO 8601 UTC, JSON as text)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def _rows(session: Session, table: Table, wearer_id: str) -> list[dict[str, Any]]:
    stmt = select(table).where(table.c.wearer_id == wearer_id)
    key = list(table.primary_key.columns)
    return [
        {k: _cell(v) for k, v in row._mapping.items()}
        for row in session.execute(stmt.order_by(*key))
    ]


def _share_filter(session: Session, wearer_id: str) -> Any:
    """Shares of the wearer's data, and shares the wearer's own account received."""
    account_ids = list(session.scalars(select(UserRow.id).where(UserRow.wearer_id == wearer_id)))
    condition: Any = ShareRow.wearer_id == wearer_id
    if account_ids:
        condition = or_(condition, ShareRow.grantee_id.in_(account_ids))
    return condition


def wearer_row_counts(engine: Engine, wearer_id: str) -> dict[str, int]:
    """How many rows :func:`delete_wearer` would delete, per table (the same keys).

    ``shares`` counts the shares of the wearer's data and those their own account received;
    ``account`` is the wearer's own account (0 or 1), ``wearer`` the wearer (0 or 1).

    Raises
    ------
    StorageError
        If the database cannot be read.
    """

    def count(session: Session, table: Any, condition: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(table).where(condition)) or 0)

    try:
        with Session(engine) as session:
            counts = {"shares": count(session, ShareRow, _share_filter(session, wearer_id))}
            alerts = select(AlertRow.id).where(AlertRow.wearer_id == wearer_id)
            counts["alert_deliveries"] = count(
                session, AlertDeliveryRow, AlertDeliveryRow.alert_id.in_(alerts)
            )
            for name, table in _WEARER_TABLES:
                if name != "shares":
                    counts[name] = count(session, table, table.c.wearer_id == wearer_id)
            counts["account"] = count(session, UserRow, UserRow.wearer_id == wearer_id)
            counts["wearer"] = count(session, WearerRow, WearerRow.id == wearer_id)
    except SQLAlchemyError as exc:
        raise StorageError(f"reading the wearer's data failed: {describe_error(exc)}") from exc
    return counts


def export_wearer(
    engine: Engine, wearer_id: str, out_dir: Path, *, fmt: str, actor: str
) -> dict[str, int]:
    """Write every row of the wearer to ``out_dir`` (one file per table); returns row counts.

    Files are created with mode 0600 (they hold health data) and never overwritten. The
    export is audited.

    Raises
    ------
    AccessError
        If the wearer does not exist, the format is unknown or a file is already there.
    StorageError
        If the database cannot be read.
    """
    if fmt not in EXPORT_FORMATS:
        raise AccessError(f"unknown export format {fmt!r}: use {' or '.join(EXPORT_FORMATS)}")
    # One snapshot for every table (SQLite's read transactions are snapshots already), so the
    # files agree with each other while the hub keeps writing.
    snapshot = (
        engine.execution_options(isolation_level="REPEATABLE READ")
        if engine.dialect.name == "postgresql"
        else engine
    )
    try:
        with Session(snapshot) as session:
            wearer = session.get(WearerRow, wearer_id)
            if wearer is None:
                raise AccessError(f"no wearer {wearer_id!r} in the database")
            tables = {"wearer": [{k: _cell(getattr(wearer, k)) for k in _columns(WearerRow)}]}
            for name, table in _WEARER_TABLES:
                tables[name] = _rows(session, table, wearer_id)
            tables["alert_deliveries"] = _delivery_rows(session, wearer_id)
    except SQLAlchemyError as exc:
        raise StorageError(f"reading the wearer's data failed: {describe_error(exc)}") from exc
    paths = {name: out_dir / f"{name}.{fmt}" for name in tables}
    taken = [str(p) for p in paths.values() if p.exists()]
    if taken:
        raise AccessError(f"{taken[0]} exists: export into an empty folder")
    written: list[Path] = []
    try:
        for name, rows in tables.items():
            written.append(paths[name])
            _write(paths[name], rows, _table_columns(name), fmt)
        with Session(engine) as session, session.begin():
            session.add(
                AuditRow(
                    at=dt.datetime.now(dt.UTC),
                    actor=actor,
                    action=Action.EXPORT,
                    wearer_id=wearer_id,
                    detail=f"{fmt} to {out_dir}: "
                    + ", ".join(f"{name} {len(rows)}" for name, rows in tables.items()),
                )
            )
    except (OSError, SQLAlchemyError) as exc:
        # Nothing half-written: an export that is not complete and audited is removed.
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StorageError(
                f"cannot write the export to {out_dir}: {exc.strerror or exc}; nothing was kept"
            ) from exc
        raise StorageError(
            f"cannot record the export in the audit log, so it was removed: {describe_error(exc)}"
        ) from exc
    return {name: len(rows) for name, rows in tables.items()}


def _delivery_rows(session: Session, wearer_id: str) -> list[dict[str, Any]]:
    alerts = select(AlertRow.id).where(AlertRow.wearer_id == wearer_id)
    stmt = select(AlertDeliveryRow.__table__).where(AlertDeliveryRow.alert_id.in_(alerts))
    return [
        {k: _cell(v) for k, v in row._mapping.items()}
        for row in session.execute(stmt.order_by(AlertDeliveryRow.at, AlertDeliveryRow.id))
    ]


def _columns(model: Any) -> list[str]:
    return [c.name for c in model.__table__.columns]


def _table_columns(name: str) -> list[str]:
    if name == "wearer":
        return _columns(WearerRow)
    if name == "alert_deliveries":
        return _columns(AlertDeliveryRow)
    return [c.name for c in dict(_WEARER_TABLES)[name].columns]


def _write(path: Path, rows: Sequence[dict[str, Any]], columns: list[str], fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    create_private_file(path)
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(list(rows)) if rows else pa.table({c: [] for c in columns})
    pq.write_table(table, path)


def _deleted(session: Session, statement: Delete) -> int:
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount)


def delete_wearer(engine: Engine, wearer_id: str, *, actor: str) -> dict[str, int]:
    """Delete every row of the wearer (and their account and shares) in one transaction.

    Returns the number of rows deleted per table. The audit log keeps its entries and gains
    one that records the deletion.

    Raises
    ------
    AccessError
        If the wearer does not exist.
    StorageError
        If the database refuses (nothing is deleted then).
    """
    try:
        with Session(engine) as session, session.begin():
            if session.get(WearerRow, wearer_id) is None:
                raise AccessError(f"no wearer {wearer_id!r} in the database")
            counts: dict[str, int] = {}
            share_filter = _share_filter(session, wearer_id)
            counts["shares"] = _deleted(session, delete(ShareRow).where(share_filter))
            alerts = select(AlertRow.id).where(AlertRow.wearer_id == wearer_id)
            counts["alert_deliveries"] = _deleted(
                session, delete(AlertDeliveryRow).where(AlertDeliveryRow.alert_id.in_(alerts))
            )
            for name, table in _WEARER_TABLES:
                if name != "shares":
                    counts[name] = _deleted(
                        session, delete(table).where(table.c.wearer_id == wearer_id)
                    )
            counts["account"] = _deleted(
                session, delete(UserRow).where(UserRow.wearer_id == wearer_id)
            )
            counts["wearer"] = _deleted(session, delete(WearerRow).where(WearerRow.id == wearer_id))
            session.add(
                AuditRow(
                    at=dt.datetime.now(dt.UTC),
                    actor=actor,
                    action=Action.WEARER_DELETED,
                    wearer_id=wearer_id,
                    detail=", ".join(f"{name} {n}" for name, n in counts.items()),
                )
            )
    except SQLAlchemyError as exc:
        raise StorageError(
            f"deleting the wearer failed, nothing was deleted: {describe_error(exc)}"
        ) from exc
    return counts


__all__ = ["EXPORT_FORMATS", "delete_wearer", "export_wearer", "wearer_row_counts"]
