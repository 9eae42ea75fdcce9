"""Nudge rules: thresholds, snooze, hourly cap, escalation, quiet hours, lying and non-wear."""

from __future__ import annotations

import datetime as dt

import pytest

from sensorhub.model import NS_PER_S, CurrentBout, Posture
from sensorhub.nudge import EXERCISES, NudgeEngine, NudgeSettings, suitable_exercises
from sensorhub.nudge.exercises import Contraindication, Position

MIN = 60 * NS_PER_S
#: 2026-11-23 10:00 UTC, outside the default quiet hours
MORNING = int(dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC).timestamp()) * NS_PER_S


def run_minutes(engine: NudgeEngine, bout: CurrentBout, minutes: int) -> list[tuple[int, int]]:
    """Update the engine once a minute; return (minute, level) of each nudge."""
    sent = []
    for m in range(minutes + 1):
        now = bout.start_ns + m * MIN
        live = CurrentBout(bout.start_ns, bout.posture, now)
        decision = engine.update(now_ns=now, bout=live, posture=bout.posture)
        if decision:
            sent.append((m, decision.level))
    return sent


def test_sitting_nudges_at_30_then_escalates_after_snooze_and_respects_hourly_cap() -> None:
    sent = run_minutes(NudgeEngine(), CurrentBout(MORNING, Posture.SITTING, MORNING), 100)
    # 30: first; 45: second (snooze 15 min, stronger wording); then the cap of 2 per hour
    # holds until the first leaves the hour window at 90.
    assert sent == [(30, 1), (45, 2), (90, 2)]


def test_standing_limit_is_45_minutes_and_stationary_counts_as_sitting() -> None:
    assert run_minutes(NudgeEngine(), CurrentBout(MORNING, Posture.STANDING, MORNING), 50) == [
        (45, 1)
    ]
    assert run_minutes(NudgeEngine(), CurrentBout(MORNING, Posture.STATIONARY, MORNING), 31) == [
        (30, 1)
    ]


def test_a_new_bout_starts_a_fresh_count() -> None:
    engine = NudgeEngine()
    assert run_minutes(engine, CurrentBout(MORNING, Posture.SITTING, MORNING), 31) == [(30, 1)]
    later = MORNING + 40 * MIN
    # the hourly cap still counts the first nudge: this bout's first nudge is gentle again
    assert run_minutes(engine, CurrentBout(later, Posture.SITTING, later), 31) == [(30, 1)]


@pytest.mark.parametrize("posture", [Posture.LYING, Posture.NONWEAR])
def test_never_while_lying_or_not_worn(posture: Posture) -> None:
    engine = NudgeEngine()
    bout = CurrentBout(MORNING, Posture.SITTING, MORNING + 40 * MIN)
    assert engine.update(now_ns=bout.last_ns, bout=bout, posture=posture) is None
    sitting = engine.update(now_ns=bout.last_ns, bout=bout, posture=Posture.SITTING, worn=False)
    assert sitting is None


def test_quiet_hours_in_the_wearers_time_zone() -> None:
    engine = NudgeEngine(NudgeSettings(timezone="Europe/Berlin"))
    # 20:30 UTC is 21:30 in Berlin in November: quiet
    evening = int(dt.datetime(2026, 11, 23, 20, 30, tzinfo=dt.UTC).timestamp()) * NS_PER_S
    assert engine.in_quiet_hours(evening)
    assert not engine.in_quiet_hours(evening - 2 * 3600 * NS_PER_S)
    bout = CurrentBout(evening - 40 * MIN, Posture.SITTING, evening)
    assert engine.update(now_ns=evening, bout=bout, posture=Posture.SITTING) is None


def test_wording_informs_and_suggests_a_suitable_exercise() -> None:
    engine = NudgeEngine(NudgeSettings(conditions=frozenset({Contraindication.HIP_REPLACEMENT})))
    bout = CurrentBout(MORNING, Posture.SITTING, MORNING + 30 * MIN)
    decision = engine.update(now_ns=bout.last_ns, bout=bout, posture=Posture.SITTING)
    assert decision is not None
    assert "30 minutes" in decision.message
    assert decision.exercise is not None
    assert decision.exercise.position in (Position.STANDING, Position.SEATED)
    assert Contraindication.HIP_REPLACEMENT not in decision.exercise.contraindications
    assert "physiotherapist" in decision.safety_note


