"""Files with health data or a password are created owner-only (0600, folders 0700).

Whatever the umask: each test runs under umask 022 (files 0644 by default). Existing files
keep their mode and are reported when other users may read them.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from sensorhub.cli import main
from sensorhub.config import DeviceConfig, append_device, load_config
from sensorhub.errors import StorageError
from sensorhub.model import NS_PER_S, Posture, StaticBout
from sensorhub.store import Store
from tests.support.readers import OPERATOR


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_sqlite_database_and_its_wal_and_shm_are_0600_in_0700_folders(
    tmp_path: Path,
) -> None:
    (tmp_path / "existing").mkdir(mode=0o755)
    path = tmp_path / "existing" / "new" / "deeper" / "hub.db"
    store = Store.open(f"sqlite:///{path}")
    try:
        store.repository.ensure_wearer("w1", "Ada")
        store.repository.save_events("w1", [StaticBout(0, NS_PER_S, Posture.SITTING)])
        # while the store is open, SQLite keeps the WAL and its index beside the file
        assert {p.name for p in path.parent.iterdir()} == {"hub.db", "hub.db-wal", "hub.db-shm"}
        assert {p.name: mode(p) for p in path.parent.iterdir()} == dict.fromkeys(
            ("hub.db", "hub.db-wal", "hub.db-shm"), 0o600
        )
    finally:
        store.close()
    assert mode(path.parent) == mode(path.parent.parent) == 0o700
    assert mode(tmp_path / "existing") == 0o755  # a folder that was there is left alone


def test_an_existing_database_keeps_its_mode_and_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hub.db"
    Store.open(f"sqlite:///{path}").close()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    path.chmod(0o644)
    Store.open(f"sqlite:///{path}").close()
    assert mode(path) == 0o644  # not changed behind the user's back
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning == (
        f"{path} is open to other users (mode 0644) and may hold wearers' health data: make "
        f"it private with `chmod 600 {path}*`"
    )


def test_the_hub_config_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "hub.toml"
    argv = ["devices", "add", "--config", str(path), "--wearer", "ada", "--profile", "thingy52"]
    url = "postgresql+psycopg://hub:secret@db.example/hub"
    assert main([*argv, "--name", "Thingy 7", "--db", url]) == 0
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)
    assert load_config(path).db_url == url
    append_device(path, DeviceConfig("bob", "polar-h10", "chest", name="Polar H10 1"))
    assert mode(path) == 0o600


def test_an_existing_readable_config_keeps_its_mode_and_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hub.toml"
    path.write_text('[hub]\ndb = "postgresql+psycopg://hub:secret@db.example/hub"\n')
    path.chmod(0o640)
    append_device(path, DeviceConfig("bob", "polar-h10", "chest", name="Polar H10 1"))
    load_config(path)
    assert mode(path) == 0o640
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == 2 * [
        f"{path} is open to other users (mode 0640) and may hold a database password and "
        f"wearers' names: make it private with `chmod 600 {path}`"
    ]


def test_the_read_only_store_creates_nothing_for_a_mistyped_path(tmp_path: Path) -> None:
    typo = tmp_path / "vra" / "sensorhub.db"
    with pytest.raises(StorageError) as caught:
        Store.open_read_only(f"sqlite:///{typo}")
    assert str(caught.value) == f"no database at {typo}: start the collector first or check --db"
    assert list(tmp_path.iterdir()) == []


def test_the_read_only_store_cannot_write(tmp_path: Path) -> None:
    from sqlalchemy.exc import OperationalError

    path = tmp_path / "hub.db"
    Store.open(f"sqlite:///{path}").close()
    reader = Store.open_read_only(f"sqlite:///{path}")
    try:
        assert reader.queries.wearers(OPERATOR) == []
        with pytest.raises(StorageError, match="readonly database"):
            reader.repository.ensure_wearer("w1", "Ada")
        with pytest.raises(OperationalError, match="readonly database"), reader.engine.begin() as c:
            c.execute(text("CREATE TABLE intruder (x INTEGER)"))
    finally:
        reader.close()
    assert {p.name: mode(p) for p in tmp_path.iterdir()} == dict.fromkeys(
        ("hub.db", "hub.db-wal", "hub.db-shm"), 0o600
    )  # the reader's -wal and -shm are the file's mode too
