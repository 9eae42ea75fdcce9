"""Clocks for the collector: host time is injectable so that time-compressed emulation,
replays and tests see one consistent timeline (DESIGN.md section 3)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """Where the collector reads host time."""

    def monotonic_ns(self) -> int:
        """A monotonic timestamp for stamping notifications on arrival."""
        ...

    def utc_from_monotonic(self, monotonic_ns: int) -> int:
        """The UTC time (ns since the Unix epoch) of a monotonic timestamp."""
        ...


class SystemClock:
    """The host's real clocks, anchored once so UTC never jumps with NTP steps mid-session."""

    def __init__(self) -> None:
        self._anchor_mono = time.monotonic_ns()
        self._anchor_utc = time.time_ns()

    def monotonic_ns(self) -> int:
        """Host monotonic time."""
        return time.monotonic_ns()

    def utc_from_monotonic(self, monotonic_ns: int) -> int:
        """UTC of a monotonic timestamp, relative to the anchor taken at start."""
        return self._anchor_utc + (monotonic_ns - self._anchor_mono)


def loop_monotonic_ns() -> Callable[[], int]:
    """The running event loop's clock in ns, or the host's monotonic clock outside a loop.

    On a standard loop the two are the same clock; on a virtual-time loop (emulation tests,
    :mod:`sensorhub.sim.virtual_time`) only the loop's clock agrees with the emulators'.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return time.monotonic_ns
    return lambda: round(loop.time() * 1e9)


class ScaledClock:
    """A clock that runs ``speed`` times faster than real time from ``start_utc_ns``.

    Used by the demo and by tests with time-compressed emulated wearables: one second of
    host time is ``speed`` seconds of (emulated) wearer time. Host time is read from
    ``monotonic`` (ns); by default from the event loop running when the clock is created
    (:func:`loop_monotonic_ns`), which is where the emulators read their scenario time.
    """

    def __init__(
        self,
        *,
        speed: float,
        start_utc_ns: int,
        monotonic: Callable[[], int] | None = None,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._monotonic = monotonic or loop_monotonic_ns()
        self._anchor_mono = self._monotonic()
        self._start_utc_ns = start_utc_ns

    def monotonic_ns(self) -> int:
        """Host monotonic time (unscaled)."""
        return self._monotonic()

    def utc_from_monotonic(self, monotonic_ns: int) -> int:
        """Scaled UTC: ``start + speed * elapsed``."""
        return self._start_utc_ns + round((monotonic_ns - self._anchor_mono) * self.speed)
