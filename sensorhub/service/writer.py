"""The hub's write path: records go to the on-disk outbox, a drainer moves them to the database.

:class:`WriteOutbox` is the only way the hub stores anything. ``put`` makes records durable in
the :class:`~sensorhub.store.outbox.Outbox` (one fsync) and returns; :meth:`WriteOutbox.run`
writes them to the database in order and removes them only after the database committed. A
database outage only delays writes: the drainer retries with capped, jittered backoff and the
outbox holds everything meanwhile (bounded by its size, with a clear error beyond it). A
record the database refuses while it is otherwise reachable (a bug, a constraint) is set aside
in the outbox's dead letters and counted, so it cannot block everything behind it.

Problems are logged through :class:`~sensorhub.ble.retry.RateLimitedLog` per kind: a long
outage or a full disk gives a line a minute, not one per block.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import DataError, IntegrityError

from sensorhub.ble.retry import RateLimitedLog, backoff_delay_s
from sensorhub.errors import OutboxError, StorageError
from sensorhub.store import Outbox, Record, Repository

__all__ = ["WriteOutbox", "WriteStats"]

_LOGGER = logging.getLogger(__name__)


@dataclass
class WriteStats:
    """What the write path did (reported in ``sensorhub run``'s summary)."""

    #: records written to the database
    written: int = 0
    #: records that could not be kept (the outbox refused them: disk or outbox full)
    unstored: int = 0
    #: records the database refused while reachable (kept aside in the outbox)
    refused: int = 0
    #: failed attempts to write to the database
    write_errors: int = 0
    #: the latest problem, in words (None when none)
    last_error: str | None = None
    #: records still waiting in the outbox at the last look
    pending: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)


def _refused(exc: StorageError) -> bool:
    """True when the database refused these records themselves (a constraint or a value it
    cannot hold), not when it is unreachable, full or read-only: only such records are set
    aside; everything else is an outage and retried."""
    return isinstance(exc.__cause__, IntegrityError | DataError)


class WriteOutbox:
    """Durable writes: records into the outbox now, into the database as soon as it takes them.

    Parameters
    ----------
    outbox
        The on-disk outbox.
    repository
        The database's write path.
    batch_size
        Queued records written per database transaction.
    min_retry_s, max_retry_s
        Backoff between attempts while the database refuses writes (full jitter).
    idle_s
        How often the drainer looks at the outbox when nothing wakes it.
    """

    def __init__(
        self,
        outbox: Outbox,
        repository: Repository,
        *,
        batch_size: int = 500,
        min_retry_s: float = 0.5,
        max_retry_s: float = 30.0,
        idle_s: float = 1.0,
    ) -> None:
        self.outbox = outbox
        self.repository = repository
        self.stats = WriteStats(pending=outbox.pending)
        self._batch_size = batch_size
        self._min_retry_s = min_retry_s
        self._max_retry_s = max_retry_s
        self._idle_s = idle_s
        self._wake = asyncio.Event()
        self._logs: dict[str, RateLimitedLog] = {}

    # ---------------------------------------------------------------- producers

    async def put(self, records: Sequence[Record]) -> bool:
        """Make ``records`` durable (they reach the database later); False if refused.

        A refusal (disk full, outbox full) is counted in ``stats.unstored`` and logged, and
        the caller goes on: collection and nudges never stop because storage did.
        """
        if not records:
            return True
        try:
            await asyncio.to_thread(self.outbox.put, records)
        except OutboxError as exc:
            self.stats.unstored += len(records)
            self._problem("outbox", str(exc))
            return False
        self.stats.pending = self.outbox.pending
        self._wake.set()
        return True

    # ---------------------------------------------------------------- drainer

    async def run(self) -> None:
        """Move records from the outbox to the database until cancelled."""
        failures = 0
        while True:
            try:
                moved = await asyncio.to_thread(self.drain_once)
            except Exception as exc:  # the drainer must outlive any error: it is the only way out
                failures += 1
                self.stats.write_errors += 1
                if not isinstance(exc, StorageError):
                    _LOGGER.exception("unexpected error while writing the outbox's records")
                self._problem("database", f"{exc} (kept in the outbox, retrying)")
                await asyncio.sleep(
                    backoff_delay_s(failures, min_s=self._min_retry_s, max_s=self._max_retry_s)
                )
                continue
            failures = 0
            if moved:
                continue  # more may be waiting
            self._wake.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 a cancellation that meets
            # wait_for's timeout turns into TimeoutError and would be swallowed here
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._idle_s):
                    await self._wake.wait()

    def drain_once(self) -> int:
        """Write one batch of queued records and every newer snapshot; return how many.

        Raises
        ------
        StorageError
            If the database cannot be written (the records stay in the outbox).
        """
        moved = 0
        entries = self.outbox.peek(self._batch_size)
        if entries:
            try:
                self.repository.write([e.record for e in entries])
            except StorageError as exc:
                if not _refused(exc):
                    raise  # unreachable, full, read-only: an outage, retried as it is
                # find the refused record(s): write one by one, set aside what is refused
                for entry in entries:
                    self._write_or_set_aside(entry.seq, entry.record)
                self.outbox.remove([e.seq for e in entries])
                return len(entries)
            self.outbox.remove([e.seq for e in entries])
            self.stats.written += len(entries)
            moved += len(entries)
        for key, version, record in self.outbox.unwritten_latest():
            self.repository.write([record])
            self.outbox.mark_written(key, version)
            moved += 1
        self.stats.pending = self.outbox.pending
        return moved

    def _write_or_set_aside(self, seq: int, record: Record) -> None:
        try:
            self.repository.write([record])
            self.stats.written += 1
        except StorageError as exc:
            if not _refused(exc):
                raise
            self._set_aside(seq)

    def _set_aside(self, seq: int) -> None:
        self.outbox.set_aside(seq)
        self.stats.refused += 1
        self._problem(
            "refused",
            f"the database refused outbox entry {seq} while reachable; it is kept aside in "
            f"{self.outbox.path} (table dead_letter) for inspection",
        )

    async def finish(self, timeout_s: float = 10.0) -> None:
        """Write what is pending, trying for at most ``timeout_s`` (shutdown).

        What the database does not take stays in the outbox and is written at the next
        start; ``stats.pending`` says how much.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            try:
                moved = await asyncio.to_thread(self.drain_once)
            except StorageError as exc:
                self.stats.write_errors += 1
                self._problem("database", f"{exc} (kept in the outbox for the next start)")
                await asyncio.sleep(min(0.5, max(0.0, deadline - loop.time())))
                continue
            if not moved:
                break
        self.stats.pending = self.outbox.pending + self.outbox.unwritten_snapshots()

    def _problem(self, kind: str, text: str) -> None:
        self.stats.last_error = text
        self.stats.errors_by_kind[kind] = self.stats.errors_by_kind.get(kind, 0) + 1
        log = self._logs.setdefault(
            kind, RateLimitedLog(_LOGGER, interval_s=60.0, summary_level=logging.ERROR)
        )
        log.log(time.monotonic(), logging.ERROR, "%s", text)
