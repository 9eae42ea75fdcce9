"""Fixtures shared by the whole suite: real database servers started for the tests."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI runs as root, developers usually do not.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server (initdb + pg_ctl in a temp dir), on a Unix socket only.

    Yields a SQLAlchemy URL of an empty database. Fails (never skips) when the server
    binaries are missing: `make test` installs them (scripts/install-system-deps.sh).
    """
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.fail("PostgreSQL server binaries not found: run scripts/install-system-deps.sh")
    base = Path(tempfile.mkdtemp(prefix="sensorhub-pg-"))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run(
        _as_postgres_user([initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]),
        check=True, capture_output=True,
    )  # fmt: skip
    port = 5432 + (os.getpid() % 1000) + 1000
    options = f"-k {sockets} -p {port} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        _as_postgres_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"),
                           "-w", "start"]),
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        url = f"postgresql+psycopg://postgres@/postgres?host={sockets}&port={port}"
        deadline = time.monotonic() + 20
        import psycopg

        while True:
            try:
                with psycopg.connect(
                    host=str(sockets), port=port, user="postgres", dbname="postgres",
                    autocommit=True,
                ) as con:  # fmt: skip
                    con.execute("CREATE DATABASE sensorhub_test")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url.replace("/postgres?", "/sensorhub_test?")
    finally:
        subprocess.run(
            _as_postgres_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
            check=False, capture_output=True,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_admin(postgres_url: str) -> str:
    """The same server's maintenance database URL (to create fresh databases per test)."""
    return postgres_url.replace("/sensorhub_test?", "/postgres?")


def _admin_connection(admin_url: str) -> Any:
    """An autocommit psycopg connection to the test server's maintenance database."""
    import psycopg

    query = admin_url.split("?", 1)[1]
    params = dict(part.split("=", 1) for part in query.split("&"))
    return psycopg.connect(
        host=params["host"], port=int(params["port"]), user="postgres", dbname="postgres",
        autocommit=True,
    )  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend sensorhub supports (a fresh one per test)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    import uuid

    admin_url: str = request.getfixturevalue("postgres_admin")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _admin_connection(admin_url) as con:
        con.execute(f"CREATE DATABASE {name}")
    return admin_url.replace("/postgres?", f"/{name}?")


#: The password of :func:`postgres_password_url`'s role: characters that must be
#: percent-encoded in a URL, and a tail ("Kx9Q") that shows a partial leak.
PG_PASSWORD = "pa:ss/w@rd-Kx9Q"
#: What must never appear in output or logs: the password, as written in the URL, its tail.
PG_PASSWORD_FORMS = (PG_PASSWORD, quote(PG_PASSWORD, safe=""), "w@rd", "Kx9Q")


@pytest.fixture
def postgres_password_url(postgres_admin: str) -> str:
    """A fresh database owned by a role with a password (PG_PASSWORD), as a URL that holds it.

    The test server trusts local connections (initdb -A trust), so the password is not
    checked: the URL carries it as a production URL would, which is what leak tests need.
    """
    import uuid

    suffix = uuid.uuid4().hex[:10]
    role, name = f"hub_{suffix}", f"t_{suffix}"
    with _admin_connection(postgres_admin) as con:
        con.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PG_PASSWORD}'")
        con.execute(f"CREATE DATABASE {name} OWNER {role}")
    query = postgres_admin.split("?", 1)[1]
    return f"postgresql+psycopg://{role}:{quote(PG_PASSWORD, safe='')}@/{name}?{query}"


@pytest.fixture
def password_forms() -> tuple[str, ...]:
    """Every form of :func:`postgres_password_url`'s password a leak could show."""
    return PG_PASSWORD_FORMS
