"""Logging that stays readable through long faults: repeated messages are rate-limited.

A database that is down for an hour, or a full disk, raises the same error at every write.
:class:`RateLimitedLog` logs the first occurrence of each kind of problem at once, then at
most one line per ``interval_s`` for that kind, saying how many were held back, so an
operator sees that it goes on without the log filling the disk that is already full.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimitedLog"]


@dataclass
class _Seen:
    last_logged_s: float
    held_back: int = 0


class RateLimitedLog:
    """Logs each kind of message at most once per ``interval_s`` (host monotonic time).

    Parameters
    ----------
    logger
        Where the lines go.
    interval_s
        Least time between two lines of the same kind.
    clock
        Monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval_s = interval_s
        self._clock = clock
        self._seen: dict[str, _Seen] = {}

    def log(
        self, level: int, kind: str, message: str, *args: object, exc_info: bool = False
    ) -> bool:
        """Log ``message % args`` unless a line of ``kind`` went out within the interval.

        Returns whether the line was written. A written line that follows held-back ones
        says how many.
        """
        now = self._clock()
        seen = self._seen.get(kind)
        if seen is not None and now - seen.last_logged_s < self._interval_s:
            seen.held_back += 1
            return False
        held = 0 if seen is None else seen.held_back
        self._seen[kind] = _Seen(now)
        if held:
            message += " (%d more like this in the last %.0f s)"
            args = (*args, held, self._interval_s)
        self._logger.log(level, message, *args, exc_info=exc_info)
        return True
