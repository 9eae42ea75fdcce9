"""The live processing of one wearer: blocks and step data in, records and nudges out.

:class:`WearerRuntime` folds the blocks of the wearer's motion device into its detection
:class:`~sensorhub.pipeline.Pipeline` and the step data of its step source into a step
tracker, keeps one walking bout per walk (:class:`~sensorhub.detect.bout_sources.
GaitBoutArbiter`), asks the :class:`~sensorhub.nudge.NudgeEngine` whether to nudge, and hands
everything it produced to the :class:`~sensorhub.service.writer.WriteOutbox` (durable before
it returns) and decided nudges to the :class:`~sensorhub.service.dispatcher.NudgeDispatcher`
(delivered outside this wearer's lock).

A restarted hub resumes the wearer from the stored live state: the bout in progress goes on
from its stored start if the wearer is still in the same position, and the nudge engine knows
the nudges already sent (none is sent twice).

Caregiver alerts: after each block the runtime gives the pipeline's output to the wearer's
:class:`~sensorhub.alerts.AlertRules` (device clock) and writes the transitions it decides
through the same outbox; the hub's health loop calls :meth:`WearerRuntime.check_health` with
the devices' health (hub's clock), and the wearer's gait is reviewed against their baseline
once a day (the first block of each local day). A restarted hub passes the alerts that were
pending or open (``active_alerts``): they go on where they were, none is raised twice.

Step-only epochs (a foot pod, a band's step counter) are stored only for wearers without an
IMU: epochs are upserted by (wearer, minute), and an IMU's epoch is never overwritten by a
step-only one; their ``enmo_mg`` is stored as NULL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
from collections.abc import Callable, Sequence

from sensorhub.alerts import (
    Alert,
    AlertKind,
    AlertRules,
    AlertSettings,
    AlertState,
    DeviceStatus,
    Observation,
)
from sensorhub.ble.streams import StepData
from sensorhub.detect.baseline import daily_gait
from sensorhub.detect.bout_sources import GaitBoutArbiter
from sensorhub.detect.step_counts import RscCadenceTracker, StepCounterTracker
from sensorhub.errors import StorageError
from sensorhub.model import NS_PER_S, EpochSummary, Event, Fall, GaitBout, SampleBlock
from sensorhub.nudge import NudgeDecision, NudgeEngine, NudgeSettings
from sensorhub.pipeline import Pipeline, PipelineSettings
from sensorhub.service.dispatcher import NudgeTarget, Submit
from sensorhub.service.roles import WearerDevices
from sensorhub.service.writer import WriteOutbox
from sensorhub.store import (
    AlertRecord,
    LiveRecord,
    NudgeRecord,
    Record,
    WearerRecords,
    nudge_id,
)

__all__ = ["GAIT_HISTORY_DAYS", "WearerRuntime", "alert_from_record"]

_LOGGER = logging.getLogger(__name__)

#: Days of gait history the daily review reads (the flagger's 28-day baseline and 7 recent).
GAIT_HISTORY_DAYS = 36


def alert_from_record(record: AlertRecord) -> Alert:
    """The rules' view of a stored alert (to resume it)."""
    cause = record.cause_ns if record.cause_ns is not None else record.updated_ns
    return Alert(
        id=record.id,
        wearer_id=record.wearer_id,
        kind=AlertKind(record.kind),
        state=AlertState(record.state),
        reason=record.reason,
        cause_ns=cause,
        at_ns=record.updated_ns,
        subject=record.subject,
        cancel_until_ns=record.cancel_until_ns,
        evidence=dict(record.evidence),
    )


