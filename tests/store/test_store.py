"""The store on real SQLite and PostgreSQL: migrations, idempotent writes, reads, clear errors."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from sensorhub.errors import StorageError
from sensorhub.model import (
    NS_PER_S,
    CurrentBout,
    EpochSummary,
    Fall,
    GaitBout,
    Posture,
    StaticBout,
)
from sensorhub.store import NudgeRecord, Store, ns_from_utc, utc_from_ns
from sensorhub.store.database import head_revision, schema_revision
from tests.support.readers import OPERATOR

T0 = 1_790_000_000 * NS_PER_S  # 2026-09-21T14:13:20Z


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    s.repository.ensure_wearer("w1", "Ada")
    yield s
    s.close()


def test_open_migrates_to_head_and_is_idempotent(db_url: str) -> None:
    first = Store.open(db_url)
    assert schema_revision(first.engine) == head_revision() is not None
    first.close()
    again = Store.open(db_url)  # opening an up-to-date database changes nothing
    assert schema_revision(again.engine) == head_revision()
    again.close()


def test_a_database_of_the_first_schema_is_upgraded_with_its_data(db_url: str) -> None:
    """0001 -> head keeps the rows; the new columns accept what 0001 could not."""
    from alembic import command
    from sqlalchemy import insert

    from sensorhub.store.database import _alembic_config, create_db_engine
    from sensorhub.store.models import EpochRow, WearerRow

    engine = create_db_engine(db_url)
    command.upgrade(_alembic_config(engine), "0001")
    with engine.begin() as c:  # rows as sensorhub 0001 wrote them
        t = utc_from_ns(T0)
        c.execute(insert(WearerRow.__table__).values(id="w1", display_name="Ada",
                                                     timezone="UTC", created_at=t))  # fmt: skip
        c.execute(insert(EpochRow.__table__).values(wearer_id="w1", start_at=t, duration_s=60.0,
                                                    posture="sitting", enmo_mg=4.5, steps=0,
                                                    worn=True))  # fmt: skip
    engine.dispose()
    store = Store.open(db_url)
    assert schema_revision(store.engine) == head_revision() != "0001"
    since, until = utc_from_ns(T0), utc_from_ns(T0 + 3600 * NS_PER_S)
    [old] = store.queries.epochs(OPERATOR, "w1", since=since, until=until)
    assert old.enmo_mg == 4.5
    steps_only = EpochSummary(T0 + 60 * NS_PER_S, 60.0, Posture.WALKING, float("nan"), steps=90)
    store.repository.save_epochs("w1", [steps_only])
    new = store.queries.epochs(OPERATOR, "w1", since=since, until=until)[1]
    assert (new.enmo_mg, new.steps) == (None, 90)
    store.close()


def test_sqlite_runs_in_wal_mode_and_creates_its_folder(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'sub' / 'hub.db'}")
    with store.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    store.close()


def test_time_conversion_is_exact_to_the_microsecond() -> None:
    t_ns = T0 + 123_456_000
    assert ns_from_utc(utc_from_ns(t_ns)) == t_ns
    assert utc_from_ns(T0) == dt.datetime(2026, 9, 21, 14, 13, 20, tzinfo=dt.UTC)


def test_events_are_upserted_by_deterministic_id(store: Store) -> None:
    bout = StaticBout(T0, T0 + 1800 * NS_PER_S, Posture.SITTING)
    fall = Fall(T0 + 2000 * NS_PER_S, confidence=0.9)
    store.repository.save_events("w1", [bout, fall])
    store.repository.save_events("w1", [bout])  # replay: no duplicate
    longer = StaticBout(T0, T0 + 1900 * NS_PER_S, Posture.SITTING)
    store.repository.save_events("w1", [longer])  # same start: updated in place
    bouts = store.queries.events(OPERATOR, "w1", "static_bout")
    assert len(bouts) == 1
    assert bouts[0].duration_s == 1900
    assert bouts[0].posture == "sitting"
    falls = store.queries.events(OPERATOR, "w1", "fall")
    assert [f.data["confidence"] for f in falls] == [0.9]


def test_gait_bouts_keep_every_metric(store: Store) -> None:
    bout = GaitBout(T0, T0 + 60 * NS_PER_S, steps=104, cadence_spm=104.0, stride_time_s=1.15,
                    stride_time_cv_pct=2.1, step_regularity=0.8, stride_regularity=0.85,
                    asymmetry_pct=4.0, speed_mps=1.2, harmonic_ratio=2.9,
                    shuffling_pct=5.0)  # fmt: skip
    store.repository.save_events("w1", [bout])
    [got] = store.queries.events(OPERATOR, "w1", "gait_bout")
    for name in ("cadence_spm", "stride_time_cv_pct", "harmonic_ratio", "shuffling_pct"):
        assert got.data[name] == getattr(bout, name)


def test_event_window_query(store: Store) -> None:
    day = [
        StaticBout(T0 + k * 3600 * NS_PER_S, T0 + (k * 3600 + 600) * NS_PER_S, Posture.STANDING)
        for k in range(5)
    ]
    store.repository.save_events("w1", day)
    since, until = utc_from_ns(T0 + 3600 * NS_PER_S), utc_from_ns(T0 + 3 * 3600 * NS_PER_S)
    got = store.queries.events(OPERATOR, "w1", "static_bout", since=since, until=until)
    assert [e.start_at for e in got] == [utc_from_ns(b.start_ns) for b in day[1:3]]


def test_live_state_round_trip(store: Store) -> None:
    assert store.queries.live(OPERATOR, "w1") is None
    bout = CurrentBout(start_ns=T0, posture=Posture.STATIONARY, last_ns=T0 + 90 * NS_PER_S)
    store.repository.save_live_state(
        "w1", posture=Posture.STATIONARY, bout=bout, device_time_ns=bout.last_ns
    )
    live = store.queries.live(OPERATOR, "w1")
    assert live is not None
    assert live.bout_duration_s == 90
    assert live.motionless_s == 0.0
    store.repository.save_live_state(
        "w1",
        posture=Posture.STATIONARY,
        bout=bout,
        device_time_ns=bout.last_ns,
        still_since_ns=T0 + 30 * NS_PER_S,
    )
    live = store.queries.live(OPERATOR, "w1")
    assert live is not None
    assert live.motionless_s == 60
    store.repository.save_live_state(
        "w1", posture=Posture.WALKING, bout=None, device_time_ns=T0 + 100 * NS_PER_S
    )
    live = store.queries.live(OPERATOR, "w1")
    assert live is not None
    assert live.posture == "walking"
    assert live.bout_duration_s is None


def test_nudges_and_epochs(store: Store) -> None:
    store.repository.save_nudge(
        NudgeRecord(
            "w1",
            T0,
            "static_load",
            T0 - 1800 * NS_PER_S,
            1800.0,
            1,
            "Time to stand up",
            "band",
            "delivered",
            exercise_id="hip-marches",
        )
    )
    [nudge] = store.queries.nudges(OPERATOR, "w1")
    assert (nudge.delivery, nudge.exercise_id, nudge.sent_at) == (
        "delivered",
        "hip-marches",
        utc_from_ns(T0),
    )
    epochs = [EpochSummary(T0 + k * 60 * NS_PER_S, 60.0, Posture.SITTING, 3.0) for k in range(3)]
    store.repository.save_epochs("w1", epochs)
    store.repository.save_epochs("w1", epochs)
    got = store.queries.epochs(
        OPERATOR, "w1", since=utc_from_ns(T0), until=utc_from_ns(T0 + 3600 * NS_PER_S)
    )
    assert len(got) == 3


def test_unknown_wearer_is_refused_and_nothing_is_lost(store: Store) -> None:
    store.repository.save_events("w1", [StaticBout(T0, T0 + NS_PER_S, Posture.SITTING)])
    with pytest.raises(StorageError, match="Nothing of this write was stored"):
        store.repository.save_events("nobody", [StaticBout(T0, T0 + NS_PER_S, Posture.SITTING)])
    assert len(store.queries.events(OPERATOR, "w1", "static_bout")) == 1


def test_bad_urls_say_what_to_do() -> None:
    with pytest.raises(StorageError, match="invalid database URL"):
        Store.open("not a url")
    with pytest.raises(StorageError, match="unsupported database backend"):
        Store.open("mysql://localhost/x")


def test_database_from_a_newer_sensorhub_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    Store.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as con:
        con.execute("UPDATE alembic_version SET version_num = 'fffffuture'")
    with pytest.raises(StorageError, match="newer version"):
        Store.open(f"sqlite:///{path}")


def test_unwritable_location_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises((StorageError, OSError)):
        Store.open(f"sqlite:///{blocker / 'hub.db'}")
