"""The hub configuration file (TOML): database, wearers, and the devices bound to them.

Example ``hub.toml``::

    [hub]
    db = "sqlite:///var/sensorhub.db"      # or postgresql+psycopg://...

    [[wearers]]
    id = "ada"
    name = "Ada"
    timezone = "Europe/Berlin"

    [wearers.nudges]                        # all optional (DESIGN.md section 6 defaults)
    sitting_limit_min = 30
    standing_limit_min = 45
    snooze_min = 15
    max_per_hour = 2
    quiet_hours = "21-8"
    motionless_hold_min = 10              # hold nudges while the band has not moved at all

    [[devices]]
    wearer = "ada"
    profile = "open-imu"                    # see `sensorhub devices`
    name = "OpenIMU 0001"                   # or: address = "C0:11:22:33:44:55"
    placement = "lower_back"                # default: the profile's usual placement
    rate_hz = 50                            # optional stream settings
    range_g = 8
    adapter = "hci1"                        # optional: which Bluetooth adapter (BlueZ name)

Errors name the file, the line (for syntax errors and the table an error is in), the key and
what to do. :func:`append_device` adds a ``[[devices]]`` table (and the wearer if new) to the
end of the file, keeping everything else, comments included, as it was. A new file is
created with mode 0600 (it may hold a database password); loading or appending to one that
other users may read logs a warning that says how to make it private.

A wearer's **primary** device is the first motion device listed for them: its blocks feed the
wearer's detection pipeline (whose placement it sets). Other devices of the wearer are
collected for health and step/cadence data, and every device that can be nudged is tried for
nudges, in file order.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from firmware_protocols.profiles import get_profile
from sensorhub.ble.drivers import StreamSettings
from sensorhub.ble.session import DeviceBinding
from sensorhub.errors import ConfigError
from sensorhub.model import Placement
from sensorhub.nudge import NudgeSettings
from sensorhub.private_files import warn_if_exposed, write_private_text

__all__ = [
    "DEFAULT_DB_URL",
    "DeviceConfig",
    "HubConfig",
    "WearerConfig",
    "append_device",
    "load_config",
    "parse_config",
    "simulated_config",
]

#: Database used when the file names none.
DEFAULT_DB_URL: Final = "sqlite:///var/sensorhub.db"

_ADAPTER = re.compile(r"hci[0-9]{1,2}")
_CONFIG_HOLDS: Final = "a database password and wearers' names"

_HUB_KEYS: Final = frozenset({"db"})
_WEARER_KEYS: Final = frozenset({"id", "name", "timezone", "nudges"})
_NUDGE_KEYS: Final = frozenset(
    {
        "sitting_limit_min",
        "standing_limit_min",
        "snooze_min",
        "max_per_hour",
        "quiet_hours",
        "motionless_hold_min",
    }
)
_DEVICE_KEYS: Final = frozenset(
    {"wearer", "profile", "name", "address", "placement", "rate_hz", "range_g", "adapter"}
)
_ADDRESS = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$|^[0-9A-Fa-f-]{36}$")
_MOTION_YIELDS: Final = frozenset({"acc", "gyro"})


@dataclass(frozen=True)
class WearerConfig:
    """A person the hub looks after."""

    id: str
    name: str
    timezone: str = "UTC"
    nudges: NudgeSettings = field(default_factory=NudgeSettings)


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
class HubConfig:
    """A whole hub: where to store, whom to watch, which devices."""

    db_url: str = DEFAULT_DB_URL
    wearers: tuple[WearerConfig, ...] = ()
    devices: tuple[DeviceConfig, ...] = ()
    source: str = "<config>"

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


# --------------------------------------------------------------------------- loading


class _Where:
    """Builds error messages that name the file, the table's line and the key."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self._lines = text.splitlines()

    def line_of_table(self, array: str, index: int) -> int | None:
        header = re.compile(rf"^\s*\[\[\s*{re.escape(array)}\s*\]\]")
        seen = -1
        for number, line in enumerate(self._lines, start=1):
            if header.match(line):
                seen += 1
                if seen == index:
                    return number
        return None

    def error(self, key: str, problem: str, fix: str, line: int | None = None) -> ConfigError:
        at = f", line {line}" if line else ""
        return ConfigError(f"{self.source}{at}: {key}: {problem}; {fix}")


