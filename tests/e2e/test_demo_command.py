"""`sensorhub demo` as a newcomer runs it: URL printed, bouts and a nudge appear, Ctrl-C clean."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import browser_login

pytestmark = pytest.mark.e2e


def _read_line_with(process: subprocess.Popen[str], marker: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if marker in line:
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"demo did not print {marker!r} within {timeout_s} s")


def test_demo_serves_bouts_and_a_nudge_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path, browser: Any, port: int
) -> None:
    db = tmp_path / "demo.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "sensorhub.cli", "demo", "--speed", "120", "--port", str(port),
         "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        line = _read_line_with(process, "dashboard at", 90)
        url = line.split("dashboard at", 1)[1].split()[0]
        assert url == f"http://127.0.0.1:{port}/"
        logins = {}
        for role in ("wearer", "caregiver", "admin"):
            login = _read_line_with(process, f"login as {role}: ", 10)
            username, password = login.split(": ", 1)[1].strip().split(" / ")
            logins[role] = (username, password)
        page = browser.new_page()
        page.goto(url)
        page.get_by_role("button", name="Log in").wait_for(timeout=30_000)
        before = page.content()
        assert "Ada" not in before
        assert "Bea" not in before
        carer, carer_password = logins["caregiver"]
        browser_login(page, url, carer, "not-the-password")
        page.get_by_text("wrong username or password").wait_for(timeout=30_000)
        browser_login(page, url, carer, carer_password)
        # 30 minutes of sitting at 120x: the nudge comes after ~15 s of real time. The demo runs
        # on the real clock, as a newcomer runs it (the only test here that does), so the
        # waits are real: 60 s is 4 times what it needs, for a loaded machine.
        page.get_by_text("Movement nudge").wait_for(timeout=60_000)
        page.get_by_text("Current static bout").wait_for(timeout=10_000)
        assert "Ada (demo wearer)" in page.content()
        assert "Bea" not in page.content()
        page.close()
        wearer_page = browser.new_page()
        browser_login(wearer_page, url, *logins["wearer"])
        wearer_page.get_by_role("link", name="Who can see my data").click()
        wearer_page.get_by_text("Who looked at your data").wait_for(timeout=30_000)
        wearer_page.get_by_text("Chris (Ada's carer)").first.wait_for(timeout=30_000)
        wearer_page.close()
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=240)  # a bound for a loaded machine
    assert process.returncode == 0, out
    assert "stopped; database closed" in out
    # nothing left behind: the dashboard child is gone and the port is free again
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (nudges,) = con.execute("SELECT count(*) FROM nudge").fetchone()
        (bouts,) = con.execute("SELECT count(*) FROM event WHERE kind='static_bout'").fetchone()
        audit = con.execute("SELECT actor, action, wearer_id, detail FROM audit_log").fetchall()
    assert nudges >= 1
    assert bouts >= 1  # the open bout was closed and written on Ctrl-C
    assert (carer, "view", "demo-ada", "Today") in audit
    assert any(a[:2] == (carer, "login failed") for a in audit)
    assert not any("not-the-password" in str(a) for a in audit)
    dashboard_log = (tmp_path / "dashboard.log").read_text()
    for _, password in logins.values():
        assert password not in out  # printed on its login line only (read above), never logged
        assert password not in dashboard_log
