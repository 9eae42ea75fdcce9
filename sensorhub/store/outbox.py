"""The on-disk outbox: every record the hub stores passes through here first.

A small SQLite file beside the database (``var/sensorhub.db.outbox`` for the embedded
default; for PostgreSQL a file under ``var/``) holds what the pipeline produced until the
database has committed it. A database outage of any length, ``kill -9`` or a power cut loses
nothing that reached the outbox: records leave it only after the database transaction that
wrote them has committed (:class:`sensorhub.service.writer.WriteOutbox` drains it).

Two kinds of entries:

* **queued records** (events and epochs of a wearer, nudges): appended in order, written in
  order, deleted once written. Every write is an idempotent upsert (events and nudges by
  their deterministic ids, epochs by wearer and minute), so a record written twice (the
  database committed, the process died before the delete) changes nothing.
* **latest snapshots** (a wearer's live state, a device's health): one per key, replaced by
  each newer one; only the newest is written. The live snapshot is also what a restarted hub
  resumes its open bouts from, even when the database was down at the crash.

Durability: the outbox runs in WAL mode with ``synchronous=FULL``, so a ``put`` that
returned has reached the disk (SQLite's documentation: FULL syncs the WAL at every commit;
NORMAL may lose the last commits on power loss). The cost is one fsync per ``put``, a few
per second per wearer (measured in ``python -m bench outbox``). The outbox is bounded by
size (``max_bytes``): a ``put`` beyond it raises :class:`~sensorhub.errors.OutboxError`
and nothing is dropped silently. The file is created 0600 in a 0700 folder: it holds health
data.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy.engine import make_url

from sensorhub.errors import OutboxError
from sensorhub.store.records import (
    AlertRecord,
    DeviceRecord,
    LiveRecord,
    Record,
    record_from_json,
    record_to_json,
)

__all__ = ["DEFAULT_OUTBOX_BYTES", "Outbox", "OutboxEntry", "outbox_path_for"]

#: Default size bound: about a year of events and epochs of 8 wearers (an epoch row is about
#: 250 bytes of JSON; 1,440 a day per wearer).
DEFAULT_OUTBOX_BYTES: Final = 1 << 30

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS queued (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letter (
    seq INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS latest (
    key TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    version INTEGER NOT NULL,
    written_version INTEGER NOT NULL DEFAULT 0
);
"""


def outbox_path_for(db_url: str, var_dir: Path = Path("var")) -> Path:
    """Where the outbox of the database at ``db_url`` lives by default.

    Beside an SQLite file (``<file>.outbox``); for a server database, a file under
    ``var_dir`` named after the host and database (never the password).
    """
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(f"{url.database}.outbox")
    safe = "".join(c if c.isalnum() else "-" for c in f"{url.host or 'local'}-{url.database}")
    return var_dir / f"outbox-{url.get_backend_name()}-{safe}.sqlite"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A queued record and its position in the outbox."""

    seq: int
    record: Record


def _create_private(path: Path) -> None:
    """Create ``path`` (and missing folders) readable by its owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


def _latest_key(record: Record) -> str | None:
    if isinstance(record, LiveRecord):
        return f"live/{record.wearer_id}"
    if isinstance(record, DeviceRecord):
        return f"device/{record.address}"
    return None


