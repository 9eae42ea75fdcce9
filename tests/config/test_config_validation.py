"""Hub config validation: what users get wrong is refused in one line that says how to fix it.

Every bad value must raise :class:`ConfigError` (nothing else), whose one-line message names
the file, the key and the fix; parsing must stay linear in the number of devices.
"""

from __future__ import annotations

import copy
import math
import re
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.bench_config import many_devices_config
from firmware_protocols.profiles import get_profile
from sensorhub.cli import main
from sensorhub.config import DeviceConfig as Device
from sensorhub.config import HubConfig, append_device, load_config, parse_config
from sensorhub.errors import ConfigError
from sensorhub.model import Placement
from sensorhub.nudge import NudgeSettings

GOOD: dict[str, Any] = {
    "hub": {"db": "sqlite:///var/hub.db"},
    "wearers": [
        {
            "id": "ada",
            "name": "Ada",
            "timezone": "Europe/Berlin",
            "nudges": {"sitting_limit_min": 25, "max_per_hour": 2, "quiet_hours": "22-7"},
        }
    ],
    "devices": [
        {"wearer": "ada", "profile": "open-imu", "name": "OpenIMU 0001", "rate_hz": 50},
        {"wearer": "ada", "profile": "polar-h10", "address": "C0:11:22:33:44:55", "range_g": 8},
    ],
}

MAC_OR_UUID = re.compile(
    r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}"
    r"|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)

Path_ = tuple[str | int, ...]
NUDGES: Path_ = ("wearers", 0, "nudges")
IMU: Path_ = ("devices", 0)  # open-imu: no listed rates or ranges
H10: Path_ = ("devices", 1)  # polar-h10: rates 25-200 Hz, ranges 2/4/8 g


def changed(path: Path_, value: Any) -> dict[str, Any]:
    """GOOD with the value at ``path`` replaced (or added)."""
    config = copy.deepcopy(GOOD)
    parent: Any = config
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return config


def to_toml(config: dict[str, Any]) -> str:
    """``config`` as a user writes it: a header line for every table, ``[[...]]`` for arrays.

    (tomli_w writes a short array of tables inline, which has no header line to point at.)
    """
    out: list[str] = []

    def key(name: str) -> str:  # bare, or quoted as tomli_w quotes it
        return tomli_w.dumps({name: 0}).rsplit(" = ", 1)[0]

    def is_array_of_tables(value: Any) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)

    def table(header: str, prefix: str, values: dict[str, Any]) -> None:
        nested = [k for k, v in values.items() if isinstance(v, dict) or is_array_of_tables(v)]
        out.append(header + tomli_w.dumps({k: v for k, v in values.items() if k not in nested}))
        for name in nested:
            path, value = f"{prefix}{key(name)}", values[name]
            for entry in [value] if isinstance(value, dict) else value:
                bracket = ("[", "]") if isinstance(value, dict) else ("[[", "]]")
                table(f"{bracket[0]}{path}{bracket[1]}\n", f"{path}.", entry)

    table("", "", config)
    return "\n".join(out)


