"""The hub configuration file (TOML): database, wearers, and the devices bound to them.

Example ``hub.toml``::

    [hub]
    db = "sqlite:///var/sensorhub.db"      # or postgresql+psycopg://...

    [[wearers]]
    id = "ada"
    name = "Ada"
    timezone = "Europe/Berlin"
    height_cm = 168                         # optional: live gait speed and shuffling share

    [wearers.nudges]                        # all optional (DESIGN.md section 6 defaults)
    sitting_limit_min = 30
    standing_limit_min = 45
    snooze_min = 15
    max_per_hour = 2
    quiet_hours = "21-8"
    motionless_hold_min = 10              # hold nudges while the band has not moved at all
    walking_goal_min = 20                 # daily walking goal (0: no walking nudge)
    walking_goal_hour = 17                # from 17:00 local, one nudge when behind the goal

    [wearers.alerts]                        # all optional (sensorhub.alerts defaults)
    fall_cancel_s = 60                      # the wearer's window to cancel a possible fall
    inactivity_h = 3                        # no movement this long in the daytime
    not_worn_h = 2                          # band not worn this long in the daytime
    offline_min = 30                        # no data this long in the daytime
    battery_low_pct = 15
    daytime = "8-21"                        # the wearer's daytime (whole hours, local)

    [[devices]]
    wearer = "ada"
    profile = "open-imu"                    # see `sensorhub devices`
    name = "OpenIMU 0001"                   # or: address = "C0:11:22:33:44:55"
    placement = "lower_back"                # default: the profile's usual placement
    rate_hz = 50                            # optional stream settings
    range_g = 8
    adapter = "hci1"                        # optional: which Bluetooth adapter (BlueZ name)
    sensor_height_cm = 95                   # optional: the sensor's height above the ground

    [alerts]                                # optional: how caregivers are told
    repeat_min = 5                          # repeat an unacknowledged alert this often
    escalate_after_min = 10                 # then tell the next caregiver in order as well

    [[caregivers]]                          # who is told about alerts, and how
    username = "ana"                        # the account (`sensorhub users add`)
    notify = ["mailto://ana:app-password@example.org", "ntfys://ntfy.sh/ana-alerts-7f3c"]
    order = 1                               # 1 is told first; 2 after escalate_after_min
    quiet_hours = "22:00-07:00"             # optional: non-urgent alerts wait (falls never)
    timezone = "Europe/Berlin"              # optional: of the quiet hours (default: the wearer's)

Errors are one line that names the file, the line (for syntax errors and the table an error is
in), the key, what is wrong and what to do; nothing else escapes :func:`load_config`. Values
are checked for type and range: nudge times are 1 to 1440 minutes (nan and inf refused),
``max_per_hour`` 1 to 60, ``rate_hz`` and ``range_g`` one the profile lists (1-3200 Hz and
1-255 g where it lists none), addresses a whole MAC or CoreBluetooth UUID. Text with
whitespace around it (a pasted newline) is refused, its repr shown, not trimmed silently.
:func:`append_device` (``sensorhub devices add``) adds a ``[[devices]]`` table (and the wearer
if new) to the end of the file, keeping everything else, comments included, as it was; it
validates the result with the same code before writing.

The checks are written by hand, on a small typed getter per table (``_Table``), rather than
with pydantic or msgspec: a model class per table would not be smaller once each field
carries its fix ("write e.g. sitting_limit_min = 30"), the cross-field rules (rates the
profile supports, wearers that exist) stay hand-written either way, neither library knows the
TOML line of a table, and both report errors in their own words, which would have to be
translated back to the key and the fix. It also saves a dependency.

**Per-wearer settings.** The nudge limits, quiet hours, walking goal, ``height_cm`` and the
motion device's ``sensor_height_cm`` and placement are the *defaults* of the wearer's settings
in the store (:class:`~sensorhub.wearer_settings.WearerSettings`): the hub writes them on start
where the store has none; after an edit of the config, a setting nobody changed since follows
it, one changed with ``Accounts.save_wearer_settings`` (audited) stays. ``height_cm`` (50-250)
lets a lower-back or hip sensor's height be estimated (0.53 x height); ``sensor_height_cm``
(5-250) gives it for any placement. With either, gait bouts get a walking speed and a shuffling
share.

A caregiver is told about a wearer's alerts only while the wearer shares the scope the alert
needs with the caregiver's account (checked at each delivery, see
:mod:`sensorhub.service.notifier`); ``notify`` URLs are apprise URLs, checked with apprise's own
parser, and no message ever shows one unmasked (they hold passwords and tokens).

A new file is created with mode 0600 (it may hold a database password); loading or appending
to one that other users may read logs a warning that says how to make it private.

A wearer's **primary** device is the first motion device listed for them: its blocks feed the
wearer's detection pipeline (whose placement it sets). Other devices of the wearer are
collected for health and step/cadence data, and every device that can be nudged is tried for
nudges, in file order.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from firmware_protocols.profiles import DeviceProfile, get_profile
from sensorhub.alerts import AlertSettings
from sensorhub.ble.drivers import StreamSettings
from sensorhub.ble.session import DeviceBinding
from sensorhub.channel_urls import mask_channel
from sensorhub.errors import ConfigError
from sensorhub.model import Placement
from sensorhub.nudge import NudgeSettings
from sensorhub.private_files import warn_if_exposed, write_private_text
from sensorhub.wearer_settings import WearerSettings

__all__ = [
    "DEFAULT_DB_URL",
    "AlertDeliverySettings",
    "CaregiverConfig",
    "DeviceConfig",
    "HubConfig",
    "WearerConfig",
    "append_device",
    "caregiver_from_urls",
    "load_config",
    "parse_config",
    "settings_of",
    "simulated_config",
]

#: Database used when the file names none.
DEFAULT_DB_URL: Final = "sqlite:///var/sensorhub.db"

_ADAPTER = re.compile(r"hci[0-9]{1,2}")
_CONFIG_HOLDS: Final = "a database password and wearers' names"

_HUB_KEYS: Final = frozenset({"db"})
_ALERT_KEYS: Final = frozenset({"repeat_min", "escalate_after_min"})
_CAREGIVER_KEYS: Final = frozenset({"username", "notify", "order", "quiet_hours", "timezone"})
_CLOCK_RANGE = re.compile(r"([0-9]{1,2}):([0-9]{2}) *- *([0-9]{1,2}):([0-9]{2})")
#: Escalation levels a hub may have (more would take hours to reach anyone).
_ORDERS: Final = (1, 99)
_WEARER_KEYS: Final = frozenset({"id", "name", "timezone", "nudges", "alerts", "height_cm"})
#: ``[wearers.alerts]`` key -> (AlertSettings field, factor to seconds, range, example).
_ALERT_NUMBERS: Final = {
    "fall_cancel_s": ("fall_cancel_s", 1.0, (15.0, 300.0), 60),
    "inactivity_h": ("inactivity_s", 3600.0, (0.5, 12.0), 3),
    "not_worn_h": ("not_worn_s", 3600.0, (0.25, 12.0), 2),
    "offline_min": ("offline_s", 60.0, (5.0, 720.0), 30),
}
_WEARER_ALERT_KEYS: Final = frozenset({*_ALERT_NUMBERS, "battery_low_pct", "daytime"})
_DEVICE_KEYS: Final = frozenset(
    {
        "wearer",
        "profile",
        "name",
        "address",
        "placement",
        "rate_hz",
        "range_g",
        "adapter",
        "sensor_height_cm",
    }
)
#: Body heights a wearer may have (cm) and heights a worn sensor may be at.
_HEIGHT_CM: Final = (50.0, 250.0)
_SENSOR_HEIGHT_CM: Final = (5.0, 250.0)
#: A MAC address (Linux, Windows) or a CoreBluetooth UUID (macOS), matched whole.
_ADDRESS = re.compile(
    r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}"
    r"|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)
_PLACEMENTS: Final = tuple(p.value for p in Placement)
_MOTION_YIELDS: Final = frozenset({"acc", "gyro"})


@dataclass(frozen=True)
class WearerConfig:
    """A person the hub looks after."""

    id: str
    name: str
    timezone: str = "UTC"
    nudges: NudgeSettings = field(default_factory=NudgeSettings)
    #: the wearer's height (live gait speed and shuffling share); None: not given
    height_cm: float | None = None
    #: when caregivers are alerted about this wearer; None: the defaults in their time zone
    alerts: AlertSettings | None = None


@dataclass(frozen=True)
class DeviceConfig:
    """A device bound to a wearer and a body placement."""

    wearer: str
    profile: str
    placement: str
    name: str | None = None
    address: str | None = None
    rate_hz: float | None = None
    range_g: int | None = None
    #: Bluetooth adapter to reach the device through (BlueZ name such as "hci1"); None: the
    #: system default. One adapter holds only 5-10 connections: spread devices over several.
    adapter: str | None = None
    #: the sensor's height above the ground as worn (gait speed); None: from the wearer's
    #: height for lower-back and hip sensors, else unknown
    sensor_height_cm: float | None = None

    @property
    def binding(self) -> DeviceBinding:
        """The collector's view of it."""
        return DeviceBinding(self.wearer, self.profile, self.placement, self.name, self.address)

    @property
    def settings(self) -> StreamSettings:
        """Requested stream settings."""
        return StreamSettings(self.rate_hz, self.range_g)

    @property
    def streams_motion(self) -> bool:
        """True if the profile yields accelerations (can feed a pipeline)."""
        return bool(_MOTION_YIELDS.intersection(get_profile(self.profile).yields))


