"""Wiring: collector -> pipeline -> store -> nudges, one asyncio TaskGroup per hub.

Each wearer has one :class:`WearerRuntime`: a streaming detection :class:`Pipeline`, a
:class:`NudgeEngine` and the devices that can nudge. Blocks from the wearer's primary motion
device are folded in order; events and epochs go to the store; the live state (current
posture and bout) is written a few times a second of host time for the dashboard. If the
database goes away, events stay queued in memory and are written when it comes back: nothing
is lost.

:func:`run_sessions` runs every device session of a hub in one TaskGroup and writes device
health (battery, RSSI, last seen, stream counters) to the store; :func:`session_summary`
is the per-device JSON summary ``sensorhub run`` prints on exit.

Step-only data (a foot pod's RSC cadence, a band's or tag's step counter) goes through
:mod:`sensorhub.detect.step_counts`: each wearer has at most one *step source*
(:func:`step_source`: a foot pod first, as it sees steps behind a rollator, else the first
device with a step counter). Its walking bouts are stored as ``gait_bout`` events; for a wearer
who also has an IMU, :class:`~sensorhub.detect.bout_sources.GaitBoutArbiter` keeps one bout
per walk (the step source's for a wrist IMU, the IMU's elsewhere). Its
epochs are stored only for wearers without an IMU pipeline: epochs are upserted by
(wearer, minute), and an IMU's epoch (posture, ENMO and its own steps) is never overwritten
by a step-only one. Step-only epochs carry no acceleration: their ``enmo_mg`` is stored as
NULL and their posture is ``walking`` or ``unknown``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from firmware_protocols.profiles import get_profile
from firmware_protocols.sig import AlertLevel
from sensorhub.ble.clock import Clock
from sensorhub.ble.session import BleakBackend, DeviceSession
from sensorhub.ble.streams import StepData, StreamTiming
from sensorhub.config import DeviceConfig, HubConfig
from sensorhub.detect.bout_sources import GaitBoutArbiter
from sensorhub.detect.step_counts import RscCadenceTracker, StepCounterTracker
from sensorhub.errors import StorageError
from sensorhub.model import NS_PER_S, EpochSummary, Event, GaitBout, Placement, SampleBlock
from sensorhub.nudge import NudgeDecision, NudgeEngine, NudgeSettings
from sensorhub.pipeline import Pipeline
from sensorhub.store import DeviceRecord, NudgeRecord, Repository, utc_from_ns

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
    has_imu
        Whether an IMU feeds :attr:`pipeline` (then its epochs win over step-only ones).
    """

    def __init__(
        self,
        wearer_id: str,
        placement: Placement,
        repository: Repository,
        *,
        nudge_settings: NudgeSettings | None = None,
        live_interval_s: float = 0.5,
        has_imu: bool = True,
    ) -> None:
        self.wearer_id = wearer_id
        self.has_imu = has_imu
        #: Tracker of the wearer's step source (see :meth:`attach_step_source`), if any.
        self.step_tracker: StepCounterTracker | RscCadenceTracker | None = None
        self.pipeline = Pipeline(placement)
        #: One gait bout per walk when an IMU and a step source both see it.
        self.bout_arbiter = GaitBoutArbiter("imu" if has_imu else "steps")
        self.nudges = NudgeEngine(nudge_settings or NudgeSettings())
        self.repository = repository
        #: Devices that may nudge this wearer, best first (the first that delivers wins).
        self.bands: list[DeviceSession] = []
        self._live_interval_s = live_interval_s
        self._last_live_write = 0.0
        self._last_device_ns = 0
        self._pending = _Pending()
        self._lock = asyncio.Lock()

    @property
    def band(self) -> DeviceSession | None:
        """The preferred nudge device (the first of :attr:`bands`)."""
        return self.bands[0] if self.bands else None

    @band.setter
    def band(self, session: DeviceSession | None) -> None:
        self.bands = [] if session is None else [session]

    async def on_block(self, block: SampleBlock) -> None:
        """Fold one block in: detect, store, nudge."""
        async with self._lock:
            events = self.pipeline.feed(block)
            self._last_device_ns = block.end_ns
            self._take_imu_events(events)
            self._pending.epochs.extend(self.pipeline.pop_epochs())
            decision = self.nudges.update(
                now_ns=block.end_ns,
                bout=self.pipeline.current_bout,
                posture=self.pipeline.current_posture,
                worn=self.pipeline.worn,
                motionless_s=self.pipeline.motionless_s(block.end_ns),
            )
            if decision is not None:
                await self._deliver(decision, block.end_ns)
            await self._persist(
                live=time.monotonic() - self._last_live_write >= self._live_interval_s
            )

    def attach_step_source(self, profile: str) -> None:
        """Track step data of a device of ``profile`` (feed it with :meth:`on_steps`)."""
        if _yields_cadence(profile):
            self.step_tracker = RscCadenceTracker()
        else:
            bits = 16 if profile == "metawear" else 32  # MetaWear's counter is u16
            self.step_tracker = StepCounterTracker(counter_bits=bits)
        if self.pipeline.placement == Placement.WRIST:
            # a wrist sees no arm swing behind a rollator: the step source's bouts win
            self.bout_arbiter = GaitBoutArbiter("steps")

    async def on_steps(self, data: StepData) -> None:
        """Fold one step/cadence measurement of the wearer's step source in, and store."""
        tracker = self.step_tracker
        if tracker is None:
            return
        async with self._lock:
            if isinstance(tracker, RscCadenceTracker):
                if data.cadence_spm is None:
                    return  # heart rate only
                tracker.update(
                    [data.t_ns],
                    [data.cadence_spm],
                    [math.nan if data.speed_mps is None else data.speed_mps],
                    [math.nan if data.stride_length_m is None else data.stride_length_m],
                )
            else:
                if data.steps_total is None:
                    return
                tracker.update([data.t_ns], [data.steps_total])
            self._take_steps(tracker)
            await self._persist(live=False)

    def _take_imu_events(self, events: list[Event]) -> None:
        gait = [e for e in events if isinstance(e, GaitBout)]
        self._pending.events.extend(e for e in events if not isinstance(e, GaitBout))
        self.bout_arbiter.add("imu", gait, self.pipeline.gait_settled_ns)
        self._pending.events.extend(self.bout_arbiter.bouts_)

    def _take_steps(self, tracker: StepCounterTracker | RscCadenceTracker) -> None:
        self.bout_arbiter.add("steps", tracker.bouts_, tracker.settled_ns_)
        self._pending.events.extend(self.bout_arbiter.bouts_)
        if not self.has_imu:
            self._pending.epochs.extend(tracker.epochs_)  # enmo_mg NaN: stored as NULL

    async def _deliver(self, decision: NudgeDecision, now_ns: int) -> None:
        level = AlertLevel.MILD if decision.level == 1 else AlertLevel.HIGH
        delivery = "dashboard-only"
        for band in self.bands:
            result = await band.nudge(level, decision.message)
            delivery = result.stored
            if result.reached_device:
                break
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
                still_since_ns=self.pipeline.still_since_ns,
            )
            self._last_live_write = time.monotonic()

    async def finish(self) -> None:
        """End of collection: close open bouts and write everything still pending."""
        async with self._lock:
            self._take_imu_events(self.pipeline.flush())
            self._pending.epochs.extend(self.pipeline.pop_epochs())
            tracker = self.step_tracker
            if tracker is not None:
                tracker.update([], [], final=True)
                self._take_steps(tracker)
            self.bout_arbiter.finish()
            self._pending.events.extend(self.bout_arbiter.bouts_)
            await asyncio.to_thread(self._write_pending, True)