class Outbox:
    """A durable, size-bounded queue of records on their way to the database.

    Thread-safe: the hub puts from the event loop's worker threads and drains from another.

    Parameters
    ----------
    path
        The outbox file (created 0600 if missing).
    max_bytes
        Upper bound of the queued records' JSON size; a ``put`` beyond it is refused.

    Raises
    ------
    OutboxError
        If the file cannot be created or is not an outbox.
    """

    def __init__(self, path: str | Path, *, max_bytes: int = DEFAULT_OUTBOX_BYTES) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        try:
            if not self.path.exists():
                _create_private(self.path)
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=10
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute(
                "SELECT count(*), coalesce(sum(length(body)), 0) FROM queued"
            ).fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(
                f"cannot open the outbox {self.path}: {exc}. Check that the folder is "
                "writable and that the file is a sensorhub outbox (move it aside if not)"
            ) from exc
        self._count, self._bytes = int(row[0]), int(row[1])

    @contextlib.contextmanager
    def _access(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock; a write is one transaction (one fsync).

        Every SQLite error becomes an :class:`~sensorhub.errors.OutboxError` that says what
        to do (a full disk above all); a failed write leaves nothing half-done.
        """
        with self._lock:
            try:
                if write:
                    self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    if write:
                        self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:  # SQLite may have rolled back already
                        with contextlib.suppress(sqlite3.Error):
                            self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise OutboxError(_write_problem(self.path, exc)) from exc

    # ------------------------------------------------------------------ writing

    def put(self, records: Sequence[Record]) -> None:
        """Append records (queued) or replace snapshots (latest), in one durable commit.

        Raises
        ------
        OutboxError
            If the outbox is full (``max_bytes``) or the disk refuses the write; nothing of
            ``records`` was stored then.
        """
        queued: list[str] = []
        latest: list[tuple[str, str]] = []
        for record in records:
            body = json.dumps(record_to_json(record), separators=(",", ":"))
            key = _latest_key(record)
            if key is None:
                queued.append(body)
            else:
                latest.append((key, body))
        added = sum(len(b) for b in queued)
        if queued and self._bytes + added > self.max_bytes:
            raise OutboxError(
                f"the outbox {self.path} is full ({self._bytes / 2**20:.0f} MiB of "
                f"{self.max_bytes / 2**20:.0f} MiB queued while the database is "
                "unreachable): these records were not kept. Bring the database back "
                "or raise the outbox size"
            )
        with self._access(write=True) as db:
            db.executemany("INSERT INTO queued (body) VALUES (?)", [(b,) for b in queued])
            db.executemany(
                "INSERT INTO latest (key, body, version) VALUES (?, ?, 1) "
                "ON CONFLICT (key) DO UPDATE SET body = excluded.body, "
                "version = latest.version + 1",
                latest,
            )
        with self._lock:
            self._count += len(queued)
            self._bytes += added

    # ------------------------------------------------------------------ draining

    def peek(self, limit: int = 500) -> list[OutboxEntry]:
        """The oldest queued records (at most ``limit``), in order.

        A record that cannot be read back (a damaged or foreign entry) raises
        :class:`~sensorhub.errors.OutboxError` naming its position.
        """
        with self._access() as db:
            rows = db.execute(
                "SELECT seq, body FROM queued ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        out = []
        for seq, body in rows:
            try:
                out.append(OutboxEntry(int(seq), record_from_json(json.loads(body))))
            except ValueError as exc:
                problem = f"entry {seq} of the outbox {self.path} is damaged: {exc}"
                raise OutboxError(problem) from exc
        return out

    def remove(self, seqs: Sequence[int]) -> None:
        """Delete queued records the database has committed."""
        if not seqs:
            return
        removed = removed_bytes = 0
        with self._access(write=True) as db:
            for seq in seqs:
                row = db.execute(
                    "DELETE FROM queued WHERE seq = ? RETURNING length(body)", (seq,)
                ).fetchone()
                if row is not None:
                    removed += 1
                    removed_bytes += int(row[0])
        with self._lock:
            self._bytes -= removed_bytes
            self._count -= removed

    def set_aside(self, seq: int) -> None:
        """Move queued record ``seq`` to the dead letters (the database refuses it)."""
        with self._access(write=True) as db:
            size = db.execute("SELECT length(body) FROM queued WHERE seq = ?", (seq,)).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO dead_letter SELECT seq, body FROM queued WHERE seq = ?",
                (seq,),
            )
            db.execute("DELETE FROM queued WHERE seq = ?", (seq,))
        if size is not None:
            with self._lock:
                self._bytes -= int(size[0])
                self._count -= 1

    @property
    def dead_letters(self) -> int:
        """Records set aside because the database refused them."""
        with self._access() as db:
            return int(db.execute("SELECT count(*) FROM dead_letter").fetchone()[0])

    def unwritten_latest(self) -> list[tuple[str, int, Record]]:
        """Snapshots newer than what the database has: ``(key, version, record)``."""
        with self._access() as db:
            rows = db.execute(
                "SELECT key, version, body FROM latest WHERE version > written_version"
            ).fetchall()
        return [(k, int(v), record_from_json(json.loads(b))) for k, v, b in rows]

    def mark_written(self, key: str, version: int) -> None:
        """Note that the database holds snapshot ``key`` at ``version``."""
        with self._access(write=True) as db:
            db.execute(
                "UPDATE latest SET written_version = ? WHERE key = ? AND written_version < ?",
                (version, key, version),
            )

    def live_states(self) -> dict[str, LiveRecord]:
        """The newest live snapshot of every wearer (what a restarted hub resumes from)."""
        with self._access() as db:
            rows = db.execute("SELECT body FROM latest WHERE key LIKE 'live/%'").fetchall()
        out: dict[str, LiveRecord] = {}
        for (body,) in rows:
            record = record_from_json(json.loads(body))
            if isinstance(record, LiveRecord):
                out[record.wearer_id] = record
        return out

    def queued_alerts(self) -> list[AlertRecord]:
        """Alert transitions still waiting for the database, oldest first (what a hub that
        restarts while the database is down resumes its alerts from, with the stored ones)."""
        with self._access() as db:
            rows = db.execute(
                'SELECT body FROM queued WHERE body LIKE \'{"type":"alert"%\' ORDER BY seq'
            ).fetchall()
        out = []
        for (body,) in rows:
            record = record_from_json(json.loads(body))
            if isinstance(record, AlertRecord):
                out.append(record)
        return out

    # ------------------------------------------------------------------ state

    @property
    def pending(self) -> int:
        """Queued records not yet written to the database."""
        return self._count

    @property
    def pending_bytes(self) -> int:
        """JSON size of the queued records."""
        return self._bytes

    def unwritten_snapshots(self) -> int:
        """Snapshots (live states, device health) newer than the database's."""
        with self._access() as db:
            row = db.execute(
                "SELECT count(*) FROM latest WHERE version > written_version"
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the file (everything put so far is on disk already)."""
        with self._lock:
            self._db.close()


def _write_problem(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "full" in text or "disk I/O" in text:
        return (
            f"cannot write the outbox {path}: {text}. Free space on the disk that holds it "
            "(records that did not reach the outbox are lost)"
        )
    return f"cannot write the outbox {path}: {text}"