@dataclass(frozen=True)
class CaregiverConfig:
    """A person told about alerts, through apprise URLs, in escalation ``order``."""

    username: str
    #: apprise URLs (they hold passwords and tokens: never shown, see ``channels``)
    notify: tuple[str, ...] = field(repr=False)
    #: 1 is told first; higher orders once the alert stays unacknowledged (escalation)
    order: int = 1
    #: local start and end of the caregiver's quiet hours (non-urgent alerts wait); None: none
    quiet_hours: tuple[dt.time, dt.time] | None = None
    #: time zone of the quiet hours; None: the wearer's
    timezone: str | None = None

    @property
    def channels(self) -> tuple[str, ...]:
        """The notify URLs with their secrets masked, for logs and messages."""
        return tuple(mask_channel(url) for url in self.notify)


@dataclass(frozen=True)
class AlertDeliverySettings:
    """How often an unacknowledged alert is repeated and when it escalates (minutes)."""

    repeat_min: float = 5.0
    escalate_after_min: float = 10.0


@dataclass(frozen=True)
class HubConfig:
    """A whole hub: where to store, whom to watch, which devices, whom to alert."""

    db_url: str = DEFAULT_DB_URL
    wearers: tuple[WearerConfig, ...] = ()
    devices: tuple[DeviceConfig, ...] = ()
    source: str = "<config>"
    caregivers: tuple[CaregiverConfig, ...] = ()
    alerts: AlertDeliverySettings = field(default_factory=AlertDeliverySettings)

    def wearer(self, wearer_id: str) -> WearerConfig:
        """The wearer with this id."""
        for w in self.wearers:
            if w.id == wearer_id:
                return w
        raise KeyError(wearer_id)

    def devices_of(self, wearer_id: str) -> list[DeviceConfig]:
        """The wearer's devices in file order."""
        return [d for d in self.devices if d.wearer == wearer_id]

    def primary_device(self, wearer_id: str) -> DeviceConfig | None:
        """The wearer's first motion device (feeds the pipeline), if any."""
        return next((d for d in self.devices_of(wearer_id) if d.streams_motion), None)

    def wearer_settings(self, wearer_id: str) -> WearerSettings:
        """The defaults of the wearer's stored settings, as this config gives them."""
        return settings_of(self.wearer(wearer_id), self.primary_device(wearer_id))


