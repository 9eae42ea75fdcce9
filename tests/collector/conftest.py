"""Fixtures of the collector tests: a virtual-time loop and a fresh virtual air per test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

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
    return VirtualAir()
