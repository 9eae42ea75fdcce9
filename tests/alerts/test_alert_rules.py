"""AlertRules on synthetic inputs: known answers for each kind, on the device clock."""

from __future__ import annotations

import datetime as dt

import pytest

from sensorhub.alerts import (
    Alert,
    AlertKind,
    AlertRules,
    AlertSettings,
    AlertState,
    DeviceStatus,
    Observation,
    Severity,
    alert_id,
)
from sensorhub.detect.baseline import DailyGait
from sensorhub.model import NS_PER_S, Fall, Posture

S = NS_PER_S
DAY = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def at(hour: int, minute: int = 0, second: float = 0.0) -> int:
    return int((DAY + dt.timedelta(hours=hour, minutes=minute, seconds=second)).timestamp() * S)


def worn(now_ns: int, **kw: object) -> Observation:
    return Observation(now_ns, posture=kw.pop("posture", Posture.SITTING), worn=True, **kw)  # type: ignore[arg-type]


def feed(rules: AlertRules, observations: list[Observation]) -> list[Alert]:
    out: list[Alert] = []
    for obs in observations:
        out += rules.observe(obs).alerts_
    return out


def test_a_fall_without_getting_up_opens_when_the_window_and_its_analysis_end() -> None:
    rules = AlertRules("ada", name="Ada")
    impact = at(14, 2, 5)
    seen = rules.observe(worn(impact + 8 * S, falls=[Fall(impact, 0.94)], posture=Posture.LYING))
    (pending,) = seen.alerts_
    assert pending.state is AlertState.PENDING
    assert pending.severity is Severity.URGENT
    assert pending.cancel_until_ns == impact + 60 * S
    assert pending.id == alert_id("ada", "possible_fall", impact)
    assert pending.reason.startswith("Possible fall at 14:02")
    lying = [worn(impact + k * S, posture=Posture.LYING) for k in range(10, 69)]
    assert feed(rules, lying[:-1]) == []  # up to 67 s: the window's end is not analysed yet
    (opened,) = feed(rules, lying[-1:])
    assert opened.state is AlertState.OPEN
    assert opened.id == pending.id
    assert opened.reason == "Possible fall at 14:02; Ada has not got up."
    assert feed(rules, [worn(impact + 200 * S, posture=Posture.LYING)]) == []  # once


def test_walking_within_the_window_cancels_the_fall() -> None:
    rules = AlertRules("ada", name="Ada")
    impact = at(14, 2)
    feed(rules, [worn(impact + 8 * S, falls=[Fall(impact, 0.9)], posture=Posture.LYING)])
    # steps of the walk before the fall, confirmed late, do not count; nor do two steps
    before = [impact - k * S for k in range(1, 10)]
    assert feed(rules, [worn(impact + 9 * S, steps_ns=before)]) == []
    assert feed(rules, [worn(impact + 20 * S, steps_ns=[impact + 15 * S, impact + 16 * S])]) == []
    walk = [impact + (30 + k) * S for k in range(4)]
    (cancelled,) = feed(rules, [worn(impact + 40 * S, posture=Posture.WALKING, steps_ns=walk)])
    assert cancelled.state is AlertState.CANCELLED
    assert "got up and walked" in cancelled.reason
    assert feed(rules, [worn(impact + 90 * S, posture=Posture.LYING)]) == []


def test_the_same_fall_again_or_a_second_impact_in_the_window_raises_nothing_new() -> None:
    rules = AlertRules("ada")
    impact = at(10)
    feed(rules, [worn(impact + 8 * S, falls=[Fall(impact, 0.9)])])
    assert feed(rules, [worn(impact + 9 * S, falls=[Fall(impact, 0.9)])]) == []
    assert feed(rules, [worn(impact + 20 * S, falls=[Fall(impact + 15 * S, 0.9)])]) == []


def test_a_pending_fall_resumed_after_a_restart_opens_once_on_the_hubs_clock_without_data() -> None:
    impact = at(9, 30)
    first = AlertRules("ada", name="Ada")
    (pending,) = first.observe(worn(impact + 8 * S, falls=[Fall(impact, 0.9)])).alerts_
    again = AlertRules("ada", name="Ada", active=[pending])
    assert again.active == [pending]
    assert again.check_devices([], impact + 80 * S).alerts_ == []  # inside the grace
    (opened,) = again.check_devices([], impact + 95 * S).alerts_
    assert opened.state is AlertState.OPEN
    assert opened.id == pending.id
    assert again.check_devices([], impact + 200 * S).alerts_ == []
    # the pipeline sees the same fall again after the restart: nothing new
    assert again.observe(worn(impact + 300 * S, falls=[Fall(impact, 0.9)])).alerts_ == []


def test_three_hours_without_walking_in_the_daytime_alert_once_and_walking_resolves() -> None:
    rules = AlertRules("ada", name="Ada")
    minutes = [worn(at(11, m), steps_ns=[at(11)] if m == 0 else []) for m in range(3 * 60 + 30)]
    alerts = feed(rules, minutes)
    (opened,) = alerts
    assert opened.kind is AlertKind.LONG_INACTIVITY
    assert opened.at_ns == at(14, 0)
    assert opened.cause_ns == at(11, 0)
    assert "No walking seen since 11:00 (3 h)" in opened.reason
    (resolved,) = feed(rules, [worn(at(14, 40), steps_ns=[at(14, 39)])])
    assert (resolved.state, resolved.id) == (AlertState.RESOLVED, opened.id)
    assert resolved.reason == "Ada walked again at 14:39."