def settings_of(wearer: WearerConfig, primary: DeviceConfig | None) -> WearerSettings:
    """A wearer's settings from their config and their motion device's (if any)."""
    nudges = wearer.nudges
    return WearerSettings(
        sitting_limit_min=nudges.sitting_limit_s / 60.0,
        standing_limit_min=nudges.standing_limit_s / 60.0,
        snooze_min=nudges.snooze_s / 60.0,
        quiet_start_hour=nudges.quiet_start_hour,
        quiet_end_hour=nudges.quiet_end_hour,
        walking_goal_min=nudges.walking_goal_s / 60.0,
        walking_goal_hour=nudges.walking_goal_hour,
        height_cm=wearer.height_cm,
        sensor_height_cm=None if primary is None else primary.sensor_height_cm,
        sensor_placement=None if primary is None else str(primary.placement),
    )


# --------------------------------------------------------------------------- loading

#: Minutes a nudge time may be. Under a minute a limit nudges at every sit-down (a bout ends
#: only after a minute of something else, DESIGN.md section 6); over a day it never nudges.
_MINUTES: Final = (1.0, 24 * 60.0)
#: Nudge key -> the NudgeSettings field it sets (in seconds) and an example value.
_NUDGE_MINUTES: Final = {
    "sitting_limit_min": ("sitting_limit_s", 30),
    "standing_limit_min": ("standing_limit_s", 45),
    "snooze_min": ("snooze_s", 15),
    "motionless_hold_min": ("motionless_hold_s", 10),
}
_NUDGE_KEYS: Final = frozenset(
    {*_NUDGE_MINUTES, "max_per_hour", "quiet_hours", "walking_goal_min", "walking_goal_hour"}
)
#: The daily walking goal: 0 (no walking nudge) to 10 h.
_WALKING_GOAL_MIN: Final = (0.0, 600.0)
#: More than one nudge a minute is nagging, whatever the snooze says.
_NUDGES_PER_HOUR: Final = (1, 60)
#: Rates for profiles that list none: below 1 Hz no step shows; above 3200 Hz (the top rate of
#: common MEMS accelerometers) no Bluetooth LE link carries a 3-axis stream.
_RATE_HZ: Final = (1.0, 3200.0)
#: Ranges for profiles that list none: the open IMU protocol's one byte, at least 1 g.
_RANGE_G: Final = (1, 255)
#: The longest name a Bluetooth LE device can have (GAP Device Name), in UTF-8 bytes.
_MAX_NAME_BYTES: Final = 248
#: A ``[[name]]`` or ``[["name"]]`` header line.
_ARRAY_HEADER = re.compile(r'\s*\[\[\s*("?)([A-Za-z0-9_-]+)\1\s*\]\]')
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _shown(value: Any) -> str:
    """A value as a message shows it: its repr (whitespace visible), cut to keep one line."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:56]}...{text[-1]}"


def _shown_key(key: str) -> str:
    """A key as a message shows it: bare as written, quoted if TOML needs quotes for it."""
    return key if _BARE_KEY.fullmatch(key) else _shown(key)


class _Where:
    """Builds error messages that name the file, the table's line and the key."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        # The header lines of every array of tables, found in one pass: scanning the text for
        # each table instead made parsing quadratic (6,000 devices took most of a minute).
        self._array_lines: dict[str, list[int]] = {}
        for number, line in enumerate(text.split("\n"), start=1):  # TOML ends lines with \n
            header = _ARRAY_HEADER.match(line)
            if header:
                self._array_lines.setdefault(header.group(2), []).append(number)

    def line_of_table(self, array: str, index: int) -> int | None:
        """Line of the header of the ``index``-th ``[[array]]`` table, if it has one."""
        lines = self._array_lines.get(array, [])
        return lines[index] if index < len(lines) else None

    def error(self, key: str, problem: str, fix: str, line: int | None = None) -> ConfigError:
        """The one-line error: ``source, line N: key: problem; fix``."""
        at = f", line {line}" if line else ""
        return ConfigError(f"{self.source}{at}: {key}: {problem}; {fix}")

    def table(
        self, value: Any, label: str, header: str, allowed: frozenset[str], line: int | None
    ) -> _Table:
        """``value`` checked to be a table of ``allowed`` keys only."""
        if not isinstance(value, dict):
            raise self.error(
                label, "must be a table", f"write it as {header} with key = value lines"
            )
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.error(
                f"{label}.{_shown_key(unknown[0])}",
                "unknown key",
                f"allowed keys: {', '.join(sorted(allowed))}",
                line,
            )
        return _Table(value, label, line, self)


