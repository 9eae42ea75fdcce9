"""A whole hub: device sessions, wearer runtimes, the write path and the nudge dispatcher.

:func:`build_hub` turns a hub config into running parts (the same for real bands, ``run
--simulate``, the demo and the tests); :meth:`Hub.run` runs them in one TaskGroup until
cancelled, then closes open bouts, waits for nudges in flight and writes what it can.

Per-wearer settings: on start each wearer's settings are written to the store where absent
(defaults from the hub config) and read back; the runtime uses the stored ones. While running,
the hub follows the store every few seconds: changed settings apply to nudges at once, and a
wearer's "Snooze" on the dashboard holds the next nudge of that bout until the snooze ends.

Failure isolation: nothing one device does stops another. Each session runs under a
supervisor that logs and restarts it (with capped backoff) if it ever ends with an error; the
write path, the dispatcher and the alert notifier never raise into the TaskGroup; device health
is written as snapshots through the outbox like everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sensorhub.alerts import DeviceStatus, state_rank
from sensorhub.ble.clock import Clock
from sensorhub.ble.retry import RateLimitedLog, backoff_delay_s
from sensorhub.ble.session import BleakBackend, DeviceSession
from sensorhub.ble.streams import StreamTiming
from sensorhub.config import HubConfig
from sensorhub.errors import StorageError
from sensorhub.model import NS_PER_S
from sensorhub.service.dispatcher import NudgeDispatcher
from sensorhub.service.notifier import AlertNotifier
from sensorhub.service.roles import WearerDevices, assign_roles
from sensorhub.service.wearer import RESUME_NUDGES_NS, WearerRuntime
from sensorhub.service.writer import WriteOutbox, WriteStats
from sensorhub.store import (
    AlertRecord,
    DeviceRecord,
    LiveRecord,
    NudgeRecord,
    Outbox,
    Repository,
    utc_from_ns,
)
from sensorhub.store.alert_delivery import AlertDeliveryStore
from sensorhub.wearer_settings import WearerSettings, WearerSettingsError

__all__ = [
    "Hub",
    "backend_for",
    "build_hub",
    "health_counters",
    "session_summary",
    "storage_summary",
    "until_stopped",
]

_LOGGER = logging.getLogger(__name__)


@dataclass
class Hub:
    """Everything a hub runs: one session per device, one runtime per wearer."""

    sessions: list[DeviceSession]
    runtimes: list[WearerRuntime]
    writer: WriteOutbox
    dispatcher: NudgeDispatcher
    #: the store the wearers' settings and answers are followed in (None: not followed)
    repository: Repository | None = None
    config: HubConfig | None = None
    #: tells caregivers about open alerts (None when the config names no caregiver)
    notifier: AlertNotifier | None = None
    #: the hub's clock (device health and alert times); None: the system's
    clock: Clock | None = None

    async def run(self, *, health_interval_s: float = 2.0) -> WriteStats:
        """Collect until cancelled; then flush every wearer and write what the database takes.

        Returns the write statistics (also after cancellation, through :attr:`writer`).
        """
        try:
            async with asyncio.TaskGroup() as group:
                for session in self.sessions:
                    group.create_task(_supervised(session), name=f"session {session.binding.label}")
                group.create_task(self.writer.run(), name="outbox drainer")
                group.create_task(self._report_health(health_interval_s), name="device health")
                group.create_task(self._follow_store(health_interval_s), name="wearer answers")
                if self.notifier is not None:
                    group.create_task(self.notifier.run(), name="alert notifier")
        finally:
            await self.shutdown()
        return self.writer.stats

    async def shutdown(self) -> None:
        """Close open bouts, deliver nudges in flight, store health, write what is pending."""
        for runtime in self.runtimes:
            await runtime.finish()
        await self.dispatcher.finish()
        if self.notifier is not None:
            await self.notifier.finish()
        await self.writer.put(self.health_records())
        await self.writer.finish()

    async def _report_health(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            await self.writer.put(self.health_records())
            await self.check_alerts()

    def utc_now_ns(self) -> int:
        """Now on the hub's clock (UTC ns)."""
        if self.clock is None:
            return time.time_ns()
        return self.clock.utc_from_monotonic(self.clock.monotonic_ns())

    async def check_alerts(self) -> None:
        """Device-health alerts of every wearer at the hub's time (and fall windows that no
        data closed); an error is logged, never raised into the hub."""
        now = self.utc_now_ns()
        for runtime in self.runtimes:
            devices = [
                DeviceStatus(
                    # the configured identity, stable before and after the first connection
                    address=s.binding.address or s.binding.label,
                    name=s.binding.label,
                    last_seen_ns=s.health.last_seen_utc_ns,
                    battery_pct=s.health.battery_pct,
                )
                for s in self.sessions
                if s.binding.wearer_id == runtime.wearer_id
            ]
            try:
                await runtime.check_health(devices, now)
            except Exception:
                _LOGGER.exception("%s: checking the device alerts failed", runtime.wearer_id)

    async def _follow_store(self, interval_s: float) -> None:
        """Every ``interval_s``: the wearers' changed settings and snoozes, from the store.

        The database is read in a worker thread; what it gave is applied on the event loop
        (the runtimes are not thread-safe).
        """
        seen: dict[str, dt.datetime] = {}
        while True:
            await asyncio.sleep(interval_s)
            for runtime in self.runtimes:
                try:
                    stored = await asyncio.to_thread(self._stored_answers, runtime)
                    self.follow_wearer(runtime, *stored, seen=seen)
                except (StorageError, WearerSettingsError) as exc:
                    _LOGGER.warning(
                        "%s: cannot follow the stored settings (%s)", runtime.wearer_id, exc
                    )

    def _stored_answers(
        self, runtime: WearerRuntime
    ) -> tuple[tuple[dict[str, Any], dt.datetime] | None, list[tuple[int, int]]]:
        if self.repository is None:
            return None, []
        since = runtime.last_device_ns - RESUME_NUDGES_NS
        return (
            self.repository.wearer_settings(runtime.wearer_id),
            self.repository.snoozes_since(runtime.wearer_id, since),
        )

    @staticmethod
    def follow_wearer(
        runtime: WearerRuntime,
        stored: tuple[dict[str, Any], dt.datetime] | None,
        snoozes: list[tuple[int, int]],
        *,
        seen: dict[str, dt.datetime],
    ) -> None:
        """Apply one wearer's stored settings (if changed since ``seen``) and snoozes."""
        if stored is not None and seen.get(runtime.wearer_id) != stored[1]:
            seen[runtime.wearer_id] = stored[1]
            runtime.apply_settings(WearerSettings.from_json(stored[0], defaults=runtime.settings))
        for bout_start_ns, until_ns in snoozes:
            runtime.nudges.snooze(bout_start_ns, until_ns)

    def health_records(self) -> list[DeviceRecord]:
        """Device health snapshots (devices seen at least once)."""
        return [
            DeviceRecord(
                address=s.health.address,
                wearer_id=s.binding.wearer_id,
                profile=s.binding.profile,
                name=s.binding.label,
                placement=s.binding.placement,
                battery_pct=s.health.battery_pct,
                last_seen_ns=s.health.last_seen_utc_ns,
                counters=health_counters(s),
            )
            for s in self.sessions
            if s.health.address is not None
        ]


