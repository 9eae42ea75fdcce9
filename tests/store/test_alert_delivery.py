"""The notifier's store adapter on real SQLite and PostgreSQL databases: which alerts are
open, who may be told, and a delivery log that is idempotent and never holds a secret."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from sensorhub.access import Scope
from sensorhub.store import Store
from sensorhub.store.alert_delivery import AlertDeliveryStore, mask_channel
from sensorhub.store.models import AlertRow
from tests.support.alerts import acknowledge, caregiver_with_share, insert_alert

NOW = dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A fresh database on SQLite and on PostgreSQL, with two wearers."""
    opened = Store.open(db_url)
    opened.repository.ensure_wearer("ada", "Ada Lovelace", timezone="Europe/Berlin")
    opened.repository.ensure_wearer("bea", "Bea", timezone="UTC")
    yield opened
    opened.close()


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("mailto://ana:app-pass@example.org?to=ana@example.org", "mailto://***@example.org/***"),
        ("mailtos://ana:pw@smtp.gmail.com:465", "mailtos://***@smtp.gmail.com:465"),
        ("ntfys://ntfy.sh/ana-7f3c", "ntfys://ntfy.sh/***"),
        ("ntfy://ana-7f3c", "ntfy://***"),
        ("ntfys://user:pw@ntfy.example.org/topic", "ntfys://***@ntfy.example.org/***"),
        ("tgram://123456:ABCDEF/98765", "tgram://***/***"),
        ("json://127.0.0.1:8080/hook/s3cret?token=x", "json://127.0.0.1:8080/***"),
        ("json://[::1]:8080/hook", "json://[::1]:8080/***"),
        ("mailto://ana:pa/ss@example.org", "mailto://***/***"),
        ("not a url", "***"),
    ],
)
def test_a_channel_is_masked_to_its_scheme_and_host(url: str, masked: str) -> None:
    assert mask_channel(url) == masked
    assert mask_channel(masked) == masked  # idempotent


def test_only_open_alerts_past_their_cancel_window_are_to_notify(store: Store) -> None:
    open_id = insert_alert(store, "ada", opened_at=NOW)
    insert_alert(store, "ada", state="pending", opened_at=NOW)
    insert_alert(store, "ada", state="cancelled", opened_at=NOW)
    insert_alert(store, "ada", state="resolved", opened_at=NOW)
    acked = insert_alert(store, "bea", opened_at=NOW)
    acknowledge(store, acked, at=NOW, by="ana")
    waiting = insert_alert(store, "bea", opened_at=NOW)
    with Session(store.engine) as session, session.begin():
        session.execute(
            update(AlertRow)
            .where(AlertRow.id == waiting)
            .values(cancel_until_at=NOW + dt.timedelta(seconds=60))
        )
    adapter = AlertDeliveryStore(store.engine)

    (alert,) = adapter.alerts_to_notify(NOW)
    assert (alert.id, alert.wearer_name, alert.wearer_timezone) == (
        open_id,
        "Ada Lovelace",
        "Europe/Berlin",
    )
    later = adapter.alerts_to_notify(NOW + dt.timedelta(seconds=60))
    assert {a.id for a in later} == {open_id, waiting}


def test_a_delivery_is_stored_once_masked_and_read_back_in_order(store: Store) -> None:
    alert = insert_alert(store, "ada", opened_at=NOW)
    adapter = AlertDeliveryStore(store.engine)
    secret = "ntfys://tok3n@ntfy.sh/ana-7f3c"
    first = {
        "recipient": "ana",
        "channel": secret,
        "attempt": 1,
        "escalation_level": 0,
        "at": NOW,
        "result": "failed: connection refused",
    }
    adapter.record_delivery(alert, **first)  # type: ignore[arg-type]
    adapter.record_delivery(alert, **first)  # type: ignore[arg-type]  (a replay: no new row)
    adapter.record_delivery(
        alert, **(first | {"at": NOW + dt.timedelta(seconds=10), "result": "delivered"})
    )  # type: ignore[arg-type]

    rows = adapter.deliveries_of(alert)
    assert [(r.result, r.delivered) for r in rows] == [
        ("failed: connection refused", False),
        ("delivered", True),
    ]
    assert {r.channel for r in rows} == {"ntfys://***@ntfy.sh/***"}
    assert adapter.deliveries_of_alerts([]) == {}


def test_only_enabled_accounts_with_an_active_share_of_the_scope_may_be_told(
    store: Store,
) -> None:
    caregiver_with_share(store, "ana", ["ada"], [Scope.STATUS, Scope.FALLS])
    caregiver_with_share(store, "ben", ["ada"], [Scope.STATUS])
    caregiver_with_share(store, "cleo", ["ada"], [Scope.FALLS])
    caregiver_with_share(store, "dan", ["bea"], [Scope.FALLS])
    caregiver_with_share(store, "eve", ["ada"], [Scope.FALLS])
    store.accounts.revoke_share("ada", "cleo", actor="ada")
    store.accounts.disable_user("eve", actor="admin")
    adapter = AlertDeliveryStore(store.engine)
    names = ["ana", "ben", "cleo", "dan", "eve", "nobody"]

    assert adapter.recipients_sharing("ada", names, Scope.FALLS, NOW) == {"ana"}
    assert adapter.recipients_sharing("ada", names, Scope.STATUS, NOW) == {"ana", "ben"}
    assert adapter.known_usernames(names) == {"ana", "ben", "cleo", "dan", "eve"}
