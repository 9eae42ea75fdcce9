"""The care-circle commands end to end, in process, on a temporary SQLite database:
`users`, `share`, `audit`, `export` and `wearer delete`."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from sensorhub.cli import main
from sensorhub.model import NS_PER_S, Fall, Posture, StaticBout
from sensorhub.store import Store

T0 = 1_790_000_000 * NS_PER_S
PASSWORD = "correct horse battery staple"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    store = Store.open(url)
    store.repository.ensure_wearer("ada", "Ada")
    store.repository.ensure_wearer("bob", "Bob")
    bout = StaticBout(T0, T0 + 600 * NS_PER_S, Posture.SITTING)
    store.repository.save_events("ada", [bout, Fall(T0 + 900 * NS_PER_S, 0.9)])
    store.close()
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str, db: str) -> tuple[int, str, str]:
    code = main([*argv, "--db", db])
    out, err = capsys.readouterr()
    return code, out, err


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def one_line_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sensorhub: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_users_add_list_disable_and_reset_password(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin(monkeypatch, PASSWORD + "\n")
    code, out, _ = run(capsys, "users", "add", "--username", "carol", "--role", "caregiver",
                       "--display-name", "Carol K", "--password-stdin", db=db)  # fmt: skip
    assert code == 0
    assert "carol" in out
    assert PASSWORD not in out
    code, out, _ = run(capsys, "users", "add", "--username", "ada", "--role", "wearer",
                       "--wearer", "ada", "--no-password", db=db)  # fmt: skip
    assert code == 0

    code, out, _ = run(capsys, "users", "list", "--json", db=db)
    users = {u["username"]: u for u in json.loads(out)["users"]}
    assert users["carol"]["role"] == "caregiver"
    assert users["carol"]["display_name"] == "Carol K"
    assert users["ada"]["wearer_id"] == "ada"
    assert not users["ada"]["disabled"]
    assert "password" not in out
    assert "argon2" not in out
    code, out, _ = run(capsys, "users", "list", db=db)
    assert code == 0
    assert "carol" in out
    assert "caregiver" in out

    store = Store.open(db)
    assert store.accounts.authenticate("carol", PASSWORD).username == "carol"
    stdin(monkeypatch, "another long passphrase\n")
    assert run(capsys, "users", "reset-password", "carol", "--password-stdin", db=db)[0] == 0
    assert store.accounts.authenticate("carol", "another long passphrase").username == "carol"

    assert run(capsys, "users", "disable", "carol", db=db)[0] == 0
    code, out, _ = run(capsys, "users", "list", "--json", db=db)
    assert {u["username"]: u["disabled"] for u in json.loads(out)["users"]}["carol"] is True
    actions = [e.action for e in store.accounts.audit()]
    assert {"user added", "password reset", "user disabled"} <= set(actions)
    assert all(e.actor.startswith("cli:") for e in store.accounts.audit() if e.action != "login")
    store.close()


def test_share_grant_list_revoke_and_audit(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "users", "add", "--username", "carol", "--role", "caregiver",
               "--no-password", db=db)[0] == 0  # fmt: skip
    code, out, _ = run(capsys, "share", "grant", "--wearer", "ada", "--to", "carol",
                       "--scopes", "status,activity,falls", "--expires", "2099-01-31",
                       "--on-behalf", "signed consent form 2026-11-30", db=db)  # fmt: skip
    assert code == 0
    assert "until 2099-02-01 00:00 UTC" in out

    code, out, _ = run(capsys, "share", "list", "--wearer", "ada", "--json", db=db)
    [share] = json.loads(out)["shares"]
    assert share["to"] == "carol"
    assert share["status"] == "active"
    assert share["scopes"] == ["activity", "falls", "status"]
    assert share["basis"] == "signed consent form 2026-11-30"
    assert share["granted_by"].startswith("cli:")
    # a date lasts through that day: the share ends at the start of the next day, UTC
    assert dt.datetime.fromisoformat(share["expires_at"]) == dt.datetime(2099, 2, 1, tzinfo=dt.UTC)
    code, out, _ = run(capsys, "share", "list", "--wearer", "bob", "--json", db=db)
    assert json.loads(out)["shares"] == []

    assert run(capsys, "share", "revoke", "--wearer", "ada", "--to", "carol", db=db)[0] == 0
    code, out, _ = run(capsys, "share", "list", "--json", db=db)
    assert [s["status"] for s in json.loads(out)["shares"]] == ["revoked"]
    code, out, _ = run(capsys, "share", "list", db=db)
    assert "revoked" in out
    assert "signed consent form" in out

    code, out, _ = run(capsys, "audit", "--wearer", "ada", "--json", db=db)
    entries = json.loads(out)["entries"]
    assert [e["action"] for e in entries] == ["share granted", "share revoked"]
    assert "signed consent form 2026-11-30" in entries[0]["detail"]
    assert all(e["wearer_id"] == "ada" for e in entries)
    code, out, _ = run(capsys, "audit", "--since", "2099-01-01", "--json", db=db)
    assert json.loads(out)["entries"] == []
    code, out, _ = run(capsys, "audit", db=db)
    assert code == 0
    assert "share granted" in out


def test_export_writes_every_table_and_is_audited(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "export"
    code, out, _ = run(capsys, "export", "--wearer", "ada", "--format", "csv",
                       "--out", str(out_dir), db=db)  # fmt: skip
    assert code == 0
    assert "events 2" in out
    assert "wearer 1" in out
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted(
        f"{n}.csv"
        for n in (
            "wearer",
            "events",
            "epochs",
            "nudges",
            "live_state",
            "devices",
            "shares",
            "alerts",
            "alert_deliveries",
            "settings",
        )
    )
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in out_dir.iterdir())
    code, out, _ = run(capsys, "audit", "--wearer", "ada", "--json", db=db)
    assert [e["action"] for e in json.loads(out)["entries"]] == ["export"]
    # never overwritten
    code, _, err = run(capsys, "export", "--wearer", "ada", "--format", "csv",
                       "--out", str(out_dir), db=db)  # fmt: skip
    assert code == 1
    one_line_error(err, "exists")


def test_wearer_delete_needs_yes_then_deletes_and_keeps_the_audit(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "users", "add", "--username", "ada", "--role", "wearer", "--wearer", "ada",
               "--no-password", db=db)[0] == 0  # fmt: skip
    code, out, err = run(capsys, "wearer", "delete", "ada", db=db)
    assert code == 1
    one_line_error(err, "would delete wearer ada", "events 2", "account 1", "--yes")
    code, out, err = run(capsys, "wearer", "delete", "ada", "--yes", db=db)
    assert code == 0, err
    assert "events 2" in out
    assert "hub config" in out
    code, out, _ = run(capsys, "audit", "--wearer", "ada", "--json", db=db)
    actions = [e["action"] for e in json.loads(out)["entries"]]
    assert actions == ["user added", "wearer deleted"]
    code, out, _ = run(capsys, "users", "list", "--json", db=db)
    assert json.loads(out)["users"] == []
    code, _, err = run(capsys, "wearer", "delete", "ada", "--yes", db=db)
    assert code == 1
    one_line_error(err, "no wearer 'ada'")


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["users", "add", "--username", "x", "--role", "nurse", "--no-password"],
         ["unknown role 'nurse'", "caregiver"]),
        (["users", "add", "--username", "x", "--role", "caregiver"], ["--password-stdin"]),
        (["users", "add", "--username", "ada", "--role", "wearer", "--wearer", "zed",
          "--no-password"], ["no wearer 'zed'"]),
        (["users", "add", "--username", "y", "--role", "caregiver", "--wearer", "ada",
          "--no-password"], ["only a wearer account"]),
        (["users", "add", "--username", "carol", "--role", "clinician", "--no-password"],
         ["'carol' is taken"]),
        (["users", "add", "--username", "bad name", "--role", "clinician", "--no-password"],
         ["invalid username"]),
        (["users", "disable", "nobody"], ["no account 'nobody'"]),
        (["users", "reset-password", "carol"], ["--password-stdin"]),
        (["share", "grant", "--wearer", "ada", "--to", "carol", "--scopes", "status,bogus",
          "--on-behalf", "form"], ["unknown scope bogus", "activity"]),
        (["share", "grant", "--wearer", "ada", "--to", "carol", "--scopes", "status"],
         ["--on-behalf"]),
        (["share", "grant", "--wearer", "ada", "--to", "carol", "--scopes", "status",
          "--on-behalf", "form", "--expires", "2020-01-01"], ["in the past"]),
        (["share", "grant", "--wearer", "ada", "--to", "carol", "--scopes", "status",
          "--on-behalf", "form", "--expires", "next week"], ["invalid expiry"]),
        (["share", "grant", "--wearer", "zed", "--to", "carol", "--scopes", "status",
          "--on-behalf", "form"], ["no wearer 'zed'"]),
        (["share", "grant", "--wearer", "ada", "--to", "nobody", "--scopes", "status",
          "--on-behalf", "form"], ["no account 'nobody'"]),
        (["share", "revoke", "--wearer", "ada", "--to", "carol"], ["no active share"]),
        (["audit", "--since", "yesterday"], ["invalid --since"]),
        (["export", "--wearer", "zed", "--format", "csv", "--out", "OUT"], ["no wearer 'zed'"]),
        (["export", "--wearer", "ada", "--format", "xlsx", "--out", "OUT"],
         ["unknown export format"]),
        (["wearer", "delete", "zed", "--yes"], ["no wearer 'zed'"]),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_error_and_changes_nothing(
    db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    fragments: list[str],
) -> None:
    assert run(capsys, "users", "add", "--username", "carol", "--role", "caregiver",
               "--no-password", db=db)[0] == 0  # fmt: skip
    store = Store.open(db)
    before = (store.accounts.users(), store.accounts.shares(), len(store.accounts.audit()))
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    code, out, err = run(capsys, *argv, db=db)
    assert code == 1
    assert out == ""
    one_line_error(err, *fragments)
    assert (store.accounts.users(), store.accounts.shares(), len(store.accounts.audit())) == before
    assert not (tmp_path / "out").exists()
    store.close()


def test_password_is_never_echoed_or_audited(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin(monkeypatch, "short\n")
    code, out, err = run(capsys, "users", "add", "--username", "dan", "--role", "clinician",
                         "--password-stdin", db=db)  # fmt: skip
    assert code == 1
    assert "short" not in out + err.replace("too short", "")
    one_line_error(err, "too short")
    stdin(monkeypatch, PASSWORD + "\n")
    code, out, err = run(capsys, "-v", "-v", "users", "add", "--username", "dan", "--role",
                         "clinician", "--password-stdin", db=db)  # fmt: skip
    assert code == 0
    assert PASSWORD not in out + err
    code, out, _ = run(capsys, "audit", "--json", db=db)
    assert PASSWORD not in out


def test_a_mistyped_sqlite_path_is_refused_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"
    code, _, err = run(capsys, "users", "list", db=f"sqlite:///{missing}")
    assert code == 1
    one_line_error(err, f"no database at {missing}", "sensorhub db upgrade")
    assert not missing.exists()
