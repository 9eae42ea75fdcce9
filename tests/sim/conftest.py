"""Fixtures for the simulation tests: a virtual-time loop, a fresh virtual air per test and a
tiny GATT peripheral."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sim_support import TinyBand

from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.virtual_time import VirtualTimeLoop


@pytest.hookimpl
def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The async tests here run on a virtual clock: host load cannot skew emulated time."""
    return {"virtual-time": VirtualTimeLoop}


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
