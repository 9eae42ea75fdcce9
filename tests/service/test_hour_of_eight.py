"""Eight emulated devices stream a simulated hour together; health reaches the dashboard.

Judged against the emulators' own logs of what they sent, not the collector's counters:
no sample is lost. The run goes through ``run_sessions`` with a real SQLite store, so the
device health it writes (battery, RSSI, last seen, counters) is what the dashboard's devices
page shows.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from dashboard import views
from sensorhub.service import Hub, NudgeDispatcher, WriteOutbox
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.fleet import SimulatedFleet
from sensorhub.sim.scenario import SCENARIOS, Scenario, Segment
from sensorhub.sim.virtual_time import run_virtual
from sensorhub.store import DeviceView, Outbox, Store, outbox_path_for
from tests.support.collector import START_UTC_NS, Collected, make_session
from tests.support.readers import OPERATOR

# On the virtual clock the hour costs ~20 s of CPU at any speed; beside two CPU burners on a
# 2-core machine it took 70 s. Slowness cannot change the result, only a hang should fail it:
# 600 s is 30 times the CPU it needs (the suite's default is 120 s).
pytestmark = pytest.mark.timeout(600)

HOUR_S = 3600.0
#: 8 devices at 12.5-26 Hz, ~150 samples per scenario second in all, ~17 000 notifications in
#: the hour (the other profiles stream in test_every_profile and test_faults). On the virtual
#: clock the run takes the CPU time it needs and never falls behind the wearers; the speed only
#: relates the collector's timeouts (host seconds) to the wearers' time.
SPEED = 150.0
PROFILES = [
    "open-imu", "polar-h10", "polar-verity-sense", "open-imu",
    "open-imu", "polar-h10", "polar-verity-sense", "open-imu",
]  # fmt: skip
RATES = {"open-imu": 12.5, "polar-h10": 25.0, "polar-verity-sense": 26.0}


def first_hour(scenario: Scenario) -> Scenario:
    segments, total = [], 0.0
    for segment in scenario.segments:
        duration = min(segment.duration_s, HOUR_S - total)
        segments.append(
            Segment(segment.activity, duration, segment.cadence_spm, segment.asymmetry_pct)
        )
        total += duration
        if total >= HOUR_S:
            break
    return Scenario("office-hour", tuple(segments), seed=scenario.seed)


async def _run(db_url: str) -> tuple[list[Collected], list[DeviceView]]:
    scenario = first_hour(SCENARIOS["office-day"])
    fleet = SimulatedFleet(
        VirtualAir(), scenario, PROFILES, speed=SPEED, start_utc_ns=START_UTC_NS, rates_hz=RATES
    )
    store = Store.open(db_url)
    for device in fleet.devices:
        store.repository.ensure_wearer(device.binding.wearer_id, device.binding.wearer_id)
    try:
        async with fleet:
            results = [Collected(d, None) for d in fleet.devices]  # type: ignore[arg-type]
            for r in results:
                r.session = make_session(fleet, r.device, r)
            writer = WriteOutbox(Outbox(outbox_path_for(db_url)), store.repository)
            hub = Hub([r.session for r in results], [], writer, NudgeDispatcher(writer))
            collect = asyncio.create_task(hub.run(health_interval_s=1.0))
            await asyncio.sleep((HOUR_S - fleet.scenario_elapsed_s()) / SPEED)
            for d in fleet.devices:
                d.emulator.hold_streams()
            await asyncio.sleep(1.0)
            collect.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await collect
        return results, store.queries.devices(OPERATOR)
    finally:
        store.close()


@pytest.fixture(scope="module")
def hour(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Collected], list[DeviceView]]:
    db = tmp_path_factory.mktemp("hour") / "hub.db"
    # on a virtual clock: the emulators keep pace with the wearers however loaded the machine
    return run_virtual(_run(f"sqlite:///{db}"))


def test_eight_devices_stream_an_hour_with_no_sample_lost(
    hour: tuple[list[Collected], list[DeviceView]],
) -> None:
    results, _ = hour
    for r in results:
        emulator, counters = r.device.emulator, r.session.counters
        label = r.device.binding.label
        sent = emulator.frames("sent")
        assert sent, label
        # an hour of data, from the first connection (seconds in) to the end
        # On the virtual clock 8 connects at once take ~0.04 s (6 s of scenario at 150x) on any
        # machine; 30 s leaves room for a retried connection's backoff.
        assert sent[0].first_time_s < 30, label
        assert sent[-1].last_time_s >= HOUR_S - 3, label  # the last frame due in the hour
        assert counters.decode_errors == 0, label
        assert not counters.gaps, label
        assert r.session.health.connects == 1, label
        assert r.samples == emulator.samples("sent"), label
        assert r.samples >= (HOUR_S - 120) * sent[0].sample_rate_hz, label


def test_device_health_is_stored_for_the_devices_page(
    hour: tuple[list[Collected], list[DeviceView]],
) -> None:
    results, devices = hour
    assert len(devices) == len(PROFILES)
    by_name = {d.name: d for d in devices}
    for r in results:
        stored = by_name[r.device.binding.label]
        assert stored.profile == r.device.binding.profile
        assert stored.battery_pct == r.session.health.battery_pct is not None
        assert stored.last_seen_at is not None
        assert stored.counters["samples"] == r.session.counters.samples
        assert stored.counters["rssi_dbm"] == r.session.health.rssi_dbm
        assert stored.counters["connects"] == 1
    rows = views.device_rows(devices, "Europe/Berlin")
    assert {"battery %", "last seen", "samples", "gaps", "decode_errors", "rssi_dbm"} <= set(
        rows[0]
    )
