"""Possible falls through the whole stack on the virtual clock: an emulated lower-back band
(open-imu) on the real BLE stack (bumble), the collector, the pipeline, the alert rules and a
real SQLite store.

``fall-test`` (a fall, then lying still) opens its alert 60 s of device time after the impact
plus the analysis lag; ``fall-recovered`` (up and walking within 20 s) stores it as cancelled;
a hub stopped while the alert is pending and started again later resumes it: it opens once,
as the same alert.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from sensorhub.config import simulated_config
from sensorhub.model import NS_PER_S
from sensorhub.service import build_hub
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.fleet import SimulatedFleet
from sensorhub.sim.scenario import SCENARIOS
from sensorhub.sim.virtual_time import run_virtual
from sensorhub.store import AlertView, Outbox, Store, ns_from_utc
from tests.support.readers import OPERATOR

pytestmark = pytest.mark.e2e

START_UTC_NS = 1_795_420_800 * NS_PER_S  # 2026-11-23 08:00 UTC
#: the impact of both fall scenarios (the fall segment starts at 60 s; free fall 0.4 s)
IMPACT_S = 60.45


async def _collect(tmp: Path, scenario: str, *, start_at_s: float = 0.0, until_s: float) -> None:
    fleet = SimulatedFleet(
        VirtualAir(), SCENARIOS[scenario], ["open-imu"], speed=1.0,
        start_utc_ns=START_UTC_NS, start_at_s=start_at_s,
    )  # fmt: skip
    config = simulated_config([(d.binding, d.settings) for d in fleet.devices], "sqlite://")
    store = Store.open(f"sqlite:///{tmp / 'hub.db'}")
    outbox = Outbox(tmp / "hub.db.outbox")
    try:
        async with fleet:
            hub = build_hub(
                config, store.repository, outbox, backend=fleet.backend, clock=fleet.clock(),
                timing=fleet.timing, connect_timeout_s=5.0, min_backoff_s=0.02,
                max_backoff_s=1.0, stall_timeout_s=2.0,
            )  # fmt: skip
            running = asyncio.create_task(hub.run())
            await asyncio.sleep(until_s - start_at_s)
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    finally:
        outbox.close()
        store.close()


def _alerts(tmp: Path) -> list[AlertView]:
    store = Store.open(f"sqlite:///{tmp / 'hub.db'}")
    try:
        return store.queries.alerts(OPERATOR)
    finally:
        store.close()


def _seconds_after_start(when: object) -> float:
    return (ns_from_utc(when) - START_UTC_NS) / NS_PER_S  # type: ignore[arg-type]


def test_a_fall_without_getting_up_opens_its_alert_a_minute_after_the_impact(
    tmp_path: Path,
) -> None:
    run_virtual(_collect(tmp_path, "fall-test", until_s=IMPACT_S + 75))
    (alert,) = _alerts(tmp_path)
    assert (alert.kind, alert.severity, alert.state) == ("possible_fall", "urgent", "open")
    impact_s = _seconds_after_start(alert.opened_device_at)
    assert impact_s == pytest.approx(IMPACT_S, abs=0.5)
    assert _seconds_after_start(alert.cancel_until_at) - impact_s == pytest.approx(60.0)
    # opened on the hub's clock between 60 and 90 s of device time after the impact
    assert 60.0 <= _seconds_after_start(alert.updated_at) - impact_s <= 90.0
    assert alert.reason == "Possible fall at 08:01; sim-wearer-1 has not got up."


def test_getting_up_and_walking_within_the_window_cancels_the_alert(tmp_path: Path) -> None:
    run_virtual(_collect(tmp_path, "fall-recovered", until_s=IMPACT_S + 75))
    (alert,) = _alerts(tmp_path)
    assert alert.state == "cancelled"
    assert "got up and walked" in alert.reason
    assert _seconds_after_start(alert.closed_at) - IMPACT_S < 60.0


def test_a_hub_stopped_while_a_fall_is_pending_resumes_it_and_opens_it_once(
    tmp_path: Path,
) -> None:
    # the hub stops 20 s after the impact (the alert is pending) and starts 10 s later
    run_virtual(_collect(tmp_path, "fall-test", until_s=IMPACT_S + 20))
    (pending,) = _alerts(tmp_path)
    assert pending.state == "pending"
    run_virtual(_collect(tmp_path, "fall-test", start_at_s=IMPACT_S + 30, until_s=IMPACT_S + 75))
    (alert,) = _alerts(tmp_path)
    assert alert.id == pending.id
    assert alert.state == "open"
    assert alert.opened_at == pending.opened_at  # the first run's, not raised again
