"""Every dashboard page, through Streamlit's AppTest on a real SQLite care home.

Before a login only the login form exists; after it each account sees exactly the wearers
and parts shared with it; the wearer sees who looked at their data; views are audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from sensorhub.store import Action, Store
from tests.support.care import PASSWORD, CareHome, seed_care_home

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture
def care_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, CareHome]]:
    url = f"sqlite:///{tmp_path / 'care.db'}"
    store = Store.open(url)
    home = seed_care_home(store)
    monkeypatch.setenv("SENSORHUB_DB_URL", url)
    monkeypatch.delenv("SENSORHUB_DASHBOARD_LOGIN_AS", raising=False)
    yield store, home
    store.close()


def page_text(at: AppTest) -> str:
    """Every string the page sends to the browser (the elements' protobuf text)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def log_in(at: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    username_box, password_box = at.text_input[0], at.text_input[1]
    assert (username_box.label, password_box.label) == ("Username", "Password")
    username_box.input(username)
    password_box.input(password)
    [button] = [b for b in at.button if b.label == "Log in"]
    return button.click().run()


def fresh_app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception
    return at


def test_before_a_login_only_the_login_form_is_shown(care_home: tuple[Store, CareHome]) -> None:
    _, home = care_home
    at = fresh_app()
    text = page_text(at)
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    for secret in (home.shared_name, home.unshared_name, home.twin_name, home.shared_message):
        assert secret not in text
    assert "Sitting" not in text
    assert "Band of" not in text


def test_a_wrong_password_is_refused_and_audited(care_home: tuple[Store, CareHome]) -> None:
    store, home = care_home
    at = log_in(fresh_app(), "carer", "not the password")
    assert any("wrong username or password" in e.value for e in at.error)
    assert home.shared_name not in page_text(at)
    failed = [e for e in store.accounts.audit() if e.action == Action.LOGIN_FAILED]
    assert [e.actor for e in failed] == ["carer"]
    assert "not the password" not in repr(store.accounts.audit())


def test_a_caregiver_sees_only_the_shared_wearer_and_scopes(
    care_home: tuple[Store, CareHome],
) -> None:
    store, home = care_home
    at = log_in(fresh_app(), "carer")
    assert not at.exception
    text = page_text(at)
    assert [t.value for t in at.title] == ["Today"]
    assert at.sidebar.selectbox[0].options == [home.shared_name]
    assert home.shared_message in text  # activity scope: nudges
    assert home.unshared_name not in text
    assert home.unshared_message not in text
    assert home.twin_name not in text
    # Devices is not shared with the carer: no such page, and no device in any page
    assert "Devices" not in list(_nav_pages(at))
    assert "Band of" not in text
    views = [e for e in store.accounts.audit(wearer_id=home.shared_wearer) if e.action == "view"]
    assert [(v.actor, v.detail) for v in views] == [("carer", "Today")]


def test_a_revoked_share_disappears_on_the_next_run(care_home: tuple[Store, CareHome]) -> None:
    store, home = care_home
    at = log_in(fresh_app(), "carer")
    assert home.shared_message in page_text(at)
    store.accounts.revoke_share(home.shared_wearer, "carer", actor="ada")
    at.run()
    text = page_text(at)
    assert home.shared_name not in text
    assert home.shared_message not in text
    assert [t.value for t in at.title] == ["Nothing shared yet"]


def test_twins_with_the_same_name_are_told_apart(care_home: tuple[Store, CareHome]) -> None:
    store, home = care_home
    store.accounts.grant_share(home.twin_b, "carer", {"status"}, actor="admin", basis="form")  # type: ignore[arg-type]
    store.accounts.grant_share(home.twin_a, "carer", {"status"}, actor="admin", basis="form")  # type: ignore[arg-type]
    at = log_in(fresh_app(), "carer")
    options = at.sidebar.selectbox[0].options
    assert f"{home.twin_name} ({home.twin_a})" in options
    assert f"{home.twin_name} ({home.twin_b})" in options


def test_the_wearer_sees_shares_revokes_and_the_audit_of_their_data(
    care_home: tuple[Store, CareHome],
) -> None:
    store, home = care_home
    log_in(fresh_app(), "carer")  # the carer looks at Ada's data first
    at = log_in(fresh_app(), "ada")
    assert "Who can see my data" in _nav_pages(at)
    at = _open_page(at, "Who can see my data")
    text = page_text(at)
    assert "carer" in text
    assert "sitting, standing, steps and nudges" in text
    [audit_table] = at.dataframe
    who = set(audit_table.value["who"])
    assert "carer" in who  # the carer's view of Today is in Ada's audit
    [stop] = [b for b in at.button if b.label == "Stop sharing"]
    stop.click().run()
    assert store.accounts.shares(home.shared_wearer, active_only=True) == []
    assert any(
        e.action == Action.SHARE_REVOKED and e.actor == "ada"
        for e in store.accounts.audit(wearer_id=home.shared_wearer)
    )


def test_an_admin_sees_accounts_and_devices_but_no_health_data(
    care_home: tuple[Store, CareHome],
) -> None:
    _, home = care_home
    at = log_in(fresh_app(), "admin")
    pages = _nav_pages(at)
    assert "Accounts" in pages
    assert "Devices" in pages
    assert "Today" not in pages
    text = page_text(at)
    assert home.shared_message not in text
    assert "Sitting" not in text
    devices = page_text(_open_page(at, "Devices"))
    assert "Band of ada" in devices
    assert "Band of bea" in devices
    accounts = _open_page(at, "Accounts")
    assert "physio" in page_text(accounts)


def test_a_clinician_sees_gait_only_and_no_today_page(care_home: tuple[Store, CareHome]) -> None:
    store, _ = care_home
    store.accounts.reset_password("physio", PASSWORD, actor="test")
    at = log_in(fresh_app(), "physio")
    assert "Today" not in _nav_pages(at)  # gait is issue 12's page; nothing else is shared


def test_idle_sessions_are_logged_out(care_home: tuple[Store, CareHome]) -> None:
    _, home = care_home
    at = log_in(fresh_app(), "carer")
    assert home.shared_name in page_text(at)
    at.session_state["sensorhub_last_active"] = (
        dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
    ).timestamp()
    at.run()
    assert home.shared_name not in page_text(at)
    assert any("logged out after 15 minutes" in i.value for i in at.info)


def test_the_logout_button_ends_the_session(care_home: tuple[Store, CareHome]) -> None:
    store, home = care_home
    at = log_in(fresh_app(), "carer")
    [logout] = [b for b in at.sidebar.button if b.label == "Log out"]
    logout.click().run()
    assert home.shared_name not in page_text(at)
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert store.accounts.audit(limit=1)[0].action == Action.LOGOUT


def test_a_disabled_account_is_logged_out_at_once(care_home: tuple[Store, CareHome]) -> None:
    store, home = care_home
    at = log_in(fresh_app(), "carer")
    store.accounts.disable_user("carer", actor="admin")
    at.run()
    assert home.shared_name not in page_text(at)


def _nav_pages(at: AppTest) -> list[str]:
    """Titles of the pages the navigation offers this session."""
    return [str(info.get("page_name")) for info in at._registered_pages.values()]


def _open_page(at: AppTest, title: str) -> AppTest:
    # AppTest.switch_page takes page files; these pages are callables: pick by title.
    [page_hash] = [h for h, info in at._registered_pages.items() if info.get("page_name") == title]
    at._page_hash = page_hash
    return at.run()


def test_the_wearer_shares_with_another_account(care_home: tuple[Store, CareHome]) -> None:
    store, home = care_home
    at = _open_page(log_in(fresh_app(), "ada"), "Who can see my data")
    [who] = [t for t in at.text_input if t.label == "Their username"]
    who.input("physio")
    [what] = at.multiselect
    what.set_value(["gait", "falls"])
    [share] = [b for b in at.button if b.label == "Share"]
    share.click().run()
    assert not at.exception
    [granted] = [
        s
        for s in store.accounts.shares(home.shared_wearer, active_only=True)
        if s.grantee == "physio"
    ]
    assert {str(s) for s in granted.scopes} == {"gait", "falls"}
    assert granted.basis == "wearer"
    assert granted.granted_by == "ada"
