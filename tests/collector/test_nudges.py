"""Nudges reach the band the way its profile allows, and the result is reported."""

from __future__ import annotations

import asyncio
import contextlib

from collector_support import START_UTC_NS, Collected, make_session
from sim_support_wait import wait_until

from firmware_protocols.sig import AlertLevel
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.fleet import SimulatedFleet
from sensorhub.sim.scenario import SCENARIOS


async def test_buzz_text_or_dashboard_only(air: VirtualAir) -> None:
    fleet = SimulatedFleet(
        air,
        SCENARIOS["e2e-short"],
        ["open-imu", "infinitime", "metawear"],
        speed=20.0,
        start_utc_ns=START_UTC_NS,
    )
    async with fleet:
        results = [Collected(d, None) for d in fleet.devices]  # type: ignore[arg-type]
        for r in results:
            r.session = make_session(fleet, r.device, r)
        tasks = [asyncio.create_task(r.session.run()) for r in results]
        try:
            async with asyncio.timeout(10):
                for r in results:
                    await r.session.streaming.wait()
            band, watch, clip = (r.session for r in results)
            assert await band.nudge(AlertLevel.MILD, "Time to stand up") == "delivered"
            assert await watch.nudge(AlertLevel.MILD, "Time to stand up") == "delivered"
            assert await clip.nudge(AlertLevel.MILD, "Time to stand up") == "dashboard-only"
            imu_emulator, watch_emulator = results[0].device.emulator, results[1].device.emulator
            await wait_until(lambda: bool(imu_emulator.alerts_received))
            assert imu_emulator.alerts_received[0].level is AlertLevel.MILD
            assert watch_emulator.text_alerts == ["Time to stand up"]  # type: ignore[attr-defined]
            assert band.health.nudges_delivered == watch.health.nudges_delivered == 1
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
    # a band that is not connected reports the failure instead of pretending
    assert (await band.nudge(AlertLevel.HIGH, "x")).startswith("failed: band not connected")
    assert band.health.nudges_failed == 1
