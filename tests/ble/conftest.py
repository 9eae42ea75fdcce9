"""The async tests here run in the emulated air, on a virtual clock (tests.support.emulation)."""

from tests.support.emulation import air, band, pytest_asyncio_loop_factories

__all__ = ["air", "band", "pytest_asyncio_loop_factories"]
