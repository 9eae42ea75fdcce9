"""Wiring: collector -> pipeline -> store -> nudges, one asyncio TaskGroup per hub.

Each wearer has one :class:`WearerRuntime`: a streaming detection :class:`Pipeline`, a
:class:`NudgeEngine` and the band to buzz. Blocks from the wearer's devices are folded in
order; events and epochs go to the store; the live state (current posture and bout) is
written a few times a second of host time for the dashboard. If the database goes away,
events stay queued in memory and are written when it comes back: nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from firmware_protocols.sig import AlertLevel
from sensorhub.ble.session import PolarPmdSession
from sensorhub.errors import StorageError
from sensorhub.model import EpochSummary, Event, Placement, SampleBlock
from sensorhub.nudge import NudgeDecision, NudgeEngine, NudgeSettings
from sensorhub.pipeline import Pipeline
from sensorhub.store import DeviceRecord, NudgeRecord, Repository

_LOGGER = logging.getLogger(__name__)


@dataclass
class _Pending:
    events: list[Event] = field(default_factory=list)
    epochs: list[EpochSummary] = field(default_factory=list)
    nudges: list[NudgeRecord] = field(default_factory=list)


class WearerRuntime:
    """The live processing of one wearer.

    Parameters
    ----------
    wearer_id
        The wearer's id in the store.
    placement
        Body placement of the wearer's IMU.
    repository
        Where events, epochs, live state and nudges are written.
    nudge_settings
        The wearer's nudge settings.
    live_interval_s
        Minimum host time between two live-state writes.
    """

    def __init__(
        self,
        wearer_id: str,
        placement: Placement,
        repository: Repository,
        *,
        nudge_settings: NudgeSettings | None = None,
        live_interval_s: float = 0.5,
    ) -> None:
        self.wearer_id = wearer_id
        self.pipeline = Pipeline(placement)
        self.nudges = NudgeEngine(nudge_settings or NudgeSettings())
        self.repository = repository
        self.band: PolarPmdSession | None = None
        self._live_interval_s = live_interval_s
        self._last_live_write = 0.0
        self._last_device_ns = 0
        self._pending = _Pending()
        self._lock = asyncio.Lock()

    async def on_block(self, block: SampleBlock) -> None:
        """Fold one block in: detect, store, nudge."""
        async with self._lock:
            events = self.pipeline.feed(block)
            self._last_device_ns = block.end_ns
            self._pending.events.extend(events)
            self._pending.epochs.extend(self.pipeline.pop_epochs())
            decision = self.nudges.update(
                now_ns=block.end_ns,
                bout=self.pipeline.current_bout,
                posture=self.pipeline.current_posture,
            )
            if decision is not None:
                await self._deliver(decision, block.end_ns)
            await self._persist(
                live=time.monotonic() - self._last_live_write >= self._live_interval_s
            )

    async def _deliver(self, decision: NudgeDecision, now_ns: int) -> None:
        level = AlertLevel.MILD if decision.level == 1 else AlertLevel.HIGH
        delivery = "failed: no band to buzz" if self.band is None else await self.band.buzz(level)
        _LOGGER.info("nudge for %s (%s): %s", self.wearer_id, delivery, decision.message)
        self._pending.nudges.append(
            NudgeRecord(
                wearer_id=self.wearer_id,
                sent_ns=now_ns,
                reason=decision.reason,
                bout_start_ns=decision.bout_start_ns,
                bout_duration_s=decision.bout_duration_s,
                level=decision.level,
                message=decision.message,
                channel="band",
                delivery=delivery,
                exercise_id=None if decision.exercise is None else decision.exercise.id,
            )
        )

    async def _persist(self, *, live: bool) -> None:
        pending = self._pending
        if not (pending.events or pending.epochs or pending.nudges or live):
            return
        try:
            await asyncio.to_thread(self._write_pending, live)
        except StorageError as exc:
            _LOGGER.error(
                "%s: %s (kept in memory, retrying with the next block)", self.wearer_id, exc
            )

    def _write_pending(self, live: bool) -> None:
        pending, repo = self._pending, self.repository
        # Each list is cleared only after its write succeeded.
        if pending.events:
            repo.save_events(self.wearer_id, pending.events)
            pending.events = []
        if pending.epochs:
            repo.save_epochs(self.wearer_id, pending.epochs)
            pending.epochs = []
        while pending.nudges:
            repo.save_nudge(pending.nudges[0])
            pending.nudges.pop(0)
        if live and self._last_device_ns:
            repo.save_live_state(
                self.wearer_id,
                posture=self.pipeline.current_posture,
                bout=self.pipeline.current_bout,
                device_time_ns=self._last_device_ns,
            )
            self._last_live_write = time.monotonic()

    async def finish(self) -> None:
        """End of collection: close open bouts and write everything still pending."""
        async with self._lock:
            self._pending.events.extend(self.pipeline.flush())
            self._pending.epochs.extend(self.pipeline.pop_epochs())
            await asyncio.to_thread(self._write_pending, True)


async def run_sessions(
    sessions: Sequence[PolarPmdSession],
    runtimes: Sequence[WearerRuntime],
    repository: Repository,
    *,
    health_interval_s: float = 2.0,
) -> None:
    """Run every device session in one TaskGroup until cancelled; then flush every wearer.

    Device health (battery, last seen, counters) is written every ``health_interval_s``.
    """

    async def report_health() -> None:
        while True:
            await asyncio.sleep(health_interval_s)
            await asyncio.to_thread(_write_health, sessions, repository)

    try:
        async with asyncio.TaskGroup() as group:
            for session in sessions:
                group.create_task(session.run(), name=f"session {session.binding.label}")
            group.create_task(report_health(), name="device health")
    finally:
        for runtime in runtimes:
            try:
                await runtime.finish()
            except StorageError as exc:
                _LOGGER.error("could not write the final state of %s: %s", runtime.wearer_id, exc)
        try:
            await asyncio.to_thread(_write_health, sessions, repository)
        except StorageError as exc:
            _LOGGER.error("could not write device health: %s", exc)


def _write_health(sessions: Sequence[PolarPmdSession], repository: Repository) -> None:
    for session in sessions:
        if session.health.address is None:
            continue
        repository.upsert_device(
            DeviceRecord(
                address=session.health.address,
                wearer_id=session.binding.wearer_id,
                profile=session.binding.profile,
                name=session.binding.label,
                placement=session.binding.placement,
                battery_pct=session.health.battery_pct,
                last_seen_ns=session.health.last_seen_utc_ns,
                counters={
                    **session.counters.as_dict(),
                    "connects": session.health.connects,
                    "reconnects": session.health.reconnects,
                },
            )
        )
