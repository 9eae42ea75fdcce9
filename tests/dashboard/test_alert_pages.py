"""The Alerts page and the wearer's "I'm OK", through AppTest on a real SQLite care home."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sensorhub.alerts.kinds import alert_id
from sensorhub.store import AlertRecord, Store, ns_from_utc
from tests.dashboard.test_access_pages import _open_page, log_in, page_text
from tests.support.care import CareHome, seed_care_home
from tests.support.readers import OPERATOR

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
FALL = "Possible fall at 10:02; Ada has not got up."
STILL = "No movement for 3 hours this afternoon."


@pytest.fixture
def care_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, CareHome]]:
    url = f"sqlite:///{tmp_path / 'care.db'}"
    store = Store.open(url)
    home = seed_care_home(store)
    now = dt.datetime.now(dt.UTC)
    now_ns = ns_from_utc(now)
    store.repository.write(
        [
            AlertRecord(
                alert_id(home.shared_wearer, "possible_fall", now_ns),
                home.shared_wearer,
                "possible_fall",
                "urgent",
                "pending",
                FALL,
                now_ns,
                cause_ns=now_ns,
                cancel_until_ns=now_ns + 60_000_000_000,
            ),
            AlertRecord(
                alert_id(home.shared_wearer, "long_inactivity", now_ns),
                home.shared_wearer,
                "long_inactivity",
                "warning",
                "open",
                STILL,
                now_ns,
                cause_ns=now_ns,
            ),
        ]
    )
    monkeypatch.setenv("SENSORHUB_DB_URL", url)
    monkeypatch.delenv("SENSORHUB_DASHBOARD_LOGIN_AS", raising=False)
    yield store, home
    store.close()


def _app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=30).run()


def test_a_caregiver_sees_and_acknowledges_only_the_alerts_shared_with_them(
    care_home: tuple[Store, CareHome],
) -> None:
    store, home = care_home  # the carer has status and activity of Ada, not falls
    at = _open_page(log_in(_app(), "carer"), "Alerts")
    text = page_text(at)
    assert STILL in text
    assert FALL not in text
    [ack] = [b for b in at.button if b.label == "Acknowledge"]
    ack.click().run()
    states = {a.kind: (a.state, a.acknowledged_by) for a in store.queries.alerts(OPERATOR)}
    assert states["long_inactivity"] == ("acknowledged", "carer")
    assert states["possible_fall"][0] == "pending"
    assert any(e.action == "alert acknowledged" and e.actor == "carer"
               for e in store.accounts.audit(wearer_id=home.shared_wearer))  # fmt: skip


def test_the_wearer_cancels_a_pending_fall_with_im_ok(care_home: tuple[Store, CareHome]) -> None:
    store, _ = care_home
    at = log_in(_app(), "ada")
    assert FALL in page_text(at)
    [ok] = [b for b in at.button if b.label == "I'm OK"]
    ok.click().run()
    states = {a.kind: a.state for a in store.queries.alerts(OPERATOR)}
    assert states["possible_fall"] == "cancelled"
    assert not [b for b in at.button if b.label == "I'm OK"]
