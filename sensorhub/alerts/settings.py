"""A wearer's alert settings, with the defaults and where each comes from."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

__all__ = ["AlertSettings"]


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """When a wearer's caregivers are alerted (all per wearer; defaults below).

    Attributes
    ----------
    fall_cancel_s
        The wearer's window to cancel a possible fall (get up and walk, or press "I'm OK")
        before caregivers are told: 60 s. Apple Watch fall detection waits about a minute
        for a response before it calls emergency services (Apple, "Use Fall Detection with
        Apple Watch", support.apple.com/HT208944); DESIGN.md section 6 sets the same.
    cancel_steps
        Steps after the impact, within the window, that count as getting up and walking
        (and cancel the alert): 6, about three strides across a room.
    inactivity_s
        Long inactivity: no walking for 3 h during the wearer's daytime while the band is
        worn (DESIGN.md section 6, "no movement for 3 h in the daytime"). Shifting in a chair
        is not movement here: what a caregiver wants to know is that the wearer has not got
        up.
    not_worn_s
        The band not worn for 2 h during the daytime (issue 11): counted from the start of
        the stillness that the wear detector confirmed as non-wear.
    offline_s
        Device offline: no data for 30 min in the daytime (DESIGN.md section 6).
    battery_low_pct
        Battery low: below 15 % (DESIGN.md section 6); it is resolved once the battery is
        back at ``battery_low_pct + battery_hysteresis_pct`` (charging), so a reading that
        wavers at 14-15 % does not raise a new alert each time.
    gait_repeat_s
        Gait change: at most one alert a week per metric (issue 11).
    day_start_hour, day_end_hour
        The wearer's daytime, 08:00-21:00 in their time zone: the complement of the
        default quiet hours of DESIGN.md section 6 (21:00-08:00).
    timezone
        IANA name of the wearer's time zone.
    analysis_lag_s
        How long after the end of the cancel window a possible fall waits for the analysis
        of the window's last seconds before it opens (the pipeline confirms a step about 5 s
        after it).
    no_data_grace_s
        A pending fall opens on the hub's clock this long after its window ends when no data
        came to decide it (the band stopped sending after the fall).
    resume_gap_s
        After a restart, the inactivity count goes on from before it only when the data goes
        on within this much device time (the wearer may have walked while nothing was
        recorded); otherwise it starts again at the first new data.
    """

    fall_cancel_s: float = 60.0
    cancel_steps: int = 6
    inactivity_s: float = 3 * 3600.0
    not_worn_s: float = 2 * 3600.0
    offline_s: float = 30 * 60.0
    battery_low_pct: int = 15
    battery_hysteresis_pct: int = 5
    gait_repeat_s: float = 7 * 86400.0
    day_start_hour: int = 8
    day_end_hour: int = 21
    timezone: str = "UTC"
    analysis_lag_s: float = 8.0
    no_data_grace_s: float = 30.0
    resume_gap_s: float = 600.0

    def __post_init__(self) -> None:
        times = (
            self.fall_cancel_s,
            self.inactivity_s,
            self.not_worn_s,
            self.offline_s,
            self.gait_repeat_s,
            self.analysis_lag_s,
            self.no_data_grace_s,
            self.resume_gap_s,
        )
        if not all(math.isfinite(t) and t >= 0 for t in times):
            raise ValueError("alert times must be finite and not negative")
        if not 0 <= self.day_start_hour < self.day_end_hour <= 24:
            raise ValueError(
                "the daytime must start before it ends, within 0-24 h "
                f"(got {self.day_start_hour}-{self.day_end_hour})"
            )
        if not 0 < self.battery_low_pct < 100:
            raise ValueError(f"battery_low_pct must be within 1-99, got {self.battery_low_pct}")
        ZoneInfo(self.timezone)  # raises ZoneInfoNotFoundError with the bad name

    def zone(self) -> ZoneInfo:
        """The wearer's time zone."""
        return ZoneInfo(self.timezone)

    def local(self, t_ns: int) -> dt.datetime:
        """``t_ns`` in the wearer's time zone."""
        return dt.datetime.fromtimestamp(t_ns / 1e9, tz=self.zone())

    def daytime_start_ns(self, t_ns: int) -> int | None:
        """Start of the daytime that ``t_ns`` falls in (None: ``t_ns`` is not in the daytime)."""
        local = self.local(t_ns)
        if not self.day_start_hour <= local.hour < self.day_end_hour:
            return None
        start = local.replace(hour=self.day_start_hour, minute=0, second=0, microsecond=0)
        return int(start.timestamp()) * 1_000_000_000

    def clock_text(self, t_ns: int) -> str:
        """``t_ns`` as the wearer's local time of day, ``14:02``."""
        return self.local(t_ns).strftime("%H:%M")