def load_config(path: str | Path) -> HubConfig:
    """Load and validate a hub config file.

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or has a wrong key or value; the message
        names the file, the line, the key and what to do.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file; create it with `sensorhub devices add --config {path} ...`"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    warn_if_exposed(path, _CONFIG_HOLDS)
    return parse_config(text, source=str(path))


def parse_config(text: str, *, source: str = "<config>") -> HubConfig:
    """Parse and validate hub config text (see :func:`load_config`)."""
    where = _Where(source, text)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}; fix the syntax there") from exc
    unknown = set(raw) - {"hub", "wearers", "devices"}
    if unknown:
        raise where.error(
            ", ".join(sorted(unknown)), "unknown table", "use [hub], [[wearers]] and [[devices]]"
        )
    hub = _table(raw.get("hub", {}), "hub", _HUB_KEYS, where, None)
    db_url = hub.get("db", DEFAULT_DB_URL)
    if not isinstance(db_url, str) or "://" not in db_url:
        raise where.error(  # the value is not shown: it may be a password
            "hub.db", "is not a database URL", 'write e.g. "sqlite:///var/hub.db"'
        )
    wearers = [
        _wearer(w, i, where) for i, w in enumerate(_array(raw.get("wearers", []), "wearers", where))
    ]
    ids = [w.id for w in wearers]
    for wearer_id in ids:
        if ids.count(wearer_id) > 1:
            raise where.error(
                "wearers.id", f"{wearer_id!r} appears twice", "give each wearer a unique id"
            )
    devices = [
        _device(d, i, where, set(ids))
        for i, d in enumerate(_array(raw.get("devices", []), "devices", where))
    ]
    seen: set[str] = set()
    for i, d in enumerate(devices):
        ident = (d.address or d.name or "").upper()
        if ident in seen:
            raise where.error(
                f"devices[{i}]",
                f"device {d.name or d.address!r} is listed twice",
                "a device can be bound to one wearer only; remove one of the tables",
                where.line_of_table("devices", i),
            )
        seen.add(ident)
    return HubConfig(db_url, tuple(wearers), tuple(devices), source)


def _array(value: Any, name: str, where: _Where) -> list[Any]:
    if not isinstance(value, list):
        raise where.error(name, "must be an array of tables", f"write each entry as [[{name}]]")
    return value


def _table(
    value: Any, key: str, allowed: frozenset[str], where: _Where, line: int | None
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise where.error(key, "must be a table", f"write it as [{key}] with key = value lines")
    unknown = set(value) - allowed
    if unknown:
        raise where.error(
            f"{key}.{sorted(unknown)[0]}",
            "unknown key",
            f"allowed keys: {', '.join(sorted(allowed))}",
            line,
        )
    return value


def _string(table: Mapping[str, Any], key: str, label: str, where: _Where, line: int | None) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise where.error(f"{label}.{key}", "missing or not a text", f'add {key} = "..."', line)
    return value.strip()


def _wearer(raw: Any, index: int, where: _Where) -> WearerConfig:
    label = f"wearers[{index}]"
    line = where.line_of_table("wearers", index)
    table = _table(raw, label, _WEARER_KEYS, where, line)
    wearer_id = _string(table, "id", label, where, line)
    timezone = table.get("timezone", "UTC")
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise where.error(
            f"{label}.timezone",
            f"unknown time zone {timezone!r}",
            'use an IANA name such as "Europe/Berlin" or "UTC"',
            line,
        ) from None
    nudges = _nudges(table.get("nudges", {}), f"{label}.nudges", str(timezone), where, line)
    return WearerConfig(wearer_id, str(table.get("name", wearer_id)), str(timezone), nudges)


def _nudges(raw: Any, label: str, timezone: str, where: _Where, line: int | None) -> NudgeSettings:
    table = _table(raw, label, _NUDGE_KEYS, where, line)
    kwargs: dict[str, Any] = {"timezone": timezone}
    for key, target in (
        ("sitting_limit_min", "sitting_limit_s"),
        ("standing_limit_min", "standing_limit_s"),
        ("snooze_min", "snooze_s"),
        ("motionless_hold_min", "motionless_hold_s"),
    ):
        if key in table:
            value = table[key]
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise where.error(
                    f"{label}.{key}",
                    f"{value!r} is not a positive number of minutes",
                    "write e.g. 30",
                    line,
                )
            kwargs[target] = float(value) * 60.0
    if "max_per_hour" in table:
        value = table["max_per_hour"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise where.error(
                f"{label}.max_per_hour",
                f"{value!r} is not a whole number >= 1",
                "write e.g. 2",
                line,
            )
        kwargs["max_per_hour"] = value
    if "quiet_hours" in table:
        match = re.fullmatch(r"\s*(\d{1,2})\s*-\s*(\d{1,2})\s*", str(table["quiet_hours"]))
        if match is None or not all(0 <= int(h) < 24 for h in match.groups()):
            raise where.error(
                f"{label}.quiet_hours",
                f"{table['quiet_hours']!r} is not a range of whole hours",
                'write "21-8" for 21:00 to 08:00',
                line,
            )
        kwargs["quiet_start_hour"], kwargs["quiet_end_hour"] = (int(h) for h in match.groups())
    try:
        return NudgeSettings(**kwargs)
    except ValueError as exc:
        raise where.error(label, str(exc), "fix the nudge settings", line) from exc


def _device(raw: Any, index: int, where: _Where, wearer_ids: set[str]) -> DeviceConfig:
    label = f"devices[{index}]"
    line = where.line_of_table("devices", index)
    table = _table(raw, label, _DEVICE_KEYS, where, line)
    wearer = _string(table, "wearer", label, where, line)
    if wearer not in wearer_ids:
        raise where.error(
            f"{label}.wearer",
            f"no wearer with id {wearer!r}",
            f"add a [[wearers]] table with id = {wearer!r}, or use one of: "
            f"{', '.join(sorted(wearer_ids)) or '(none yet)'}",
            line,
        )
    model = _string(table, "profile", label, where, line)
    try:
        profile = get_profile(model)
    except KeyError as exc:
        raise where.error(
            f"{label}.profile", str(exc.args[0]), "see `sensorhub devices`", line
        ) from None
    name, address = table.get("name"), table.get("address")
    if not name and not address:
        raise where.error(
            label,
            "a device needs a name or an address",
            'add name = "..." or address = "..." (see `sensorhub scan`)',
            line,
        )
    if address is not None and not (isinstance(address, str) and _ADDRESS.match(address)):
        raise where.error(
            f"{label}.address",
            f"{address!r} is not a Bluetooth address",
            'write it as `sensorhub scan` prints it: "AA:BB:CC:DD:EE:FF" (a UUID on macOS)',
            line,
        )
    placement = str(table.get("placement", profile.default_placement))
    try:
        Placement(placement)
    except ValueError:
        raise where.error(
            f"{label}.placement",
            f"unknown placement {placement!r}",
            f"use one of: {', '.join(p.value for p in Placement)}",
            line,
        ) from None
    rate = table.get("rate_hz")
    if rate is not None and (
        not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0
    ):
        raise where.error(f"{label}.rate_hz", f"{rate!r} is not a rate", "write e.g. 50", line)
    if rate is not None and profile.sample_rates_hz and float(rate) not in profile.sample_rates_hz:
        raise where.error(
            f"{label}.rate_hz",
            f"a {profile.model} does not sample at {rate} Hz",
            f"use one of: {', '.join(f'{r:g}' for r in profile.sample_rates_hz)}",
            line,
        )
    range_g = table.get("range_g")
    if range_g is not None and profile.acc_ranges_g and range_g not in profile.acc_ranges_g:
        raise where.error(
            f"{label}.range_g",
            f"a {profile.model} has no {range_g} g range",
            f"use one of: {', '.join(str(r) for r in profile.acc_ranges_g)}",
            line,
        )
    adapter = table.get("adapter")
    if adapter is not None and not (isinstance(adapter, str) and _ADAPTER.fullmatch(adapter)):
        raise where.error(
            f"{label}.adapter",
            f"{adapter!r} is not an adapter name",
            'write the BlueZ name, e.g. "hci0" or "hci1" (`hciconfig` or `bluetoothctl list`)',
            line,
        )
    return DeviceConfig(
        wearer,
        profile.model,
        placement,
        str(name) if name else None,
        str(address) if address else None,
        None if rate is None else float(rate),
        None if range_g is None else int(range_g),
        adapter,
    )


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
    text = path.read_text(encoding="utf-8") if path.exists() else ""
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
    for key in ("name", "address", "rate_hz", "range_g", "adapter"):
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
