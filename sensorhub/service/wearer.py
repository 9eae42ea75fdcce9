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

**The nudge loop.** The wearer's own settings (:class:`~sensorhub.wearer_settings.
WearerSettings`: limits, quiet hours, snooze, walking goal, height and sensor height) set the
nudge engine's limits and the pipeline's heights (gait speed and shuffling share). After each
nudge the runtime watches the pipeline output (device clock) for a response: a static nudge's
bout ending (a position change held a minute, or walking: the tracker's rule) whose break begins
within the 10-min window, or for the walking-goal nudge a walk of a minute or more beginning in
it (or the end of the bout the wearer sat in). Then it writes a "moved"
:class:`~sensorhub.store.NudgeResponseRecord` through the outbox, with ``response_s`` = break
start - nudge (0 when the break had already begun as the nudge went out: the tracker confirms a
break a minute after it began). A bout ended by a data gap is no break. Nudges of the window
before a restart are watched again after it (the store keeps the first response, so nothing is
counted twice). The day's walking so far (finished walking bouts) is kept per local day, and
read back from the store on a restart.

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
import dataclasses
import datetime as dt
import logging
import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from firmware_protocols.sig import AlertLevel
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
from sensorhub.config import settings_of
from sensorhub.detect.baseline import daily_gait
from sensorhub.detect.bout_sources import GaitBoutArbiter
from sensorhub.detect.step_counts import RscCadenceTracker, StepCounterTracker
from sensorhub.errors import StorageError
from sensorhub.model import NS_PER_S, EpochSummary, Event, Fall, GaitBout, SampleBlock, StaticBout
from sensorhub.nudge import NudgeDecision, NudgeEngine, NudgeSettings
from sensorhub.pipeline import Pipeline, PipelineSettings
from sensorhub.service.dispatcher import Buzz, NudgeTarget, Submit
from sensorhub.service.roles import WearerDevices
from sensorhub.service.writer import WriteOutbox
from sensorhub.store import (
    RESPONSE_WINDOW_S,
    AlertRecord,
    LiveRecord,
    NudgeRecord,
    NudgeResponseRecord,
    Record,
    WearerRecords,
    nudge_id,
)
from sensorhub.wearer_settings import WearerSettings

__all__ = ["GAIT_HISTORY_DAYS", "WearerRuntime", "alert_from_record", "engine_settings"]

_LOGGER = logging.getLogger(__name__)

#: Days of gait history the daily review reads (the flagger's 28-day baseline and 7 recent).
GAIT_HISTORY_DAYS = 36

#: A break must last this long to count (DESIGN.md section 6; the tracker's ``min_break_s``).
MIN_BREAK_S = 60.0
#: How long after its window a nudge is still watched: a break that began late in the
#: window is confirmed only a minute (and the pipeline's context) later.
_CONFIRM_S = 3 * 60.0


def engine_settings(base: NudgeSettings, own: WearerSettings) -> NudgeSettings:
    """The nudge engine's settings: ``base`` (the config's) with the wearer's own values."""
    return dataclasses.replace(
        base,
        sitting_limit_s=own.sitting_limit_min * 60.0,
        standing_limit_s=own.standing_limit_min * 60.0,
        snooze_s=own.snooze_min * 60.0,
        quiet_start_hour=own.quiet_start_hour,
        quiet_end_hour=own.quiet_end_hour,
        walking_goal_s=own.walking_goal_min * 60.0,
        walking_goal_hour=own.walking_goal_hour,
    )


@dataclass(slots=True)
class _Awaiting:
    """A nudge whose response the runtime watches for."""

    nudge_id: uuid.UUID
    sent_ns: int
    #: the static bout in progress when it was sent (its end is the break), if any
    bout_start_ns: int | None
    walking_goal: bool


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
        The wearer's stored nudges of the hour (and of the local day) before ``resume``.
    settings
        The wearer's own settings (default: from the wearer and device config).
    walked_today
        Start (ns) -> duration (s) of the wearer's stored walking bouts of the local day of
        ``resume`` (the walking goal after a restart).
    alert_settings
        The wearer's alert settings (default: the defaults in the wearer's time zone).
    active_alerts
        The wearer's alerts still pending or open, and recent gait-change alerts (restart).
    utc_now_ns
        The hub's clock (UTC ns): when an alert transition is stored as decided.
    buzz
        Buzzes the band when a possible fall's cancel window starts (the dispatcher's).
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
        settings: WearerSettings | None = None,
        walked_today: Mapping[int, float] | None = None,
        alert_settings: AlertSettings | None = None,
        active_alerts: Sequence[AlertRecord] = (),
        utc_now_ns: Callable[[], int] = time.time_ns,
        buzz: Buzz | None = None,
    ) -> None:
        self.devices = devices
        self.wearer_id = devices.wearer.id
        self.has_imu = devices.motion is not None
        self.resumed_bout = None if resume is None else resume.bout
        upright = None if resume is None else resume.upright_axis
        self.settings = settings or settings_of(devices.wearer, devices.motion)
        own = self.settings
        self.pipeline = Pipeline(
            devices.placement,
            settings=PipelineSettings(
                upright_axis=upright,
                height_m=None if own.height_cm is None else own.height_cm / 100.0,
                sensor_height_m=None
                if own.sensor_height_cm is None
                else own.sensor_height_cm / 100.0,
            ),
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
        self._base_nudges = nudge_settings or devices.wearer.nudges
        self.nudges = NudgeEngine(engine_settings(self._base_nudges, own))
        resumed_ns = None if resume is None else resume.device_time_ns
        self.nudges.resume(
            sent=[
                (n.sent_ns, n.bout_start_ns)
                for n in recent_nudges
                if resumed_ns is None or resumed_ns - n.sent_ns < RESUME_NUDGES_NS
            ],
            bout=self.resumed_bout,
            walking_sent_ns=[n.sent_ns for n in recent_nudges if n.reason == "walking_goal"],
        )
        #: nudges whose response is watched for (by nudge id)
        self.awaiting: dict[uuid.UUID, _Awaiting] = {}
        for n in recent_nudges:
            if resumed_ns is not None and resumed_ns - n.sent_ns <= RESPONSE_WINDOW_S * NS_PER_S:
                walking = n.reason == "walking_goal"
                bout = self.resumed_bout
                start = (bout.start_ns if bout else None) if walking else n.bout_start_ns
                self.awaiting[n.id] = _Awaiting(n.id, n.sent_ns, start, walking)
        self._day_start_ns: int | None = (
            None if resumed_ns is None else self.nudges.day_start_ns(resumed_ns)
        )
        #: start (ns) -> duration (s) of the walking bouts of the local day
        self.walked: dict[int, float] = dict(walked_today or {})
        #: device times after which the data stopped for longer than a bout survives
        self._gaps_after_ns: list[int] = []
        #: Devices that may nudge this wearer, best first (set when the sessions exist).
        self.nudge_targets: list[NudgeTarget] = []
        self._writer = writer
        self._submit = submit_nudge
        self._buzz = buzz
        self._live_interval_s = live_interval_s
        self._last_live_write = -math.inf
        self._last_device_ns = 0 if resumed_ns is None else resumed_ns
        self._lock = asyncio.Lock()
        self.alerts = AlertRules(
            self.wearer_id,
            name=devices.wearer.name,
            settings=alert_settings
            or devices.wearer.alerts
            or AlertSettings(timezone=devices.wearer.timezone),
            active=[alert_from_record(r) for r in active_alerts],
            quiet_since_ns=None if resume is None else resume.quiet_since_ns,
            resumed_at_ns=None if resume is None else resume.device_time_ns,
        )
        self._utc_now_ns = utc_now_ns
        self._gait_reviewed: dt.date | None = None
        self._last_steps_total: int | None = None

    @property
    def last_device_ns(self) -> int:
        """Device time of the latest sample folded in (the resumed state's before any)."""
        return self._last_device_ns

    @property
    def walked_today_s(self) -> float:
        """Walking time (finished walking bouts) of the wearer's local day so far."""
        return sum(self.walked.values())

    def apply_settings(self, settings: WearerSettings) -> None:
        """Use changed settings (from the store) for nudges from now on.

        Heights change the pipeline's gait speed only from the next start of the hub.
        """
        self.settings = settings
        self.nudges.settings = engine_settings(self._base_nudges, settings)

    async def on_block(self, block: SampleBlock) -> None:
        """Fold one block of the motion device in: detect, store, decide on nudges."""
        async with self._lock:
            max_gap_ns = self.pipeline.settings.max_gap_s * NS_PER_S
            if self._last_device_ns and block.start_ns - self._last_device_ns > max_gap_ns:
                self._gaps_after_ns = [*self._gaps_after_ns[-9:], self._last_device_ns]
            out = self.pipeline.feed(block)
            self._last_device_ns = block.end_ns
            records: list[Record] = []
            events = self._imu_events(out.events)
            self._note_walking(events, block.end_ns)
            wearer_records = self._wearer_records(events, out.epochs)
            if wearer_records is not None:
                records.append(wearer_records)
            records.extend(self._responses(events, block.end_ns))
            motionless_s = self.pipeline.motionless_s(block.end_ns)
            decision = self.nudges.update(
                now_ns=block.end_ns,
                bout=out.live.bout,
                posture=out.live.posture,
                worn=out.live.worn,
                motionless_s=motionless_s,
            )
            if decision is None and motionless_s < self.nudges.settings.motionless_hold_s:
                decision = self.nudges.update_walking(
                    now_ns=block.end_ns,
                    walked_today_s=self.walked_today_s,
                    posture=out.live.posture,
                    worn=out.live.worn,
                )
            nudge = None if decision is None else self._nudge_record(decision, block.end_ns)
            if nudge is not None and decision is not None:
                records.append(nudge)
                walking = decision.reason == "walking_goal"
                bout = out.live.bout
                start: int | None = nudge.bout_start_ns
                if walking:
                    start = None if bout is None else bout.start_ns
                self.awaiting[nudge.id] = _Awaiting(nudge.id, nudge.sent_ns, start, walking)
            live = out.live
            observation = Observation(
                now_ns=block.end_ns,
                falls=[e for e in out.events if isinstance(e, Fall)],
                posture=live.posture,
                worn=live.worn,
                nonwear_since_ns=live.nonwear_since_ns,
                steps_ns=out.steps_ns.tolist(),
            )
            raised = self.alerts.observe(observation).alerts_
            records += self._alert_records(raised)
            records += await self._review_gait(block.end_ns)
            if time.monotonic() - self._last_live_write >= self._live_interval_s:
                records.append(self.live_record())
                self._last_live_write = time.monotonic()
            await self._writer.put(records)
            if nudge is not None:
                self._submit(nudge, self.nudge_targets)
            self._buzz_for_falls(raised)

    def _buzz_for_falls(self, alerts: Sequence[Alert]) -> None:
        """A possible fall that just went pending buzzes the band (where it can be buzzed):
        the wearer's cue that the cancel window runs (Apple Watch taps the wrist likewise)."""
        if self._buzz is None or not self.nudge_targets:
            return
        for alert in alerts:
            if alert.kind is AlertKind.POSSIBLE_FALL and alert.state is AlertState.PENDING:
                self._buzz(
                    self.wearer_id,
                    AlertLevel.HIGH,
                    "Did you fall? Press I'm OK in sensorhub, or your carers are told in a minute",
                    self.nudge_targets,
                )

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
            events, epochs = self._step_output(tracker)
            self._note_walking(events, data.t_ns)
            records: list[Record] = []
            stored = self._wearer_records(events, epochs)
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

    def _note_walking(self, events: Sequence[Event], now_ns: int) -> None:
        """Count finished walking bouts into the walking of the local day."""
        day_start = self.nudges.day_start_ns(now_ns)
        if day_start != self._day_start_ns:
            self._day_start_ns = day_start
            self.walked = {s: d for s, d in self.walked.items() if s >= day_start}
        for event in events:
            if isinstance(event, GaitBout) and event.start_ns >= day_start:
                self.walked[event.start_ns] = (event.end_ns - event.start_ns) / NS_PER_S

    def _is_break(self, end_ns: int) -> bool:
        """True if a bout that ended at ``end_ns`` ended with a break, not a data gap."""
        window = MIN_BREAK_S * NS_PER_S
        return not any(end_ns <= g < end_ns + window for g in self._gaps_after_ns)

    def _responses(self, events: Sequence[Event], now_ns: int) -> list[NudgeResponseRecord]:
        """The "moved" responses the events show, and nudges no longer watched dropped."""
        if not self.awaiting:
            return []
        window_ns = int(RESPONSE_WINDOW_S * NS_PER_S)
        ended = {
            e.start_ns: e.end_ns
            for e in events
            if isinstance(e, StaticBout) and self._is_break(e.end_ns)
        }
        walks = [
            e
            for e in events
            if isinstance(e, GaitBout) and e.end_ns - e.start_ns >= MIN_BREAK_S * NS_PER_S
        ]
        out: list[NudgeResponseRecord] = []
        for key, waiting in list(self.awaiting.items()):
            break_ns: int | None = None
            if waiting.bout_start_ns is not None and waiting.bout_start_ns in ended:
                break_ns = ended[waiting.bout_start_ns]
            elif waiting.walking_goal:
                starts = [w.start_ns for w in walks if w.end_ns > waiting.sent_ns]
                break_ns = min(starts, default=None)
            if break_ns is not None:
                del self.awaiting[key]
                if break_ns - waiting.sent_ns <= window_ns:
                    out.append(
                        NudgeResponseRecord(
                            self.wearer_id,
                            waiting.nudge_id,
                            "moved",
                            responded_ns=max(break_ns, waiting.sent_ns),
                            response_s=max(0.0, (break_ns - waiting.sent_ns) / NS_PER_S),
                        )
                    )
            elif now_ns - waiting.sent_ns > window_ns + _CONFIRM_S * NS_PER_S:
                del self.awaiting[key]
        return out

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
            id=nudge_id(
                self.wearer_id,
                decision.bout_start_ns,
                0 if decision.reason == "walking_goal" else decision.ordinal,
            ),
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
