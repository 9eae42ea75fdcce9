"""Reconnect pacing and log rate limiting (pure helpers of sensorhub.ble.retry)."""

from __future__ import annotations

import logging
import random

import pytest

from sensorhub.ble.retry import RateLimitedLog, backoff_delay_s

# -- backoff ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("min_s", "max_s"), [(0.25, 30.0), (0.01, 0.1), (1e-6, 1e-5)])
def test_backoff_never_raises_never_exceeds_the_cap(min_s: float, max_s: float) -> None:
    """Attempts 0..10 000: no overflow, every delay within [min_s, cap(attempt)]."""
    rng = random.Random(1)
    for attempt in range(10_001):
        delay = backoff_delay_s(attempt, min_s=min_s, max_s=max_s, rng=rng)
        cap = min(max_s, min_s * 2.0 ** min(attempt, 64))
        assert min_s <= delay <= cap, (attempt, delay)


def test_the_old_formula_overflowed_where_this_one_does_not() -> None:
    """What the session computed before (min * 2**attempt) raised at attempt 1 024."""
    with pytest.raises(OverflowError):
        _ = 0.25 * 2**1024
    assert backoff_delay_s(1024, min_s=0.25, max_s=30.0) <= 30.0
    assert backoff_delay_s(10**9, min_s=0.25, max_s=30.0) <= 30.0


def test_backoff_jitter_spans_its_range() -> None:
    """Full jitter: once capped, delays spread over [min_s, max_s], not bunched at the cap."""
    rng = random.Random(7)
    delays = [backoff_delay_s(50, min_s=0.5, max_s=30.0, rng=rng) for _ in range(2000)]
    assert min(delays) < 2.0
    assert max(delays) > 28.0
    assert 12.0 < sum(delays) / len(delays) < 18.0  # uniform on [0.5, 30]: mean 15.25


def test_backoff_grows_then_stays_at_the_cap() -> None:
    """The upper bound doubles per attempt until the cap."""
    highest = [
        max(backoff_delay_s(a, min_s=0.25, max_s=30.0, rng=random.Random(s)) for s in range(200))
        for a in range(10)
    ]
    assert highest[0] <= 0.25
    assert highest[3] <= 2.0 < highest[4]
    assert highest[9] <= 30.0


@pytest.mark.parametrize(
    ("attempt", "min_s", "max_s", "low", "high"),
    [(-3, 0.25, 30.0, 0.25, 0.25), (5, 0.0, 30.0, 0.0, 0.0), (5, 2.0, 1.0, 1.0, 1.0)],
)
def test_backoff_odd_arguments(
    attempt: int, min_s: float, max_s: float, low: float, high: float
) -> None:
    """Negative attempts count as 0; a zero base stays zero; a cap below the base wins."""
    assert low <= backoff_delay_s(attempt, min_s=min_s, max_s=max_s) <= high


# -- rate-limited log ------------------------------------------------------------------------


def test_twelve_hours_of_failures_do_not_flood_the_log(caplog: pytest.LogCaptureFixture) -> None:
    """A failure every 3 s for 12 h (14 400): one WARNING, an INFO summary per 10 min."""
    logger = logging.getLogger("test.retry.flood")
    limiter = RateLimitedLog(logger, interval_s=600.0)
    with caplog.at_level(logging.INFO, logger=logger.name):
        for i in range(14_400):
            limiter.log(1000.0 + 3.0 * i, logging.WARNING, "%s unavailable: %s", "band", "gone")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(warnings) == 1
    assert warnings[0].getMessage() == "band unavailable: gone"
    assert 70 <= len(infos) <= 73  # 12 h / 10 min
    assert "in all" in infos[-1].getMessage()
    assert limiter.count == 14_400


def test_repeats_are_at_debug_and_a_reset_makes_the_next_one_loud(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Repeats go to DEBUG; after reset() (the device came back) the next failure is loud."""
    logger = logging.getLogger("test.retry.reset")
    limiter = RateLimitedLog(logger, interval_s=600.0)
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        for i in range(5):
            limiter.log(float(i), logging.WARNING, "failed %d", i)
        assert limiter.reset() == 5
        limiter.log(10.0, logging.WARNING, "failed again")
    levels = [r.levelno for r in caplog.records]
    assert levels == [logging.WARNING] + [logging.DEBUG] * 4 + [logging.WARNING]


def test_the_first_occurrence_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """exc_info is passed on the first time only."""
    logger = logging.getLogger("test.retry.traceback")
    limiter = RateLimitedLog(logger, interval_s=600.0)
    error = RuntimeError("handler bug")
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        limiter.log(0.0, logging.ERROR, "handler failed", exc_info=error)
        limiter.log(1.0, logging.ERROR, "handler failed", exc_info=error)
    first, second = caplog.records
    assert first.exc_info is not None
    assert first.exc_info[1] is error
    assert second.exc_info is None
