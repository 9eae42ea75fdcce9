"""Dashboard view models: durations, local days, the bout card, table rows."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import views
from sensorhub.store import EventView, LiveView, NudgeView

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
UTC = dt.UTC
T = dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def live(posture: str, bout_posture: str | None, bout_min: float | None) -> LiveView:
    start = None if bout_min is None else T - dt.timedelta(minutes=bout_min)
    return LiveView(posture, bout_posture, start, T, T)


def test_format_duration() -> None:
    assert views.format_duration(59) == "0 min"
    assert views.format_duration(125) == "2 min"
    assert views.format_duration(3725) == "1 h 02 min"


def test_local_day_bounds_follow_the_wearers_time_zone() -> None:
    start, end = views.local_day_bounds(
        dt.datetime(2026, 11, 23, 23, 30, tzinfo=UTC), "Europe/Berlin"
    )
    # 23:30 UTC is already 24 November in Berlin (UTC+1)
    assert start == dt.datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert end - start == dt.timedelta(days=1)


def test_bout_card_shows_the_running_bout_against_its_limit() -> None:
    card = views.bout_card(live("stationary", "stationary", 23.5), "UTC")
    assert card.bout_label == "Current static bout (still, upright)"
    assert card.bout_value == "23 min"
    assert card.limit_minutes == 30
    assert card.bout_minutes == 23.5
    standing = views.bout_card(live("standing", "standing", 10), "UTC")
    assert standing.limit_minutes == 45
    walking = views.bout_card(live("walking", None, None), "UTC")
    assert (walking.posture, walking.bout_minutes) == ("Walking", None)


def test_a_silent_band_is_called_out() -> None:
    fresh = live("stationary", "stationary", 5)
    assert views.staleness_warning(fresh, T + dt.timedelta(seconds=30)) is None
    warning = views.staleness_warning(fresh, T + dt.timedelta(minutes=10))
    assert warning is not None
    assert "10 min" in warning


def test_a_band_that_has_not_moved_for_ten_minutes_gets_a_note() -> None:
    moving = LiveView("sitting", "sitting", T, T + dt.timedelta(minutes=40), T, None)
    assert views.motionless_note(moving) is None
    still = LiveView(
        "sitting", "sitting", T, T + dt.timedelta(minutes=40), T, T + dt.timedelta(minutes=15)
    )
    assert views.motionless_note(still) is not None
    assert "25 min" in (views.motionless_note(still) or "")
    brief = LiveView(
        "sitting", "sitting", T, T + dt.timedelta(minutes=40), T, T + dt.timedelta(minutes=35)
    )
    assert views.motionless_note(brief) is None


def test_rows_are_in_local_time_and_flag_long_bouts() -> None:
    bout = EventView(uuid.uuid4(), "static_bout", T, T + dt.timedelta(minutes=40), "sitting", {})
    [row] = views.bout_rows([bout], "Europe/Berlin")
    assert row == {
        "start": "10:00:00",
        "end": "10:40:00",
        "duration": "40 min",
        "posture": "Sitting",
        "over limit": "yes",
    }
    nudge = NudgeView(
        uuid.uuid4(),
        T,
        "static_load_sitting",
        T,
        1800.0,
        1,
        "Time to move",
        "walk-break",
        "band",
        "delivered",
    )
    [nrow] = views.nudge_rows([nudge], "UTC")
    assert nrow["band"] == "delivered"
    assert nrow["after"] == "30 min"
    suggestion = views.exercise_card(nudge)
    assert suggestion is not None
    assert suggestion[0].name == "A short walk"


def test_app_says_what_to_do_when_the_database_is_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()  # an empty SQLite database
    monkeypatch.setenv("SENSORHUB_DB_URL", f"sqlite:///{empty}")
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception
    assert any("no sensorhub data yet" in w.value for w in at.warning)


def test_app_reports_a_missing_database_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = tmp_path / "vra" / "sensorhub.db"
    monkeypatch.setenv("SENSORHUB_DB_URL", f"sqlite:///{typo}")
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception
    assert any(
        f"no database at {typo}: start the collector first or check --db" in e.value
        for e in at.error
    )
    assert list(tmp_path.iterdir()) == []


def test_app_reports_an_unreachable_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSORHUB_DB_URL", "mysql://nowhere/db")
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception
    assert any("unsupported database backend" in e.value for e in at.error)
