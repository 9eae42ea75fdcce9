"""An asyncio event loop on a virtual clock, for time-compressed emulation that no load can skew.

A time-compressed emulation on a real clock multiplies every scheduling delay of the host by
the speed factor: at 25x, 0.15 s of CPU contention is 3.7 s of the wearer's time, and a test
that judges wearer time becomes a test of how busy the machine is. :class:`VirtualTimeLoop`
removes host speed from the outcome instead: its :meth:`~VirtualTimeLoop.time` only moves when
every task waits for a timer, and then jumps straight to the earliest one. Callbacks, the
emulators' notifications (bumble's virtual link delivers with ``call_soon``) and the
collector's decoding take no loop time at all, however long the CPU needs for them, so the
emulated radio has no latency and a run gives the same timeline on a fast idle machine and on
a loaded CI runner; a loaded machine only takes longer to finish it.

Rules of the clock
------------------
* Ready callbacks or I/O events pending: they run, the clock stands still.
* Work handed to a thread (``run_in_executor``, hence ``asyncio.to_thread``: the store's
  writes) pending: the clock stands still until it is done, and the loop waits for it in real
  time. A thread's work thus takes no loop time either; letting the clock run on would let
  the emulators stream on while the collector waits for its database write, piling frames up
  by however slow the disk is.
* Otherwise: the clock jumps to the earliest timer (an emulator's next frame, a timeout, a
  backoff), after one non-blocking look at the file descriptors.
* A task that polls with ``sleep(0)`` until the clock moves would spin forever (it moves on a
  real clock): after a million iterations at one instant :class:`VirtualClockStuckError`
  ends the run instead.

Everything that reads time through the loop follows it: ``asyncio.sleep``, timeouts, the
emulators' scenario clocks (:meth:`~sensorhub.sim.base.EmulatedWearable.scenario_elapsed_s`)
and a :class:`~sensorhub.ble.clock.ScaledClock` created inside the loop. Code that reads
``time.monotonic()`` itself does not (the store's live-state throttle: harmless here).

Use :func:`run_virtual` where ``asyncio.run`` would be used, or :class:`VirtualTimeLoop` as an
event-loop factory (``asyncio.Runner(loop_factory=VirtualTimeLoop)``, pytest-asyncio's
``pytest_asyncio_loop_factories`` hook).
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, Final, TypeVar, TypeVarTuple

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

__all__ = ["VirtualClockStuckError", "VirtualTimeLoop", "run_virtual"]

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")

#: Longest real wait for a thread's work in one loop iteration (then the loop looks again);
#: it bounds nothing but how often an idle loop wakes up.
_THREAD_POLL_S: Final = 1.0

#: Loop iterations in a row with callbacks ready and the clock standing still before the loop
#: is declared stuck. A task that polls with ``sleep(0)`` until the clock moves escapes on a
#: real clock but spins forever on this one; a million iterations (seconds of CPU) at one
#: instant is no legitimate workload.
_MAX_ITERATIONS_AT_ONE_INSTANT: Final = 1_000_000


class VirtualClockStuckError(RuntimeError):
    """Tasks keep the loop busy at one instant: the virtual clock can never move on."""


class _VirtualSelector(selectors.BaseSelector):
    """A selector that turns the loop's idle waits into jumps of its virtual clock."""

    def __init__(self) -> None:
        self._inner = selectors.DefaultSelector()
        self.now = time.monotonic()  # starts where a real loop's clock would be
        self.threads = 0  # run_in_executor jobs not yet done
        self._busy_iterations = 0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is not None and timeout <= 0:
            self._busy_iterations += 1
            if self._busy_iterations > _MAX_ITERATIONS_AT_ONE_INSTANT:
                raise VirtualClockStuckError(
                    f"{self._busy_iterations} loop iterations with callbacks ready at one "
                    "instant: a task polls for time to pass (sleep(0) in a loop?), which never "
                    "happens on a virtual clock while it polls"
                )
            return self._inner.select(0)
        self._busy_iterations = 0
        if self.threads:
            # a thread works: the clock waits for it (its completion wakes the self-pipe)
            return self._inner.select(_THREAD_POLL_S)
        if timeout is None:
            # nothing scheduled: only another thread or a signal can bring work
            return self._inner.select(None)
        events = self._inner.select(0)
        if not events:
            self.now += timeout
        return events

    def register(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def get_map(self) -> Mapping[FileDescriptorLike, selectors.SelectorKey]:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose clock advances only when every task waits for a timer.

    See the module docstring for the rules. Only public hooks are used: the selector the
    loop is built with, :meth:`time` and :meth:`run_in_executor`.
    """

    def __init__(self) -> None:
        self._virtual = _VirtualSelector()
        super().__init__(self._virtual)

    def time(self) -> float:
        """The virtual clock, in seconds (starts at the real monotonic time of creation)."""
        return self._virtual.now

    def run_in_executor(
        self, executor: Executor | None, func: Callable[[*_Ts], _T], *args: *_Ts
    ) -> asyncio.Future[_T]:
        """Run ``func`` in a thread; the clock stands still until it is done."""
        future = super().run_in_executor(executor, func, *args)
        self._virtual.threads += 1
        future.add_done_callback(self._thread_done)
        return future

    def _thread_done(self, _future: asyncio.Future[Any]) -> None:
        self._virtual.threads -= 1


def run_virtual(main: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run(main)`` on a fresh :class:`VirtualTimeLoop`."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main)
