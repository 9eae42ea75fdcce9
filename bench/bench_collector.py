"""The collector's own cost per 100 Hz IMU device, and notification-to-pipeline latency.

Issue 4 targets: at least 100 devices of 100 Hz IMU data per CPU core, and a p99 latency
from notification to pipeline under 50 ms.

Method. Notifications are first **recorded** from emulated devices through bleak's public
API and the real profile drivers (an open-IMU band: 25-sample packets with sequence counter
and device time; a Polar H10: 36-sample PMD frames), both at 100 Hz. They are then
**replayed straight into the collector's receive path**, so the emulator's and the virtual
radio's cost is not counted: for each notification the bleak callback's work (stamp with the
host clock, enqueue) and the consumer's (decode, continuity, gaps, clock mapping, SampleBlock)
run on a real asyncio loop, through :class:`~sensorhub.ble.session.DeviceSession`, up to
the hand-over to the pipeline (``on_block``).

* **CPU per device**: a minute of recorded data per device, for many devices in a row, as
  fast as it goes; CPU time (``time.process_time``) / device-seconds of data = the share of
  one core a live 100 Hz device needs; its inverse is devices per core.
* **Latency**: ``DEVICES_FOR_LATENCY`` devices replayed in real time (each notification at
  its own recorded pace, devices interleaved); latency is from the moment the callback ran to
  the moment the block reached ``on_block``.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from bleak import BleakClient, BleakScanner

from sensorhub.ble.clock import SystemClock
from sensorhub.ble.drivers import StreamSettings, driver_for
from sensorhub.ble.session import BleakBackend, BlockHandler, DeviceBinding, DeviceSession
from sensorhub.ble.streams import FrameDecoder
from sensorhub.model import SampleBlock
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.fleet import SimulatedFleet
from sensorhub.sim.scenario import SCENARIOS

TARGET_DEVICES_PER_CORE = 100
TARGET_P99_MS = 50.0
RATE_HZ = 100.0
RECORD_SECONDS = 60.0  # of wearer time, per profile
DEVICES_FOR_CPU = 60
DEVICES_FOR_LATENCY = 100
LATENCY_SECONDS = 6.0


@dataclass
class Recording:
    """Notifications of one device as the driver's callback saw them."""

    profile: str
    decoders: Mapping[str, FrameDecoder]
    items: list[tuple[float, str, bytes]]  # (device-time seconds since start, key, payload)

    @property
    def seconds(self) -> float:
        return self.items[-1][0] - self.items[0][0]


async def _record(profile: str) -> Recording:
    """Record ~RECORD_SECONDS of notifications from an emulated 100 Hz device."""
    speed = 40.0
    air = VirtualAir()
    fleet = SimulatedFleet(
        air,
        SCENARIOS["gait-check"],
        [profile],
        speed=speed,
        start_utc_ns=time.time_ns(),
        rates_hz={profile: RATE_HZ},
    )
    async with fleet:
        device = fleet.devices[0]
        found = await BleakScanner.find_device_by_name(
            device.binding.label, timeout=5.0, backend=air.scanner_backend
        )
        if found is None:
            raise RuntimeError(f"emulated {profile} not found")
        driver = driver_for(profile, StreamSettings(RATE_HZ))
        items: list[tuple[float, str, bytes]] = []

        def enqueue(key: str, payload: bytes) -> None:
            items.append((fleet.scenario_elapsed_s(), key, payload))

        async with BleakClient(found, backend=air.client_backend) as client:
            decoders = await driver.start(client, enqueue)
            await asyncio.sleep(RECORD_SECONDS / speed)
            await driver.stop(client)
    return Recording(profile, decoders, items)


def _session(recording: Recording, on_block: BlockHandler) -> DeviceSession:
    return DeviceSession(
        DeviceBinding("bench", recording.profile, "lower_back", name="bench"),
        backend=BleakBackend(),
        clock=SystemClock(),
        on_block=on_block,
    )