async def _supervised(session: DeviceSession) -> None:
    """Run one device's session forever: an error ends neither it nor any other device."""
    log = RateLimitedLog(_LOGGER, interval_s=300.0, summary_level=logging.ERROR)
    failures = 0
    while True:
        try:
            await session.run()
            return
        except Exception as exc:  # asyncio.CancelledError is not an Exception: it ends the hub
            failures += 1
            log.log(
                time.monotonic(),
                logging.ERROR,
                "%s: the session ended with an error; restarting it",
                session.binding.label,
                exc_info=exc,
            )
        await asyncio.sleep(backoff_delay_s(failures, min_s=0.5, max_s=60.0))


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


def _stored_settings(config: HubConfig, wearer_id: str, repository: Repository) -> WearerSettings:
    """The wearer's settings: stored where absent (config defaults), then read back."""
    defaults = config.wearer_settings(wearer_id)
    try:
        stored = repository.seed_wearer_settings(wearer_id, defaults.to_json())
        return WearerSettings.from_json(stored, defaults=defaults)
    except (StorageError, WearerSettingsError) as exc:
        _LOGGER.warning("%s: using the hub config's settings (%s)", wearer_id, exc)
        return defaults


def _resume_state(
    wearer_id: str, repository: Repository, in_outbox: LiveRecord | None, timezone: str
) -> tuple[LiveRecord | None, list[NudgeRecord], dict[int, float]]:
    """The newest stored live state of a wearer (outbox or database), its nudges of the last
    hour and of the local day, and the walking bouts of that day."""
    candidates = [in_outbox]
    try:
        candidates.append(repository.live_state(wearer_id))
    except StorageError as exc:
        _LOGGER.warning("%s: cannot read the stored live state (%s)", wearer_id, exc)
    known = [c for c in candidates if c is not None]
    live = max(known, key=lambda c: c.device_time_ns, default=None)
    if live is None:
        return None, [], {}
    local = dt.datetime.fromtimestamp(live.device_time_ns / NS_PER_S, ZoneInfo(timezone))
    day_start_ns = int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
    day_start_ns *= NS_PER_S
    try:
        since = min(live.device_time_ns - RESUME_NUDGES_NS, day_start_ns)
        nudges = repository.nudges_since(wearer_id, since)
        walked = repository.walking_since(wearer_id, day_start_ns)
    except StorageError as exc:
        _LOGGER.warning("%s: cannot read the recent nudges (%s)", wearer_id, exc)
        nudges, walked = [], {}
    return live, nudges, walked


