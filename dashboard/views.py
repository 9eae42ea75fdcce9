"""Pure view-model functions: store query results -> rows and texts the pages show.

Kept free of Streamlit so they are unit-tested directly; the pages only lay them out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sensorhub.nudge import exercise_by_id
from sensorhub.nudge.exercises import SAFETY_NOTE, Exercise
from sensorhub.store import (
    RESPONSE_WINDOW_S,
    DeviceView,
    EventView,
    LiveView,
    NudgeView,
    WearerView,
)
from sensorhub.wearer_settings import WearerSettings

POSTURE_WORDS = {
    "sitting": "Sitting",
    "standing": "Standing",
    "stationary": "Still, upright",
    "lying": "Lying",
    "walking": "Walking",
    "active": "Moving",
    "nonwear": "Band not worn",
    "unknown": "Unknown",
}

RED_FLAGS = (
    "Seek medical advice if you have pain lasting several weeks, severe or night pain, pain "
    "that stops your daily activities or returns as soon as you stand, or a history of "
    "cancer or osteoporosis.",
    "Get urgent care for loss of bladder or bowel control, numbness around the saddle area, "
    "new leg weakness, fever with back pain, or being unable to bear weight after a fall.",
)


def format_duration(seconds: float) -> str:
    """``3725`` -> ``"1 h 02 min"``; ``125`` -> ``"2 min"``."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def local_day_bounds(when: dt.datetime, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """Start and end (UTC) of the local calendar day containing ``when``."""
    local = when.astimezone(ZoneInfo(timezone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(days=1)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class BoutCard:
    """What the live card shows."""

    posture: str
    bout_label: str
    bout_value: str
    bout_minutes: float | None
    limit_minutes: float
    as_of: str


def bout_card(
    live: LiveView,
    timezone: str,
    *,
    sitting_limit_min: float = 30.0,
    standing_limit_min: float = 45.0,
) -> BoutCard:
    """The live posture and static-bout timer."""
    posture = POSTURE_WORDS.get(live.posture, live.posture)
    as_of = live.device_time_at.astimezone(ZoneInfo(timezone)).strftime("%H:%M:%S")
    duration = live.bout_duration_s
    limit = standing_limit_min if live.bout_posture == "standing" else sitting_limit_min
    if duration is None or live.bout_posture is None:
        return BoutCard(posture, "Current static bout", "none", None, limit, as_of)
    what = POSTURE_WORDS.get(live.bout_posture, live.bout_posture).lower()
    return BoutCard(
        posture, f"Current static bout ({what})", format_duration(duration), duration / 60,
        limit, as_of,
    )  # fmt: skip


def limit_text(bout_minutes: float, limit_minutes: float) -> str:
    """The bout against the wearer's own limit: "12 min of the 30-min limit" while under it,
    "8 min over the 30-min limit" after (never "38 of 30")."""
    limit = f"{limit_minutes:.0f}-min limit"
    if bout_minutes <= limit_minutes:
        return f"{bout_minutes:.0f} min of the {limit}"
    return f"{bout_minutes - limit_minutes:.0f} min over the {limit}"


def walking_goal_text(walked_s: float, goal_min: float) -> str:
    """Today's walking against the wearer's daily goal ("12 of 20 min", then "goal reached")."""
    walked = int(walked_s // 60)
    if goal_min <= 0:
        return f"{walked} min"
    if walked_s >= goal_min * 60:
        return f"{walked} min: the {goal_min:.0f}-min goal is reached"
    return f"{walked} of {goal_min:.0f} min"


def device_now(live: LiveView, now: dt.datetime) -> dt.datetime:
    """The wearer's device time now: the live state's, moved on by the host time since it
    was stored (so a nudge stops being current when the band falls silent)."""
    return live.device_time_at + max(now - live.updated_at, dt.timedelta(0))


def nudge_is_current(nudge: NudgeView, device_time: dt.datetime) -> bool:
    """Whether the wearer can still answer the nudge: no response yet, and within the
    response window (10 min) of being sent, on the wearer's device clock."""
    age_s = (device_time - nudge.sent_at).total_seconds()
    return nudge.outcome is None and -60.0 <= age_s <= RESPONSE_WINDOW_S


def outcome_text(nudge: NudgeView, device_time: dt.datetime | None = None) -> str:
    """What came of a nudge, in words ("done after 2 min", "moved after 5 min", ...)."""
    after = "" if nudge.response_s is None else f" after {format_duration(nudge.response_s)}"
    if nudge.outcome == "done":
        return f"done{after}"
    if nudge.outcome == "moved":
        return f"moved{after}"
    if nudge.outcome == "snoozed":
        return "snoozed"
    if device_time is not None and nudge_is_current(nudge, device_time):
        return "waiting"
    return "no response"


