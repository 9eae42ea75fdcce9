"""Fixtures for the simulation tests: a fresh virtual air per test and a tiny GATT peripheral."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sim_support import TinyBand

from sensorhub.sim.backend import VirtualAir


@pytest.fixture
async def air() -> VirtualAir:
    # Built inside the test's event loop: bumble's link is bound to the running loop.
    return VirtualAir()


@pytest.fixture
async def band(air: VirtualAir) -> AsyncIterator[TinyBand]:
    band = TinyBand(air)
    await band.start()
    yield band
    await air.remove_device(band.device)
    await asyncio.sleep(0)
