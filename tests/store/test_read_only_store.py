"""The dashboard's read-only store: beside a running collector, and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from sensorhub.errors import StorageError
from sensorhub.store import Store
from sensorhub.store.database import create_db_engine
from tests.support.readers import OPERATOR


def _count(store: Store, table: str) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_it_reads_a_wal_database_the_collector_is_writing_and_after_it_stopped(
    tmp_path: Path,
) -> None:
    path = tmp_path / "var" / "hub.db"
    collector = subprocess.Popen(
        [sys.executable, "-m", "sensorhub.cli", "run", "--simulate", "office-day",
         "--profiles", "open-imu", "--speed", "120", "--duration", "1200",
         "--db", f"sqlite:///{path}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )  # fmt: skip
    reader: Store | None = None
    seen: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while collector.poll() is None and time.monotonic() < deadline:
            if reader is None and path.exists():
                candidate = Store.open_read_only(f"sqlite:///{path}")
                if candidate.schema_revision() is None:  # the collector is still migrating
                    candidate.close()
                else:
                    reader = candidate
            if reader is not None:
                seen.append(_count(reader, "epoch"))
            time.sleep(0.2)
        _, err = collector.communicate(timeout=60)
        assert collector.returncode == 0, err
    finally:
        if collector.poll() is None:
            collector.kill()
            collector.wait()
        if reader is not None:
            reader.close()
    assert len(seen) >= 3, seen
    assert seen[-1] > seen[0], seen  # it saw the collector's writes arrive
    # A collector that stops while no reader is open leaves no -wal and -shm (the last
    # connection checkpoints and removes them). A new reader still opens the WAL database
    # (it recreates both, with the database's mode) and sees every row.
    Store.open(f"sqlite:///{path}").close()
    # (beside it, the hub's outbox, empty once everything reached the database)
    assert sorted(p.name for p in path.parent.iterdir()) == ["hub.db", "hub.db.outbox"]
    after = Store.open_read_only(f"sqlite:///{path}")
    try:
        assert _count(after, "epoch") >= seen[-1] > 0
    finally:
        after.close()


def test_on_postgresql_a_select_only_role_reads_and_every_session_is_read_only(
    postgres_password_url: str, postgres_admin: str
) -> None:
    owner = Store.open(postgres_password_url)
    owner.repository.ensure_wearer("w1", "Ada")
    url = make_url(postgres_password_url)
    reader_role = f"{url.username}_dashboard"
    admin = create_db_engine(postgres_admin)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE ROLE {reader_role} LOGIN PASSWORD 'reader-pw'"))
    admin.dispose()
    with owner.engine.begin() as connection:
        # What the README tells an operator to run for the dashboard's role.
        connection.execute(text(f"GRANT CONNECT ON DATABASE {url.database} TO {reader_role}"))
        connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {reader_role}"))
        connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reader_role}"))
        connection.execute(
            text(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {reader_role}"
            )
        )
    owner.close()

    as_reader = url.set(username=reader_role, password="reader-pw")
    reader = Store.open_read_only(as_reader.render_as_string(hide_password=False))
    try:
        assert [w.id for w in reader.queries.wearers(OPERATOR)] == ["w1"]
        with pytest.raises(StorageError, match="read-only transaction"):
            reader.repository.ensure_wearer("w2", "Bob")
    finally:
        reader.close()
    # The role alone (without the read-only sessions) may not write either.
    writer = Store(create_db_engine(as_reader.render_as_string(hide_password=False)))
    try:
        with pytest.raises(StorageError, match="permission denied for table wearer"):
            writer.repository.ensure_wearer("w2", "Bob")
    finally:
        writer.close()

    # The second guard: even the owner's URL gives read-only sessions to the dashboard.
    guarded = Store.open_read_only(postgres_password_url)
    try:
        with pytest.raises(StorageError, match="read-only transaction"):
            guarded.repository.ensure_wearer("w2", "Bob")
        assert [w.id for w in guarded.queries.wearers(OPERATOR)] == ["w1"]
    finally:
        guarded.close()


def _readme_dashboard_grants() -> list[str]:
    """The SQL the README tells an operator to run for the dashboard's role, statement by
    statement (the test runs exactly that, so the README stays true)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("CREATE ROLE dashboard", 1)[1].split("```", 1)[0]
    lines = [
        line for line in block.splitlines() if line.strip() and not line.strip().startswith("--")
    ]
    return [s.strip() for s in " ".join(lines[1:]).split(";") if s.strip()]


def test_on_postgresql_the_readme_role_runs_the_dashboard_and_writes_no_health_data(
    postgres_password_url: str, postgres_admin: str
) -> None:
    from sensorhub.access import Role, Scope
    from sensorhub.store import Accounts

    owner = Store.open(postgres_password_url)
    owner.repository.ensure_wearer("w1", "Ada")
    owner.accounts.add_user(
        "ada", Role.WEARER, actor="t", password="ada-password-1", wearer_id="w1"
    )
    owner.accounts.add_user("carer", Role.CAREGIVER, actor="t")
    owner.accounts.grant_share("w1", "carer", {Scope.STATUS}, actor="ada")
    url = make_url(postgres_password_url)
    role = f"{url.username}_dash"
    admin = create_db_engine(postgres_admin)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'dash-pw'"))
    admin.dispose()
    with owner.engine.begin() as connection:
        for statement in _readme_dashboard_grants():
            statement = statement.replace("DATABASE sensorhub", f"DATABASE {url.database}")
            connection.execute(text(statement.replace(" dashboard", f" {role}")))
    owner.close()

    as_dashboard = url.set(username=role, password="dash-pw").render_as_string(hide_password=False)
    reader = Store.open_read_only(as_dashboard)
    accounts_engine = create_db_engine(as_dashboard)
    accounts = Accounts(accounts_engine)
    try:
        ada = accounts.authenticate("ada", "ada-password-1")  # updates last_login, audits
        accounts.record("ada", "view", "w1", "Today")
        assert [w.id for w in reader.queries.wearers(ada)] == ["w1"]
        [share] = accounts.shares("w1")
        accounts.revoke_share_as(ada, share.id)
        with pytest.raises(StorageError, match=r"permission denied|read-only"):
            reader.repository.ensure_wearer("w2", "Bob")
        writer = Store(create_db_engine(as_dashboard))
        with pytest.raises(StorageError, match="permission denied for table wearer"):
            writer.repository.ensure_wearer("w2", "Bob")
        with (
            writer.engine.begin() as connection,
            pytest.raises(Exception, match=r"append-only|permission denied"),
        ):
            connection.execute(text("DELETE FROM audit_log"))
        writer.close()
    finally:
        reader.close()
        accounts_engine.dispose()
