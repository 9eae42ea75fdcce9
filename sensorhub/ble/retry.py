"""Retry pacing and log rate limiting for sessions that must outlive their devices.

A band left on its charger fails to connect every few seconds for hours. Two pure helpers keep
that cheap and quiet, the way Home Assistant's Bluetooth stack treats a device that is gone:

* :func:`backoff_delay_s`: exponential backoff with full jitter, capped, for any attempt
  number (the exponent is clamped before it is used, so attempt 10**6 is as safe as attempt 3).
* :class:`RateLimitedLog`: the first occurrence of something is logged at its full level,
  repeats at DEBUG, plus at most one summary line (INFO) per interval that says how many
  repeats were not shown. Twelve hours of failures every few seconds then leave a few dozen
  lines in the log, not ten thousand.

Both take their randomness and their time as arguments: nothing here sleeps or reads a clock.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Final

__all__ = ["MAX_EXPONENT", "RateLimitedLog", "backoff_delay_s"]

#: Doublings after which the cap is reached whatever the base (2**64 x 1 ns > any sane cap).
MAX_EXPONENT: Final = 64


def backoff_delay_s(
    attempt: int, *, min_s: float, max_s: float, rng: random.Random | None = None
) -> float:
    """Delay before reconnect attempt ``attempt`` (0 = the first retry).

    Exponential backoff with full jitter (AWS architecture blog, as in
    ``bleak_retry_connector.calculate_backoff_time``): uniform between ``min_s`` and
    ``min(max_s, min_s * 2**attempt)``. The exponent is clamped to :data:`MAX_EXPONENT` and
    the arithmetic is in floats, so no attempt number can overflow.

    Parameters
    ----------
    attempt
        Consecutive failures so far (negative counts as 0).
    min_s, max_s
        Base delay and cap, seconds (negative values count as 0; ``max_s`` below ``min_s``
        caps at ``max_s``).
    rng
        Source of the jitter (default: the module's shared generator).

    Returns
    -------
    float
        Seconds, in ``[min(min_s, max_s), max_s]``.
    """
    low = max(min_s, 0.0)
    high = max(max_s, 0.0)
    exponent = min(max(attempt, 0), MAX_EXPONENT)
    cap = min(high, low * 2.0**exponent)
    low = min(low, cap)
    return (rng or random).uniform(low, cap)


@dataclass
class RateLimitedLog:
    """Logs the first occurrence loudly and repeats quietly (summaries at most every interval).

    Parameters
    ----------
    logger
        Where to log.
    interval_s
        Least time between two summary lines.
    summary_level
        Level of the summary lines (INFO; ERROR for a problem an operator must see while it
        lasts, such as a database that stays down).

    Attributes
    ----------
    count
        Occurrences since the last :meth:`reset`.
    """

    logger: logging.Logger
    interval_s: float = 600.0
    summary_level: int = logging.INFO
    count: int = field(default=0, init=False)
    _last_summary_s: float | None = field(default=None, init=False, repr=False)
    _since_summary: int = field(default=0, init=False, repr=False)

    def log(
        self,
        now_s: float,
        level: int,
        message: str,
        *args: object,
        exc_info: BaseException | None = None,
    ) -> None:
        """Record one occurrence at host time ``now_s`` (seconds, any monotonic origin).

        The first one since :meth:`reset` is logged at ``level`` (with ``exc_info``'s
        traceback if given); later ones at DEBUG without traceback, and every
        ``interval_s`` one INFO line counts them.
        """
        self.count += 1
        if self.count == 1:
            self.logger.log(level, message, *args, exc_info=exc_info)
            self._last_summary_s = now_s
            return
        self._since_summary += 1
        self.logger.debug(message, *args)
        last = self._last_summary_s
        if last is None or now_s - last >= self.interval_s:
            self.logger.log(
                self.summary_level,
                message + " (%d times since the last summary, %d in all)",
                *args,
                self._since_summary,
                self.count,
            )
            self._since_summary = 0
            self._last_summary_s = now_s

    def reset(self) -> int:
        """Start over (the condition ended); return how many occurrences there were."""
        count = self.count
        self.count = 0
        self._since_summary = 0
        self._last_summary_s = None
        return count