def test_inactivity_counts_only_the_daytime_and_only_while_worn() -> None:
    rules = AlertRules("ada")
    # sitting since 06:00: the count starts at 08:00, so the alert comes at 11:00
    alerts = feed(rules, [worn(at(6) + m * 60 * S) for m in range(5 * 60 + 10)])
    assert [a.at_ns for a in alerts] == [at(11)]
    evening = AlertRules("ada")
    assert feed(evening, [worn(at(19) + m * 60 * S) for m in range(4 * 60)]) == []
    off = AlertRules("ada")
    obs = [Observation(at(9) + m * 60 * S, worn=m % 100 > 50) for m in range(6 * 60)]
    assert [a.kind for a in feed(off, obs)] == []


def test_a_band_off_for_two_daytime_hours_alerts_once_and_is_resolved_when_worn() -> None:
    rules = AlertRules("ada", name="Ada")
    off_from = at(10)
    obs = [worn(off_from - 60 * S)]
    obs += [
        Observation(off_from + m * 60 * S, worn=False, nonwear_since_ns=off_from)
        for m in range(60, 3 * 60)
    ]
    (opened,) = feed(rules, obs)
    assert opened.kind is AlertKind.BAND_NOT_WORN
    assert opened.at_ns == off_from + 2 * 3600 * S
    assert "has not been worn since 10:00 (2 h)" in opened.reason
    (resolved,) = feed(rules, [worn(at(13, 30))])
    assert resolved.state is AlertState.RESOLVED


def test_device_health_offline_in_the_daytime_and_battery_low_with_hysteresis() -> None:
    rules = AlertRules("ada", name="Ada")
    seen = at(9)
    band = DeviceStatus("AA", "Band", last_seen_ns=seen, battery_pct=40)
    assert rules.check_devices([band], seen + 29 * 60 * S).alerts_ == []
    (offline,) = rules.check_devices([band], seen + 30 * 60 * S).alerts_
    assert offline.kind is AlertKind.DEVICE_OFFLINE
    assert offline.subject == "AA"
    assert rules.check_devices([band], seen + 40 * 60 * S).alerts_ == []
    back = DeviceStatus("AA", "Band", last_seen_ns=seen + 41 * 60 * S, battery_pct=14)
    kinds = [(a.kind, a.state) for a in rules.check_devices([back], seen + 41 * 60 * S).alerts_]
    assert kinds == [
        (AlertKind.DEVICE_OFFLINE, AlertState.RESOLVED),
        (AlertKind.BATTERY_LOW, AlertState.OPEN),
    ]
    wavering = [DeviceStatus("AA", "Band", seen + 42 * 60 * S, pct) for pct in (15, 14, 16, 19)]
    assert all(rules.check_devices([d], seen + 42 * 60 * S).alerts_ == [] for d in wavering)
    charged = DeviceStatus("AA", "Band", seen + 50 * 60 * S, 20)
    (resolved,) = rules.check_devices([charged], seen + 50 * 60 * S).alerts_
    assert (resolved.kind, resolved.state) == (AlertKind.BATTERY_LOW, AlertState.RESOLVED)
    night = AlertRules("ada")
    late = DeviceStatus("AA", "Band", last_seen_ns=at(21, 30))
    assert night.check_devices([late], at(23, 59)).alerts_ == []


def _days(first: dt.date, n: int, cadence: float) -> list[DailyGait]:
    return [
        DailyGait(first + dt.timedelta(days=k), 12.0, 5000, cadence, 2.0, 3.0, None)
        for k in range(n)
    ]


def test_a_gait_change_is_worded_for_a_physiotherapist_and_raised_once_a_week() -> None:
    rules = AlertRules("ada", name="Ada")
    start = dt.date(2026, 10, 1)
    days = _days(start, 28, 110.0) + _days(start + dt.timedelta(days=28), 14, 92.0)
    today = start + dt.timedelta(days=34)
    (alert,) = rules.review_gait(days, today=today).alerts_
    assert alert.kind is AlertKind.GAIT_CHANGE
    assert alert.subject == "cadence_drop"
    assert "physiotherapist" in alert.reason
    assert "not a diagnosis" in alert.reason
    assert "92 against 110 steps/min" in alert.reason
    for later in range(1, 7):
        assert rules.review_gait(days, today=today + dt.timedelta(days=later)).alerts_ == []
    assert len(rules.review_gait(days, today=today + dt.timedelta(days=7)).alerts_) == 1
    # a restarted hub knows the last one
    resumed = AlertRules("ada", active=[alert])
    assert resumed.review_gait(days, today=today + dt.timedelta(days=3)).alerts_ == []


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="daytime"):
        AlertSettings(day_start_hour=21, day_end_hour=8)
    with pytest.raises(ValueError, match="finite"):
        AlertSettings(fall_cancel_s=float("nan"))
    assert AlertSettings(timezone="Europe/Berlin").daytime_start_ns(at(7, 30)) == at(7)


def test_a_restart_continues_the_inactivity_count_only_after_a_short_silence() -> None:
    before = AlertRules("ada")
    feed(before, [worn(at(9), steps_ns=[at(9)]), worn(at(10))])
    assert before.quiet_since_ns == at(9)
    soon = AlertRules("ada", quiet_since_ns=at(9), resumed_at_ns=at(10))
    (alert,) = feed(soon, [worn(at(10, 5) + m * 60 * S) for m in range(2 * 60)])
    assert alert.cause_ns == at(9)
    assert alert.at_ns == at(12)
    late = AlertRules("ada", quiet_since_ns=at(9), resumed_at_ns=at(10))
    assert feed(late, [worn(at(11) + m * 60 * S) for m in range(2 * 60)]) == []
