"""Delivering nudges to the wearer's bands, outside the detection path.

The nudge engine decides within a wearer's pipeline step; delivering takes a BLE write that
can take seconds or hang. :class:`NudgeDispatcher` takes each decided nudge (already stored
as ``pending`` in the outbox), tries the wearer's nudge devices in order, each with a timeout,
and stores the result the band actually gave, so a hung write never stalls a pipeline and a
nudge is never recorded as delivered on a guess. Deliveries of different wearers run
concurrently; one wearer's nudges go out in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from firmware_protocols.sig import AlertLevel
from sensorhub.ble.drivers import NudgeDelivery, NudgeOutcome
from sensorhub.service.writer import WriteOutbox
from sensorhub.store import NudgeRecord

__all__ = ["NudgeDispatcher", "NudgeTarget"]

_LOGGER = logging.getLogger(__name__)


class NudgeTarget(Protocol):
    """A device that can be asked to nudge (a :class:`~sensorhub.ble.session.DeviceSession`)."""

    async def nudge(self, level: AlertLevel, text: str) -> NudgeDelivery:
        """Nudge the wearer; return what became of it."""
        ...


class NudgeDispatcher:
    """Delivers decided nudges with a timeout and stores what each band answered.

    Parameters
    ----------
    writer
        Where the delivery results are stored (the nudge record, upserted by its id).
    timeout_s
        Longest wait for one band's answer (a hung write counts as failed).
    """

    def __init__(self, writer: WriteOutbox, *, timeout_s: float = 10.0) -> None:
        self._writer = writer
        self._timeout_s = timeout_s
        self._chains: dict[str, asyncio.Task[None]] = {}

    def submit(self, record: NudgeRecord, targets: Sequence[NudgeTarget]) -> None:
        """Deliver ``record`` (after the wearer's earlier nudges); returns at once."""
        before = self._chains.get(record.wearer_id)
        self._chains[record.wearer_id] = asyncio.create_task(
            self._deliver_after(before, record, list(targets)),
            name=f"nudge {record.wearer_id}",
        )

    async def _deliver_after(
        self,
        before: asyncio.Task[None] | None,
        record: NudgeRecord,
        targets: list[NudgeTarget],
    ) -> None:
        if before is not None:
            with contextlib.suppress(Exception):
                await before
        try:
            result = await self.deliver(record, targets)
        except Exception:  # a bug in a driver must not end nudging for this wearer
            _LOGGER.exception("delivering a nudge to %s failed", record.wearer_id)
            result = NudgeDelivery.failed("internal error (see the log)")
        await self._writer.put([dataclasses.replace(record, delivery=result.stored)])

    async def deliver(self, record: NudgeRecord, targets: Sequence[NudgeTarget]) -> NudgeDelivery:
        """Try each target in order until one reaches its device; return the last result
        (``dashboard-only`` when the wearer has no device to nudge)."""
        level = AlertLevel.MILD if record.level == 1 else AlertLevel.HIGH
        result = NudgeDelivery(NudgeOutcome.DASHBOARD_ONLY)
        for target in targets:
            result = await self._one(target.nudge(level, record.message))
            if result.reached_device:
                break
        _LOGGER.info("nudge for %s (%s): %s", record.wearer_id, result, record.message)
        return result

    async def _one(self, attempt: Awaitable[NudgeDelivery]) -> NudgeDelivery:
        # the session has a timeout of its own; this one guards against any target's hang
        try:
            async with asyncio.timeout(self._timeout_s):
                return await attempt
        except TimeoutError:
            return NudgeDelivery.failed(f"no answer within {self._timeout_s:g} s")

    async def finish(self, timeout_s: float = 10.0) -> None:
        """Wait for deliveries in flight (at most ``timeout_s``), then give up on them."""
        pending = [t for t in self._chains.values() if not t.done()]
        if pending:
            _done, late = await asyncio.wait(pending, timeout=timeout_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._chains.clear()

    def buzz(
        self, wearer_id: str, level: AlertLevel, text: str, targets: Sequence[NudgeTarget]
    ) -> None:
        """Buzz the wearer's band (after their earlier deliveries); returns at once.

        For a possible fall's cancel window: the wearer feels that the hub noticed and can
        press "I'm OK". Not a nudge, so nothing is stored; the result is logged.
        """
        before = self._chains.get(wearer_id)
        self._chains[wearer_id] = asyncio.create_task(
            self._buzz_after(before, wearer_id, level, text, list(targets)),
            name=f"buzz {wearer_id}",
        )

    async def _buzz_after(
        self,
        before: asyncio.Task[None] | None,
        wearer_id: str,
        level: AlertLevel,
        text: str,
        targets: list[NudgeTarget],
    ) -> None:
        if before is not None:
            with contextlib.suppress(Exception):
                await before
        result = NudgeDelivery(NudgeOutcome.DASHBOARD_ONLY)
        try:
            for target in targets:
                result = await self._one(target.nudge(level, text))
                if result.reached_device:
                    break
        except Exception:  # a bug in a driver must not end nudging for this wearer
            _LOGGER.exception("buzzing %s failed", wearer_id)
            return
        _LOGGER.info("buzz for %s (%s): %s", wearer_id, result, text)

    @property
    def in_flight(self) -> int:
        """Deliveries not finished yet."""
        return sum(not t.done() for t in self._chains.values())


#: How the dispatcher is offered to a wearer's runtime (tests substitute a recorder).
Submit = Callable[[NudgeRecord, Sequence[NudgeTarget]], None]
#: How a runtime asks for a buzz that is not a nudge (wearer, level, text, targets).
Buzz = Callable[[str, AlertLevel, str, Sequence[NudgeTarget]], None]
