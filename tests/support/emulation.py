"""Fixtures of the emulation tests (sessions against emulated bands in a virtual air).

One copy, used by the conftest of each folder whose async tests run in the emulated air
(tests/ble, tests/sim): it re-exports these names, so the hook applies to that folder only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.virtual_time import VirtualTimeLoop
from tests.support.sim import TinyBand


@pytest.hookimpl
def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The async tests run on a virtual clock: host load cannot skew emulated time."""
    return {"virtual-time": VirtualTimeLoop}


@pytest.fixture
async def air() -> VirtualAir:
    # Built inside the test's event loop: bumble's link is bound to the running loop.
    return VirtualAir()


@pytest.fixture
async def band(air: VirtualAir) -> AsyncIterator[TinyBand]:
    """A tiny GATT peripheral (tests.support.sim.TinyBand), advertising in ``air``."""
    band = TinyBand(air)
    await band.start()
    yield band
    await air.remove_device(band.device)
    await asyncio.sleep(0)
