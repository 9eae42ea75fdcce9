"""A wearer's own settings: static-load limits, quiet hours, walking goal, body figures.

One plain value that the hub config seeds (``[[wearers]]`` and ``[wearers.nudges]`` keys:
see :mod:`sensorhub.config`), the store keeps (table ``wearer_settings``, written on hub
start when absent, changed with ``save_wearer_settings``), the runtime's nudge engine and
pipeline read, and the dashboard shows ("8 min over the 30-min limit"). Defaults are those
of DESIGN.md section 6:

==========================  =============  ==================================================
key (JSON)                  default        source
==========================  =============  ==================================================
``sitting_limit_min``       30             "change your position every 30 minutes" (seeds)
``standing_limit_min``      45             DESIGN.md section 6
``snooze_min``              15             DESIGN.md section 6 (re-nudge)
``quiet_hours``             ``"21-8"``     DESIGN.md section 6
``walking_goal_min``        20             the seeds' daily 20-minute walk
``walking_goal_hour``       17             late in the day: the walking nudge's earliest hour
``height_cm``               none           the wearer (gait speed, shuffling share)
``sensor_height_cm``        none           the motion device's height above the ground
``sensor_placement``        none           where the motion device is worn (from its config)
==========================  =============  ==================================================

Absent keys take the defaults; the body figures may be stored as null ("not given").
Stored JSON may hold keys this module does not know (other parts of sensorhub keep their own
per-wearer settings in the same row): :meth:`WearerSettings.from_json` ignores them and
:meth:`WearerSettings.to_json` writes only its own, so a save never drops another's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Final

__all__ = ["SETTINGS_KEYS", "WearerSettings", "WearerSettingsError"]


class WearerSettingsError(ValueError):
    """A setting has a wrong type or value; the message names the key and the fix."""


#: Ranges the numbers may take (inclusive): under a minute a limit nudges at every sit-down
#: (a bout ends only after a minute of something else), over a day it never nudges.
_RANGES: Final[Mapping[str, tuple[float, float]]] = {
    "sitting_limit_min": (1.0, 1440.0),
    "standing_limit_min": (1.0, 1440.0),
    "snooze_min": (1.0, 1440.0),
    "walking_goal_min": (0.0, 600.0),
    "walking_goal_hour": (0.0, 23.0),
    "height_cm": (50.0, 250.0),
    "sensor_height_cm": (5.0, 250.0),
}
#: Keys that may be null (not known) rather than take a default.
_OPTIONAL: Final = frozenset({"height_cm", "sensor_height_cm", "sensor_placement"})
_QUIET = re.compile(r"([0-9]{1,2}) *- *([0-9]{1,2})")


@dataclass(frozen=True, slots=True)
class WearerSettings:
    """A wearer's own settings (see the module docstring for keys, defaults and sources)."""

    sitting_limit_min: float = 30.0
    standing_limit_min: float = 45.0
    snooze_min: float = 15.0
    quiet_start_hour: int = 21
    quiet_end_hour: int = 8
    walking_goal_min: float = 20.0
    walking_goal_hour: int = 17
    height_cm: float | None = None
    sensor_height_cm: float | None = None
    sensor_placement: str | None = None

    def __post_init__(self) -> None:
        for key, (low, high) in _RANGES.items():
            value = getattr(self, key)
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not low <= value <= high
            ):
                raise WearerSettingsError(
                    f"{key}: {value!r} is not a number from {low:g} to {high:g}"
                )
        if not all(0 <= h < 24 for h in (self.quiet_start_hour, self.quiet_end_hour)):
            raise WearerSettingsError("quiet_hours: hours must be whole hours from 0 to 23")

    @property
    def quiet_hours(self) -> str:
        """Quiet hours as written in the config and the JSON (``"21-8"``)."""
        return f"{self.quiet_start_hour}-{self.quiet_end_hour}"

    def limit_min(self, posture: str | None) -> float:
        """The static-load limit for a bout's posture (standing, else the sitting limit)."""
        return self.standing_limit_min if posture == "standing" else self.sitting_limit_min

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored in ``wearer_settings.settings``.

        An unknown body figure is written as null: "not given" (a later default from the
        config does not fill it), unlike an absent key ("take the default").
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name not in ("quiet_start_hour", "quiet_end_hour"):
                out[f.name] = getattr(self, f.name)
        out["quiet_hours"] = self.quiet_hours
        return out

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], *, defaults: WearerSettings | None = None
    ) -> WearerSettings:
        """Settings from a stored JSON object; absent keys take ``defaults``' values.

        Raises
        ------
        WearerSettingsError
            If a known key has a wrong type or value (unknown keys are ignored).
        """
        base = defaults or cls()
        changes: dict[str, Any] = {}
        for key in _RANGES:
            if key in data and (data[key] is not None or key in _OPTIONAL):
                changes[key] = data[key]
        for key in ("walking_goal_hour",):
            if key in changes:
                value = changes[key]
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                if not isinstance(value, int) or isinstance(value, bool):
                    raise WearerSettingsError(f"{key}: {value!r} is not a whole hour from 0 to 23")
                changes[key] = value
        placement = data.get("sensor_placement")
        if "sensor_placement" in data:
            changes["sensor_placement"] = None
        if placement is not None:
            if not isinstance(placement, str) or not placement:
                raise WearerSettingsError(f"sensor_placement: {placement!r} is not a placement")
            changes["sensor_placement"] = placement
        quiet = data.get("quiet_hours")
        if quiet is not None:
            match = _QUIET.fullmatch(quiet) if isinstance(quiet, str) else None
            if match is None:
                raise WearerSettingsError(
                    f'quiet_hours: {quiet!r} is not a range of whole hours; write e.g. "21-8"'
                )
            changes["quiet_start_hour"], changes["quiet_end_hour"] = (
                int(h) for h in match.groups()
            )
        return replace(base, **changes)


#: The JSON keys :class:`WearerSettings` reads and writes.
SETTINGS_KEYS: Final = frozenset({*_RANGES, "quiet_hours", "sensor_placement"})
