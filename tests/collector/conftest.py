"""Fixtures of the collector tests: a fresh virtual air per test (bound to the test's loop)."""

from __future__ import annotations

import pytest

from sensorhub.sim.backend import VirtualAir


@pytest.fixture
async def air() -> VirtualAir:
    return VirtualAir()
