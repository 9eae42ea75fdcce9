"""Alerts in the store: one row per cause, never moved backwards, seen only within scopes,
acknowledged and cancelled with an audit entry."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from sensorhub.access import AccessError, Role, Scope
from sensorhub.model import NS_PER_S
from sensorhub.store import AlertRecord, Outbox, Store, UnknownAlertError
from sensorhub.store.models import AlertDeliveryRow
from sensorhub.store.records import record_from_json, record_to_json
from tests.support.readers import OPERATOR

T0 = 1_795_422_600 * NS_PER_S  # 2026-11-23 08:30 UTC


def _alert(
    state: str, *, kind: str = "possible_fall", n: int = 1, wearer: str = "ada"
) -> AlertRecord:
    return AlertRecord(
        id=uuid.uuid5(uuid.NAMESPACE_OID, f"{wearer}/{kind}/{n}"),
        wearer_id=wearer,
        kind=kind,
        severity="urgent" if kind == "possible_fall" else "warning",
        state=state,
        reason=f"{kind} {state}",
        updated_ns=T0 + {"pending": 0, "open": 60}.get(state, 120) * NS_PER_S,
        cause_ns=T0,
        cancel_until_ns=T0 + 60 * NS_PER_S if kind == "possible_fall" else None,
        subject="AA:BB" if kind == "battery_low" else "",
        evidence={"confidence": 0.9},
    )


@pytest.fixture
def store(db_url: str) -> Store:
    opened = Store.open(db_url)
    opened.repository.ensure_wearer("ada", "Ada")
    opened.repository.ensure_wearer("bea", "Bea")
    yield opened  # type: ignore[misc]
    opened.close()


def test_an_alert_moves_forward_only_and_is_stored_once(store: Store) -> None:
    repo = store.repository
    repo.write([_alert("pending")])
    repo.write([_alert("pending")])  # a replay
    repo.write([_alert("open")])
    repo.write([_alert("pending")])  # an old record replayed late: not backwards
    (view,) = store.queries.alerts(OPERATOR)
    assert view.state == "open"
    assert view.reason == "possible_fall open"
    assert view.opened_at.timestamp() == T0 / NS_PER_S  # from the first record
    assert (view.cancel_until_at.timestamp() - view.opened_device_at.timestamp()) == 60  # type: ignore[union-attr]
    store.accounts.acknowledge_alert(view.id, "cli:nurse")
    repo.write([_alert("resolved")])  # the rules do not know: acknowledged stays
    (view,) = store.queries.alerts(OPERATOR)
    assert view.state == "acknowledged"
    assert view.acknowledged_by == "cli:nurse"


def test_a_cancelled_alert_stays_cancelled(store: Store) -> None:
    store.repository.write([_alert("pending")])
    store.accounts.cancel_alert(_alert("pending").id, "cli:ada")
    store.repository.write([_alert("open")])  # the window ended in the hub's memory
    (view,) = store.queries.alerts(OPERATOR, "ada")
    assert view.state == "cancelled"
    assert "said they are OK" in view.reason
    assert view.closed_at is not None


def test_acknowledging_is_audited_idempotent_and_refuses_unknown_ids(store: Store) -> None:
    store.repository.write([_alert("open", kind="long_inactivity")])
    alert_id = _alert("open", kind="long_inactivity").id
    first = store.accounts.acknowledge_alert(str(alert_id), "cli:nurse")
    again = store.accounts.acknowledge_alert(alert_id, "cli:other")
    assert first.state == again.state == "acknowledged"
    assert again.acknowledged_by == "cli:nurse"
    entries = [e for e in store.accounts.audit() if e.action == "alert acknowledged"]
    assert len(entries) == 1
    assert entries[0].wearer_id == "ada"
    assert str(alert_id) in entries[0].detail
    with pytest.raises(UnknownAlertError, match="no alert"):
        store.accounts.acknowledge_alert(uuid.uuid4(), "cli:nurse")
    with pytest.raises(UnknownAlertError):
        store.accounts.acknowledge_alert("not-an-id", "cli:nurse")


def test_an_open_fall_can_no_longer_be_cancelled(store: Store) -> None:
    store.repository.write([_alert("open")])
    with pytest.raises(AccessError, match="caregivers have been told"):
        store.accounts.cancel_alert(_alert("open").id, "cli:ada")


def test_deliveries_come_with_their_alert(store: Store) -> None:
    from sqlalchemy.orm import Session

    from sensorhub.store import utc_from_ns

    record = _alert("open")
    store.repository.write([record])
    with Session(store.engine) as session, session.begin():
        for attempt, result in ((1, "failed: timeout"), (2, "delivered")):
            session.add(
                AlertDeliveryRow(
                    id=uuid.uuid4(),
                    alert_id=record.id,
                    at=utc_from_ns(T0 + (60 + attempt) * NS_PER_S),
                    recipient="carol",
                    channel="json://localhost/***",
                    attempt=attempt,
                    escalation_level=0,
                    result=result,
                )
            )
    (view,) = store.queries.alerts(OPERATOR, state="open")
    assert [(d.attempt, d.result) for d in view.deliveries] == [
        (1, "failed: timeout"),
        (2, "delivered"),
    ]
    assert store.queries.alerts(OPERATOR, state=["pending", "acknowledged"]) == []


def test_viewers_see_alerts_only_within_their_scopes(store: Store) -> None:
    repo, accounts = store.repository, store.accounts
    repo.write(
        [_alert("open"), _alert("open", kind="long_inactivity"), _alert("open", wearer="bea")]
    )
    repo.write([_alert("open", kind="battery_low", n=2)])
    falls_only = accounts.add_user("fran", Role.CAREGIVER, actor="t", password=None)
    status_only = accounts.add_user("stan", Role.CAREGIVER, actor="t", password=None)
    admin = accounts.add_user("root", Role.ADMIN, actor="t", password=None)
    ada = accounts.add_user("ada-self", Role.WEARER, actor="t", password=None, wearer_id="ada")
    accounts.grant_share("ada", "fran", [Scope.FALLS], actor="t")
    accounts.grant_share("ada", "stan", [Scope.STATUS, Scope.ACTIVITY], actor="t")
    from sensorhub.access import Viewer

    def viewer(user: object, role: Role, wearer: str | None = None) -> Viewer:
        return Viewer(str(user.id), user.username, role, wearer)  # type: ignore[attr-defined]

    def kinds(v: Viewer) -> list[tuple[str, str]]:
        return sorted((a.wearer_id, a.kind) for a in store.queries.alerts(v))

    assert kinds(viewer(falls_only, Role.CAREGIVER)) == [("ada", "possible_fall")]
    assert kinds(viewer(status_only, Role.CAREGIVER)) == [
        ("ada", "battery_low"),
        ("ada", "long_inactivity"),
    ]
    assert kinds(viewer(admin, Role.ADMIN)) == []
    assert kinds(viewer(ada, Role.WEARER, "ada")) == [
        ("ada", "battery_low"),
        ("ada", "long_inactivity"),
        ("ada", "possible_fall"),
    ]
    assert store.queries.alerts(viewer(falls_only, Role.CAREGIVER), "bea") == []
    # acknowledging needs the alert's scope: stan (status) cannot see the fall
    with pytest.raises(UnknownAlertError):
        accounts.acknowledge_alert(_alert("open").id, viewer(status_only, Role.CAREGIVER))
    done = accounts.acknowledge_alert(_alert("open").id, viewer(falls_only, Role.CAREGIVER))
    assert done.acknowledged_by == "fran"
    # only the wearer says "I'm OK"
    repo.write([_alert("pending", n=3)])
    with pytest.raises(UnknownAlertError):
        accounts.cancel_alert(_alert("pending", n=3).id, viewer(falls_only, Role.CAREGIVER))
    assert (
        accounts.cancel_alert(_alert("pending", n=3).id, viewer(ada, Role.WEARER, "ada")).state
        == "cancelled"
    )


def test_alert_records_survive_the_outbox(tmp_path: Path) -> None:
    record = _alert("pending", kind="battery_low")
    assert record_from_json(record_to_json(record)) == record
    outbox = Outbox(tmp_path / "outbox")
    outbox.put([record, _alert("open", kind="battery_low")])
    assert [a.state for a in outbox.queued_alerts()] == ["pending", "open"]
    outbox.close()


def test_resuming_reads_active_alerts_and_recent_gait_changes(store: Store) -> None:
    repo = store.repository
    repo.write([_alert("open", kind="battery_low"), _alert("resolved", kind="long_inactivity")])
    gait = AlertRecord(
        uuid.uuid4(), "ada", "gait_change", "info", "acknowledged", "slower", T0, cause_ns=T0,
        subject="speed_drop",
    )  # fmt: skip
    repo.write([gait])
    got = repo.alerts_to_resume("ada", gait_since_ns=T0 - 7 * 86400 * NS_PER_S)
    assert sorted((a.kind, a.state, a.subject) for a in got) == [
        ("battery_low", "open", "AA:BB"),
        ("gait_change", "acknowledged", "speed_drop"),
    ]
    assert repo.alerts_to_resume("ada", gait_since_ns=T0 + NS_PER_S) == [
        a for a in got if a.kind == "battery_low"
    ]