def one_line_error(tmp_path: Path, config: dict[str, Any]) -> str:
    """The ConfigError message loading ``config`` from hub.toml gives (any other error fails)."""
    path = tmp_path / "hub.toml"
    path.write_text(to_toml(config), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert "\n" not in message
    assert "\r" not in message
    assert message.startswith(f"{path}")
    return message


# --------------------------------------------------------------------------- bad values

BAD_VALUES: list[tuple[Path_, Any, str, str]] = [
    # (where, value, key in the message, fix in the message)
    ((*NUDGES, "sitting_limit_min"), math.nan, "sitting_limit_min: nan", "= 30"),
    ((*NUDGES, "sitting_limit_min"), math.inf, "sitting_limit_min: inf", "= 30"),
    ((*NUDGES, "sitting_limit_min"), -5, "sitting_limit_min: -5", "= 30"),
    ((*NUDGES, "sitting_limit_min"), 0, "sitting_limit_min: 0 ", "= 30"),
    ((*NUDGES, "sitting_limit_min"), 10**6, "sitting_limit_min: 1000000", "= 30"),
    ((*NUDGES, "sitting_limit_min"), "30", "sitting_limit_min: '30'", "= 30"),
    ((*NUDGES, "sitting_limit_min"), True, "sitting_limit_min: True", "= 30"),
    ((*NUDGES, "standing_limit_min"), -math.inf, "standing_limit_min: -inf", "= 45"),
    ((*NUDGES, "snooze_min"), 0, "snooze_min", "snooze_min = 15"),
    ((*NUDGES, "motionless_hold_min"), math.nan, "motionless_hold_min", "= 10"),
    ((*NUDGES, "max_per_hour"), 0, "max_per_hour: 0", "max_per_hour = 2"),
    ((*NUDGES, "max_per_hour"), 2.5, "max_per_hour: 2.5", "max_per_hour = 2"),
    ((*NUDGES, "max_per_hour"), 10**4, "max_per_hour: 10000", "max_per_hour = 2"),
    ((*NUDGES, "quiet_hours"), 21, "quiet_hours: 21 is not a text", 'quiet_hours = "21-8"'),
    ((*NUDGES, "quiet_hours"), "21-24", "quiet_hours: '21-24'", '"21-8"'),
    ((*NUDGES, "quiet_hours"), " 21-8", "quiet_hours: ' 21-8' has stray", 'quiet_hours = "21-8"'),
    ((*NUDGES, "nudge_every"), 5, "nudges.nudge_every: unknown key", "allowed keys"),
    (NUDGES, [1], "wearers[0].nudges: must be a table", "[wearers.nudges]"),
    (
        (*IMU, "address"),
        "C0:11:22:33:44:55\n",
        r"address: 'C0:11:22:33:44:55\n' has stray",
        'remove it: address = "C0:11:22:33:44:55"',
    ),
    ((*IMU, "address"), " C0:11:22:33:44:55", "address: ' C0:11", "remove it"),
    ((*IMU, "address"), "C0:11:22:33:44:5G", "address: 'C0:11:22:33:44:5G' is not", "AA:BB:CC"),
    ((*IMU, "address"), "C0-11-22-33-44-55", "address", "AA:BB:CC:DD:EE:FF"),
    ((*IMU, "address"), "-" * 36, "address", "a UUID on macOS"),
    ((*IMU, "address"), 112233445566, "address: 112233445566 is not a text", "address = "),
    ((*IMU, "name"), "OpenIMU 0001 ", "name: 'OpenIMU 0001 ' has stray", 'name = "OpenIMU 0001"'),
    (
        (*IMU, "name"),
        "Open\u200bIMU",
        "name: 'Open\\u200bIMU' has a control or invisible",
        "retype",
    ),
    ((*IMU, "name"), "", "name: '' is empty", 'name = "'),
    ((*IMU, "name"), "x" * 249, "name: 'xxx", "`sensorhub scan`"),
    ((*IMU, "name"), 5, "devices[0].name: 5 is not a text", 'name = "'),
    ((*IMU, "range_g"), "huge", "devices[0].range_g: 'huge'", "range_g = 8"),
    ((*IMU, "range_g"), 8.5, "range_g: 8.5", "range_g = 8"),
    ((*IMU, "range_g"), 0, "range_g: 0", "range_g = 8"),
    ((*IMU, "range_g"), 4096, "range_g: 4096", "range_g = 8"),
    ((*IMU, "rate_hz"), math.nan, "devices[0].rate_hz: nan", "rate_hz = 50"),
    ((*IMU, "rate_hz"), 1e9, "rate_hz: 1000000000.0", "rate_hz = 50"),
    ((*IMU, "rate_hz"), "fast", "rate_hz: 'fast'", "rate_hz = 50"),
    ((*IMU, "placement"), "knee", "placement: unknown placement 'knee'", "use one of: wrist"),
    ((*IMU, "placement"), 3, "placement: 3 is not a text", 'placement = "lower_back"'),
    ((*IMU, "adapter"), "hci1 ", "adapter: 'hci1 ' has stray", 'adapter = "hci1"'),
    ((*IMU, "profile"), 5, "profile: 5 is not a text", 'profile = "open-imu"'),
    ((*IMU, "profile"), "open-imu\t", "profile: 'open-imu\\t' has stray", "remove it"),
    ((*IMU, "wearer"), "ada ", "wearer: 'ada ' has stray", 'wearer = "ada"'),
    ((*H10, "range_g"), "huge", "devices[1].range_g: 'huge'", "use one of: 2, 4, 8"),
    ((*H10, "range_g"), 16, "devices[1].range_g: 16", "use one of: 2, 4, 8"),
    ((*H10, "rate_hz"), 30, "a polar-h10 does not sample at 30 Hz", "use one of: 25, 50"),
    ((*H10, "rate_hz"), math.inf, "devices[1].rate_hz: inf", "use one of: 25, 50"),
    (("wearers", 0, "id"), "ada\n", r"wearers[0].id: 'ada\n' has stray", 'id = "ada"'),
    (("wearers", 0, "name"), ["Ada"], "wearers[0].name: ['Ada'] is not a text", 'name = "Ada"'),
    (("wearers", 0, "timezone"), "Europe", "timezone: unknown time zone 'Europe'", "IANA"),
    (("wearers", 0, "timezone"), "../../etc/passwd", "timezone: unknown time zone", "IANA"),
    (("wearers", 0, "timezone"), 1, "timezone: 1 is not a text", 'timezone = "Europe/Berlin"'),
    (("hub", "db"), 5, "hub.db: 5 is not a text", 'db = "sqlite:///'),
    (("hub", "db"), "hub.db", "hub.db: is not a database URL", '"sqlite:///'),  # value not echoed
    (("wearers",), 5, "wearers: must be an array of tables", "[[wearers]]"),
    (("wearers", 0, "height_cm"), 1.72, "height_cm: 1.72 is not", "height_cm = 168"),
    (("wearers", 0, "height_cm"), "172", "height_cm: '172'", "height_cm = 168"),
    ((*IMU, "sensor_height_cm"), 0, "sensor_height_cm: 0 is not", "sensor_height_cm = 95"),
    ((*IMU, "sensor_height_cm"), math.nan, "sensor_height_cm: nan", "above the ground"),
    ((*NUDGES, "walking_goal_min"), -1, "walking_goal_min: -1", "walking_goal_min = 20"),
    ((*NUDGES, "walking_goal_hour"), 17.5, "walking_goal_hour: 17.5", "walking_goal_hour = 17"),
    ((*NUDGES, "walking_goal_hour"), 24, "walking_goal_hour: 24", "walking_goal_hour = 17"),
    (("devices",), [7], "devices[0]: must be a table", "[[devices]]"),
]


@pytest.mark.parametrize(
    ("path", "value", "key", "fix"), BAD_VALUES, ids=[f"{p[-1]}={v!r}" for p, v, *_ in BAD_VALUES]
)
def test_a_bad_value_gives_one_line_naming_the_key_and_the_fix(
    tmp_path: Path, path: Path_, value: Any, key: str, fix: str
) -> None:
    message = one_line_error(tmp_path, changed(path, value))
    assert key in message
    assert fix in message.split("; ", 1)[1]  # the fix comes after what is wrong


def test_an_error_in_a_table_names_the_line_of_its_header(tmp_path: Path) -> None:
    config = changed((*H10, "rate_hz"), 30)
    header = to_toml(config).split("\n").index("[[devices]]", 0) + 1  # the first one
    second = to_toml(config).split("\n").index("[[devices]]", header) + 1
    assert f"hub.toml, line {second}: devices[1].rate_hz" in one_line_error(tmp_path, config)


@pytest.mark.parametrize(
    "address", ["c0:11:22:33:44:55", "C0:11:22:33:44:55", "0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9"]
)
def test_macs_and_corebluetooth_uuids_are_addresses(address: str) -> None:
    config = parse_config(to_toml(changed((*H10, "address"), address)))
    assert config.devices[1].address == address


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        (
            "[[wearers]]\nid = 'a'\n[[wearers]]\nid = 'a'\n",
            "line 3: wearers[1].id: 'a' appears twice",
        ),
        ("x = " + "[" * 5000 + "]" * 5000, "not valid TOML"),
        ("[hubb]\n", "hubb: unknown table; use [hub]"),
        ("[[devices]]\nwearer = 'a'\n", "no wearer with id 'a'"),
    ],
)
def test_whole_file_problems_are_config_errors(text: str, fix: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(fix)):
        parse_config(text, source="hub.toml")


