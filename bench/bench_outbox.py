"""Cost of the durable write path: outbox puts and SQLite commits at each ``synchronous`` level.

The hub makes each block's records durable in the outbox (one fsync) before it goes on, and
the drainer commits them to the database. This measures, on this machine's disk, the time of
one ``Outbox.put`` of a typical block's records (synchronous=FULL), and of one database
commit of a batch at synchronous=NORMAL and FULL, so the choice in
``sensorhub/store/database.py`` is made on figures, not belief.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from sensorhub.model import EpochSummary, Posture, StaticBout
from sensorhub.store import Outbox, Store, WearerRecords

T0 = 1_795_422_600_000_000_000
ROUNDS = 200


def _records(i: int) -> list[WearerRecords]:
    epoch = EpochSummary(T0 + i * 60_000_000_000, 60.0, Posture.SITTING, 3.2, steps=0)
    bout = StaticBout(T0 + i, T0 + i + 10**12, Posture.SITTING)
    return [WearerRecords("w1", events=(bout,), epochs=(epoch,))]


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1e3, 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1e3, 3),
    }


def _db_commits(folder: Path, level: str) -> dict[str, float]:
    store = Store.open(f"sqlite:///{folder / f'db-{level}.db'}")

    def pragma(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA synchronous={level}")

    event.listen(store.engine, "connect", pragma)
    store.engine.dispose()
    with store.engine.connect() as connection:
        actual = connection.execute(text("PRAGMA synchronous")).scalar()
    store.repository.ensure_wearer("w1", "w1")
    times = []
    for i in range(ROUNDS):
        started = time.perf_counter()
        store.repository.write(_records(i))
        times.append(time.perf_counter() - started)
    store.close()
    return {**_ms(times), "synchronous": float(actual or 0)}


def main() -> dict[str, object]:
    """Time outbox puts and database commits; print and return the figures."""
    with tempfile.TemporaryDirectory(dir="var" if Path("var").is_dir() else None) as tmp:
        folder = Path(tmp)
        outbox = Outbox(folder / "bench.outbox")
        puts = []
        for i in range(ROUNDS):
            started = time.perf_counter()
            outbox.put(_records(i))
            puts.append(time.perf_counter() - started)
        outbox.close()
        result: dict[str, object] = {
            "outbox_put_full": _ms(puts),
            "sqlite_commit_normal": _db_commits(folder, "NORMAL"),
            "sqlite_commit_full": _db_commits(folder, "FULL"),
        }
    for name, figures in result.items():
        print(f"   {name:22s} {figures}")
    return result
