"""One absent band never stops the others: a hub whose second band has been unreachable for 12
hours still detects and stores a fall, through the real BLE stack, on the virtual clock.

Before, ``0.25 s * 2**attempt`` overflowed after 1,024 failed connects (about 7 h of a band on
its charger) and the TaskGroup then cancelled every session, fall detection included.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from sensorhub.config import DeviceConfig, HubConfig, WearerConfig, simulated_config
from sensorhub.model import NS_PER_S
from sensorhub.service import build_hub
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.fleet import SimulatedFleet
from sensorhub.sim.scenario import SCENARIOS
from sensorhub.sim.virtual_time import run_virtual
from sensorhub.store import Outbox, Store
from tests.support.readers import OPERATOR

START_UTC_NS = 1_790_000_040 * NS_PER_S
ABSENT_S = 12 * 3600.0

# ~1,700 failed scans and their backoff, then 2.5 min of streaming: seconds of CPU on the
# virtual clock; only a hang should fail it on a slow machine
pytestmark = pytest.mark.timeout(600)


async def _run(tmp: Path) -> tuple[Store, dict[str, object]]:
    fleet = SimulatedFleet(
        VirtualAir(), SCENARIOS["fall-test"], ["open-imu"], speed=1.0, start_utc_ns=START_UTC_NS
    )
    present = simulated_config([(d.binding, d.settings) for d in fleet.devices], "sqlite://")
    absent = DeviceConfig("ghost", "open-imu", "lower_back", name="OpenIMU on its charger")
    config = HubConfig(
        wearers=(*present.wearers, WearerConfig("ghost", "Bo")),
        devices=(*present.devices, absent),
    )
    store = Store.open(f"sqlite:///{tmp / 'hub.db'}")
    hub = build_hub(
        config,
        store.repository,
        Outbox(tmp / "hub.db.outbox"),
        backend=fleet.backend,
        clock=fleet.clock(),
        timing=fleet.timing,
    )  # fmt: skip  (the production session options: 10 s scans, backoff up to 30 s)
    running = asyncio.create_task(hub.run())
    ghost = next(s for s in hub.sessions if s.binding.wearer_id == "ghost")
    await asyncio.sleep(ABSENT_S)
    failures_before_stream = ghost.health.connect_failures
    async with fleet:  # the present band is switched on after 12 h, and streams a fall
        await asyncio.sleep(SCENARIOS["fall-test"].duration_s + 30)
        assert not running.done(), running  # nothing one band did ended the hub
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    return store, {
        "failures_before_stream": failures_before_stream,
        "failures": ghost.health.connect_failures,
        "available": ghost.health.available,
        "wearer": present.wearers[0].id,
    }


def test_a_band_absent_for_12_hours_does_not_stop_a_fall_from_being_stored(
    tmp_path: Path,
) -> None:
    store, seen = run_virtual(_run(tmp_path))
    try:
        falls = store.queries.events(OPERATOR, str(seen["wearer"]), "fall")
    finally:
        store.close()
    assert int(seen["failures_before_stream"]) > 1024  # past the old overflow
    assert int(seen["failures"]) > int(seen["failures_before_stream"])  # and still trying
    assert seen["available"] is False
    assert len(falls) == 1
