"""Personal baselines and gait trend flags."""

from __future__ import annotations

import datetime as dt

from sensorhub.detect.baseline import DailyGait, GaitTrendFlagger, daily_gait
from sensorhub.model import NS_PER_S, EpochSummary, GaitBout, Posture

D0 = dt.date(2024, 3, 1)


def day(
    i: int,
    cad: float = 105.0,
    cv: float = 2.0,
    asym: float = 3.0,
    speed: float = 1.1,
    wear: float = 14.0,
) -> DailyGait:
    return DailyGait(D0 + dt.timedelta(days=i), wear, 6000, cad, cv, asym, speed)


def test_no_flags_without_seven_valid_days() -> None:
    days = [day(i) for i in range(5)] + [day(30 + i, cad=80) for i in range(7)]
    f = GaitTrendFlagger().evaluate(days, today=D0 + dt.timedelta(days=36))
    assert f.flags_ == []
    assert f.baseline_valid_days_ == 3  # days 2-4 fall in the 28 days before the recent week


def test_cadence_and_speed_drop_are_flagged() -> None:
    days = [day(i) for i in range(28)] + [day(28 + i, cad=92, speed=0.95) for i in range(7)]
    f = GaitTrendFlagger().evaluate(days, today=D0 + dt.timedelta(days=34))
    assert {g.kind for g in f.flags_} == {"cadence_drop", "speed_drop"}


def test_cv_and_asymmetry_need_three_days() -> None:
    recent = [day(28 + i, cv=6.0 if i < 3 else 2.0, asym=12.0 if i < 2 else 3.0) for i in range(7)]
    f = GaitTrendFlagger().evaluate(
        [day(i) for i in range(28)] + recent, today=D0 + dt.timedelta(days=34)
    )
    assert [g.kind for g in f.flags_] == ["stride_cv_high"]


def test_short_wear_days_are_ignored() -> None:
    days = [day(i) for i in range(28)] + [day(28 + i, cad=80, wear=6) for i in range(7)]
    assert GaitTrendFlagger().evaluate(days, today=D0 + dt.timedelta(days=34)).flags_ == []


def test_daily_gait_from_bouts_and_epochs() -> None:
    t0 = int(dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC).timestamp()) * NS_PER_S
    epochs = [
        EpochSummary(t0 + i * 60 * NS_PER_S, 60.0, Posture.SITTING, 10.0, steps=5)
        for i in range(11 * 60)
    ]
    bouts = [
        GaitBout(t0, t0 + 60 * NS_PER_S, 100, 100.0, 1.2, 2.0, None, None, 4.0, 1.0),
        GaitBout(t0 + 3600 * NS_PER_S, t0 + 3660 * NS_PER_S, 300, 110.0),
    ]
    (d,) = daily_gait(bouts, epochs)
    assert abs(d.wear_h - 11.0) < 1e-9
    assert d.steps == 3300
    assert d.cadence_spm == 110.0  # weighted by steps
    assert d.speed_mps == 1.0