def test_a_file_that_is_not_utf8_or_is_a_folder_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_bytes(b'[hub]\ndb = "sqlite:///caf\xe9.db"\n')
    with pytest.raises(ConfigError, match="line 2: not UTF-8 text; save the file as UTF-8"):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path)


def test_nudge_settings_refuse_times_that_are_not_finite() -> None:
    with pytest.raises(ValueError, match="finite"):
        NudgeSettings(sitting_limit_s=math.nan)
    with pytest.raises(ValueError, match="finite"):
        NudgeSettings(snooze_s=math.inf)


# --------------------------------------------------------------------------- any value at all

#: Every key and table the file may hold, in GOOD's layout.
EVERY_PATH: list[Path_] = [
    ("hub",),
    ("hub", "db"),
    ("wearers",),
    ("wearers", 0),
    *(("wearers", 0, key) for key in ("id", "name", "timezone", "nudges", "height_cm")),
    *(
        (*NUDGES, key)
        for key in (
            "sitting_limit_min",
            "standing_limit_min",
            "snooze_min",
            "max_per_hour",
            "quiet_hours",
            "motionless_hold_min",
            "walking_goal_min",
            "walking_goal_hour",
        )
    ),
    ("devices",),
    *(
        (*device, key)
        for device in (IMU, H10)
        for key in ("wearer", "profile", "name", "address", "placement", "rate_hz", "range_g")
    ),
    (*IMU, "adapter"),
    (*IMU, "sensor_height_cm"),
]

