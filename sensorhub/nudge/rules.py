"""When to nudge: the static-load rules of DESIGN.md section 6, as a pure state machine.

Defaults: nudge after 30 min of continuous sitting (or ``stationary`` where the placement
cannot tell sitting from standing) and after 45 min of continuous standing; snooze 15 min;
at most 2 nudges an hour, the second with stronger wording; quiet hours 21:00-08:00 in the
wearer's time zone; never while lying, asleep or when the band is not worn. Sources are in
research/product-and-defaults.md (the "change your position every 30 minutes" advice and
the reminder settings of Garmin, Fitbit, Apple Watch and Bangle.js).

Non-wear is confirmed only after 60 min without movement (GGIR), so a band put down on a
table would still reach a 30-min nudge. A worn device is never motionless: in the open hip
recordings (posture_hip_hapt, 21 people) no 3-s window of sitting, standing or lying moves
less than 6.6 mg, over a third move more than GGIR's 13 mg, and most 15-s static segments
hold such a window (tests/io/test_real_recordings.py measures these). So a nudge is held while
the device has not moved above its sensor noise (5 mg, :mod:`sensorhub.detect.wear`) for
``motionless_hold_s`` (10 min); if the wearer was only sitting
very still, the nudge goes out at the first movement, as the bout is still running.

The wearer's answer to a nudge (:meth:`NudgeEngine.snooze`, from the dashboard's "Snooze")
holds the next nudge of the same bout until the snooze ends, beyond the engine's own spacing.

**Late-day walking nudge** (:meth:`NudgeEngine.update_walking`): from ``walking_goal_hour``
(17:00 local) a wearer who has walked less than ``walking_goal_s`` (20 min, the seeds' daily
20-minute walk) today gets one nudge suggesting a walk (reason ``walking_goal``): at most once
per local day, never in quiet hours, while lying, not worn or already walking, and within
the hourly cap.

Time is device time (ns since the Unix epoch): the engine works identically on a live
stream, a time-compressed simulation and a replayed recording.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sensorhub.model import NS_PER_S, CurrentBout, Posture
from sensorhub.nudge.exercises import (
    SAFETY_NOTE,
    Contraindication,
    Exercise,
    Position,
    suitable_exercises,
)


@dataclass(frozen=True, slots=True)
class NudgeSettings:
    """Per-wearer nudge settings (all configurable; defaults from DESIGN.md section 6)."""

    sitting_limit_s: float = 30 * 60
    standing_limit_s: float = 45 * 60
    snooze_s: float = 15 * 60
    max_per_hour: int = 2
    quiet_start_hour: int = 21
    quiet_end_hour: int = 8
    timezone: str = "UTC"
    conditions: frozenset[Contraindication] = frozenset()
    disabled_exercises: frozenset[str] = frozenset()
    enabled_exercises: frozenset[str] = frozenset()
    motionless_hold_s: float = 10 * 60
    #: daily walking goal (0: no walking nudge) and the local hour from which it nudges
    walking_goal_s: float = 20 * 60
    walking_goal_hour: int = 17

    def __post_init__(self) -> None:
        times_s = (
            self.sitting_limit_s,
            self.standing_limit_s,
            self.snooze_s,
            self.motionless_hold_s,
            self.walking_goal_s,
        )
        if not all(math.isfinite(t) for t in times_s):  # nan would nudge at once, inf never
            raise ValueError("nudge limits, snooze and hold must be finite times")
        if self.sitting_limit_s <= 0 or self.standing_limit_s <= 0 or self.snooze_s < 0:
            raise ValueError("nudge limits must be positive and the snooze non-negative")
        if self.motionless_hold_s <= 0:
            raise ValueError("the motionless hold must be a positive time")
        if self.walking_goal_s < 0 or not 0 <= self.walking_goal_hour < 24:
            raise ValueError("the walking goal must be non-negative and its hour 0 to 23")
        if not (0 <= self.quiet_start_hour < 24 and 0 <= self.quiet_end_hour < 24):
            raise ValueError("quiet hours must be whole hours between 0 and 23")
        ZoneInfo(self.timezone)  # raises ZoneInfoNotFoundError with the bad name


@dataclass(frozen=True, slots=True)
class NudgeDecision:
    """A nudge to send now."""

    reason: str
    level: int  # 1 = gentle (mild alert), 2 = stronger wording (high alert)
    message: str
    bout_start_ns: int
    bout_duration_s: float
    exercise: Exercise | None
    safety_note: str = SAFETY_NOTE
    #: 1 for the bout's first nudge, 2 for its second, ... (with the bout start, the
    #: nudge's identity: see :func:`sensorhub.store.records.nudge_id`)
    ordinal: int = 1


def _minutes(seconds: float) -> int:
    return int(seconds // 60)


@dataclass
class NudgeEngine:
    """Decides, on each update of the live state, whether to nudge the wearer now.

    Parameters
    ----------
    settings
        The wearer's nudge settings.

    Attributes
    ----------
    sent_ns_
        Device times of the nudges sent within the last hour.
    """

    settings: NudgeSettings = field(default_factory=NudgeSettings)
    sent_ns_: deque[int] = field(default_factory=deque)
    _bout_start_ns: int | None = None
    _bout_nudges: int = 0
    _last_nudge_ns: int | None = None
    _exercise_turn: int = 0
    #: bout start -> device time until which the wearer snoozed its nudges
    _snoozed: dict[int, int] = field(default_factory=dict)
    #: local days on which the walking nudge was sent
    _walking_days: set[dt.date] = field(default_factory=set)

    def local_time(self, now_ns: int) -> dt.datetime:
        """``now_ns`` as a local time of the wearer."""
        return dt.datetime.fromtimestamp(now_ns / NS_PER_S, tz=ZoneInfo(self.settings.timezone))

    def day_start_ns(self, now_ns: int) -> int:
        """Device time of the start of the wearer's local day containing ``now_ns``."""
        local = self.local_time(now_ns)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return int(midnight.timestamp()) * NS_PER_S

    def snooze(self, bout_start_ns: int, until_ns: int) -> None:
        """Hold further nudges of the bout that began at ``bout_start_ns`` until ``until_ns``."""
        self._snoozed[bout_start_ns] = max(until_ns, self._snoozed.get(bout_start_ns, until_ns))

    def in_quiet_hours(self, now_ns: int) -> bool:
        """True when ``now_ns`` falls within the wearer's quiet hours (local time)."""
        local = self.local_time(now_ns)
        start, end = self.settings.quiet_start_hour, self.settings.quiet_end_hour
        if start == end:
            return False
        if start < end:
            return start <= local.hour < end
        return local.hour >= start or local.hour < end

    def _limit_s(self, posture: Posture) -> float:
        if posture == Posture.STANDING:
            return self.settings.standing_limit_s
        return self.settings.sitting_limit_s

    def _pick_exercise(self, posture: Posture) -> Exercise | None:
        # While sitting, suggest getting up first (standing exercises) or a seated one;
        # floor exercises are for home routines, not for a nudge at the desk.
        positions = (
            (Position.STANDING, Position.SEATED)
            if posture != Posture.STANDING
            else (Position.STANDING,)
        )
        options = suitable_exercises(
            positions,
            conditions=self.settings.conditions,
            disabled=self.settings.disabled_exercises,
            enabled=self.settings.enabled_exercises,
        )
        if not options:
            return None
        choice = options[self._exercise_turn % len(options)]
        self._exercise_turn += 1
        return choice

    def resume(
        self,
        *,
        sent: Sequence[tuple[int, int]],
        bout: CurrentBout | None,
        walking_sent_ns: Sequence[int] = (),
    ) -> None:
        """Continue after a restart from the nudges already sent.

        ``sent`` holds ``(sent_ns, bout_start_ns)`` of the wearer's stored nudges of the last
        hour; ``bout`` is the resumed bout in progress; ``walking_sent_ns`` the times of the
        walking nudges of today. The hourly cap, the snooze and the escalation of that bout
        go on as if the hub had never stopped, so a restart never sends the same nudge twice.
        """
        self._walking_days.update(self.local_time(t).date() for t in walking_sent_ns)
        times = sorted(t for t, _ in sent)
        self.sent_ns_ = deque(times)
        self._exercise_turn = len(times)
        if bout is None:
            return
        of_bout = sorted(t for t, start in sent if start == bout.start_ns)
        self._bout_start_ns = bout.start_ns
        self._bout_nudges = len(of_bout)
        self._last_nudge_ns = of_bout[-1] if of_bout else None

    def update(
        self,
        *,
        now_ns: int,
        bout: CurrentBout | None,
        posture: Posture,
        worn: bool = True,
        motionless_s: float = 0.0,
    ) -> NudgeDecision | None:
        """Fold in the latest live state; return a nudge to send now, or None.

        ``worn`` is False during confirmed non-wear; ``motionless_s`` is how long the device
        has not moved at all (possibly taken off: nudges wait, see the module docstring).
        """
        while self.sent_ns_ and now_ns - self.sent_ns_[0] >= 3600 * NS_PER_S:
            self.sent_ns_.popleft()
        if bout is None or bout.start_ns != self._bout_start_ns:
            self._bout_start_ns = None if bout is None else bout.start_ns
            self._bout_nudges = 0
        if bout is None or not worn or posture in (Posture.LYING, Posture.NONWEAR):
            return None
        if motionless_s >= self.settings.motionless_hold_s:
            return None
        duration_s = (now_ns - bout.start_ns) / NS_PER_S
        if duration_s < self._limit_s(bout.posture) or self.in_quiet_hours(now_ns):
            return None
        if len(self.sent_ns_) >= self.settings.max_per_hour:
            return None
        if (
            self._bout_nudges > 0
            and self._last_nudge_ns is not None
            and now_ns - self._last_nudge_ns < self.settings.snooze_s * NS_PER_S
        ):
            return None
        if now_ns < self._snoozed.get(bout.start_ns, now_ns):
            return None
        self._bout_nudges += 1
        self._last_nudge_ns = now_ns
        self.sent_ns_.append(now_ns)
        return self._decision(bout, duration_s)

    def update_walking(
        self, *, now_ns: int, walked_today_s: float, posture: Posture, worn: bool = True
    ) -> NudgeDecision | None:
        """The late-day walking nudge (see the module docstring), or None.

        ``walked_today_s`` is the walking time of the wearer's local day so far (bouts).
        """
        goal_s = self.settings.walking_goal_s
        local = self.local_time(now_ns)
        if (
            goal_s <= 0
            or walked_today_s >= goal_s
            or local.hour < self.settings.walking_goal_hour
            or local.date() in self._walking_days
            or not worn
            or posture in (Posture.LYING, Posture.NONWEAR, Posture.WALKING)
            or self.in_quiet_hours(now_ns)
        ):
            return None
        while self.sent_ns_ and now_ns - self.sent_ns_[0] >= 3600 * NS_PER_S:
            self.sent_ns_.popleft()
        if len(self.sent_ns_) >= self.settings.max_per_hour:
            return None
        self._walking_days.add(local.date())
        self.sent_ns_.append(now_ns)
        walked, goal = _minutes(walked_today_s), _minutes(goal_s)
        message = (
            f"You have walked {walked} of your {goal} minutes today. A short walk now would "
            "do your back and hips good."
        )
        return NudgeDecision(
            reason="walking_goal",
            level=1,
            message=message,
            bout_start_ns=self.day_start_ns(now_ns),
            bout_duration_s=walked_today_s,
            exercise=None,
        )

    def _decision(self, bout: CurrentBout, duration_s: float) -> NudgeDecision:
        doing = {
            Posture.SITTING: "sitting",
            Posture.STANDING: "standing",
        }.get(bout.posture, "in one position")
        exercise = self._pick_exercise(bout.posture)
        suggestion = f" Try this: {exercise.name.lower()}." if exercise else ""
        minutes = _minutes(duration_s)
        if self._bout_nudges == 1:
            level = 1
            message = (
                f"You have been {doing} for {minutes} minutes. Time to change position and "
                f"move for a minute or two.{suggestion}"
            )
        else:
            level = 2
            message = (
                f"{minutes} minutes {doing} now: your back and hips will thank you for a "
                f"break.{suggestion}"
            )
        return NudgeDecision(
            reason="static_load_" + str(bout.posture),
            level=level,
            message=message,
            bout_start_ns=bout.start_ns,
            bout_duration_s=duration_s,
            exercise=exercise,
            ordinal=self._bout_nudges,
        )