@dataclass(frozen=True)
class _Table:
    """One table of the file: its values, and getters that check each value's type and range.

    Every getter raises a :class:`ConfigError` naming the file, the table's line and the key.
    """

    values: Mapping[str, Any]
    label: str
    line: int | None
    where: _Where

    def error(self, key: str | None, problem: str, fix: str) -> ConfigError:
        """An error about ``key`` of this table (about the whole table if None)."""
        name = self.label if key is None else f"{self.label}.{key}"
        return self.where.error(name, problem, fix, self.line)

    def text(self, key: str, example: str, default: str | None = None) -> str:
        """The key's text; ``default`` when it is absent, an error if there is none."""
        value = self.optional_text(key, example)
        if value is not None:
            return value
        if default is None:
            raise self.error(key, "missing", f'add {key} = "{example}"')
        return default

    def optional_text(self, key: str, example: str) -> str | None:
        """The key's text, or None when it is absent.

        Text with whitespace around it is refused rather than trimmed: an address or name
        with a stray newline would otherwise pass here and never match a device.
        """
        value = self.values.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, f"{_shown(value)} is not a text", f'write {key} = "{example}"')
        if not value.strip():
            raise self.error(key, f"{_shown(value)} is empty", f'write {key} = "{example}"')
        if value != value.strip():
            raise self.error(
                key,
                f"{_shown(value)} has stray whitespace around it",
                f"remove it: {tomli_w.dumps({key: value.strip()}).strip()}",
            )
        if not value.isprintable():
            raise self.error(
                key,
                f"{_shown(value)} has a control or invisible character in it",
                f'retype it with visible characters only, e.g. {key} = "{example}"',
            )
        return value

    def number(self, key: str, bounds: tuple[float, float], what: str, fix: str) -> float | None:
        """The key's number (int or float) within ``bounds``, or None when it is absent."""
        return self._bounded(key, bounds, what, fix, whole=False)

    def whole_number(
        self, key: str, bounds: tuple[float, float], what: str, fix: str
    ) -> int | None:
        """The key's whole number within ``bounds``, or None when it is absent."""
        value = self._bounded(key, bounds, what, fix, whole=True)
        return None if value is None else int(value)

    def _bounded(
        self, key: str, bounds: tuple[float, float], what: str, fix: str, *, whole: bool
    ) -> float | None:
        value = self.values.get(key)
        if value is None:
            return None
        low, high = bounds
        # A bool is an int to Python but no number to a user; nan and inf fail the comparison.
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if number is None or (whole and isinstance(number, float)) or not low <= number <= high:
            raise self.error(key, f"{_shown(value)} is not {what} from {low:g} to {high:g}", fix)
        return float(number)


