"""The hub's commands: `devices add`, `scan` and `run` (against emulated devices)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest

from sensorhub.access import Scope
from sensorhub.cli import main
from sensorhub.config import load_config
from sensorhub.sim.faults import FaultSpec
from sensorhub.sim.virtual_time import run_virtual
from sensorhub.store import Store
from tests.support.alerts import HttpEndpoint, insert_alert


def test_devices_add_command_writes_a_new_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hub.toml"
    argv = ["devices", "add", "--config", str(path), "--wearer", "ada", "--profile", "thingy52"]
    assert main([*argv, "--name", "Thingy 7"]) == 0
    assert main([*argv, "--address", "C0:11:22:33:44:66", "--placement", "thigh"]) == 0
    config = load_config(path)
    assert [(d.profile, d.placement) for d in config.devices] == [
        ("thingy52", "pocket"),
        ("thingy52", "thigh"),
    ]
    assert main(["devices", "--json"]) == 0  # the listing still works
    assert '"devices"' in capsys.readouterr().out


def test_scan_lists_emulated_devices_with_profile_and_rssi(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scan", "--simulate", "3", "--json", "--timeout", "0.5"]) == 0
    rows = json.loads(capsys.readouterr().out)["devices"]
    assert sorted(r["profile"] for r in rows) == ["open-imu", "polar-h10", "polar-verity-sense"]
    assert all(r["rssi_dbm"] is not None and r["address"] for r in rows)


def test_run_simulate_prints_a_json_summary_per_device(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command's event loop on the virtual clock: its 0.5-s drain after the emulators stop
    # is then always enough, and "every sample sent arrived" holds on a loaded machine too.
    monkeypatch.setattr(asyncio, "run", run_virtual)
    db = f"sqlite:///{tmp_path / 'sim.db'}"
    argv = ["run", "--simulate", "gait-check", "--profiles", "open-imu,polar-h10"]
    argv += ["--speed", "60", "--duration", "90", "--faults", "disconnects=2,corrupt=0.02"]
    assert main([*argv, "--db", db]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["faults"] == "disconnects=2,corrupt=0.02"
    for device in summary["devices"]:
        assert device["samples"] == device["emulator"]["samples_sent"] > 0
        assert device["decode_errors"] == device["emulator"]["frames_corrupted"]
        assert {"profile", "frames", "gaps", "duplicates", "reconnects", "nudges_delivered"} <= set(
            device
        )


def test_run_lists_scenarios_and_documents_the_fault_spec(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "--simulate", "list"]) == 0
    assert "office-day" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "disconnects=N" in capsys.readouterr().out
    with pytest.raises(ValueError, match="bad fault 'disconects=5': use key=value with keys"):
        FaultSpec.parse("disconects=5")


def test_run_simulate_notify_tells_a_caregiver_it_creates_through_the_given_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--notify URL`` adds the caregiver ``sim-caregiver`` (account and share of status and
    falls of every simulated wearer) and delivers an open alert of the run's wearer to URL."""
    monkeypatch.setattr(asyncio, "run", run_virtual)
    db = f"sqlite:///{tmp_path / 'sim.db'}"
    store = Store.open(db)
    store.repository.ensure_wearer("sim-wearer-1", "sim-wearer-1")
    today = dt.datetime.now(dt.UTC).date()
    eight = dt.datetime(today.year, today.month, today.day, 8, tzinfo=dt.UTC)
    insert_alert(store, "sim-wearer-1", opened_at=eight, reason="Possible fall at 08:00.")
    argv = ["run", "--simulate", "gait-check", "--profiles", "open-imu", "--speed", "60"]
    with HttpEndpoint() as hook:
        assert main([*argv, "--duration", "10", "--db", db, "--notify", hook.url()]) == 0
    capsys.readouterr()
    assert [r.title for r in hook.received] == ["Possible fall: sim-wearer-1"]
    (share,) = store.accounts.shares("sim-wearer-1", active_only=True)
    assert (share.grantee, share.scopes) == ("sim-caregiver", {Scope.STATUS, Scope.FALLS})
    store.close()

    assert main([*argv, "--duration", "1", "--db", db, "--notify", "bogus://s3cret/path"]) != 0
    error = capsys.readouterr().err
    assert "--notify 'bogus://***/***': not a notification URL apprise can use" in error
    assert "s3cret" not in error