async def _cpu_per_device_second(recordings: list[Recording]) -> float:
    """CPU seconds per device-second of 100 Hz data through callback + queue + consumer."""
    blocks = 0

    async def on_block(block: SampleBlock) -> None:
        nonlocal blocks
        blocks += 1

    device_seconds = 0.0
    started = time.process_time()
    for i in range(DEVICES_FOR_CPU):
        recording = recordings[i % len(recordings)]
        session = _session(recording, on_block)
        number = session.install_decoders(recording.decoders)
        consumer = asyncio.create_task(session.consume())
        for k, (_, key, payload) in enumerate(recording.items):
            # what the bleak callback does: stamp and enqueue
            session.on_notification(number, key, payload)
            if k % 64 == 63:
                await asyncio.sleep(0)
        session.end_of_stream()
        await consumer
        device_seconds += recording.seconds
    cpu = time.process_time() - started
    if blocks == 0:
        raise RuntimeError("no block reached the pipeline")
    return cpu / device_seconds


async def _latency_ms(recordings: list[Recording]) -> list[float]:
    """Latencies (ms) with DEVICES_FOR_LATENCY devices replayed in real time."""
    latencies: list[float] = []
    sent_at: dict[int, list[int]] = {}

    def handler(device: int) -> BlockHandler:
        async def on_block(block: SampleBlock) -> None:
            stamps = sent_at[device]
            if stamps:
                latencies.append((time.monotonic_ns() - stamps.pop(0)) / 1e6)

        return on_block

    async def play(device: int, recording: Recording) -> None:
        session = _session(recording, handler(device))
        number = session.install_decoders(recording.decoders)
        consumer = asyncio.create_task(session.consume())
        sent_at[device] = []
        loop = asyncio.get_running_loop()
        # devices start at staggered phases, as real ones do
        offset = (device / DEVICES_FOR_LATENCY) * 0.5
        t0 = loop.time() + offset
        first = recording.items[0][0]
        for when, key, payload in recording.items:
            if when - first > LATENCY_SECONDS:
                break
            await asyncio.sleep(max(t0 + (when - first) - loop.time(), 0))
            now = time.monotonic_ns()
            sent_at[device].append(now)
            session.on_notification(number, key, payload)
        session.end_of_stream()
        await consumer

    async with asyncio.TaskGroup() as group:
        for device in range(DEVICES_FOR_LATENCY):
            group.create_task(play(device, recordings[device % len(recordings)]))
    return latencies


async def _run() -> dict[str, object]:
    recordings = [await _record("open-imu"), await _record("polar-h10")]
    cpu_per_device_s = await _cpu_per_device_second(recordings)
    latencies = await _latency_ms(recordings)
    p50 = float(np.percentile(latencies, 50))
    p99 = float(np.percentile(latencies, 99))
    devices_per_core = 1.0 / cpu_per_device_s
    return {
        "rate_hz": RATE_HZ,
        "profiles": [r.profile for r in recordings],
        "notifications_recorded": sum(len(r.items) for r in recordings),
        "cpu_per_device_pct": round(100 * cpu_per_device_s, 3),
        "devices_per_core": round(devices_per_core),
        "target_devices_per_core": TARGET_DEVICES_PER_CORE,
        "latency_devices": DEVICES_FOR_LATENCY,
        "latency_blocks": len(latencies),
        "latency_p50_ms": round(p50, 2),
        "latency_p99_ms": round(p99, 2),
        "latency_mean_ms": round(statistics.fmean(latencies), 2),
        "target_p99_ms": TARGET_P99_MS,
        "pass": devices_per_core >= TARGET_DEVICES_PER_CORE and p99 < TARGET_P99_MS,
    }


def main() -> dict[str, object]:
    """Run the benchmark, print the figures, return them."""
    result = asyncio.run(_run())
    profiles = ", ".join(str(p) for p in result["profiles"])  # type: ignore[attr-defined]
    print(
        f"   collector receive path, {RATE_HZ:g} Hz IMU ({profiles}): "
        f"{result['cpu_per_device_pct']} % of a core per device -> "
        f"{result['devices_per_core']} devices per core (target >= {TARGET_DEVICES_PER_CORE})"
    )
    print(
        f"   notification -> pipeline latency with {DEVICES_FOR_LATENCY} devices in real time: "
        f"p50 {result['latency_p50_ms']} ms, p99 {result['latency_p99_ms']} ms "
        f"(target p99 < {TARGET_P99_MS:g} ms) over {result['latency_blocks']} blocks"
    )
    print(f"   {'PASS' if result['pass'] else 'FAIL'}")
    return result


if __name__ == "__main__":
    main()
