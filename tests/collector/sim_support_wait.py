"""Polling helper for effects that travel without an acknowledgement."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        # Polling on purpose: the condition lives in bumble's callbacks, which signal nothing.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