def _resume_alerts(
    wearer_id: str, repository: Repository, in_outbox: list[AlertRecord], since_ns: int
) -> list[AlertRecord]:
    """The wearer's alerts to continue: pending or open ones and recent gait changes, from
    the database and from the outbox (newer), the furthest state of each."""
    stored: list[AlertRecord] = []
    try:
        stored = repository.alerts_to_resume(wearer_id, gait_since_ns=since_ns)
    except StorageError as exc:
        _LOGGER.warning("%s: cannot read the open alerts (%s)", wearer_id, exc)
    latest: dict[object, AlertRecord] = {}
    for record in [*stored, *(a for a in in_outbox if a.wearer_id == wearer_id)]:
        held = latest.get(record.id)
        if held is None or state_rank(record.state) >= state_rank(held.state):
            latest[record.id] = record
    return list(latest.values())


def build_hub(
    config: HubConfig,
    repository: Repository,
    outbox: Outbox,
    *,
    backend: BleakBackend,
    clock: Clock,
    timing: StreamTiming | None = None,
    nudge_timeout_s: float = 10.0,
    alert_options: dict[str, Any] | None = None,
    **session_options: Any,
) -> Hub:
    """Sessions, runtimes, write path and dispatcher for a hub config.

    Records a previous run left in the outbox are written first (if the database takes
    them), so that every wearer resumes from the newest stored state. The roles of each
    device (motion, steps, nudge) come from :func:`~sensorhub.service.roles.assign_roles`.
    ``session_options`` go to every :class:`DeviceSession` (timeouts, backoff);
    ``alert_options`` to the :class:`~sensorhub.service.notifier.AlertNotifier` (poll, timeout),
    which runs when the config names caregivers.
    """
    writer = WriteOutbox(outbox, repository)
    dispatcher = NudgeDispatcher(writer, timeout_s=nudge_timeout_s)
    for wearer in config.wearers:
        repository.ensure_wearer(wearer.id, wearer.name, timezone=wearer.timezone)
    if outbox.pending or outbox.unwritten_snapshots():
        _LOGGER.warning(
            "writing %d record(s) a previous run left in the outbox %s", outbox.pending, outbox.path
        )
        with contextlib.suppress(StorageError):
            while writer.drain_once():
                pass
    sessions: list[DeviceSession] = []
    runtimes: list[WearerRuntime] = []
    in_outbox = outbox.live_states()  # read once, not once per wearer
    alerts_in_outbox = outbox.queued_alerts()

    def hub_utc_ns() -> int:
        return clock.utc_from_monotonic(clock.monotonic_ns())

    gait_since_ns = hub_utc_ns() - 8 * 86400 * NS_PER_S  # gait alerts: at most weekly
    for roles in assign_roles(config):
        wearer = roles.wearer
        live, nudges, walked = _resume_state(
            wearer.id, repository, in_outbox.get(wearer.id), wearer.timezone
        )
        alerts = _resume_alerts(wearer.id, repository, alerts_in_outbox, gait_since_ns)
        runtime = WearerRuntime(
            roles,
            writer,
            dispatcher.submit,
            resume=live,
            recent_nudges=nudges,
            settings=_stored_settings(config, wearer.id, repository),
            walked_today=walked,
            active_alerts=alerts,
            utc_now_ns=hub_utc_ns,
            buzz=dispatcher.buzz,
        )
        runtimes.append(runtime)
        by_device = _sessions_of(roles, runtime, backend, clock, timing, session_options)
        sessions.extend(by_device.values())
        runtime.nudge_targets = [by_device[id(d)] for d in roles.nudge]
    notifier = None
    if config.caregivers:
        notifier = AlertNotifier(
            AlertDeliveryStore.of(repository),
            config.caregivers,
            config.alerts,
            clock=clock,
            **(alert_options or {}),
        )
    return Hub(sessions, runtimes, writer, dispatcher, repository, config, notifier, clock)


