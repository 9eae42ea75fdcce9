"""The alert rules of one wearer: pipeline output and device health in, alert transitions out.

:class:`AlertRules` is fed, on the device clock, with what the wearer's pipeline found after
each block (:class:`Observation`: falls, posture, wear, steps), on the hub's clock with the
health of the wearer's devices (:class:`DeviceStatus`), and once a day with the wearer's
daily gait summaries. Each call leaves the transitions it decided in ``alerts_``
(:class:`~sensorhub.alerts.kinds.Alert`); the caller stores them. Pure: no I/O, no clock of
its own, so the same data always gives the same alerts with the same ids.

* **possible_fall** (urgent): a fall event opens a *pending* alert whose cancel window ends
  ``fall_cancel_s`` after the impact. Walking after the impact and before the window's end
  (``cancel_steps`` steps) cancels it ("cancelled": nobody is told); otherwise it *opens*
  once the data up to the window's end has been analysed (``analysis_lag_s`` later). If the
  band sends nothing more, it opens on the hub's clock ``no_data_grace_s`` after the window's
  end.
* **long_inactivity** (warning): no walking for ``inactivity_s`` of the wearer's daytime while
  the band is worn; resolved by the next walk. One alert per quiet period.
* **band_not_worn** (warning): non-wear confirmed by the wear detector, lasting
  ``not_worn_s`` of daytime from its start; resolved when the band is worn again.
* **device_offline** (warning): no data from a device for ``offline_s`` of daytime (hub's
  clock); resolved when data comes again.
* **battery_low** (info): a device's battery below ``battery_low_pct``; resolved once it is
  charged back above ``battery_low_pct + battery_hysteresis_pct``.
* **gait_change** (info): a flag of :class:`~sensorhub.detect.baseline.GaitTrendFlagger`
  against the wearer's own baseline, at most once per ``gait_repeat_s`` per metric, worded
  for a conversation with a physiotherapist.

Reasons are plain words for a caregiver's phone and never a diagnosis. A restarted hub gives
the rules the wearer's active alerts back (``active``), so none is raised twice or lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Self

from sensorhub.alerts.kinds import FINAL_STATES, Alert, AlertKind, AlertState, alert_id
from sensorhub.alerts.settings import AlertSettings
from sensorhub.detect.baseline import DailyGait, GaitFlag, GaitTrendFlagger
from sensorhub.model import NS_PER_S, Fall, Posture, event_id

__all__ = ["AlertRules", "DeviceStatus", "Observation"]


@dataclass(frozen=True, slots=True)
class Observation:
    """What the pipeline says of a wearer after one block (device clock).

    Attributes
    ----------
    now_ns
        Time of the latest sample folded in.
    falls
        Fall events the block completed.
    posture
        Posture of the latest analysed frame (None: not known from this source).
    worn
        False while confirmed non-wear goes on (None: not known from this source).
    nonwear_since_ns
        Start of the confirmed non-wear (when ``worn`` is False).
    steps_ns
        Steps the block confirmed (initial contacts, device time), or for a step source
        the time of each step counted. A walking label alone is not walking here: shifting
        in a chair gets it for a second or two, steps it does not.
    """

    now_ns: int
    falls: Sequence[Fall] = ()
    posture: Posture | None = None
    worn: bool | None = None
    nonwear_since_ns: int | None = None
    steps_ns: Sequence[int] = ()


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """The health of one of the wearer's devices, as the hub sees it (hub's clock)."""

    address: str
    name: str
    #: UTC of the latest data (None: nothing since the hub started)
    last_seen_ns: int | None
    battery_pct: int | None = None


def _minutes(ns: int) -> int:
    return int(ns // (60 * NS_PER_S))


def _duration_text(ns: int) -> str:
    minutes = _minutes(ns)
    if minutes < 120:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if rest == 0 else f"{hours} h {rest} min"


#: Caregiver wording of each gait flag: what changed, for a talk with a physiotherapist.
_GAIT_WORDING: Mapping[str, str] = {
    "cadence_drop": "{name} walked with fewer steps a minute than usual over the last week "
    "({recent:.0f} against {baseline:.0f} steps/min)",
    "stride_cv_high": "{name}'s steps were less even than usual on several days of the last "
    "week (stride-time variability {recent:.1f} % against {baseline:.1f} % usually)",
    "asymmetry_high": "{name}'s left and right steps differed more than usual on several "
    "days of the last week (about {recent:.0f} %)",
    "speed_drop": "{name} walked more slowly than usual over the last week "
    "({recent:.2f} against {baseline:.2f} m/s)",
}
_GAIT_ADVICE = (
    ". This can have many everyday causes; worth mentioning to their physiotherapist or "
    "doctor at the next visit. It is not a diagnosis."
)


class AlertRules:
    """Decides a wearer's caregiver alerts (see the module docstring).

    Parameters
    ----------
    wearer_id
        The wearer.
    name
        How caregivers call the wearer in the reasons (default: the id).
    settings
        The wearer's alert settings.
    active
        The wearer's alerts that are still pending or open, and the recent gait-change
        alerts, as stored (a restarted hub): they are continued, never raised again.
    quiet_since_ns, resumed_at_ns
        A restarted hub: the start of the period without steps before the restart, and the
        device time the stored state reached; the count goes on when the first new data
        comes within ``resume_gap_s`` of it.

    Attributes
    ----------
    alerts_
        The transitions the latest call decided, in order.
    """

    def __init__(
        self,
        wearer_id: str,
        *,
        name: str | None = None,
        settings: AlertSettings | None = None,
        active: Iterable[Alert] = (),
        quiet_since_ns: int | None = None,
        resumed_at_ns: int | None = None,
    ) -> None:
        self.wearer_id = wearer_id
        self.name = name or wearer_id
        self.settings = settings or AlertSettings()
        self.alerts_: list[Alert] = []
        self._fall: Alert | None = None
        self._inactivity: Alert | None = None
        self._not_worn: Alert | None = None
        self._offline: dict[str, Alert] = {}
        self._battery: dict[str, Alert] = {}
        self._gait_last_ns: dict[str, int] = {}
        self._quiet_from_ns: int | None = None
        self._resumed_quiet = (
            None if quiet_since_ns is None or resumed_at_ns is None
            else (quiet_since_ns, resumed_at_ns)
        )  # fmt: skip
        self._steps_after_fall = 0
        self._last_data_ns: int | None = None
        self._first_health_ns: int | None = None
        for alert in active:
            self._resume(alert)

    def _resume(self, alert: Alert) -> None:
        if alert.kind is AlertKind.GAIT_CHANGE:
            last = self._gait_last_ns.get(alert.subject)
            self._gait_last_ns[alert.subject] = max(alert.cause_ns, last or alert.cause_ns)
            return
        if alert.state in FINAL_STATES:
            return
        if alert.kind is AlertKind.POSSIBLE_FALL:
            if self._fall is None or alert.cause_ns > self._fall.cause_ns:
                self._fall = alert
        elif alert.kind is AlertKind.LONG_INACTIVITY:
            self._inactivity = alert
        elif alert.kind is AlertKind.BAND_NOT_WORN:
            self._not_worn = alert
        elif alert.kind is AlertKind.DEVICE_OFFLINE:
            self._offline[alert.subject] = alert
        elif alert.kind is AlertKind.BATTERY_LOW:
            self._battery[alert.subject] = alert

    @property
    def quiet_since_ns(self) -> int | None:
        """Start of the current period without steps while worn (None: not counting)."""
        return self._quiet_from_ns

    @property
    def active(self) -> list[Alert]:
        """The alerts that are pending or open, as far as these rules know."""
        held = [self._fall, self._inactivity, self._not_worn]
        held += [*self._offline.values(), *self._battery.values()]
        return [a for a in held if a is not None and a.state not in FINAL_STATES]

    # ------------------------------------------------------------------ building blocks

    def _new(
        self,
        kind: AlertKind,
        state: AlertState,
        reason: str,
        *,
        cause_ns: int,
        at_ns: int,
        subject: str = "",
        cancel_until_ns: int | None = None,
        evidence: Mapping[str, Any] | None = None,
    ) -> Alert:
        alert = Alert(
            id=alert_id(self.wearer_id, kind, cause_ns, subject),
            wearer_id=self.wearer_id,
            kind=kind,
            state=state,
            reason=reason,
            cause_ns=cause_ns,
            at_ns=at_ns,
            subject=subject,
            cancel_until_ns=cancel_until_ns,
            evidence=dict(evidence or {}),
        )
        self.alerts_.append(alert)
        return alert

    def _move(self, alert: Alert, state: AlertState, reason: str, at_ns: int) -> Alert:
        moved = replace(alert, state=state, reason=reason, at_ns=at_ns)
        self.alerts_.append(moved)
        return moved

    def _clock(self, t_ns: int) -> str:
        return self.settings.clock_text(t_ns)

    def _daytime_for(self, since_ns: int, now_ns: int) -> int | None:
        """Daytime ns between ``since_ns`` and ``now_ns`` counted as in the rules (None: it is
        not daytime now): from the later of ``since_ns`` and the start of today's daytime."""
        day_start = self.settings.daytime_start_ns(now_ns)
        if day_start is None:
            return None
        return now_ns - max(since_ns, day_start)

    # ------------------------------------------------------------------ pipeline (device clock)

    def observe(self, obs: Observation) -> Self:
        """Fold in what the pipeline said after one block; decide the transitions."""
        self.alerts_ = []
        now = obs.now_ns
        self._last_data_ns = now if self._last_data_ns is None else max(now, self._last_data_ns)
        if self._resumed_quiet is not None:
            since, resumed_at = self._resumed_quiet
            if now - resumed_at <= self.settings.resume_gap_s * NS_PER_S:
                self._quiet_from_ns = since
            self._resumed_quiet = None
        for fall in obs.falls:
            self._raise_fall(fall, now)
        self._decide_fall(now, obs.steps_ns)
        self._judge_inactivity(obs)
        self._judge_wear(obs)
        return self

    def _raise_fall(self, fall: Fall, now_ns: int) -> None:
        held = self._fall
        if held is not None and (
            held.cause_ns == fall.start_ns or held.state is AlertState.PENDING
        ):
            return  # the same fall, or a second impact inside the window: one alert
        cancel_s = self.settings.fall_cancel_s
        self._steps_after_fall = 0
        self._fall = self._new(
            AlertKind.POSSIBLE_FALL,
            AlertState.PENDING,
            f"Possible fall at {self._clock(fall.start_ns)}; waiting {cancel_s:.0f} s for "
            f"{self.name} to get up or to say they are OK.",
            cause_ns=fall.start_ns,
            at_ns=now_ns,
            cancel_until_ns=fall.start_ns + round(cancel_s * NS_PER_S),
            evidence={
                "event_ids": [str(event_id(self.wearer_id, Fall.kind, fall.start_ns))],
                "fall_at_ns": fall.start_ns,
                "confidence": round(fall.confidence, 3),
            },
        )

    def _decide_fall(self, now_ns: int, steps_ns: Sequence[int]) -> None:
        fall = self._fall
        if fall is None or fall.state is not AlertState.PENDING:
            return
        assert fall.cancel_until_ns is not None
        self._steps_after_fall += sum(
            1 for t in steps_ns if fall.cause_ns < t <= fall.cancel_until_ns
        )
        lag = round(self.settings.analysis_lag_s * NS_PER_S)
        seen_ns = now_ns - lag  # the analysis has decided the steps up to about here
        if self._steps_after_fall >= self.settings.cancel_steps:
            self._fall = self._move(
                fall,
                AlertState.CANCELLED,
                f"Possible fall at {self._clock(fall.cause_ns)}; {self.name} got up and walked "
                "within the minute, so no one was alerted.",
                now_ns,
            )
        elif seen_ns >= fall.cancel_until_ns:
            self._fall = self._move(
                fall,
                AlertState.OPEN,
                f"Possible fall at {self._clock(fall.cause_ns)}; {self.name} has not got up.",
                now_ns,
            )

    def _judge_inactivity(self, obs: Observation) -> None:
        now = obs.now_ns
        if obs.steps_ns:
            walked = max(obs.steps_ns)
            if self._inactivity is not None:
                self._move(
                    self._inactivity,
                    AlertState.RESOLVED,
                    f"{self.name} walked again at {self._clock(walked)}.",
                    now,
                )
                self._inactivity = None
            self._quiet_from_ns = walked
            return
        if obs.worn is False:
            self._quiet_from_ns = None  # counted again from when the band is back on
            return
        if obs.worn is None and self._quiet_from_ns is None:
            return  # a step source alone says nothing about stillness
        if self._quiet_from_ns is None:
            self._quiet_from_ns = now
        if self._inactivity is not None:
            return
        quiet_ns = self._daytime_for(self._quiet_from_ns, now)
        if quiet_ns is None or quiet_ns < self.settings.inactivity_s * NS_PER_S:
            return
        since = self._quiet_from_ns
        self._inactivity = self._new(
            AlertKind.LONG_INACTIVITY,
            AlertState.OPEN,
            f"No walking seen since {self._clock(since)} ({_duration_text(now - since)}) while "
            f"the band is worn; worth checking on {self.name}.",
            cause_ns=since,
            at_ns=now,
            evidence={"posture": None if obs.posture is None else str(obs.posture)},
        )

    def _judge_wear(self, obs: Observation) -> None:
        now = obs.now_ns
        if obs.worn is None:
            return
        if obs.worn:
            if self._not_worn is not None:
                self._move(
                    self._not_worn,
                    AlertState.RESOLVED,
                    f"{self.name}'s band is worn again since {self._clock(now)}.",
                    now,
                )
                self._not_worn = None
            return
        if self._not_worn is not None:
            return
        since = obs.nonwear_since_ns if obs.nonwear_since_ns is not None else now
        off_ns = self._daytime_for(since, now)
        if off_ns is None or off_ns < self.settings.not_worn_s * NS_PER_S:
            return
        self._not_worn = self._new(
            AlertKind.BAND_NOT_WORN,
            AlertState.OPEN,
            f"{self.name}'s band has not been worn since {self._clock(since)} "
            f"({_duration_text(now - since)}); it may have been left on a table or charger.",
            cause_ns=since,
            at_ns=now,
        )

    # ------------------------------------------------------------------ devices (hub's clock)

    def check_devices(self, devices: Sequence[DeviceStatus], now_ns: int) -> Self:
        """Judge the devices' health at ``now_ns`` (hub's clock), and end a fall's cancel
        window on the hub's clock when the band sent nothing to decide it."""
        self.alerts_ = []
        if self._first_health_ns is None:
            self._first_health_ns = now_ns
        self._expire_fall(now_ns)
        for device in devices:
            self._judge_offline(device, now_ns)
            self._judge_battery(device, now_ns)
        return self

    def _expire_fall(self, now_ns: int) -> None:
        fall = self._fall
        if fall is None or fall.state is not AlertState.PENDING:
            return
        assert fall.cancel_until_ns is not None
        grace = round(self.settings.no_data_grace_s * NS_PER_S)
        if now_ns < fall.cancel_until_ns + grace:
            return
        last = self._last_data_ns
        since = "" if last is None else f" (no data from the band since {self._clock(last)})"
        self._fall = self._move(
            fall,
            AlertState.OPEN,
            f"Possible fall at {self._clock(fall.cause_ns)}; {self.name} has not said they "
            f"are OK{since}.",
            now_ns,
        )

    def _judge_offline(self, device: DeviceStatus, now_ns: int) -> None:
        held = self._offline.get(device.address)
        assert self._first_health_ns is not None
        last = device.last_seen_ns if device.last_seen_ns is not None else self._first_health_ns
        if held is not None:
            if device.last_seen_ns is not None and device.last_seen_ns > held.cause_ns:
                self._move(
                    held,
                    AlertState.RESOLVED,
                    f"{device.name} sends data again since {self._clock(device.last_seen_ns)}.",
                    now_ns,
                )
                del self._offline[device.address]
            return
        off_ns = self._daytime_for(last, now_ns)
        if off_ns is None or off_ns < self.settings.offline_s * NS_PER_S:
            return
        heard = "" if device.last_seen_ns is None else f" since {self._clock(last)}"
        self._offline[device.address] = self._new(
            AlertKind.DEVICE_OFFLINE,
            AlertState.OPEN,
            f"No data from {self.name}'s {device.name}{heard} ({_duration_text(now_ns - last)}); "
            "it may be out of range, switched off or flat.",
            cause_ns=last,
            at_ns=now_ns,
            subject=device.address,
            evidence={"address": device.address},
        )

    def _judge_battery(self, device: DeviceStatus, now_ns: int) -> None:
        pct = device.battery_pct
        if pct is None:
            return
        held = self._battery.get(device.address)
        low = self.settings.battery_low_pct
        if held is not None:
            if pct >= low + self.settings.battery_hysteresis_pct:
                self._move(
                    held, AlertState.RESOLVED, f"{device.name} is charged again ({pct} %).", now_ns
                )
                del self._battery[device.address]
            return
        if pct >= low:
            return
        self._battery[device.address] = self._new(
            AlertKind.BATTERY_LOW,
            AlertState.OPEN,
            f"The battery of {self.name}'s {device.name} is low ({pct} %); please charge it today.",
            cause_ns=now_ns,
            at_ns=now_ns,
            subject=device.address,
            evidence={"address": device.address, "battery_pct": pct},
        )

    # ------------------------------------------------------------------ gait (once a day)

    def review_gait(self, days: Sequence[DailyGait], *, today: dt.date) -> Self:
        """Compare the wearer's recent gait with their own baseline up to ``today`` (a local
        date); one alert per flagged metric, at most once per ``gait_repeat_s``."""
        self.alerts_ = []
        flagger = GaitTrendFlagger().evaluate(days, today=today)
        midnight = dt.datetime.combine(today, dt.time(), tzinfo=self.settings.zone())
        cause_ns = int(midnight.timestamp()) * NS_PER_S
        repeat_ns = round(self.settings.gait_repeat_s * NS_PER_S)
        for flag in flagger.flags_:
            last = self._gait_last_ns.get(flag.kind)
            if last is not None and cause_ns - last < repeat_ns:
                continue
            self._gait_last_ns[flag.kind] = cause_ns
            self._new(
                AlertKind.GAIT_CHANGE,
                AlertState.OPEN,
                self._gait_reason(flag),
                cause_ns=cause_ns,
                at_ns=cause_ns,
                subject=flag.kind,
                evidence={
                    "metric": flag.kind,
                    "recent": round(flag.recent, 3),
                    "baseline": None if flag.baseline is None else round(flag.baseline, 3),
                    "detail": flag.detail,
                    "baseline_days": flagger.baseline_valid_days_,
                },
            )
        return self

    def _gait_reason(self, flag: GaitFlag) -> str:
        template = _GAIT_WORDING.get(flag.kind, "{name}'s walking changed: {detail}")
        text = template.format(
            name=self.name,
            recent=flag.recent,
            baseline=flag.baseline if flag.baseline is not None else float("nan"),
            detail=flag.detail,
        )
        return text + _GAIT_ADVICE