def test_contraindicated_exercises_are_left_out_unless_a_physio_enables_them() -> None:
    floor = suitable_exercises([Position.FLOOR], conditions=[Contraindication.HIP_REPLACEMENT])
    ids = {e.id for e in floor}
    assert "knee-to-chest" not in ids
    assert "clamshell" not in ids
    assert "glute-bridge" in ids
    enabled = suitable_exercises(
        [Position.FLOOR], conditions=[Contraindication.HIP_REPLACEMENT], enabled=["clamshell"]
    )
    assert "clamshell" in {e.id for e in enabled}
    assert "glute-bridge" not in {
        e.id for e in suitable_exercises([Position.FLOOR], disabled=["glute-bridge"])
    }
    assert len({e.id for e in EXERCISES}) == len(EXERCISES)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        NudgeSettings(sitting_limit_s=0)
    with pytest.raises(Exception, match="Nowhere"):
        NudgeSettings(timezone="Nowhere/Atlantis")


def test_a_device_that_has_not_moved_for_ten_minutes_is_not_nudged_until_it_moves() -> None:
    engine = NudgeEngine()
    start = MORNING
    sent = []
    for m in range(61):
        now = start + m * MIN
        # worn and moving for 25 min, then lying still (on a table, or a very still sitter)
        motionless_s = max(0, m - 25) * 60.0
        if m == 50:
            motionless_s = 0.0  # it moves again: the wearer had it on after all
        bout = CurrentBout(start, Posture.SITTING, now)
        d = engine.update(now_ns=now, bout=bout, posture=Posture.SITTING, motionless_s=motionless_s)
        if d:
            sent.append(m)
    # 30 min: motionless for 5 min only -> nudged; 45 min: motionless 20 min -> held;
    # 50 min: it moved -> the held second nudge goes out
    assert sent == [30, 50]
    with pytest.raises(ValueError, match="motionless hold"):
        NudgeSettings(motionless_hold_s=0)


def _at(hour: int, minute: int = 0, day: int = 23) -> int:
    return int(dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.UTC).timestamp()) * NS_PER_S


def test_the_walking_nudge_comes_late_in_the_day_once_and_only_when_behind_the_goal() -> None:
    engine = NudgeEngine()
    sitting = Posture.SITTING
    assert engine.update_walking(now_ns=_at(16, 59), walked_today_s=0, posture=sitting) is None
    behind = engine.update_walking(now_ns=_at(17, 0), walked_today_s=5 * 60, posture=sitting)
    assert behind is not None
    assert behind.reason == "walking_goal"
    assert "5 of your 20 minutes" in behind.message
    assert behind.bout_start_ns == _at(0)  # the local day: one such nudge a day
    assert engine.update_walking(now_ns=_at(18), walked_today_s=5 * 60, posture=sitting) is None
    # the next day again, but not for a wearer who has walked enough, nor while walking
    assert (
        engine.update_walking(now_ns=_at(17, day=24), walked_today_s=20 * 60, posture=sitting)
        is None
    )
    walking = engine.update_walking(
        now_ns=_at(17, day=24), walked_today_s=0, posture=Posture.WALKING
    )
    assert walking is None
    assert engine.update_walking(now_ns=_at(17, 1, day=24), walked_today_s=0, posture=sitting)


def test_the_walking_nudge_keeps_quiet_hours_and_a_restart_does_not_repeat_it() -> None:
    late = NudgeEngine(NudgeSettings(quiet_start_hour=17, quiet_end_hour=8))
    assert late.update_walking(now_ns=_at(18), walked_today_s=0, posture=Posture.SITTING) is None
    off = NudgeEngine(NudgeSettings(walking_goal_s=0))
    assert off.update_walking(now_ns=_at(18), walked_today_s=0, posture=Posture.SITTING) is None
    resumed = NudgeEngine()
    resumed.resume(sent=[], bout=None, walking_sent_ns=[_at(17, 30)])
    assert resumed.update_walking(now_ns=_at(19), walked_today_s=0, posture=Posture.SITTING) is None


def test_a_snooze_holds_the_bouts_next_nudge_until_it_ends() -> None:
    engine = NudgeEngine()
    bout = CurrentBout(MORNING, Posture.SITTING, MORNING)
    assert run_minutes(engine, bout, 31) == [(30, 1)]
    engine.snooze(MORNING, MORNING + 55 * MIN)  # the wearer snoozed at 31 min... until 55
    later = [m for m in range(31, 70) if engine.update(
        now_ns=MORNING + m * MIN, bout=CurrentBout(MORNING, Posture.SITTING, MORNING + m * MIN),
        posture=Posture.SITTING,
    )]  # fmt: skip
    assert later == [55]
