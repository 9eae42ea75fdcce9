"""Alerts through a wearer's runtime and the real write path (outbox + database): the
``inactive-afternoon`` and ``band-off`` scenarios alert once each, device health alerts come
from the hub's clock, and alerts left in the outbox are resumed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sensorhub.config import DeviceConfig, WearerConfig
from sensorhub.model import NS_PER_S, Placement, SampleBlock
from sensorhub.service import Hub, NudgeDispatcher, WearerDevices, WearerRuntime, WriteOutbox
from sensorhub.service.hub import _resume_alerts
from sensorhub.sim.scenario import SCENARIOS, MotionGenerator
from sensorhub.store import AlertRecord, AlertView, Outbox, Store, ns_from_utc
from tests.support.readers import OPERATOR

T0 = 1_795_420_800 * NS_PER_S  # 2026-11-23 08:00 UTC
FS = 25.0


def blocks(scenario: str, seconds_per_block: float = 60.0) -> list[SampleBlock]:
    generator = MotionGenerator(SCENARIOS[scenario], Placement.LOWER_BACK, fs_hz=FS)
    out, index, n = [], 0, int(seconds_per_block * FS)
    while not generator.exhausted:
        acc = generator.next_samples(n)
        t = T0 + ((index + np.arange(len(acc))) * (NS_PER_S / FS)).astype(np.int64)
        out.append(SampleBlock(t, acc, FS))
        index += len(acc)
    return out


def wearer(wearer_id: str = "w1") -> WearerDevices:
    clip = DeviceConfig(wearer_id, "open-imu", Placement.LOWER_BACK, name="clip", address="C1")
    return WearerDevices(WearerConfig(wearer_id, "Ada"), (clip,), clip, None, (clip,))


class OneWearer:
    """A wearer's runtime on the real write path."""

    def __init__(self, store: Store, outbox: Path, **runtime: object) -> None:
        self.outbox = Outbox(outbox)
        self.writer = WriteOutbox(self.outbox, store.repository, min_retry_s=0.05)
        self.dispatcher = NudgeDispatcher(self.writer, timeout_s=1.0)
        runtime.setdefault("live_interval_s", 1e9)
        self.runtime = WearerRuntime(wearer(), self.writer, self.dispatcher.submit, **runtime)  # type: ignore[arg-type]

    async def feed(self, data: list[SampleBlock]) -> None:
        for block in data:
            await self.runtime.on_block(block)
        await self.runtime.finish()
        await self.dispatcher.finish()
        await self.writer.finish(timeout_s=5.0)


def _alerts(store: Store) -> list[AlertView]:
    return store.queries.alerts(OPERATOR, "w1")


def _minutes(when: object) -> float:
    return (ns_from_utc(when) - T0) / (60 * NS_PER_S)  # type: ignore[arg-type]


def test_an_afternoon_in_the_armchair_alerts_once_after_three_hours(
    db_url: str, tmp_path: Path
) -> None:
    """A 5-min walk, 3 h 20 min sitting (shifting now and then: never steps), a walk."""
    store = Store.open(db_url)
    store.repository.ensure_wearer("w1", "Ada")
    asyncio.run(OneWearer(store, tmp_path / "outbox").feed(blocks("inactive-afternoon")))
    alerts = _alerts(store)
    store.close()
    (alert,) = alerts
    assert (alert.kind, alert.severity) == ("long_inactivity", "warning")
    assert _minutes(alert.opened_device_at) == pytest.approx(5.0, abs=0.5)  # the last step
    assert alert.state == "resolved"  # the walk at the end
    assert alert.reason == "Ada walked again at 11:25."


def test_a_band_left_on_a_table_alerts_once_after_two_hours(db_url: str, tmp_path: Path) -> None:
    """Worn 10 min, on a table 2.5 h (non-wear confirmed after 1 h), worn again."""
    store = Store.open(db_url)
    store.repository.ensure_wearer("w1", "Ada")
    data = blocks("band-off")
    off_end = next(k for k, b in enumerate(data) if b.end_ns - T0 > 160 * 60 * NS_PER_S)
    one = OneWearer(store, tmp_path / "outbox")

    async def feed() -> list[AlertView]:
        for block in data[:off_end]:
            await one.runtime.on_block(block)
        await one.writer.finish(timeout_s=5.0)
        during = _alerts(store)
        await one.feed(data[off_end:])
        return during

    during = asyncio.run(feed())
    after = _alerts(store)
    store.close()
    (open_alert,) = during
    assert (open_alert.kind, open_alert.state) == ("band_not_worn", "open")
    assert _minutes(open_alert.opened_device_at) == pytest.approx(10.0, abs=1.0)
    assert "band has not been worn since 08:10 (2 h)" in open_alert.reason
    (alert,) = after
    assert (alert.id, alert.state) == (open_alert.id, "resolved")


class Clock:
    def __init__(self, utc_ns: int) -> None:
        self.utc_ns = utc_ns

    def monotonic_ns(self) -> int:
        return self.utc_ns

    def utc_from_monotonic(self, monotonic_ns: int) -> int:
        return monotonic_ns