async def run_sessions(
    sessions: Sequence[DeviceSession],
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
            try:
                await asyncio.to_thread(_write_health, sessions, repository)
            except StorageError as exc:
                # collection goes on; health is written again at the next interval
                _LOGGER.error("could not write device health: %s", exc)

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


def health_counters(session: DeviceSession) -> dict[str, int]:
    """The counters stored with a device (whole numbers only: the dashboard shows them)."""
    health = session.health
    counters = {
        **session.counters.as_dict(),
        "connects": health.connects,
        "reconnects": health.reconnects,
        "stalls": health.stalls,
        "nudges_delivered": health.nudges_delivered,
        "nudges_acknowledged": health.nudges_acknowledged,
        "nudges_failed": health.nudges_failed,
        "available": int(health.available),
        "consecutive_failures": health.consecutive_failures,
        "connect_failures": health.connect_failures,
        "errors": health.errors,
        "consumer_restarts": health.consumer_restarts,
    }
    if health.unavailable_since_utc_ns is not None:
        counters["unavailable_since_utc_ns"] = health.unavailable_since_utc_ns
    if health.rssi_dbm is not None:
        counters["rssi_dbm"] = health.rssi_dbm
    return counters


def _write_health(sessions: Sequence[DeviceSession], repository: Repository) -> None:
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
                counters=health_counters(session),
            )
        )


def _yields_cadence(profile: str) -> bool:
    return "cadence" in get_profile(profile).yields


def step_source(config: HubConfig, wearer_id: str) -> DeviceConfig | None:
    """The wearer's device whose step data is analysed: a foot pod first, else a counter.

    Only one, so that a walk seen by two step devices is not counted twice.
    """
    devices = config.devices_of(wearer_id)
    pods = [d for d in devices if _yields_cadence(d.profile)]
    counters = [d for d in devices if "steps" in get_profile(d.profile).yields]
    return next(iter(pods + counters), None)