def _read(path: Path) -> str | None:
    """The file's text, None if it does not exist."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}, line {line}: not UTF-8 text; save the file as UTF-8 in a text editor"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc


def load_config(path: str | Path) -> HubConfig:
    """Load and validate a hub config file.

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or has a wrong key or value; the message
        names the file, the line, the key and what to do.
    """
    path = Path(path)
    text = _read(path)
    if text is None:
        raise ConfigError(
            f"{path}: no such file; create it with `sensorhub devices add --config {path} ...`"
        )
    warn_if_exposed(path, _CONFIG_HOLDS)
    return parse_config(text, source=str(path))


def parse_config(text: str, *, source: str = "<config>") -> HubConfig:
    """Parse and validate hub config text (see :func:`load_config`)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}; fix the syntax there") from exc
    except RecursionError:
        raise ConfigError(
            f"{source}: not valid TOML: arrays or tables nested too deeply; fix the syntax there"
        ) from None
    where = _Where(source, text)
    unknown = sorted(set(raw) - {"hub", "wearers", "devices", "alerts", "caregivers"})
    if unknown:
        raise where.error(
            ", ".join(_shown_key(t) for t in unknown),
            "unknown table",
            "use [hub], [[wearers]], [[devices]], [alerts] and [[caregivers]]",
        )
    hub = where.table(raw.get("hub", {}), "hub", "[hub]", _HUB_KEYS, None)
    db_url = hub.text("db", "sqlite:///var/hub.db", default=DEFAULT_DB_URL)
    if "://" not in db_url:
        raise where.error(  # the value is not shown: it may be a password
            "hub.db", "is not a database URL", 'write e.g. "sqlite:///var/hub.db"'
        )
    wearers = [
        _wearer(w, i, where) for i, w in enumerate(_array(raw.get("wearers", []), "wearers", where))
    ]
    ids: set[str] = set()
    for i, w in enumerate(wearers):
        if w.id in ids:
            raise where.error(
                f"wearers[{i}].id",
                f"{_shown(w.id)} appears twice",
                "give each wearer a unique id",
                where.line_of_table("wearers", i),
            )
        ids.add(w.id)
    devices = [
        _device(d, i, where, ids)
        for i, d in enumerate(_array(raw.get("devices", []), "devices", where))
    ]
    seen: set[str] = set()
    for i, d in enumerate(devices):
        ident = (d.address or d.name or "").upper()
        if ident in seen:
            raise where.error(
                f"devices[{i}]",
                f"device {_shown(d.name or d.address)} is listed twice",
                "a device can be bound to one wearer only; remove one of the tables",
                where.line_of_table("devices", i),
            )
        seen.add(ident)
    alerts_table = where.table(raw.get("alerts", {}), "alerts", "[alerts]", _ALERT_KEYS, None)
    alerts = _alert_delivery(alerts_table)
    caregivers = [
        _caregiver(c, i, where)
        for i, c in enumerate(_array(raw.get("caregivers", []), "caregivers", where))
    ]
    usernames: set[str] = set()
    for i, c in enumerate(caregivers):
        if c.username in usernames:
            raise where.error(
                f"caregivers[{i}].username",
                f"{_shown(c.username)} appears twice",
                "list each caregiver once, with all their channels in one notify list",
                where.line_of_table("caregivers", i),
            )
        usernames.add(c.username)
    return HubConfig(db_url, tuple(wearers), tuple(devices), source, tuple(caregivers), alerts)


def _array(value: Any, name: str, where: _Where) -> list[Any]:
    if not isinstance(value, list):
        raise where.error(name, "must be an array of tables", f"write each entry as [[{name}]]")
    return value


def _entry(raw: Any, array: str, index: int, allowed: frozenset[str], where: _Where) -> _Table:
    """The ``index``-th table of ``[[array]]``."""
    line = where.line_of_table(array, index)
    return where.table(raw, f"{array}[{index}]", f"[[{array}]]", allowed, line)