def _sessions_of(
    roles: WearerDevices,
    runtime: WearerRuntime,
    backend: BleakBackend,
    clock: Clock,
    timing: StreamTiming | None,
    options: dict[str, Any],
) -> dict[int, DeviceSession]:
    out = {}
    for device in roles.devices:
        out[id(device)] = DeviceSession(
            device.binding,
            backend=backend_for(backend, device.adapter),
            clock=clock,
            on_block=runtime.on_block,
            on_steps=runtime.on_steps if device is roles.steps else None,
            stream_motion=device is roles.motion,
            settings=device.settings,
            timing=timing,
            **options,
        )
    return out


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


def storage_summary(stats: WriteStats, outbox: Outbox) -> dict[str, Any]:
    """What the write path stored and what it could not, for ``sensorhub run``'s summary."""
    return {
        "outbox": str(outbox.path),
        "written": stats.written,
        "pending_in_outbox": outbox.pending + outbox.unwritten_snapshots(),
        "not_stored": stats.unstored,
        "refused_by_database": stats.refused,
        "database_write_errors": stats.write_errors,
        "last_error": stats.last_error,
    }


async def until_stopped(
    collect: asyncio.Task[Any],
    timeout_s: float | None,
    before_cancel: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Wait for Ctrl-C, SIGTERM or ``timeout_s``; then stop collecting cleanly.

    Signal handlers are installed explicitly so that a hub or demo started in the background
    (where the shell ignores SIGINT) still stops on Ctrl-C or ``kill``. ``before_cancel`` runs
    first when collection is still going (e.g. to stop emulated wearables); cancelling
    :meth:`Hub.run` flushes open bouts and pending writes. An error that ended collection
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
