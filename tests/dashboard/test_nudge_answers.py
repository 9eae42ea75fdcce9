"""The nudge loop on the Today page (AppTest on a real SQLite care home): the wearer answers
the current nudge "Done" or "Snooze", a caregiver sees the outcome and cannot answer, and the
bout timer is measured against the wearer's own limit."""

from __future__ import annotations

import pytest

from sensorhub.store import Action, Store
from sensorhub.wearer_settings import WearerSettings
from tests.dashboard.test_access_pages import (  # the same care home fixture
    care_home,  # noqa: F401
    fresh_app,
    log_in,
    page_text,
)
from tests.support.care import CareHome
from tests.support.readers import OPERATOR


@pytest.fixture
def home(request: pytest.FixtureRequest) -> tuple[Store, CareHome]:
    """test_access_pages' care home (one copy of the fixture)."""
    value: tuple[Store, CareHome] = request.getfixturevalue("care_home")
    return value


def _latest(store: Store, wearer: str) -> tuple[str | None, float | None]:
    latest = store.queries.nudges(OPERATOR, wearer)[-1]
    return latest.outcome, latest.response_s


@pytest.mark.parametrize(("label", "outcome"), [("Done", "done"), ("Snooze", "snoozed")])
def test_the_wearer_answers_the_current_nudge(
    home: tuple[Store, CareHome], label: str, outcome: str
) -> None:
    store, care = home
    at = log_in(fresh_app(), "ada")
    assert not at.exception
    labels = [b.label for b in at.button]
    assert "Done" in labels
    assert "Snooze" in labels
    [button] = [b for b in at.button if b.label == label]
    at = button.click().run()
    assert not at.exception
    stored, response_s = _latest(store, care.shared_wearer)
    assert stored == outcome
    assert response_s is not None
    assert 50 <= response_s <= 90  # the seed's nudge went out a minute ago
    [entry] = [
        e
        for e in store.accounts.audit(wearer_id=care.shared_wearer)
        if e.action == Action.NUDGE_ANSWERED
    ]
    assert entry.actor == "ada"
    at.run()
    # answered: no more buttons, the outcome instead
    assert "Done" not in [b.label for b in at.button]
    assert f"Outcome: {outcome}" in page_text(at)


def test_a_caregiver_sees_the_outcome_but_cannot_answer(
    home: tuple[Store, CareHome],
) -> None:
    store, care = home
    at = log_in(fresh_app(), "carer")
    labels = [b.label for b in at.button]
    assert "Done" not in labels
    assert "Snooze" not in labels
    assert "Waiting for a response" in page_text(at)
    ada = log_in(fresh_app(), "ada")
    [done] = [b for b in ada.button if b.label == "Done"]
    done.click().run()
    at.run()
    assert "done after 1 min" in page_text(at)
    assert _latest(store, care.shared_wearer)[0] == "done"


def test_the_timer_uses_the_wearers_own_limit(home: tuple[Store, CareHome]) -> None:
    store, care = home
    at = log_in(fresh_app(), "ada")
    assert "10 min of the 30-min limit" in page_text(at)  # the seed's bout: 10 min sitting
    assert " of 20 min" in page_text(at)  # the default walking goal
    store.accounts.save_wearer_settings(
        care.shared_wearer, WearerSettings(sitting_limit_min=4), actor="ada"
    )
    at.run()
    text = page_text(at)
    assert "6 min over the 4-min limit" in text
    assert "of 4" not in text
    assert "30-min" not in text
    store.accounts.save_wearer_settings(
        care.shared_wearer, WearerSettings(walking_goal_min=1), actor="ada"
    )
    assert "the 1-min goal is reached" in page_text(at.run())
