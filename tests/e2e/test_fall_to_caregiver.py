"""A detected fall reaches a person: emulated band on the real BLE stack (bumble) -> collector
-> pipeline -> alert rules -> durable alert -> notifier -> apprise ``json://`` -> a real local
HTTP endpoint. On the virtual clock, so the figures are device/hub seconds on any machine."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from firmware_protocols.sig import AlertLevel
from sensorhub.access import Scope
from sensorhub.config import CaregiverConfig, simulated_config
from sensorhub.model import NS_PER_S
from sensorhub.service import build_hub
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.base import ReceivedAlert
from sensorhub.sim.fleet import SimulatedFleet
from sensorhub.sim.scenario import SCENARIOS
from sensorhub.sim.virtual_time import run_virtual
from sensorhub.store import AlertView, Outbox, Store
from tests.support.alerts import HttpEndpoint, caregiver_with_share
from tests.support.readers import OPERATOR

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

START_UTC_NS = 1_795_420_800 * NS_PER_S  # 2026-11-23 08:00 UTC
IMPACT_S = 60.45  # the fall-test scenario's impact (see tests/e2e/test_alert_scenarios.py)


async def _collect(
    tmp: Path, scenario: str, hook: HttpEndpoint, until_s: float
) -> list[ReceivedAlert]:
    """Run the hub on the scenario; return the alerts the band received (its buzzes)."""
    fleet = SimulatedFleet(
        VirtualAir(), SCENARIOS[scenario], ["open-imu"], speed=1.0, start_utc_ns=START_UTC_NS
    )
    config = dataclasses.replace(
        simulated_config([(d.binding, d.settings) for d in fleet.devices], "sqlite://"),
        # quiet hours around the clock: a possible fall is told anyway
        caregivers=(
            CaregiverConfig(
                "ana", (hook.url(),), order=1, quiet_hours=(dt.time(0, 0), dt.time(23, 59))
            ),
        ),
    )
    store = Store.open(f"sqlite:///{tmp / 'hub.db'}")
    outbox = Outbox(tmp / "hub.db.outbox")
    try:
        hub = build_hub(
            config, store.repository, outbox, backend=fleet.backend, clock=fleet.clock(),
            timing=fleet.timing, connect_timeout_s=5.0, min_backoff_s=0.02,
            max_backoff_s=1.0, stall_timeout_s=2.0,
        )  # fmt: skip
        caregiver_with_share(store, "ana", [config.wearers[0].id], [Scope.FALLS])
        async with fleet:
            running = asyncio.create_task(hub.run())
            await asyncio.sleep(until_s)
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    finally:
        outbox.close()
        store.close()
    return list(fleet.devices[0].emulator.alerts_received)


def _alerts(tmp: Path) -> list[AlertView]:
    store = Store.open(f"sqlite:///{tmp / 'hub.db'}")
    try:
        return store.queries.alerts(OPERATOR)
    finally:
        store.close()


def test_a_fall_reaches_the_caregiver_between_60_and_90_s_after_the_impact(
    tmp_path: Path,
) -> None:
    with HttpEndpoint() as hook:
        buzzes = run_virtual(_collect(tmp_path, "fall-test", hook, until_s=IMPACT_S + 150))
        received = hook.wait_for(1)
    (alert,) = _alerts(tmp_path)
    assert (alert.kind, alert.state) == ("possible_fall", "open")
    (delivery,) = alert.deliveries  # once: the repeat (5 min) is not due yet
    assert delivery.result == "delivered"
    after_impact_s = (delivery.at - alert.opened_device_at).total_seconds()
    assert 60 <= after_impact_s <= 90, after_impact_s
    assert len(received) == 1
    assert "fall" in (received[0].title + received[0].body).lower()
    # the band was buzzed once as the cancel window began, well before the caregiver was told
    (buzz,) = buzzes
    assert buzz.level == AlertLevel.HIGH
    assert IMPACT_S < buzz.scenario_time_s < IMPACT_S + 30


def test_a_recovered_fall_reaches_no_one(tmp_path: Path) -> None:
    with HttpEndpoint() as hook:
        buzzes = run_virtual(_collect(tmp_path, "fall-recovered", hook, until_s=IMPACT_S + 120))
    (alert,) = _alerts(tmp_path)
    assert alert.state == "cancelled"
    assert alert.deliveries == ()
    assert hook.received == []
    assert [b.level for b in buzzes] == [AlertLevel.HIGH]  # the window's cue, nothing more
