"""`kill -9` of `sensorhub run` mid-bout, a restart on the same database and outbox, and a full
disk: through the real CLI, the emulated band on the real BLE stack and a real SQLite file.

The e2e-short wearer, with a chest strap, sits from minute 0 to 35 (the 30-min nudge falls in
it), walks, then stands. One uninterrupted run is the reference. A second run is killed with
SIGKILL after the nudge, while the wearer still sits, and restarted with ``--resume`` (the band
went on with its day): every static bout of the reference is stored once, the sitting bout
keeps its start (the timer did not restart), and the nudge is not sent twice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

SPEED = "120"
# a chest strap: it sees the 35 min of sitting as one still-upright bout from the start, so the
# 30-min nudge falls inside it. On the virtual clock: the same timeline however loaded the
# machine, so the runs can be compared to the second.
ARGS = [
    "--simulate", "e2e-short", "--devices", "1", "--profiles", "polar-h10", "--speed", SPEED,
    "--virtual-clock",
]  # fmt: skip
KILL_AT_MIN = 32.0  # after the 30-min nudge, while the wearer still sits


def _run(db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sensorhub.cli", "run", *ARGS, "--db", f"sqlite:///{db}", *extra],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _bouts(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT start_at, end_at, posture FROM event WHERE kind = 'static_bout' "
            "ORDER BY start_at"
        ).fetchall()


def _nudges(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT id, bout_start_at FROM nudge ORDER BY sent_at").fetchall()


def _seconds(iso: str) -> float:
    when = dt.datetime.fromisoformat(iso)
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("reference") / "hub.db"
    done = _run(db)
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)
    return db


def test_kill_9_and_restart_store_every_bout_once_and_no_nudge_twice(
    reference: Path, tmp_path: Path
) -> None:
    db = tmp_path / "hub.db"
    killed = _run(db, "--kill-at", str(KILL_AT_MIN))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert killed.stdout == ""  # no summary: nothing ran after the kill
    assert len(_nudges(db)) == 1  # the 30-min nudge reached the database before the kill
    restarted = _run(db, "--resume")
    assert restarted.returncode == 0, restarted.stderr
    assert "continuing the simulated day" in restarted.stderr
    summary = json.loads(restarted.stdout)
    assert summary["storage"]["pending_in_outbox"] == 0
    want, got = _bouts(reference), _bouts(db)
    # every bout of the uninterrupted run, once
    assert len(got) == len(want), (got, want)
    for (w_start, w_end, w_posture), (g_start, g_end, g_posture) in zip(want, got, strict=True):
        assert g_posture == w_posture
        assert abs(_seconds(g_start) - _seconds(w_start)) <= 2.0
        assert abs(_seconds(g_end) - _seconds(w_end)) <= 2.0
    # the bout in progress at the kill was resumed: one stored bout spans the restart
    kill_s = _seconds(got[0][0][:10] + " 08:00:00") + KILL_AT_MIN * 60
    spanning = [b for b in got if _seconds(b[0]) < kill_s - 60 < kill_s + 60 < _seconds(b[1])]
    assert len(spanning) == 1, got
    # the 30-min nudge was sent once, as in the uninterrupted run, with the same id
    assert _nudges(db) == _nudges(reference)
    assert len(_nudges(db)) == 1


def test_a_full_disk_gives_a_clear_error_a_non_zero_exit_and_a_bounded_log(
    tmp_path: Path,
) -> None:
    """The process may write at most 400 kB per file (RLIMIT_FSIZE: writes beyond fail with
    EFBIG, as writes to a full card in a Raspberry Pi fail with ENOSPC; no root needed)."""
    db = tmp_path / "hub.db"

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))

    process = subprocess.Popen(
        [sys.executable, "-m", "sensorhub.cli", "run", *ARGS, "--db", f"sqlite:///{db}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=small_files,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
    )  # fmt: skip
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("sensorhub: error: not everything reached the database"), last
    summary = json.loads(out)
    storage = summary["storage"]
    assert storage["not_stored"] + storage["pending_in_outbox"] > 0
    # EFBIG reads as "disk I/O error", ENOSPC as "database or disk is full": both say where
    assert "disk" in (storage["last_error"] or "")
    # bounded: a line a minute per kind of problem, not one per block
    assert len(err.splitlines()) < 40, err[-3000:]