def test_the_hubs_health_check_raises_device_offline_and_battery_low_once(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    store.repository.ensure_wearer("w1", "Ada")
    one = OneWearer(store, tmp_path / "outbox")
    health = SimpleNamespace(address="C1", last_seen_utc_ns=T0 + 60 * NS_PER_S, battery_pct=12)
    session = SimpleNamespace(health=health, binding=SimpleNamespace(
        wearer_id="w1", address="C1", label="clip"))  # fmt: skip
    clock = Clock(T0 + 30 * NS_PER_S)
    hub = Hub([session], [one.runtime], one.writer, one.dispatcher, clock=clock)  # type: ignore[list-item]

    async def run() -> None:
        for minute in range(1, 40):
            clock.utc_ns = T0 + minute * 60 * NS_PER_S
            await hub.check_alerts()
        await one.writer.finish()

    asyncio.run(run())
    alerts = _alerts(store)
    store.close()
    assert [(a.kind, a.state) for a in alerts] == [
        ("battery_low", "open"),
        ("device_offline", "open"),
    ]
    offline = alerts[1]
    assert _minutes(offline.opened_at) == 31  # 30 min after the last data, on the hub's clock
    assert "No data from Ada's clip since 08:01 (30 min)" in offline.reason


def test_alerts_waiting_in_the_outbox_are_resumed_with_the_stored_ones(tmp_path: Path) -> None:
    """A restart while the database is down: the pending fall is only in the outbox."""
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    store.repository.ensure_wearer("w1", "Ada")
    import uuid

    pending = AlertRecord(
        uuid.uuid4(), "w1", "possible_fall", "urgent", "pending", "Possible fall at 09:00",
        T0, cause_ns=T0, cancel_until_ns=T0 + 60 * NS_PER_S,
    )  # fmt: skip
    battery = AlertRecord(
        uuid.uuid4(), "w1", "battery_low", "info", "open", "low", T0, cause_ns=T0, subject="C1"
    )
    store.repository.write([battery])
    outbox = Outbox(tmp_path / "outbox")
    outbox.put([pending])
    resumed = _resume_alerts("w1", store.repository, outbox.queued_alerts(), T0)
    store.close()
    assert sorted(a.kind for a in resumed) == ["battery_low", "possible_fall"]
    runtime = WearerRuntime(
        wearer(), WriteOutbox(outbox, store.repository), lambda *a: None, active_alerts=resumed
    )
    assert {a.kind for a in runtime.alerts.active} == {"battery_low", "possible_fall"}


def test_the_daily_gait_review_alerts_a_cadence_drop_once_a_week(tmp_path: Path) -> None:
    """28 days at 110 steps/min, then a week at 92: the first block of a day reviews the days
    before it (one gait_change alert, worded for a physiotherapist); the next day's does not
    repeat it."""
    import datetime as dt

    from sensorhub.model import EpochSummary, GaitBout, Posture

    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    store.repository.ensure_wearer("w1", "Ada")
    day0 = T0 - 36 * 86400 * NS_PER_S  # 08:00, 36 days ago
    hour = 3600 * NS_PER_S
    for day in range(35):
        start = day0 + day * 86400 * NS_PER_S
        cadence = 110.0 if day < 28 else 92.0
        store.repository.save_events(
            "w1",
            [GaitBout(start + k * hour, start + k * hour + 60 * NS_PER_S, 100, cadence)
             for k in (1, 4, 8)],
        )  # fmt: skip
        store.repository.save_epochs(
            "w1", [EpochSummary(start + k * hour, 3600.0, Posture.SITTING, 20.0) for k in range(12)]
        )
    one = OneWearer(store, tmp_path / "outbox")
    generator = MotionGenerator(SCENARIOS["e2e-short"], Placement.LOWER_BACK, fs_hz=FS)
    acc = generator.next_samples(int(10 * FS))

    def block(at_ns: int) -> SampleBlock:
        t = at_ns + (np.arange(len(acc)) * (NS_PER_S / FS)).astype(np.int64)
        return SampleBlock(t, acc, FS)

    async def run() -> None:
        await one.runtime.on_block(block(T0))
        await one.runtime.on_block(block(T0 + 3600 * NS_PER_S))  # the same day: no review
        await one.runtime.on_block(block(T0 + 86400 * NS_PER_S))  # the next day: no repeat
        await one.writer.finish()

    asyncio.run(run())
    alerts = _alerts(store)
    store.close()
    (alert,) = alerts
    assert (alert.kind, alert.severity, alert.state) == ("gait_change", "info", "open")
    assert alert.evidence["subject"] == "cadence_drop"
    assert "92 against 110 steps/min" in alert.reason
    assert "physiotherapist" in alert.reason
    review_day = dt.datetime.fromtimestamp((T0 - 86400 * NS_PER_S) / NS_PER_S, dt.UTC).date()
    assert alert.opened_device_at.date() == review_day  # type: ignore[union-attr]


def test_a_restart_in_the_armchair_neither_delays_nor_repeats_the_inactivity_alert(
    tmp_path: Path,
) -> None:
    """The hub is killed 2 h into the sitting (no clean shutdown) and back 2 min later: the
    count goes on from the last step (in the outbox's live state), so the alert still comes
    3 h after it, once."""
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    store.repository.ensure_wearer("w1", "Ada")
    data = blocks("inactive-afternoon")
    kill = 125  # blocks of 60 s: 2 h into the sitting

    async def first() -> None:
        one = OneWearer(store, tmp_path / "outbox", live_interval_s=0)
        for block in data[:kill]:
            await one.runtime.on_block(block)
        await one.writer.finish()  # what reached the outbox reaches the database
        one.outbox.close()

    asyncio.run(first())
    live = Outbox(tmp_path / "outbox").live_states()["w1"]
    assert live.quiet_since_ns is not None
    asyncio.run(OneWearer(store, tmp_path / "outbox", resume=live).feed(data[kill + 2 :]))
    alerts = _alerts(store)
    store.close()
    (alert,) = alerts
    assert alert.kind == "long_inactivity"
    assert _minutes(alert.opened_device_at) == pytest.approx(5.0, abs=0.5)
