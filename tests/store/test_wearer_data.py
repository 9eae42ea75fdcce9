"""Export and deletion of a wearer's data on real SQLite and PostgreSQL: the export holds every
row the store holds; the deletion leaves no row of the wearer in any table, touches no other
wearer and keeps the audit log (plus an entry recording the deletion)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, or_, select

from sensorhub.access import AccessError, Scope
from sensorhub.errors import StorageError
from sensorhub.store import Action, Store
from sensorhub.store.models import Base, ShareRow, UserRow
from sensorhub.store.wearer_data import delete_wearer, export_wearer, wearer_row_counts
from tests.support.care_rows import Amounts, seed_wearer

#: Export file of each table with a wearer_id column (the audit log is not the wearer's data).
FILES = {
    "event": "events",
    "epoch": "epochs",
    "nudge": "nudges",
    "live_state": "live_state",
    "device": "devices",
    "share": "shares",
    "alert": "alerts",
    "wearer_settings": "settings",
}


def wearer_tables() -> list[Table]:
    """Every table with a wearer_id column, except the audit log."""
    return [t for t in Base.metadata.sorted_tables if "wearer_id" in t.c and t.name != "audit_log"]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    for wid, name in (("ada", "Ada"), ("bob", "Bob")):
        s.repository.ensure_wearer(wid, name)
    seed_wearer(s.repository, "ada", Amounts(static_bouts=3, epochs=5, nudges=2, devices=2))
    seed_wearer(s.repository, "bob")
    accounts = s.accounts
    accounts.add_user("ada", "wearer", actor="test", wearer_id="ada")
    accounts.add_user("bob", "wearer", actor="test", wearer_id="bob")
    accounts.add_user("carol", "caregiver", actor="test")
    accounts.grant_share("ada", "carol", [Scope.STATUS], actor="ada")
    accounts.grant_share("ada", "bob", [Scope.FALLS], actor="ada")  # ada's data, seen by bob
    accounts.grant_share("bob", "ada", [Scope.GAIT], actor="bob")  # received by ada's account
    accounts.grant_share("bob", "carol", [Scope.ACTIVITY], actor="bob")
    accounts.record("carol", Action.VIEW, "ada", "today page")
    yield s
    s.close()


def rows_of(store: Store, wearer_id: str) -> dict[str, int]:
    """Rows per table that belong to the wearer, counted straight from the tables."""
    counts = {}
    with store.engine.connect() as c:
        for table in wearer_tables():
            counts[table.name] = c.execute(
                select(func.count()).select_from(table).where(table.c.wearer_id == wearer_id)
            ).scalar_one()
        counts["wearer"] = c.execute(
            select(func.count())
            .select_from(Base.metadata.tables["wearer"])
            .where(Base.metadata.tables["wearer"].c.id == wearer_id)
        ).scalar_one()
    return counts


def read_export(path: Path, fmt: str) -> list[dict[str, Any]]:
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows


def test_every_table_with_a_wearer_is_exported_and_deleted() -> None:
    assert {t.name for t in wearer_tables()} == set(FILES) | {"app_user"}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_round_trips_every_row(store: Store, tmp_path: Path, fmt: str) -> None:
    expected = rows_of(store, "ada")
    assert expected["event"] == 3 + 4
    assert expected["epoch"] == 5
    assert expected["share"] == 2
    counts = export_wearer(store.engine, "ada", tmp_path / "out", fmt=fmt, actor="cli:test")
    for table, name in FILES.items():
        rows = read_export(tmp_path / "out" / f"{name}.{fmt}", fmt)
        assert len(rows) == counts[name] == expected[table], table
        assert {r["wearer_id"] for r in rows} <= {"ada"}
    [wearer] = read_export(tmp_path / "out" / f"wearer.{fmt}", fmt)
    assert (wearer["id"], wearer["display_name"], counts["wearer"]) == ("ada", "Ada", 1)
    events = read_export(tmp_path / "out" / f"events.{fmt}", fmt)
    assert sorted(e["kind"] for e in events) == sorted(
        ["static_bout"] * 3 + ["posture", "gait_bout", "fall", "nonwear"]
    )
    gait = next(e for e in events if e["kind"] == "gait_bout")
    assert '"cadence_spm": 105.0' in gait["data"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in (tmp_path / "out").iterdir())
    [entry] = [e for e in store.accounts.audit(wearer_id="ada") if e.action == Action.EXPORT]
    assert entry.actor == "cli:test"
    assert "events 7" in entry.detail


def test_export_refuses_to_overwrite_and_keeps_nothing_half_written(
    store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "nudges.csv").write_text("mine")
    with pytest.raises(AccessError, match=r"nudges\.csv exists"):
        export_wearer(store.engine, "ada", out, fmt="csv", actor="t")
    assert [p.name for p in out.iterdir()] == ["nudges.csv"]
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(StorageError, match="cannot write the export"):
        export_wearer(store.engine, "ada", blocked / "sub", fmt="csv", actor="t")
    with pytest.raises(AccessError, match="no wearer 'zed'"):
        export_wearer(store.engine, "zed", tmp_path / "z", fmt="csv", actor="t")
    assert not (tmp_path / "z").exists()
    assert [e.action for e in store.accounts.audit()].count(Action.EXPORT) == 0


def test_delete_leaves_no_row_of_the_wearer_and_keeps_the_audit(store: Store) -> None:
    bob_before = rows_of(store, "bob")
    ada_account = store.accounts.user("ada")
    assert ada_account is not None
    audit_before = store.accounts.audit()
    preview = wearer_row_counts(store.engine, "ada")

    deleted = delete_wearer(store.engine, "ada", actor="cli:test")

    assert deleted == preview
    assert deleted["shares"] == 3  # two of ada's data, one ada's account received
    assert (deleted["account"], deleted["wearer"], deleted["events"]) == (1, 1, 7)
    assert set(rows_of(store, "ada").values()) == {0}
    with store.engine.connect() as c:
        assert c.execute(select(UserRow).where(UserRow.id == ada_account.id)).first() is None
        assert (
            c.execute(
                select(ShareRow).where(
                    or_(ShareRow.wearer_id == "ada", ShareRow.grantee_id == ada_account.id)
                )
            ).first()
            is None
        )
    # bob keeps everything, except the share he had granted to ada's (deleted) account
    bob_after = rows_of(store, "bob")
    assert bob_after == {**bob_before, "share": bob_before["share"] - 1}
    assert [u.username for u in store.accounts.users()] == ["bob", "carol"]
    audit_after = store.accounts.audit()
    assert audit_after[1:] == audit_before
    assert audit_after[0].action == Action.WEARER_DELETED
    assert audit_after[0].wearer_id == "ada"
    assert "events 7" in audit_after[0].detail
    assert wearer_row_counts(store.engine, "ada") == dict.fromkeys(preview, 0)


def test_deleting_an_unknown_wearer_is_a_clear_error(store: Store) -> None:
    audit_before = store.accounts.audit()
    with pytest.raises(AccessError, match="no wearer 'zed' in the database"):
        delete_wearer(store.engine, "zed", actor="cli:test")
    assert store.accounts.audit() == audit_before