def _wearer(raw: Any, index: int, where: _Where) -> WearerConfig:
    table = _entry(raw, "wearers", index, _WEARER_KEYS, where)
    wearer_id = table.text("id", "ada")
    name = table.text("name", "Ada", default=wearer_id)
    timezone = table.text("timezone", "Europe/Berlin", default="UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Europe"
        raise table.error(
            "timezone",
            f"unknown time zone {_shown(timezone)}",
            'use an IANA name such as "Europe/Berlin" or "UTC"',
        ) from None
    nudges_label = f"{table.label}.nudges"
    nudges = where.table(
        table.values.get("nudges", {}), nudges_label, "[wearers.nudges]", _NUDGE_KEYS, table.line
    )
    height_cm = table.number(
        "height_cm", _HEIGHT_CM, "a height in centimetres", "write e.g. height_cm = 168"
    )
    alerts_label = f"{table.label}.alerts"
    alerts = where.table(
        table.values.get("alerts", {}),
        alerts_label,
        "[wearers.alerts]",
        _WEARER_ALERT_KEYS,
        table.line,
    )
    return WearerConfig(
        wearer_id,
        name,
        timezone,
        _nudges(nudges, timezone),
        height_cm,
        _wearer_alerts(alerts, timezone),
    )


def _wearer_alerts(table: _Table, timezone: str) -> AlertSettings:
    kwargs: dict[str, Any] = {"timezone": timezone}
    for key, (target, factor, bounds, example) in _ALERT_NUMBERS.items():
        value = table.number(key, bounds, "a number", f"write e.g. {key} = {example}")
        if value is not None:
            kwargs[target] = value * factor
    battery = table.whole_number(
        "battery_low_pct", (5, 50), "a whole percentage", "write e.g. battery_low_pct = 15"
    )
    if battery is not None:
        kwargs["battery_low_pct"] = battery
    daytime = table.optional_text("daytime", "8-21")
    if daytime is not None:
        match = re.fullmatch(r"([0-9]{1,2}) *- *([0-9]{1,2})", daytime)
        if match is None or not (int(match[1]) < int(match[2]) <= 24):
            raise table.error(
                "daytime",
                f"{_shown(daytime)} is not a range of whole hours within a day",
                'write daytime = "8-21" for 08:00 to 21:00',
            )
        kwargs["day_start_hour"], kwargs["day_end_hour"] = int(match[1]), int(match[2])
    try:
        return AlertSettings(**kwargs)
    except ValueError as exc:  # every value was checked above: a rule added since
        raise table.error(None, str(exc), "fix the alert settings") from exc


def _nudges(table: _Table, timezone: str) -> NudgeSettings:
    kwargs: dict[str, Any] = {"timezone": timezone}
    for key, (target, example) in _NUDGE_MINUTES.items():
        minutes = table.number(
            key, _MINUTES, "a number of minutes", f"write e.g. {key} = {example}"
        )
        if minutes is not None:
            kwargs[target] = minutes * 60.0
    per_hour = table.whole_number(
        "max_per_hour", _NUDGES_PER_HOUR, "a whole number", "write e.g. max_per_hour = 2"
    )
    if per_hour is not None:
        kwargs["max_per_hour"] = per_hour
    goal = table.number(
        "walking_goal_min",
        _WALKING_GOAL_MIN,
        "a number of minutes",
        "write e.g. walking_goal_min = 20 (0 turns the walking nudge off)",
    )
    if goal is not None:
        kwargs["walking_goal_s"] = goal * 60.0
    goal_hour = table.whole_number(
        "walking_goal_hour", (0, 23), "a whole hour", "write e.g. walking_goal_hour = 17"
    )
    if goal_hour is not None:
        kwargs["walking_goal_hour"] = goal_hour
    quiet_hours = table.optional_text("quiet_hours", "21-8")
    if quiet_hours is not None:
        match = re.fullmatch(r"([0-9]{1,2}) *- *([0-9]{1,2})", quiet_hours)
        if match is None or not all(int(h) < 24 for h in match.groups()):
            raise table.error(
                "quiet_hours",
                f"{_shown(quiet_hours)} is not a range of whole hours",
                'write quiet_hours = "21-8" for 21:00 to 08:00',
            )
        kwargs["quiet_start_hour"], kwargs["quiet_end_hour"] = (int(h) for h in match.groups())
    try:
        return NudgeSettings(**kwargs)
    except ValueError as exc:  # every value was checked above: a rule NudgeSettings added since
        raise table.error(None, str(exc), "fix the nudge settings") from exc


def _device(raw: Any, index: int, where: _Where, wearer_ids: set[str]) -> DeviceConfig:
    table = _entry(raw, "devices", index, _DEVICE_KEYS, where)
    wearer = table.text("wearer", "ada")
    if wearer not in wearer_ids:
        raise table.error(
            "wearer",
            f"no wearer with id {_shown(wearer)}",
            f"add a [[wearers]] table with id = {_shown(wearer)}, or use one of: "
            f"{', '.join(sorted(wearer_ids)) or '(none yet)'}",
        )
    try:
        profile = get_profile(table.text("profile", "open-imu"))
    except KeyError as exc:
        raise table.error("profile", str(exc.args[0]), "see `sensorhub devices`") from None
    name = table.optional_text("name", "OpenIMU 0001")
    if name is not None and len(name.encode()) > _MAX_NAME_BYTES:
        raise table.error(
            "name",
            f"{_shown(name)} is longer than a Bluetooth name can be ({_MAX_NAME_BYTES} bytes)",
            "copy the name as `sensorhub scan` prints it",
        )
    address = table.optional_text("address", "C0:11:22:33:44:55")
    if name is None and address is None:
        raise table.error(
            None,
            "a device needs a name or an address",
            'add name = "..." or address = "..." (see `sensorhub scan`)',
        )
    if address is not None and not _ADDRESS.fullmatch(address):
        raise table.error(
            "address",
            f"{_shown(address)} is not a Bluetooth address",
            'write it as `sensorhub scan` prints it: "AA:BB:CC:DD:EE:FF" (a UUID on macOS)',
        )
    placement = table.text("placement", "lower_back", default=profile.default_placement)
    if placement not in _PLACEMENTS:
        raise table.error(
            "placement",
            f"unknown placement {_shown(placement)}",
            f"use one of: {', '.join(_PLACEMENTS)}",
        )
    adapter = table.optional_text("adapter", "hci1")
    if adapter is not None and not _ADAPTER.fullmatch(adapter):
        raise table.error(
            "adapter",
            f"{_shown(adapter)} is not an adapter name",
            'write the BlueZ name, e.g. "hci0" or "hci1" (`hciconfig` or `bluetoothctl list`)',
        )
    rate_hz, range_g = _stream_settings(table, profile)
    sensor_height_cm = table.number(
        "sensor_height_cm",
        _SENSOR_HEIGHT_CM,
        "a height in centimetres",
        "write the sensor's height above the ground as worn, e.g. sensor_height_cm = 95",
    )
    return DeviceConfig(
        wearer,
        profile.model,
        placement,
        name,
        address,
        rate_hz,
        range_g,
        adapter,
        sensor_height_cm,
    )


def _stream_settings(table: _Table, profile: DeviceProfile) -> tuple[float | None, int | None]:
    """The device's ``rate_hz`` and ``range_g``: one the profile lists, if it lists any."""
    rates, ranges = profile.sample_rates_hz, profile.acc_ranges_g
    bounds, fix = _choices(rates, _RATE_HZ, "rate_hz = 50")
    rate_hz = table.number("rate_hz", bounds, "a rate in Hz", fix)
    if rate_hz is not None and rates and rate_hz not in rates:
        raise table.error("rate_hz", f"a {profile.model} does not sample at {rate_hz:g} Hz", fix)
    bounds, fix = _choices(ranges, _RANGE_G, "range_g = 8")
    range_g = table.whole_number("range_g", bounds, "a whole number of g", fix)
    if range_g is not None and ranges and range_g not in ranges:
        raise table.error("range_g", f"a {profile.model} has no {range_g} g range", fix)
    return rate_hz, range_g


def _choices(
    listed: Sequence[float], unlisted: tuple[float, float], example: str
) -> tuple[tuple[float, float], str]:
    """Bounds of a stream setting and the fix to suggest: the listed values, if any."""
    if listed:
        return (min(listed), max(listed)), f"use one of: {', '.join(f'{v:g}' for v in listed)}"
    return unlisted, f"write e.g. {example}"


def _alert_delivery(table: _Table) -> AlertDeliverySettings:
    kwargs: dict[str, float] = {}
    for key, example in (("repeat_min", 5), ("escalate_after_min", 10)):
        minutes = table.number(
            key, _MINUTES, "a number of minutes", f"write e.g. {key} = {example}"
        )
        if minutes is not None:
            kwargs[key] = minutes
    return AlertDeliverySettings(**kwargs)


def _caregiver(raw: Any, index: int, where: _Where) -> CaregiverConfig:
    table = _entry(raw, "caregivers", index, _CAREGIVER_KEYS, where)
    username = table.text("username", "ana")
    notify = _notify_urls(table)
    order = table.whole_number(
        "order", _ORDERS, "a whole number", "write order = 1 for the first to be told, 2 next"
    )
    quiet_hours = None
    text = table.optional_text("quiet_hours", "22:00-07:00")
    if text is not None:
        quiet_hours = _clock_range(text)
        if quiet_hours is None:
            raise table.error(
                "quiet_hours",
                f"{_shown(text)} is not a range of times of day",
                'write quiet_hours = "22:00-07:00" for 22:00 to 07:00',
            )
    timezone = table.optional_text("timezone", "Europe/Berlin")
    if timezone is not None:
        _check_timezone(table, timezone)
    return CaregiverConfig(username, notify, 1 if order is None else order, quiet_hours, timezone)


def _clock_range(text: str) -> tuple[dt.time, dt.time] | None:
    """``(start, end)`` of ``"22:00-07:00"``; None if it is not one (or start equals end)."""
    match = _CLOCK_RANGE.fullmatch(text)
    if match is None:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60) or (h1, m1) == (h2, m2):
        return None
    return dt.time(h1, m1), dt.time(h2, m2)


