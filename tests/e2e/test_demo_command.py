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
        page = browser.new_page()
        page.goto(url)
        # 30 minutes of sitting at 120x: the nudge comes after ~15 s of real time. The demo runs
        # on the real clock, as a newcomer runs it (the only test here that does), so the
        # waits are real: 60 s is 4 times what it needs, for a loaded machine.
        page.get_by_text("Movement nudge").wait_for(timeout=60_000)
        page.get_by_text("Current static bout").wait_for(timeout=10_000)
        page.close()
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    assert "stopped; database closed" in out
    # nothing left behind: the dashboard child is gone and the port is free again
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (nudges,) = con.execute("SELECT count(*) FROM nudge").fetchone()
        (bouts,) = con.execute("SELECT count(*) FROM event WHERE kind='static_bout'").fetchone()
    assert nudges >= 1
    assert bouts >= 1  # the open bout was closed and written on Ctrl-C
