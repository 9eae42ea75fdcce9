"""The hub runs the alert notifier beside collection: a channel that is down is retried and
logged while the emulated band's data keeps reaching the database (real BLE stack on bumble,
real SQLite, a real HTTP endpoint; virtual clock)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sensorhub.access import Scope
from sensorhub.config import CaregiverConfig, simulated_config
from sensorhub.model import NS_PER_S
from sensorhub.service import build_hub
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.fleet import SimulatedFleet
from sensorhub.sim.scenario import SCENARIOS
from sensorhub.sim.virtual_time import run_virtual
from sensorhub.store import Outbox, Store, utc_from_ns
from sensorhub.store.alert_delivery import AlertDeliveryStore
from sensorhub.store.models import AlertRow, EpochRow, EventRow
from tests.support.alerts import HttpEndpoint, caregiver_with_share, free_port, insert_alert

START_UTC_NS = 1_790_000_040 * NS_PER_S
RUN_S = 150.0

pytestmark = pytest.mark.timeout(120)


async def _run(store: Store, tmp: Path, hook: HttpEndpoint) -> tuple[str, uuid.UUID]:
    fleet = SimulatedFleet(
        VirtualAir(), SCENARIOS["fall-test"], ["open-imu"], speed=1.0, start_utc_ns=START_UTC_NS
    )
    down = f"json://127.0.0.1:{free_port()}/alerts/s3cret"
    config = dataclasses.replace(
        simulated_config([(d.binding, d.settings) for d in fleet.devices], "sqlite://"),
        caregivers=(
            CaregiverConfig("ana", (down,), order=1),
            CaregiverConfig("ben", (hook.url(),), order=1),
        ),
    )
    wearer = config.wearers[0].id
    hub = build_hub(
        config,
        store.repository,
        Outbox(tmp / "hub.db.outbox"),
        backend=fleet.backend,
        clock=fleet.clock(),
        timing=fleet.timing,
        alert_options={"retry_min_s": 5.0, "retry_max_s": 20.0},
    )
    for caregiver in ("ana", "ben"):
        caregiver_with_share(store, caregiver, [wearer], [Scope.STATUS, Scope.FALLS])
    inserted = insert_alert(store, wearer, opened_at=utc_from_ns(START_UTC_NS))
    async with fleet:
        running = asyncio.create_task(hub.run())
        await asyncio.sleep(RUN_S)
        assert not running.done(), running
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    return wearer, inserted


def test_a_channel_that_is_down_never_stops_collection(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        with HttpEndpoint() as hook:
            wearer, inserted = run_virtual(_run(store, tmp_path, hook))
        with Session(store.engine) as session:
            epochs = session.scalar(select(func.count()).select_from(EpochRow))
            falls = session.scalar(
                select(func.count()).select_from(EventRow).where(EventRow.kind == "fall")
            )
        alerts = session_alerts(store)
        rows = AlertDeliveryStore(store.engine).deliveries_of(inserted)
    finally:
        store.close()
    assert wearer
    assert epochs is not None
    assert epochs >= 2  # a minute summary each minute, all along
    assert falls == 1  # the scenario's fall was detected and stored
    assert [r.result for r in rows if r.recipient == "ben"] == ["delivered"]
    failed = [r for r in rows if r.recipient == "ana"]
    assert len(failed) >= 5  # retried every 5-20 s for 2.5 min
    assert all(r.result.startswith("failed: ") for r in failed)
    assert {r.channel.rsplit(":", 1)[0] for r in failed} == {"json://127.0.0.1"}
    assert all(r.channel.endswith("/***") for r in failed)
    # the inserted alert, and the alert the rules raised for the scenario's fall
    assert len(alerts) == 2
    assert len(hook.received) == 2


def session_alerts(store: Store) -> list[uuid.UUID]:
    with Session(store.engine) as session:
        return list(session.scalars(select(AlertRow.id)))