def _check_timezone(table: _Table, timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Europe"
        raise table.error(
            "timezone",
            f"unknown time zone {_shown(timezone)}",
            'use an IANA name such as "Europe/Berlin" or "UTC"',
        ) from None


def _notify_urls(table: _Table) -> tuple[str, ...]:
    """The caregiver's apprise URLs, each one apprise can use (shown masked in errors)."""
    example = 'write e.g. notify = ["mailto://user:password@example.org"]'
    value = table.values.get("notify")
    if value is None:
        raise table.error("notify", "missing", example)
    if not isinstance(value, list) or not value:
        raise table.error("notify", "must be a list of one or more notification URLs", example)
    urls: list[str] = []
    for i, url in enumerate(value):
        key = f"notify[{i}]"
        if not isinstance(url, str) or not url.strip():
            raise table.error(key, "is not a notification URL", example)
        if url != url.strip() or not url.isprintable():
            raise table.error(
                key,
                f"{mask_channel(url)!r} has whitespace or a control character in it",
                "retype the URL on one line, with no spaces around it",
            )
        if not _apprise_understands(url):
            raise table.error(
                key,
                f"{mask_channel(url)!r} is not a notification URL apprise can use",
                'check its scheme and parts, e.g. "mailto://user:password@example.org" or '
                '"ntfys://ntfy.sh/TOPIC" (https://github.com/caronc/apprise/wiki)',
            )
        if url in urls:
            raise table.error(key, f"{mask_channel(url)!r} is listed twice", "remove one")
        urls.append(url)
    return tuple(urls)


def caregiver_from_urls(username: str, urls: Sequence[str], *, option: str) -> CaregiverConfig:
    """A caregiver told first, through ``urls`` (e.g. ``run --simulate ... --notify URL``).

    Raises
    ------
    ConfigError
        If a URL is not one apprise can use; the message names ``option`` and shows the URL
        masked.
    """
    for url in urls:
        if not _apprise_understands(url):
            raise ConfigError(
                f"{option} {mask_channel(url)!r}: not a notification URL apprise can use; check "
                'its scheme and parts, e.g. "json://127.0.0.1:8080/alerts" or '
                '"mailto://user:password@example.org" (https://github.com/caronc/apprise/wiki)'
            )
    return CaregiverConfig(username, tuple(dict.fromkeys(urls)), order=1)


def _apprise_understands(url: str) -> bool:
    import apprise  # 0.3 s to import: only for files that name caregivers

    try:
        return apprise.Apprise.instantiate(url) is not None
    except Exception:  # a plugin that chokes on odd input: not a URL it can use either
        return False


# --------------------------------------------------------------------------- writing


def append_device(
    path: str | Path,
    device: DeviceConfig,
    *,
    wearer_name: str | None = None,
    timezone: str = "UTC",
    db_url: str | None = None,
) -> HubConfig:
    """Bind a device to a wearer in the config file (created if missing).

    Appends a ``[[devices]]`` table, preceded by a ``[[wearers]]`` table when the wearer is
    new, and leaves the rest of the file untouched. The result is validated before it is
    written; nothing is written when it would be invalid.

    Returns
    -------
    HubConfig
        The new configuration.

    Raises
    ------
    ConfigError
        If the file or the new binding is invalid (nothing is written then).
    """
    path = Path(path)
    text = _read(path) or ""
    current = parse_config(text, source=str(path)) if text.strip() else HubConfig(source=str(path))
    blocks: list[str] = []
    if not text.strip():
        blocks.append("[hub]\n" + tomli_w.dumps({"db": db_url or DEFAULT_DB_URL}))
    if device.wearer not in {w.id for w in current.wearers}:
        wearer = {"id": device.wearer, "name": wearer_name or device.wearer, "timezone": timezone}
        blocks.append("[[wearers]]\n" + tomli_w.dumps(wearer))
    entry: dict[str, Any] = {
        "wearer": device.wearer,
        "profile": device.profile,
        "placement": device.placement,
    }
    for key in ("name", "address", "rate_hz", "range_g", "adapter", "sensor_height_cm"):
        value = getattr(device, key)
        if value is not None:
            entry[key] = value
    blocks.append("[[devices]]\n" + tomli_w.dumps(entry))
    new_text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + "\n".join(blocks)
    config = parse_config(new_text, source=str(path))
    write_private_text(path, new_text, holds=_CONFIG_HOLDS)
    return config


def simulated_config(
    bindings: Sequence[tuple[DeviceBinding, StreamSettings]], db_url: str
) -> HubConfig:
    """The config a simulated run uses: one wearer per device, as ``sensorhub run`` builds."""
    wearers = tuple(WearerConfig(b.wearer_id, b.wearer_id) for b, _ in bindings)
    devices = tuple(
        DeviceConfig(
            b.wearer_id,
            b.profile,
            b.placement,
            b.name,
            b.address,
            s.sample_rate_hz,
            s.acc_range_g,
        )
        for b, s in bindings
    )
    return HubConfig(db_url, wearers, devices, "<simulation>")
