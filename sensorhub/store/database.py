"""Opening a sensorhub database: engine settings per backend and schema migrations.

SQLite (embedded default) runs in WAL mode so the dashboard can read while the collector
writes; PostgreSQL is the production store. The schema is managed by Alembic; opening a
store brings it to the newest revision unless told otherwise.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from sensorhub.errors import StorageError
from sensorhub.private_files import create_private_file, warn_if_exposed

_LOGGER = logging.getLogger(__name__)
_MIGRATIONS = Path(__file__).parent / "migrations"
_DB_HOLDS = "wearers' health data"


#: Environment variable that names the database (read by ``sensorhub dashboard`` and
#: ``sensorhub db upgrade`` when ``--db`` is not given, and by the dashboard process): a
#: process's environment is visible to its owner only, its command line to every local user.
DB_URL_ENV: Final = "SENSORHUB_DB_URL"

_URL_FORM = (
    "write it as BACKEND://..., e.g. sqlite:///var/sensorhub.db or "
    "postgresql+psycopg://user:password@host/dbname"
)
#: Query parameters libpq (and so psycopg) reads a password from.
_SECRET_QUERY_KEYS: Final = frozenset({"password", "sslpassword"})
_HIDDEN: Final = "***"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the dashboard) run beside the writer. synchronous=FULL, not NORMAL:
    # the hub deletes a record from its outbox once the database's commit returned, and with
    # NORMAL a power cut may roll back commits that returned (SQLite's documentation), which
    # would lose health data the outbox had already let go. The drainer commits batches, so
    # FULL costs one fsync per batch: 8.6 ms vs 1.6 ms p50 per commit here
    # (`python -m bench outbox`).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_read_only_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The file is opened with mode=ro; query_only is the second guard. The journal mode is
    # the file's (the collector set WAL), so a reader does not set it.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _postgresql_read_only(dbapi_connection: Any, _record: Any) -> None:
    # Every transaction of the session is read-only unless it asks otherwise: a guard beside
    # a role that may only SELECT (README, "The dashboard only reads").
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION default_transaction_read_only = on")
    cursor.close()
    dbapi_connection.autocommit = autocommit


def _has_ambiguous_at(url: str) -> bool:
    # SQLAlchemy ends the password at the first '@': an unescaped '@' in the password would
    # put the password's tail in the host name, which errors (and logs) then show.
    authority_and_path = url.split("://", 1)[1].split("?", 1)[0]
    return authority_and_path.count("@") > 1


def _parse_url(url: str | URL) -> URL:
    if isinstance(url, URL):
        return url
    if "://" not in url:
        raise StorageError(f"invalid database URL (not shown: it may hold a password): {_URL_FORM}")
    if _has_ambiguous_at(url):
        raise StorageError(
            "invalid database URL (not shown: it may hold a password): more than one '@' "
            "before the host; write an '@' in the user name or password as %40"
        )
    try:
        return make_url(url)
    except ArgumentError:
        raise StorageError(
            f"invalid database URL (not shown: it may hold a password): {_URL_FORM}"
        ) from None


def redact_url(url: str | URL) -> str:
    """``url`` as it may be shown in messages and logs: every password masked.

    The password of the user part and the ``password`` and ``sslpassword`` query parameters
    become ``***``; a text that cannot be parsed unambiguously as a URL is not shown at all.

    Parameters
    ----------
    url
        A database URL, as text or as a SQLAlchemy URL.

    Returns
    -------
    str
        The URL with its secrets masked, or a placeholder.
    """
    try:
        parsed = _parse_url(url)
    except StorageError:
        return "(not shown: not a valid database URL)"
    secrets = dict.fromkeys(_SECRET_QUERY_KEYS.intersection(parsed.query), _HIDDEN)
    if secrets:
        parsed = parsed.update_query_dict(secrets)
    return parsed.render_as_string(hide_password=True)


def describe_error(exc: BaseException) -> str:
    """``exc`` as it may be shown in messages and logs: no stored values in it.

    The engines already leave statement parameters out (``hide_parameters``); a PostgreSQL
    server adds a DETAIL that quotes row values ("Key (wearer_id)=(ada) is not present"),
    which is masked here. The primary message, the statement and SQLite's messages stay.

    Parameters
    ----------
    exc
        An error raised by SQLAlchemy or a database driver.

    Returns
    -------
    str
        Its message.
    """
    message = str(exc)
    diag = getattr(getattr(exc, "orig", exc), "diag", None)
    detail = getattr(diag, "message_detail", None)
    if isinstance(detail, str) and detail:
        message = message.replace(detail, "(not shown: it may quote stored values)")
    return message


def create_db_engine(url: str, *, read_only: bool = False) -> Engine:
    """Create an engine for ``url`` with sensorhub's per-backend settings.

    A SQLite database file that does not exist yet is created with mode 0600 (its folders
    0700) before SQLite opens it; SQLite gives its -wal and -shm files the same mode. An
    existing file that other users may read is reported with a warning, not changed.
    Statement parameters (wearer ids, device addresses, ...) are kept out of error messages
    and logs.

    Parameters
    ----------
    url
        The database URL.
    read_only
        Open for reading only: a SQLite file is opened with ``mode=ro`` (and must exist), a
        PostgreSQL session defaults to read-only transactions.

    Raises
    ------
    StorageError
        If the URL is malformed or names a backend sensorhub does not support, or, when
        ``read_only``, if the SQLite file does not exist.
    """
    parsed = _parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, read_only=read_only)
    if backend == "postgresql":
        try:
            engine = create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
        except ArgumentError as exc:  # an unknown driver ("+nodriver")
            raise StorageError(
                f"cannot use the database URL {redact_url(parsed)}: {exc}; use "
                "postgresql+psycopg://..."
            ) from None
        if read_only:
            event.listen(engine, "connect", _postgresql_read_only)
        return engine
    raise StorageError(f"unsupported database backend {backend!r}: use sqlite or postgresql")


def _sqlite_engine(parsed: URL, *, read_only: bool) -> Engine:
    database = parsed.database
    uri_form = str(parsed.query.get("uri", "")).lower() in {"true", "1"}
    if database and database != ":memory:" and not uri_form:
        path = Path(database).expanduser()
        parsed = parsed.set(database=str(path))
        if read_only:
            if not path.is_file():
                raise StorageError(
                    f"no database at {path}: start the collector first or check --db"
                )
            warn_if_exposed(path, _DB_HOLDS, f"{path}*")
            parsed = parsed.set(database=f"file:{quote(str(path.resolve()))}").update_query_dict(
                {"mode": "ro", "uri": "true"}
            )
        else:
            try:
                created = create_private_file(path)
            except OSError as exc:
                raise StorageError(
                    f"cannot create the database file {path}: {exc.strerror}; check the path "
                    "and that you may write there"
                ) from exc
            if not created:
                warn_if_exposed(path, _DB_HOLDS, f"{path}*")
    elif read_only and uri_form:
        parsed = parsed.update_query_dict({"mode": "ro"})
    engine = create_engine(parsed, connect_args={"timeout": 10}, hide_parameters=True)
    event.listen(engine, "connect", _sqlite_read_only_pragmas if read_only else _sqlite_pragmas)
    return engine


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest schema revision this version of sensorhub knows."""
    return ScriptDirectory(str(_MIGRATIONS)).get_current_head()


def upgrade_schema(engine: Engine) -> None:
    """Bring the database schema to the newest revision (idempotent).

    Raises
    ------
    StorageError
        If the database cannot be reached or is at a revision newer than this software.
    """
    try:
        current = schema_revision(engine)
        known = {rev.revision for rev in ScriptDirectory(str(_MIGRATIONS)).walk_revisions()}
        if current is not None and current not in known:
            raise StorageError(
                f"database schema is at revision {current}, which this sensorhub does not "
                "know: it was written by a newer version; upgrade sensorhub"
            )
        if current != head_revision():
            _LOGGER.info("upgrading database schema from %s to %s", current, head_revision())
            command.upgrade(_alembic_config(engine), "head")
    except OperationalError as exc:
        raise StorageError(
            f"cannot open the database at {redact_url(engine.url)}: "
            f"{describe_error(exc.orig or exc)}. Check the URL, that the server is running and "
            "that you may write there"
        ) from exc
