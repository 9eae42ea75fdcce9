"""Database passwords never show: not in output, logs (-v -v), errors, nor a child's argv.

The commands run as a user runs them (``python -m sensorhub.cli``, this worktree's code)
against the real PostgreSQL test server, with a URL whose role has a password.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from sensorhub.cli import main
from sensorhub.errors import StorageError
from sensorhub.model import NS_PER_S, Posture, StaticBout
from sensorhub.store import Store, redact_url

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def sensorhub(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``sensorhub -v -v ARGS`` (all logs on stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "sensorhub.cli", "-v", "-v", *args],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def assert_no_secret(lines: Iterable[str], forms: tuple[str, ...]) -> None:
    """No line shows any form of the secret."""
    for line in lines:
        for form in forms:
            assert form not in line, f"{form!r} shown in: {line}"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, process: subprocess.Popen[bytes], timeout_s: float = 90) -> None:
    """Poll the dashboard's health endpoint until it answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the dashboard did not answer on port {port}")


def children(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (from /proc/*/stat)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def argv_of(pid: int) -> list[str]:
    """What ``ps`` shows every local user: /proc/PID/cmdline."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def environ_of(pid: int) -> dict[str, str]:
    """A process's environment (readable by its owner and root only)."""
    pairs = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return dict(p.split("=", 1) for p in pairs if "=" in p)


@pytest.fixture
def stop_process_groups() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes started in their own session: killed, with their children, if still running."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            for child in children(process.pid):  # the demo starts the dashboard in its own session
                os.kill(child, signal.SIGKILL)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def test_run_simulate_shows_the_url_redacted_and_logs_no_password(
    postgres_password_url: str, password_forms: tuple[str, ...]
) -> None:
    result = sensorhub(
        "run", "--simulate", "gait-check", "--profiles", "open-imu", "--speed", "60",
        "--duration", "60", "--db", postgres_password_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    url = make_url(postgres_password_url)
    assert f"database postgresql+psycopg://{url.username}:***@/{url.database}?" in result.stderr
    assert " DEBUG " in result.stderr  # -v -v: every log line is in there
    assert_no_secret(result.stdout.splitlines() + result.stderr.splitlines(), password_forms)


def test_db_upgrade_shows_no_password_with_the_url_as_option_or_in_the_environment(
    postgres_password_url: str, password_forms: tuple[str, ...]
) -> None:
    by_option = sensorhub("db", "upgrade", "--db", postgres_password_url)
    by_environment = sensorhub("db", "upgrade", env={"SENSORHUB_DB_URL": postgres_password_url})
    for result in (by_option, by_environment):
        assert result.returncode == 0, result.stderr
        assert "database at revision" in result.stdout
        assert_no_secret(result.stdout.splitlines() + result.stderr.splitlines(), password_forms)


def test_database_errors_never_show_the_password(
    postgres_password_url: str, password_forms: tuple[str, ...]
) -> None:
    url = make_url(postgres_password_url)
    secret = url.password
    assert secret is not None
    query = postgres_password_url.split("?", 1)[1]
    wrong_database = url.set(database="no_such_db").render_as_string(hide_password=False)
    cases = {
        wrong_database: f"cannot open the database at postgresql+psycopg://{url.username}:***@",
        # the password as typed, '@' and all: SQLAlchemy would take its tail for the host
        f"postgresql+psycopg://{url.username}:{secret}@/{url.database}?{query}": (
            "invalid database URL (not shown: it may hold a password): more than one '@'"
        ),
        secret: "invalid database URL (not shown: it may hold a password): write it as",
        f"postgresql+psycopg://{url.username}@/no_such_db?{query}&password={secret}": (
            "password=%2A%2A%2A"
        ),
        f"postgresql+nodriver://{url.username}:{quote(secret, safe='')}@/x": (
            "cannot use the database URL"
        ),
    }
    for bad_url, message in cases.items():
        result = sensorhub("db", "upgrade", "--db", bad_url)
        assert result.returncode == 1, result.stderr
        assert message in result.stderr
        assert_no_secret(result.stdout.splitlines() + result.stderr.splitlines(), password_forms)
        assert_no_secret([redact_url(bad_url)], password_forms)


def test_sql_errors_and_logs_hold_no_statement_parameters(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    store = Store.open(db_url)
    try:
        with pytest.raises(StorageError) as caught:  # an unknown wearer: a foreign key error
            store.repository.save_events("wearer-Kx9Q", [StaticBout(0, NS_PER_S, Posture.SITTING)])
    finally:
        store.close()
    # the engine hides parameters; the message shown is the first line only, without them
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(caught.value.__cause__)
    assert "wearer-Kx9Q" not in str(caught.value)  # nor in PostgreSQL's DETAIL
    assert "\n" not in str(caught.value)
    assert_no_secret([r.getMessage() for r in caplog.records], ("wearer-Kx9Q",))
    assert any("INSERT INTO event" in r.getMessage() for r in caplog.records)


def test_the_dashboard_child_gets_the_url_in_its_environment_not_its_argv(
    postgres_password_url: str,
    password_forms: tuple[str, ...],
    tmp_path: Path,
    stop_process_groups: list[subprocess.Popen[bytes]],
) -> None:
    Store.open(postgres_password_url).close()
    port = free_port()
    log = tmp_path / "dashboard.log"
    with log.open("wb") as out:
        parent = subprocess.Popen(
            [sys.executable, "-m", "sensorhub.cli", "-v", "-v", "dashboard",
             "--db", postgres_password_url, "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    stop_process_groups.append(parent)
    wait_healthy(port, parent)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
        assert page.status == 200
    [child] = children(parent.pid)
    argv = argv_of(child)
    assert "streamlit" in argv
    assert "--db" not in argv
    assert_no_secret(argv, password_forms)
    assert environ_of(child)["SENSORHUB_DB_URL"] == postgres_password_url
    os.killpg(parent.pid, signal.SIGINT)  # Ctrl-C
    parent.wait(30)
    assert_no_secret(log.read_text().splitlines(), password_forms)


def _all_text(at: AppTest) -> list[str]:
    shown: list[str] = []
    for kind in ("error", "warning", "info", "markdown", "caption", "title", "exception"):
        shown.extend(str(getattr(element, "value", element)) for element in getattr(at, kind))
    return shown


def test_the_dashboard_page_shows_no_password(
    postgres_password_url: str,
    password_forms: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    store = Store.open(postgres_password_url)
    store.repository.ensure_wearer("w1", "Ada")
    store.close()
    monkeypatch.setenv("SENSORHUB_DB_URL", postgres_password_url)
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception
    assert_no_secret(_all_text(at), password_forms)

    gone = make_url(postgres_password_url).set(database="no_such_db")
    monkeypatch.setenv("SENSORHUB_DB_URL", gone.render_as_string(hide_password=False))
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception
    assert any("Cannot open the sensorhub database" in e.value for e in at.error)
    assert_no_secret(_all_text(at), password_forms)
    assert_no_secret([r.getMessage() for r in caplog.records], password_forms)


def test_the_demo_passes_no_database_on_the_dashboards_command_line(
    tmp_path: Path, stop_process_groups: list[subprocess.Popen[bytes]]
) -> None:
    db = tmp_path / "var" / "demo.db"
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "sensorhub.cli", "-v", "-v", "demo", "--speed", "120",
             "--port", str(port), "--db", str(db)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    stop_process_groups.append(demo)
    deadline = time.monotonic() + 90
    while "dashboard at" not in log.read_text() and demo.poll() is None:
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.3)
    [dashboard] = children(demo.pid)
    argv = argv_of(dashboard)
    assert "streamlit" in argv
    assert not [arg for arg in argv if "demo.db" in arg or arg == "--db"]
    assert environ_of(dashboard)["SENSORHUB_DB_URL"] == f"sqlite:///{db}"
    os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C
    # a bound for a loaded machine (Ctrl-C flushes the outbox and stops the dashboard)
    assert demo.wait(240) == 0, log.read_text()[-2000:]
    modes = {
        p.name: stat.S_IMODE(p.stat().st_mode) for p in (db.parent, db, db.parent / "dashboard.log")
    }
    assert modes == {"var": 0o700, "demo.db": 0o600, "dashboard.log": 0o600}


def test_the_demo_refuses_an_existing_database_unless_fresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.db"
    db.write_bytes(b"an earlier run's data")
    wal = tmp_path / "demo.db-wal"
    wal.write_bytes(b"its log")
    argv = ["demo", "--db", str(db), "--no-dashboard", "--exit-after", "1"]
    assert main(argv) == 1
    assert capsys.readouterr().err == (
        f"sensorhub: error: {db} exists: pass --fresh to start over, or choose another --db\n"
    )
    assert (db.read_bytes(), wal.read_bytes()) == (b"an earlier run's data", b"its log")
    assert main([*argv, "--fresh"]) == 0
    with sqlite3.connect(db) as con:  # a new database, written by this run
        wearers = con.execute("SELECT id FROM wearer ORDER BY id").fetchall()
    assert wearers == [("demo-ada",), ("demo-bea",)]  # the demo wearer and the unshared one