#: Text values close to valid ones, so that some draws pass and some fail narrowly.
NEAR_VALID_TEXT = st.sampled_from(
    ["ada", "Ada", "UTC", "Europe/Berlin", "open-imu", "polar-h10", "wrist", "lower_back", "hci0",
     "21-8", "0-0", "C0:11:22:33:44:66", "0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9",
     "sqlite:///x.db"]
).flatmap(lambda s: st.sampled_from([s, s + "\n", " " + s, s.upper(), s[:-1]]))  # fmt: skip
#: Values near the bounds and near valid text, so that some draws parse.
NEAR_VALID = st.one_of(
    NEAR_VALID_TEXT,
    st.integers(-2, 3300),
    st.floats(-1, 3300),
    st.sampled_from([1, 2, 8, 16, 25, 50, 200, 1440, 1441, 0.5, 30.0]),
)
SCALARS = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(),  # nan and +-inf included
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    st.dates(),
    st.datetimes(),
    st.times(),
)
TOML_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def assert_sensible(config: HubConfig) -> None:
    """Everything a parsed config holds is within what the collector can use."""
    texts = [config.db_url]
    for wearer in config.wearers:
        texts += [wearer.id, wearer.name, wearer.timezone]
        n = wearer.nudges
        for seconds in (n.sitting_limit_s, n.standing_limit_s, n.snooze_s, n.motionless_hold_s):
            assert 60 <= seconds <= 24 * 3600
        assert 0 <= n.walking_goal_s <= 600 * 60
        assert 0 <= n.walking_goal_hour < 24
        assert wearer.height_cm is None or 50 <= wearer.height_cm <= 250
        assert config.wearer_settings(wearer.id) is not None  # valid settings
        assert 1 <= n.max_per_hour <= 60
        assert 0 <= n.quiet_start_hour < 24
        assert 0 <= n.quiet_end_hour < 24
    for device in config.devices:
        profile = get_profile(device.profile)
        texts += [t for t in (device.wearer, device.name, device.address, device.adapter) if t]
        assert device.name or device.address
        assert device.address is None or MAC_OR_UUID.fullmatch(device.address)
        assert device.placement in {p.value for p in Placement}
        if device.rate_hz is not None:
            assert 1 <= device.rate_hz <= 3200
            assert not profile.sample_rates_hz or device.rate_hz in profile.sample_rates_hz
        if device.range_g is not None:
            assert type(device.range_g) is int
            assert 1 <= device.range_g <= 255
            assert not profile.acc_ranges_g or device.range_g in profile.acc_ranges_g
    for text in texts:
        assert text == text.strip()
        assert text.isprintable()
        assert text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(EVERY_PATH), value=st.one_of(NEAR_VALID, TOML_VALUES))
def test_any_toml_value_for_any_key_parses_sensibly_or_is_a_config_error(
    path: Path_, value: Any
) -> None:
    text = to_toml(changed(path, value))
    try:
        config = parse_config(text, source="hub.toml")
    except ConfigError as exc:  # anything else fails the test
        message = str(exc)
        assert "\n" not in message
        assert message.startswith("hub.toml")
        assert "; " in message  # what is wrong; what to do
    else:
        assert_sensible(config)


# --------------------------------------------------------------------------- size


def python_lines_run(text: str) -> int:
    """How many Python lines parsing ``text`` runs: a count of work no machine load changes."""
    count = 0

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        count += event == "line"
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        parse_config(text)
    finally:
        sys.settrace(previous)
    return count


def test_parsing_work_grows_linearly_with_the_number_of_devices() -> None:
    # Looking up each table's line by scanning the file made the work quadratic: 4x the
    # devices then cost ~16x the lines run (6,000 devices took 54 s). Linear work costs 4x.
    small, large = (python_lines_run(many_devices_config(n)) for n in (250, 1000))
    assert large / small < 4.5


