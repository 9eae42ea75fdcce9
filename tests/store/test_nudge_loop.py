"""The nudge loop in the store, on SQLite and PostgreSQL: what came of each nudge (the first
response wins), the wearer's own answers (only theirs, only while current, audited), a week's
adherence, and the wearer's settings (seeded once, saved with an audit entry, read in scope)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from sensorhub.access import AccessError, Role, Scope, Viewer
from sensorhub.model import NS_PER_S, GaitBout
from sensorhub.store import (
    Action,
    NudgeRecord,
    NudgeResponseRecord,
    Store,
    ns_from_utc,
    nudge_id,
)
from sensorhub.wearer_settings import WearerSettings
from tests.support.readers import OPERATOR

#: Monday 2026-11-23 00:00 in Berlin (23:00 UTC the day before)
MONDAY = dt.date(2026, 11, 23)
BERLIN = dt.timezone(dt.timedelta(hours=1))


def _store(db_url: str) -> tuple[Store, Viewer, Viewer]:
    store = Store.open(db_url)
    store.repository.ensure_wearer("ada", "Ada", timezone="Europe/Berlin")
    accounts = store.accounts
    accounts.add_user("ada", Role.WEARER, actor="test", password="x" * 12, wearer_id="ada")
    accounts.add_user("carer", Role.CAREGIVER, actor="test", password="x" * 12)
    users = {u.username: u for u in accounts.users()}
    ada = Viewer(str(users["ada"].id), "ada", Role.WEARER, "ada")
    carer = Viewer(str(users["carer"].id), "carer", Role.CAREGIVER)
    return store, ada, carer


def _nudge(store: Store, sent: dt.datetime, ordinal: int = 1) -> uuid.UUID:
    sent_ns = ns_from_utc(sent)
    bout_start = sent_ns - 1800 * NS_PER_S
    record = NudgeRecord(
        "ada", sent_ns, "static_load_sitting", bout_start, 1800.0, 1, "Time to move", "band",
        "acknowledged", id=nudge_id("ada", bout_start, ordinal),
    )  # fmt: skip
    store.repository.save_nudge(record)
    return record.id


def _moved(store: Store, nid: uuid.UUID, sent: dt.datetime, after_s: float) -> None:
    at = ns_from_utc(sent) + int(after_s * NS_PER_S)
    store.repository.write([NudgeResponseRecord("ada", nid, "moved", at, after_s)])


def _outcome(store: Store, nid: uuid.UUID) -> tuple[str | None, float | None]:
    [n] = [n for n in store.queries.nudges(OPERATOR, "ada") if n.id == nid]
    return n.outcome, n.response_s


def test_the_first_response_wins(db_url: str) -> None:
    store, ada, _ = _store(db_url)
    t = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
    moved_first, done_first, snoozed_first = (
        _nudge(store, t + dt.timedelta(hours=h)) for h in (0, 1, 2)
    )
    try:
        # a break, then the wearer's "Done": the break stays; the same break again changes nothing
        _moved(store, moved_first, t, 240.0)
        assert not store.accounts.answer_nudge(
            ada, moved_first, "done", at=t + dt.timedelta(minutes=5)
        )
        _moved(store, moved_first, t, 300.0)
        assert _outcome(store, moved_first) == ("moved", 240.0)
        # "Done", then a break: "done" stays
        t1 = t + dt.timedelta(hours=1)
        assert store.accounts.answer_nudge(
            ada, done_first, "done", at=t1 + dt.timedelta(seconds=90)
        )
        _moved(store, done_first, t1, 200.0)
        assert _outcome(store, done_first) == ("done", 90.0)
        # "Snooze", then a break within the window: a response after all; the hold is kept
        t2 = t + dt.timedelta(hours=2)
        assert store.accounts.answer_nudge(
            ada, snoozed_first, "snoozed", at=t2 + dt.timedelta(seconds=30)
        )
        _moved(store, snoozed_first, t2, 420.0)
        [row] = [n for n in store.queries.nudges(OPERATOR, "ada") if n.id == snoozed_first]
        assert (row.outcome, row.response_s) == ("moved", 420.0)
        assert row.snoozed_until == t2 + dt.timedelta(seconds=30, minutes=15)
    finally:
        store.close()


def test_only_the_wearer_answers_only_while_current_and_it_is_audited(db_url: str) -> None:
    store, ada, carer = _store(db_url)
    t = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
    nid = _nudge(store, t)
    try:
        store.accounts.grant_share("ada", "carer", {Scope.ACTIVITY}, actor="ada")
        with pytest.raises(AccessError, match="only the wearer"):
            store.accounts.answer_nudge(carer, nid, "done", at=t + dt.timedelta(minutes=1))
        with pytest.raises(AccessError, match="no longer current"):
            store.accounts.answer_nudge(ada, nid, "done", at=t + dt.timedelta(minutes=11))
        assert store.accounts.answer_nudge(ada, nid, "snoozed", at=t + dt.timedelta(minutes=2))
        # the caregiver sees the outcome
        [seen] = store.queries.nudges(carer, "ada")
        assert seen.outcome == "snoozed"
        assert seen.snoozed_until == t + dt.timedelta(minutes=17)
        # the hub's engine holds that bout's nudges until then
        [(bout_start, until)] = store.repository.snoozes_since("ada", ns_from_utc(t) - 1)
        assert until == ns_from_utc(t + dt.timedelta(minutes=17))
        assert bout_start == ns_from_utc(t) - 1800 * NS_PER_S
        [entry] = [
            e for e in store.accounts.audit(wearer_id="ada") if e.action == Action.NUDGE_ANSWERED
        ]
        assert entry.actor == "ada"
        assert entry.detail.startswith("snoozed")
    finally:
        store.close()


#: The scripted week: per day, the outcome of each nudge and its response time in seconds.
WEEK: list[list[tuple[str | None, float | None]]] = [
    [("moved", 120.0), ("done", 60.0), (None, None)],
    [("moved", 300.0), ("snoozed", 30.0)],
    [("done", 45.0), (None, None), (None, None)],
    [("moved", 540.0)],
    [],
    [("snoozed", 10.0), ("moved", 200.0)],
    [("done", 90.0), ("moved", 30.0)],
]


def test_a_week_of_days_gives_the_adherence_the_scenario_scripted(db_url: str) -> None:
    store, ada, carer = _store(db_url)
    try:
        for day, script in enumerate(WEEK):
            for k, (outcome, after_s) in enumerate(script):
                # 09:00, 11:00, 13:00 Berlin time (UTC+1 in November)
                sent = dt.datetime.combine(
                    MONDAY + dt.timedelta(days=day), dt.time(9 + 2 * k), BERLIN
                ).astimezone(dt.UTC)
                nid = _nudge(store, sent, ordinal=day * 10 + k + 1)
                at = sent + dt.timedelta(seconds=after_s or 0)
                if outcome == "moved":
                    _moved(store, nid, sent, after_s or 0)
                elif outcome is not None:
                    store.accounts.answer_nudge(ada, nid, outcome, at=at)
        # nudges just outside the week (Sunday 23:30 before, Monday 00:30 after, Berlin)
        _nudge(store, dt.datetime(2026, 11, 22, 22, 30, tzinfo=dt.UTC), ordinal=900)
        _nudge(store, dt.datetime(2026, 11, 29, 23, 30, tzinfo=dt.UTC), ordinal=901)
        week = store.queries.nudge_adherence(ada, "ada", week_start=MONDAY)
        assert week is not None
        assert (week.sent, week.responded, week.snoozed, week.ignored) == (13, 8, 2, 3)
        assert (week.done, week.moved) == (3, 5)
        # the eight responses: 30 45 60 90 | 120 200 300 540 s
        assert week.median_response_s == 105.0
        assert week.start == dt.datetime(2026, 11, 22, 23, tzinfo=dt.UTC)
        # scope: activity; not shared -> nothing
        assert store.queries.nudge_adherence(carer, "ada", week_start=MONDAY) is None
        store.accounts.grant_share("ada", "carer", {Scope.ACTIVITY}, actor="ada")
        assert store.queries.nudge_adherence(carer, "ada", week_start=MONDAY) == week
        empty = store.queries.nudge_adherence(ada, "ada", week_start=MONDAY + dt.timedelta(days=14))
        assert empty is not None
        assert (empty.sent, empty.median_response_s, empty.responded_share) == (0, None, None)
    finally:
        store.close()


def test_settings_are_seeded_once_saved_with_an_audit_entry_and_read_in_scope(db_url: str) -> None:
    store, ada, carer = _store(db_url)
    try:
        defaults = WearerSettings(
            sitting_limit_min=25, height_cm=168.0, sensor_placement="lower_back"
        )
        seeded = store.repository.seed_wearer_settings(
            "ada", {**defaults.to_json(), "alerts": {"x": 1}}
        )
        assert WearerSettings.from_json(seeded) == defaults
        assert store.queries.wearer_settings(ada, "ada") == defaults
        assert store.queries.wearer_settings(carer, "ada") is None  # not shared
        changed = WearerSettings(sitting_limit_min=40, standing_limit_min=50, walking_goal_min=30)
        store.accounts.save_wearer_settings("ada", changed, actor="ada")
        # a restart seeds again: stored values win, keys of other parts are kept
        again = store.repository.seed_wearer_settings("ada", defaults.to_json())
        assert again["sitting_limit_min"] == 40
        assert again["alerts"] == {"x": 1}
        store.accounts.grant_share("ada", "carer", {Scope.STATUS}, actor="ada")
        assert store.queries.wearer_settings(carer, "ada") == changed
        [entry] = [e for e in store.accounts.audit(wearer_id="ada") if e.action == Action.SETTINGS]
        assert entry.actor == "ada"
        assert "sitting_limit_min=40" in entry.detail
        assert "height_cm" in entry.detail  # removed by the save
        with pytest.raises(AccessError):
            store.accounts.save_wearer_settings("nobody", changed, actor="ada")
    finally:
        store.close()


def test_the_walking_of_the_day_is_read_back_for_a_restart(db_url: str) -> None:
    store, _, _ = _store(db_url)
    day = ns_from_utc(dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    hour = 3600 * NS_PER_S
    walks = [
        GaitBout(day - hour, day - hour + 300 * NS_PER_S, steps=500, cadence_spm=100.0),
        GaitBout(day + 9 * hour, day + 9 * hour + 420 * NS_PER_S, steps=700, cadence_spm=100.0),
        GaitBout(day + 12 * hour, day + 12 * hour + 90 * NS_PER_S, steps=150, cadence_spm=100.0),
    ]
    try:
        store.repository.save_events("ada", walks)
        walked = store.repository.walking_since("ada", day)
    finally:
        store.close()
    assert walked == {day + 9 * hour: 420.0, day + 12 * hour: 90.0}


def test_an_edited_hub_config_applies_unless_someone_changed_that_setting(db_url: str) -> None:
    store, _ada, _carer = _store(db_url)
    try:
        first = WearerSettings(sitting_limit_min=30, standing_limit_min=45)
        store.repository.seed_wearer_settings("ada", first.to_json())
        store.accounts.save_wearer_settings(
            "ada", WearerSettings(sitting_limit_min=20, standing_limit_min=45), actor="ada"
        )
        # the administrator edits hub.toml: both limits change there
        edited = WearerSettings(sitting_limit_min=40, standing_limit_min=60)
        seeded = store.repository.seed_wearer_settings("ada", edited.to_json())
        assert seeded["sitting_limit_min"] == 20  # the wearer's own choice stays
        assert seeded["standing_limit_min"] == 60  # untouched by anyone: follows the config
        again = store.repository.seed_wearer_settings("ada", edited.to_json())
        assert again == seeded  # a restart with the same config changes nothing
    finally:
        store.close()