def _iso(utc_ns: int) -> str:
    return utc_from_ns(utc_ns).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session_summary(session: DeviceSession) -> dict[str, Any]:
    """What one device delivered, for the JSON summary of ``sensorhub run``."""
    counters, health = session.counters, session.health
    return {
        "device": session.binding.label,
        "wearer": session.binding.wearer_id,
        "profile": session.binding.profile,
        "placement": session.binding.placement,
        "address": health.address,
        "frames": counters.frames,
        "samples": counters.samples,
        "measurements": counters.measurements,
        "gaps": [
            {
                "after": _iso(gap.after_ns),
                "before": _iso(gap.before_ns),
                "duration_s": round((gap.before_ns - gap.after_ns) / NS_PER_S, 3),
            }
            for gap in counters.gaps
        ],
        "duplicates": counters.duplicates,
        "out_of_order": counters.out_of_order,
        "decode_errors": counters.decode_errors,
        "clock_steps": counters.clock_steps,
        "handler_errors": counters.handler_errors,
        "overflow": counters.overflow,
        "connects": health.connects,
        "reconnects": health.reconnects,
        "stalls": health.stalls,
        "nudge_method": session.nudge_method or "dashboard-only",
        "nudges_delivered": health.nudges_delivered,
        "nudges_acknowledged": health.nudges_acknowledged,
        "nudges_failed": health.nudges_failed,
        "available": health.available,
        "unavailable_since": None
        if health.unavailable_since_utc_ns is None
        else _iso(health.unavailable_since_utc_ns),
        "consecutive_failures": health.consecutive_failures,
        "connect_failures": health.connect_failures,
        "errors": health.errors,
        "consumer_restarts": health.consumer_restarts,
        "battery_pct": health.battery_pct,
        "rssi_dbm": health.rssi_dbm,
        "last_seen": None if health.last_seen_utc_ns is None else _iso(health.last_seen_utc_ns),
    }


@dataclass
class Hub:
    """Everything a hub runs: one session per device, one runtime per wearer."""

    sessions: list[DeviceSession]
    runtimes: list[WearerRuntime]


def backend_for(backend: BleakBackend, adapter: str | None) -> BleakBackend:
    """``backend`` pinned to one Bluetooth adapter (BlueZ ``bluez={"adapter": ...}``).

    One adapter holds only 5-10 connections; naming the adapter per device in the hub config
    spreads the devices over several. ``None`` keeps the system default.
    """
    if adapter is None:
        return backend
    pinned = {"bluez": {"adapter": adapter}}
    return BleakBackend(
        scanner_kwargs={**backend.scanner_kwargs, **pinned},
        client_kwargs={**backend.client_kwargs, **pinned},
    )


def build_hub(
    config: HubConfig,
    repository: Repository,
    *,
    backend: BleakBackend,
    clock: Clock,
    timing: StreamTiming | None = None,
    **session_options: Any,
) -> Hub:
    """Sessions and runtimes for a hub config (the same for real and emulated devices).

    Each wearer's primary motion device (:meth:`HubConfig.primary_device`) feeds the
    wearer's pipeline; the wearer's :func:`step_source` feeds its step tracker; every
    device that can nudge is offered to the wearer's runtime, in file order.
    ``session_options`` go to every :class:`DeviceSession` (timeouts, backoff).
    """
    sessions: list[DeviceSession] = []
    runtimes: list[WearerRuntime] = []
    for wearer in config.wearers:
        repository.ensure_wearer(wearer.id, wearer.name, timezone=wearer.timezone)
        primary = config.primary_device(wearer.id)
        placement = Placement(primary.placement) if primary else Placement.WRIST
        runtime = WearerRuntime(
            wearer.id,
            placement,
            repository,
            nudge_settings=wearer.nudges,
            has_imu=primary is not None,
        )
        steps_from = step_source(config, wearer.id)
        if steps_from is not None:
            runtime.attach_step_source(steps_from.profile)
        runtimes.append(runtime)
        for device in config.devices_of(wearer.id):

            async def ignore(_block: SampleBlock) -> None:
                return None

            session = DeviceSession(
                device.binding,
                backend=backend_for(backend, device.adapter),
                clock=clock,
                on_block=runtime.on_block if device is primary else ignore,
                on_steps=runtime.on_steps if device is steps_from else None,
                settings=device.settings,
                timing=timing,
                stream_motion=device is primary,
                **session_options,
            )
            sessions.append(session)
            runtime.bands.append(session)
    return Hub(sessions, runtimes)


async def until_stopped(
    collect: asyncio.Task[None],
    timeout_s: float | None,
    before_cancel: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Wait for Ctrl-C, SIGTERM or ``timeout_s``; then stop collecting cleanly.

    Signal handlers are installed explicitly so that a hub or demo started in the background
    (where the shell ignores SIGINT) still stops on Ctrl-C or ``kill``. ``before_cancel`` runs
    first when collection is still going (e.g. to stop emulated wearables); cancelling
    :func:`run_sessions` flushes open bouts and pending writes. An error that ended collection
    is raised again.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({collect, stopper}, timeout=timeout_s, return_when="FIRST_COMPLETED")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        stopper.cancel()
        if before_cancel is not None and not collect.done():
            await before_cancel()
        collect.cancel()
        results = await asyncio.gather(collect, return_exceptions=True)
    if isinstance(results[0], Exception):
        raise results[0]
