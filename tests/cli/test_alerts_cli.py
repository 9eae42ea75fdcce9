"""``sensorhub alerts``: the list (table and JSON) with deliveries, ``ack`` and ``cancel``."""

from __future__ import annotations

import getpass
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from sensorhub.cli import main
from sensorhub.model import NS_PER_S
from sensorhub.store import AlertRecord, Store, utc_from_ns
from sensorhub.store.models import AlertDeliveryRow

T0 = 1_795_420_800 * NS_PER_S  # 2026-11-23 08:00 UTC


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    store = Store.open(url)
    for wearer in ("ada", "bea"):
        store.repository.ensure_wearer(wearer, wearer.title())
    fall = AlertRecord(
        uuid.uuid5(uuid.NAMESPACE_OID, "fall"), "ada", "possible_fall", "urgent", "open",
        "Possible fall at 08:01; Ada has not got up.", T0 + 68 * NS_PER_S,
        cause_ns=T0 + 60 * NS_PER_S, cancel_until_ns=T0 + 120 * NS_PER_S,
    )  # fmt: skip
    pending = AlertRecord(
        uuid.uuid5(uuid.NAMESPACE_OID, "pending"), "bea", "possible_fall", "urgent", "pending",
        "Possible fall at 09:00; waiting 60 s for Bea to get up or to say they are OK.",
        T0 + 3600 * NS_PER_S, cause_ns=T0 + 3600 * NS_PER_S,
    )  # fmt: skip
    store.repository.write([fall, pending])
    with Session(store.engine) as session, session.begin():
        session.add(
            AlertDeliveryRow(
                id=uuid.uuid4(), alert_id=fall.id, at=utc_from_ns(T0 + 69 * NS_PER_S),
                recipient="carol", channel="json://localhost:8080/***", attempt=1,
                escalation_level=0, result="delivered",
            )
        )  # fmt: skip
    store.close()
    return url


def test_the_json_list_has_the_documented_fields(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["alerts", "--db", db, "--json"]) == 0
    alerts = json.loads(capsys.readouterr().out)
    assert [a["wearer_id"] for a in alerts] == ["ada", "bea"]
    fall = alerts[0]
    assert {"id", "wearer_id", "kind", "state", "opened_at", "reason", "deliveries"} <= set(fall)
    assert (fall["kind"], fall["state"]) == ("possible_fall", "open")
    assert fall["opened_at"] == "2026-11-23T08:01:08Z"
    (delivery,) = fall["deliveries"]
    assert delivery == {
        "channel": "json://localhost:8080/***", "recipient": "carol", "attempt": 1,
        "escalation_level": 0, "result": "delivered", "at": "2026-11-23T08:01:09Z",
    }  # fmt: skip
    assert main(["alerts", "--db", db, "--json", "--state", "pending"]) == 0
    assert [a["wearer_id"] for a in json.loads(capsys.readouterr().out)] == ["bea"]
    assert main(["alerts", "--db", db, "--json", "--wearer", "ada"]) == 0
    assert [a["kind"] for a in json.loads(capsys.readouterr().out)] == ["possible_fall"]


def test_the_table_shows_reasons_and_deliveries(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["alerts", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Ada has not got up." in out
    assert "to carol via json://localhost:8080/*** (attempt 1): delivered" in out


def test_ack_and_cancel_are_audited_as_the_os_user(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fall, pending = (
        uuid.uuid5(uuid.NAMESPACE_OID, "fall"),
        uuid.uuid5(uuid.NAMESPACE_OID, "pending"),
    )
    assert main(["alerts", "ack", str(fall), "--db", db]) == 0
    assert "is acknowledged" in capsys.readouterr().out
    assert main(["alerts", "--db", db, "cancel", str(pending)]) == 0
    assert "is cancelled" in capsys.readouterr().out
    store = Store.open(db)
    audit = store.accounts.audit()
    store.close()
    actor = f"cli:{getpass.getuser()}"
    assert [(e.actor, e.action) for e in audit if e.action.startswith("alert")] == [
        (actor, "alert cancelled"),
        (actor, "alert acknowledged"),
    ]


def test_an_unknown_alert_or_database_is_a_clear_error(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["alerts", "ack", str(uuid.uuid4()), "--db", db]) == 1
    assert "no alert" in capsys.readouterr().err
    missing = f"sqlite:///{tmp_path / 'nope.db'}"
    assert main(["alerts", "--db", missing]) == 1
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "nope.db").exists()