def staleness_warning(live: LiveView, now: dt.datetime, *, after_s: float = 120.0) -> str | None:
    """A warning when the live state has not been updated for ``after_s`` of host time.

    The bout timer then shows the last known state, not the present: say so plainly.
    """
    silent_s = (now - live.updated_at).total_seconds()
    if silent_s < after_s:
        return None
    return (
        f"No data from this wearer's band for {format_duration(silent_s)}: the timer shows "
        "the last known state. Check that the band is worn, charged and in range of the hub."
    )


def motionless_note(live: LiveView, *, after_s: float = 600.0) -> str | None:
    """A note when the band has not moved at all for ``after_s`` (device time): it may have
    been taken off, and nudges wait (the nudge engine's motionless hold, 10 min)."""
    still_s = live.motionless_s
    if still_s < after_s:
        return None
    return (
        f"The band has not moved at all for {format_duration(still_s)}. If it has been taken "
        "off, movement reminders wait until it is worn again; this time is not counted as "
        "sitting once an hour without movement confirms it was off."
    )


def bout_rows(
    bouts: Sequence[EventView], timezone: str, settings: WearerSettings | None = None
) -> list[dict[str, str]]:
    """Rows of the 'today's static bouts' table (over the wearer's own limits or not)."""
    tz = ZoneInfo(timezone)
    own = settings or WearerSettings()
    return [
        {
            "start": b.start_at.astimezone(tz).strftime("%H:%M:%S"),
            "end": b.end_at.astimezone(tz).strftime("%H:%M:%S"),
            "duration": format_duration(b.duration_s),
            "posture": POSTURE_WORDS.get(b.posture or "unknown", b.posture or "?"),
            "over limit": "yes" if b.duration_s >= own.limit_min(b.posture) * 60 else "",
        }
        for b in bouts
    ]


def nudge_rows(
    nudges: Sequence[NudgeView], timezone: str, device_time: dt.datetime | None = None
) -> list[dict[str, str]]:
    """Rows of the nudges table, with what came of each."""
    tz = ZoneInfo(timezone)
    return [
        {
            "time": n.sent_at.astimezone(tz).strftime("%H:%M:%S"),
            "after": "walking goal"
            if n.reason == "walking_goal"
            else format_duration(n.bout_duration_s),
            "message": n.message,
            "band": n.delivery,
            "outcome": outcome_text(n, device_time),
        }
        for n in nudges
    ]


def exercise_card(nudge: NudgeView) -> tuple[Exercise, str] | None:
    """The exercise suggested by a nudge, with the safety note."""
    if nudge.exercise_id is None:
        return None
    try:
        return exercise_by_id(nudge.exercise_id), SAFETY_NOTE
    except KeyError:
        return None


def device_rows(devices: Sequence[DeviceView], timezone: str) -> list[dict[str, str | int | None]]:
    """Rows of the devices table (health and counters)."""
    tz = ZoneInfo(timezone)
    rows: list[dict[str, str | int | None]] = []
    for d in devices:
        row: dict[str, str | int | None] = {
            "device": d.name,
            "profile": d.profile,
            "placement": d.placement,
            "battery %": d.battery_pct,
            "last seen": "never"
            if d.last_seen_at is None
            else d.last_seen_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
        }
        row.update({k: int(v) for k, v in d.counters.items()})
        rows.append(row)
    return rows


POSTURE_COLOURS = {
    "Lying": "#8c6bb1",
    "Sitting": "#e6550d",
    "Standing": "#fdae6b",
    "Still, upright": "#fd8d3c",
    "Walking": "#31a354",
    "Moving": "#74c476",
    "Band not worn": "#bdbdbd",
    "Unknown": "#d9d9d9",
}


def timeline_rows(segments: Sequence[EventView], timezone: str) -> list[dict[str, object]]:
    """Rows of the day's posture timeline: one bar per posture segment (local times)."""
    tz = ZoneInfo(timezone)
    return [
        {
            "start": s.start_at.astimezone(tz).replace(tzinfo=None).isoformat(),
            "end": s.end_at.astimezone(tz).replace(tzinfo=None).isoformat(),
            "posture": POSTURE_WORDS.get(s.posture or "unknown", s.posture or "?"),
            "minutes": round(s.duration_s / 60, 1),
        }
        for s in segments
    ]


def wearer_label(wearer: WearerView, everyone: list[WearerView]) -> str:
    """The wearer's name, with the id when another wearer has the same name."""
    same = sum(w.display_name == wearer.display_name for w in everyone)
    return wearer.display_name if same == 1 else f"{wearer.display_name} ({wearer.id})"


def local_minute(when: dt.datetime | None, timezone: str) -> str:
    """``when`` to the minute in the wearer's time zone ("—" when there is none)."""
    if when is None:
        return "—"
    return when.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
