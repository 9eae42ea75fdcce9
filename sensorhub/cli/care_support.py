"""What the care-circle commands share: ``--db``, the audit actor, passwords, dates, tables.

Not a subcommand (it is not in ``SUBCOMMANDS``): ``users``, ``share``, ``audit``, ``export``
and ``wearer`` import it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sensorhub.access import AccessError
from sensorhub.errors import StorageError
from sensorhub.store import DB_URL_ENV, DEFAULT_DB_URL, Store, database_url


def add_db_argument(parser: Any) -> None:
    """The ``--db URL`` option every care-circle command takes."""
    parser.add_argument(
        "--db",
        metavar="URL",
        help=f"database URL (default ${DB_URL_ENV}, else {DEFAULT_DB_URL})",
    )


def add_json_argument(parser: Any) -> None:
    """The ``--json`` option of the listing commands."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _missing_sqlite_file(url: str) -> Path | None:
    """The file a ``sqlite:///PATH`` URL names, if it does not exist (else None)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = Path(url.removeprefix(prefix)).expanduser()
    return None if str(path) in {"", ":memory:"} or path.exists() else path


@contextlib.contextmanager
def open_store(db: str | None) -> Iterator[Store]:
    """The database of ``--db`` (migrated to the newest schema), closed afterwards.

    A SQLite file that does not exist is refused rather than created: a mistyped path would
    otherwise give an empty database ("no accounts") that looks like a real answer.
    """
    url = database_url(db)
    missing = _missing_sqlite_file(url)
    if missing is not None:
        raise StorageError(
            f"no database at {missing}: check --db (or ${DB_URL_ENV}), or create it with "
            f"`sensorhub db upgrade --db {url}`"
        )
    store = Store.open(url)
    try:
        yield store
    finally:
        store.close()


def cli_actor() -> str:
    """Who the audit log records for a command: ``cli:<operating-system user>``."""
    try:
        user = getpass.getuser()
    except OSError:  # no login name and no passwd entry (some containers)
        user = f"uid{os.getuid()}"
    return f"cli:{user}"


def read_password(prompt: str = "Password: ") -> str:
    """One password line from stdin (``--password-stdin``), never echoed.

    From a terminal it prompts without echo; from a pipe it reads the first line and drops
    its line ending (``printf '%s\\n' "$PW" | sensorhub users add ... --password-stdin``).

    Raises
    ------
    AccessError
        If stdin gives no password.
    """
    if sys.stdin is None:
        raise AccessError("no standard input to read the password from")
    if sys.stdin.isatty():
        password = getpass.getpass(prompt)
    else:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password:
        raise AccessError("no password on standard input: pipe one line to --password-stdin")
    return password


def _parse_when(text: str, what: str) -> tuple[dt.datetime, bool]:
    """``text`` as an aware UTC datetime, and whether it was a bare date."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC), True
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise AccessError(
            f"invalid {what} {text!r}: write a date as YYYY-MM-DD or a time as "
            "YYYY-MM-DDTHH:MM[:SS][+HH:MM] (UTC when no offset is given)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC), False


def parse_expiry(text: str) -> dt.datetime:
    """The end of a share: a date ``YYYY-MM-DD`` lasts through that day (expires at the start
    of the next day, UTC); an ISO time expires at that moment (UTC when it has no offset)."""
    when, is_date = _parse_when(text, "expiry")
    return when + dt.timedelta(days=1) if is_date else when


def parse_since(text: str) -> dt.datetime:
    """The start of a period: a date ``YYYY-MM-DD`` starts at 00:00 UTC that day."""
    return _parse_when(text, "--since")[0]


def iso(value: dt.datetime | None) -> str | None:
    """A time as ISO 8601 UTC (None stays None)."""
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def short_time(value: dt.datetime | None) -> str:
    """A time for a table: ``2026-12-02 17:41 UTC`` (``-`` for none)."""
    return "-" if value is None else f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def print_json(value: Any) -> None:
    """``value`` as indented JSON on stdout."""
    print(json.dumps(value, indent=2, ensure_ascii=False))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Rows under headers, in columns padded to the widest cell."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for line in [headers, *rows]:
        cells = (str(cell).ljust(width) for cell, width in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip())


def counts_text(counts: dict[str, int]) -> str:
    """Row counts as ``events 12, epochs 300, ...``."""
    return ", ".join(f"{name} {n}" for name, n in counts.items())


__all__ = [
    "add_db_argument",
    "add_json_argument",
    "cli_actor",
    "counts_text",
    "iso",
    "open_store",
    "parse_expiry",
    "parse_since",
    "print_json",
    "print_table",
    "read_password",
    "short_time",
]