def test_six_thousand_devices_parse_and_errors_still_name_the_right_line() -> None:
    text = many_devices_config(6000)
    assert len(parse_config(text).devices) == 6000
    last_header = text.split("\n").index("[[devices]]", len(text.split("\n")) - 8) + 1
    broken = text[: text.rindex("rate_hz = 50")] + "rate_hz = nan\n"
    with pytest.raises(ConfigError, match=rf"line {last_header}: devices\[5999\]\.rate_hz: nan"):
        parse_config(broken)


# --------------------------------------------------------------------------- command line


def test_run_with_a_bad_config_exits_1_with_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(to_toml(changed((*NUDGES, "sitting_limit_min"), math.nan)))
    assert main(["run", "--config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert err.startswith(f"sensorhub: error: {bad}, line ")
    assert "sitting_limit_min: nan" in err


@pytest.mark.parametrize(
    ("option", "key"),
    [
        (["--address", "C0:11:22:33:44:66\n"], "address: 'C0:11:22:33:44:66\\n' has stray"),
        (["--name", "Thingy 7", "--rate-hz", "nan"], "rate_hz: nan"),
        (["--name", "Thingy 7", "--placement", "knee"], "unknown placement 'knee'"),
    ],
)
def test_devices_add_checks_what_it_writes_the_same_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str], key: str
) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(to_toml(GOOD))
    before = path.read_text()
    argv = ["devices", "add", "--config", str(path), "--wearer", "bob", "--profile", "thingy52"]
    assert main([*argv, *option]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert key in err
    assert path.read_text() == before  # nothing written
    with pytest.raises(ConfigError, match="has stray whitespace"):
        append_device(path, Device("bob", "thingy52", "thigh", name="Thingy 7 "))


def test_height_sensor_height_and_walking_goal_become_the_wearers_settings() -> None:
    config = parse_config(
        to_toml(
            changed(
                ("wearers", 0),
                {
                    **GOOD["wearers"][0],
                    "height_cm": 172,
                    "nudges": {"walking_goal_min": 30, "walking_goal_hour": 16},
                },
            )
            | {"devices": [{**GOOD["devices"][0], "placement": "hip", "sensor_height_cm": 92.5}]}
        )
    )
    own = config.wearer_settings("ada")
    assert (own.height_cm, own.sensor_height_cm, own.sensor_placement) == (172, 92.5, "hip")
    assert (own.walking_goal_min, own.walking_goal_hour) == (30, 16)
    assert (own.sitting_limit_min, own.standing_limit_min, own.quiet_hours) == (30, 45, "21-8")
    plain = parse_config(to_toml(GOOD)).wearer_settings("ada")
    assert (plain.height_cm, plain.sensor_height_cm, plain.walking_goal_min) == (None, None, 20)
    assert (plain.sitting_limit_min, plain.quiet_hours) == (25, "22-7")


ALERTS_TOML = """
[hub]
db = "sqlite:///var/hub.db"

[[wearers]]
id = "ada"
timezone = "Europe/Berlin"

[wearers.alerts]
fall_cancel_s = 90
inactivity_h = 2.5
not_worn_h = 1
offline_min = 45
battery_low_pct = 20
daytime = "7-22"
"""


def test_a_wearers_alert_settings_come_from_the_config() -> None:
    (wearer,) = parse_config(ALERTS_TOML).wearers
    alerts = wearer.alerts
    assert alerts is not None
    assert (alerts.fall_cancel_s, alerts.inactivity_s, alerts.not_worn_s, alerts.offline_s) == (
        90.0, 9000.0, 3600.0, 2700.0,
    )  # fmt: skip
    assert (alerts.battery_low_pct, alerts.day_start_hour, alerts.day_end_hour) == (20, 7, 22)
    assert alerts.timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('daytime = "22-7"', 'daytime = "8-21" for 08:00 to 21:00'),
        ("inactivity_h = 0", "inactivity_h = 3"),
        ("fall_cancel_s = 5", "fall_cancel_s = 60"),
        ("battery_low_pct = 80", "battery_low_pct = 15"),
        ("snooze_min = 5", "snooze_min"),
    ],
)
def test_bad_alert_settings_say_what_to_write(line: str, message: str) -> None:
    text = ALERTS_TOML.split("[wearers.alerts]")[0] + "[wearers.alerts]\n" + line + "\n"
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(text, source="hub.toml")
