"""WriteOutbox: a record the database refuses is set aside, never blocking the ones behind it.

(An unreachable database only delays writes: tests/service/test_wearer_runtime.py takes a
PostgreSQL database away mid-run and at shutdown.)"""

from __future__ import annotations

from pathlib import Path

from sensorhub.model import Posture, StaticBout
from sensorhub.service import WriteOutbox
from sensorhub.store import Outbox, Store, WearerRecords
from tests.support.readers import OPERATOR

T0 = 1_795_422_600_000_000_000


def _bout(wearer: str, i: int) -> WearerRecords:
    return WearerRecords(wearer, events=(StaticBout(T0 + i, T0 + i + 10**12, Posture.SITTING),))


def test_a_refused_record_is_set_aside_and_the_rest_is_written(db_url: str, tmp_path: Path) -> None:
    store = Store.open(db_url)
    store.repository.ensure_wearer("w1", "Ada")
    outbox = Outbox(tmp_path / "outbox")
    # the middle record names a wearer the database does not know (a foreign-key violation)
    outbox.put([_bout("w1", 1), _bout("nobody", 2), _bout("w1", 3)])
    writer = WriteOutbox(outbox, store.repository)
    while writer.drain_once():
        pass
    stored = store.queries.events(OPERATOR, "w1", "static_bout")
    store.close()
    assert len(stored) == 2
    assert outbox.pending == 0
    assert outbox.dead_letters == 1
    assert writer.stats.refused == 1
    assert "kept aside" in (writer.stats.last_error or "")
