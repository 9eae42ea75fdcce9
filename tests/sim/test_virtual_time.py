"""The virtual-time event loop the emulation tests run on (sensorhub.sim.virtual_time)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from sensorhub.ble.clock import ScaledClock
from sensorhub.sim.virtual_time import VirtualClockStuckError, VirtualTimeLoop, run_virtual


async def test_the_tests_here_run_on_the_virtual_clock() -> None:
    # conftest's pytest_asyncio_loop_factories hook
    assert isinstance(asyncio.get_running_loop(), VirtualTimeLoop)


def test_an_hour_of_sleep_takes_no_real_time_and_exactly_an_hour_of_loop_time() -> None:
    async def main() -> tuple[float, list[str]]:
        loop = asyncio.get_running_loop()
        order: list[str] = []

        async def sleeper(name: str, seconds: float) -> None:
            await asyncio.sleep(seconds)
            order.append(name)

        started = loop.time()
        await asyncio.gather(sleeper("late", 3600.0), sleeper("early", 1800.0))
        return loop.time() - started, order

    real_started = time.monotonic()
    elapsed, order = run_virtual(main())
    assert elapsed == pytest.approx(3600.0, abs=1e-6)
    assert order == ["early", "late"]
    assert time.monotonic() - real_started < 5.0  # generous: only CPU time, no waiting


def test_the_clock_stands_still_while_a_thread_works() -> None:
    """A database write in a thread takes no loop time: a timer due meanwhile waits for it,
    so emulators cannot stream on (and pile frames up) while the collector waits."""
    release = threading.Event()

    def write() -> float:
        release.wait(5.0)
        return time.monotonic()

    async def main() -> tuple[float, float, float]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        woke: list[float] = []

        async def timer() -> None:
            await asyncio.sleep(0.01)
            woke.append(time.monotonic())

        timer_task = asyncio.create_task(timer())
        write_task = asyncio.ensure_future(asyncio.to_thread(write))
        await asyncio.sleep(0)  # both started; the thread blocks
        threading.Timer(0.2, release.set).start()  # real time: the thread ends after 0.2 s
        done_at = await write_task
        at_write_end = loop.time() - started
        await timer_task
        return at_write_end, woke[0] - done_at, loop.time() - started

    at_write_end, timer_after_write_s, total = run_virtual(main())
    assert at_write_end == 0.0  # 0.2 s of real work, no loop time
    assert timer_after_write_s >= 0  # the timer fired only after the thread was done
    assert total == pytest.approx(0.01, abs=1e-9)


async def test_a_scaled_clock_created_in_the_loop_reads_the_loop_clock() -> None:
    loop = asyncio.get_running_loop()
    clock = ScaledClock(speed=100.0, start_utc_ns=0)
    await asyncio.sleep(2.5)
    assert clock.utc_from_monotonic(clock.monotonic_ns()) == pytest.approx(250e9, abs=1e3)
    assert clock.monotonic_ns() == round(loop.time() * 1e9)


def test_a_task_polling_for_time_to_pass_is_reported_not_spun_forever() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 1.0
        while loop.time() < deadline:  # noqa: ASYNC110 (the mistake under test)
            await asyncio.sleep(0)

    with pytest.raises(VirtualClockStuckError, match="polls for time to pass"):
        run_virtual(main())