class WearerRuntime:
    """The live processing of one wearer.

    Parameters
    ----------
    devices
        The wearer and the roles of their devices.
    writer
        Where records go (durably).
    submit_nudge
        Hands a decided nudge to the dispatcher.
    nudge_settings
        The wearer's nudge settings (default: the wearer config's).
    live_interval_s
        Least host time between two live-state snapshots (the dashboard's timer reads them).
    resume
        The wearer's stored live state, to continue its bout in progress after a restart.
    recent_nudges
        The wearer's stored nudges of the hour before ``resume``.
    alert_settings
        The wearer's alert settings (default: the defaults in the wearer's time zone).
    active_alerts
        The wearer's alerts still pending or open, and recent gait-change alerts (restart).
    utc_now_ns
        The hub's clock (UTC ns): when an alert transition is stored as decided.
    """

    def __init__(
        self,
        devices: WearerDevices,
        writer: WriteOutbox,
        submit_nudge: Submit,
        *,
        nudge_settings: NudgeSettings | None = None,
        live_interval_s: float = 0.5,
        resume: LiveRecord | None = None,
        recent_nudges: Sequence[NudgeRecord] = (),
        alert_settings: AlertSettings | None = None,
        active_alerts: Sequence[AlertRecord] = (),
        utc_now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.devices = devices
        self.wearer_id = devices.wearer.id
        self.has_imu = devices.motion is not None
        self.resumed_bout = None if resume is None else resume.bout
        upright = None if resume is None else resume.upright_axis
        self.pipeline = Pipeline(
            devices.placement,
            settings=None if upright is None else PipelineSettings(upright_axis=upright),
            resume=self.resumed_bout,
        )
        self.step_tracker: StepCounterTracker | RscCadenceTracker | None = None
        if devices.steps is not None:
            if devices.steps_yield_cadence:
                self.step_tracker = RscCadenceTracker()
            else:
                bits = 16 if devices.steps.profile == "metawear" else 32  # MetaWear: u16
                self.step_tracker = StepCounterTracker(counter_bits=bits)
        self.bout_arbiter = GaitBoutArbiter(devices.preferred_bouts)
        self.nudges = NudgeEngine(nudge_settings or devices.wearer.nudges)
        self.nudges.resume(
            sent=[(n.sent_ns, n.bout_start_ns) for n in recent_nudges],
            bout=self.resumed_bout,
        )
        #: Devices that may nudge this wearer, best first (set when the sessions exist).
        self.nudge_targets: list[NudgeTarget] = []
        self._writer = writer
        self._submit = submit_nudge
        self._live_interval_s = live_interval_s
        self._last_live_write = -math.inf
        self._last_device_ns = 0
        self._lock = asyncio.Lock()
        self.alerts = AlertRules(
            self.wearer_id,
            name=devices.wearer.name,
            settings=alert_settings or AlertSettings(timezone=devices.wearer.timezone),
            active=[alert_from_record(r) for r in active_alerts],
            quiet_since_ns=None if resume is None else resume.quiet_since_ns,
            resumed_at_ns=None if resume is None else resume.device_time_ns,
        )
        self._utc_now_ns = utc_now_ns
        self._gait_reviewed: dt.date | None = None
        self._last_steps_total: int | None = None

    async def on_block(self, block: SampleBlock) -> None:
        """Fold one block of the motion device in: detect, store, decide on nudges."""
        async with self._lock:
            out = self.pipeline.feed(block)
            self._last_device_ns = block.end_ns
            records: list[Record] = []
            wearer_records = self._wearer_records(self._imu_events(out.events), out.epochs)
            if wearer_records is not None:
                records.append(wearer_records)
            decision = self.nudges.update(
                now_ns=block.end_ns,
                bout=out.live.bout,
                posture=out.live.posture,
                worn=out.live.worn,
                motionless_s=self.pipeline.motionless_s(block.end_ns),
            )
            nudge = None if decision is None else self._nudge_record(decision, block.end_ns)
            if nudge is not None:
                records.append(nudge)
            live = out.live
            observation = Observation(
                now_ns=block.end_ns,
                falls=[e for e in out.events if isinstance(e, Fall)],
                posture=live.posture,
                worn=live.worn,
                nonwear_since_ns=live.nonwear_since_ns,
                steps_ns=out.steps_ns.tolist(),
            )
            records += self._alert_records(self.alerts.observe(observation).alerts_)
            records += await self._review_gait(block.end_ns)
            if time.monotonic() - self._last_live_write >= self._live_interval_s:
                records.append(self.live_record())
                self._last_live_write = time.monotonic()
            await self._writer.put(records)
            if nudge is not None:
                self._submit(nudge, self.nudge_targets)

    def live_record(self) -> LiveRecord:
        """The wearer's live state now (posture, bout in progress, stillness)."""
        live = self.pipeline.live
        return LiveRecord(
            self.wearer_id,
            live.posture,
            live.bout,
            self._last_device_ns,
            live.still_since_ns,
            self.pipeline.learned_upright_axis(),
            self.alerts.quiet_since_ns,
        )

    async def on_steps(self, data: StepData) -> None:
        """Fold one measurement of the wearer's step source in, and store."""
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
            records: list[Record] = []
            stored = self._wearer_records(*self._step_output(tracker))
            if stored is not None:
                records.append(stored)
            if not self.has_imu:  # with an IMU, its posture says when the wearer walks
                walked = [data.t_ns] if self._steps_walking(data) else []
                observation = Observation(now_ns=data.t_ns, steps_ns=walked)
                records += self._alert_records(self.alerts.observe(observation).alerts_)
            await self._writer.put(records)

    def _steps_walking(self, data: StepData) -> bool:
        if data.cadence_spm is not None:
            return data.cadence_spm > 0
        total = data.steps_total
        previous, self._last_steps_total = self._last_steps_total, total
        return total is not None and previous is not None and total != previous

    async def check_health(self, devices: Sequence[DeviceStatus], now_ns: int) -> None:
        """Judge the wearer's devices' health at ``now_ns`` (the hub's clock); store alerts."""
        async with self._lock:
            alerts = self.alerts.check_devices(devices, now_ns).alerts_
            records = self._alert_records(alerts, now_ns)
            await self._writer.put(records)

    def _alert_records(self, alerts: Sequence[Alert], now_ns: int | None = None) -> list[Record]:
        """The records of alert transitions decided at ``now_ns`` (default: the hub's now)."""
        if not alerts:
            return []
        now = self._utc_now_ns() if now_ns is None else now_ns
        return [
            AlertRecord(
                id=a.id,
                wearer_id=a.wearer_id,
                kind=str(a.kind),
                severity=str(a.severity),
                state=str(a.state),
                reason=a.reason,
                updated_ns=now,
                cause_ns=a.cause_ns,
                cancel_until_ns=a.cancel_until_ns,
                subject=a.subject,
                evidence=dict(a.evidence),
            )
            for a in alerts
        ]

    async def _review_gait(self, now_ns: int) -> list[Record]:
        """Once a local day: the wearer's gait of the days before against their baseline."""
        settings = self.alerts.settings
        today = settings.local(now_ns).date()
        if self._gait_reviewed == today:
            return []
        self._gait_reviewed = today
        since_ns = now_ns - GAIT_HISTORY_DAYS * 86400 * NS_PER_S
        try:
            bouts, epochs = await asyncio.to_thread(
                self._writer.repository.gait_history, self.wearer_id, since_ns
            )
        except StorageError as exc:
            _LOGGER.warning("%s: gait not reviewed today (%s)", self.wearer_id, exc)
            return []
        offset = settings.local(now_ns).utcoffset()
        offset_s = 0 if offset is None else int(offset.total_seconds())
        days = daily_gait(bouts, epochs, utc_offset_s=offset_s)
        yesterday = today - dt.timedelta(days=1)
        return self._alert_records(self.alerts.review_gait(days, today=yesterday).alerts_)

    def _imu_events(self, events: Sequence[Event]) -> list[Event]:
        gait = [e for e in events if isinstance(e, GaitBout)]
        self.bout_arbiter.add("imu", gait, self.pipeline.live.gait_settled_ns)
        return [e for e in events if not isinstance(e, GaitBout)] + self.bout_arbiter.bouts_

    def _step_output(
        self, tracker: StepCounterTracker | RscCadenceTracker
    ) -> tuple[list[Event], list[EpochSummary]]:
        self.bout_arbiter.add("steps", tracker.bouts_, tracker.settled_ns_)
        epochs = [] if self.has_imu else list(tracker.epochs_)
        return list(self.bout_arbiter.bouts_), epochs

    def _wearer_records(
        self, events: Sequence[Event], epochs: Sequence[EpochSummary]
    ) -> WearerRecords | None:
        if not events and not epochs:
            return None
        return WearerRecords(self.wearer_id, tuple(events), tuple(epochs))

    def _nudge_record(self, decision: NudgeDecision, now_ns: int) -> NudgeRecord:
        return NudgeRecord(
            wearer_id=self.wearer_id,
            sent_ns=now_ns,
            reason=decision.reason,
            bout_start_ns=decision.bout_start_ns,
            bout_duration_s=decision.bout_duration_s,
            level=decision.level,
            message=decision.message,
            channel="band",
            delivery="pending",
            exercise_id=None if decision.exercise is None else decision.exercise.id,
            id=nudge_id(self.wearer_id, decision.bout_start_ns, decision.ordinal),
        )

    async def finish(self) -> None:
        """End of collection: close open bouts and store everything still held."""
        async with self._lock:
            # the live state keeps the bout in progress, so a restart resumes it (closing it
            # below stores it under the same id, which the resumed bout updates later)
            live = self.live_record() if self._last_device_ns else None
            out = self.pipeline.flush()
            events, epochs = self._imu_events(out.events), out.epochs
            records: list[Record] = []
            first = self._wearer_records(events, epochs)
            if first is not None:
                records.append(first)
            tracker = self.step_tracker
            if tracker is not None:
                tracker.update([], [], final=True)
                steps = self._wearer_records(*self._step_output(tracker))
                if steps is not None:
                    records.append(steps)
            self.bout_arbiter.finish()
            last = self._wearer_records(self.bout_arbiter.bouts_, [])
            if last is not None:
                records.append(last)
            if live is not None:
                records.append(live)
            await self._writer.put(records)


#: How far back stored nudges matter to a resumed engine (its hourly cap).
RESUME_NUDGES_NS = 3600 * NS_PER_S
