"""Hub config: defaults filled in, errors that say where and what to do, appending devices."""

from __future__ import annotations

from pathlib import Path

import pytest

from sensorhub.config import DeviceConfig, append_device, load_config, parse_config
from sensorhub.errors import ConfigError

GOOD = """\
[hub]
db = "sqlite:///var/hub.db"

[[wearers]]
id = "ada"
name = "Ada"
timezone = "Europe/Berlin"

[wearers.nudges]
sitting_limit_min = 25
quiet_hours = "22-7"

[[devices]]
wearer = "ada"
profile = "open-imu"
name = "OpenIMU 0001"
rate_hz = 50

[[devices]]
wearer = "ada"
profile = "infinitime"
address = "C0:11:22:33:44:55"
"""


def test_a_good_config_loads_with_defaults_filled_in() -> None:
    config = parse_config(GOOD)
    [ada] = config.wearers
    assert ada.timezone == "Europe/Berlin"
    assert ada.nudges.sitting_limit_s == 25 * 60
    assert (ada.nudges.quiet_start_hour, ada.nudges.quiet_end_hour) == (22, 7)
    imu, watch = config.devices
    assert imu.placement == "lower_back"  # the profile's default
    assert watch.placement == "wrist"
    assert config.primary_device("ada") is imu
    assert ada.nudges.motionless_hold_s == 10 * 60  # default
    held = parse_config(GOOD.replace('quiet_hours = "22-7"', "motionless_hold_min = 15"))
    assert held.wearers[0].nudges.motionless_hold_s == 15 * 60


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('profile = "infinitime"', 'profile = "fitbit"'),
            r"line 19: devices\[1\]\.profile: unknown device model 'fitbit'",
        ),
        (
            ('wearer = "ada"\nprofile = "open-imu"', 'wearer = "bob"\nprofile = "open-imu"'),
            r"line 13: devices\[0\]\.wearer: no wearer with id 'bob'; add a \[\[wearers\]\]",
        ),
        (
            (
                '"open-imu"\nname = "OpenIMU 0001"\nrate_hz = 50',
                '"polar-h10"\nname = "H10"\nrate_hz = 30',
            ),
            r"line 13: devices\[0\]\.rate_hz: a polar-h10 does not sample at 30 Hz; "
            r"use one of: 25, 50, 100, 200",
        ),
        (("rate_hz = 50", "rate_hz = -5"), r"devices\[0\]\.rate_hz: -5 is not a rate"),
        (
            ('address = "C0:11:22:33:44:55"', 'address = "C0:11"'),
            r"devices\[1\]\.address: 'C0:11' is not a Bluetooth address; write it as",
        ),
        (
            ('timezone = "Europe/Berlin"', 'timezone = "Mars/Olympus"'),
            r"wearers\[0\]\.timezone: unknown time zone 'Mars/Olympus'; use an IANA name",
        ),
        (("rate_hz = 50", "rat_hz = 50"), r"devices\[0\]\.rat_hz: unknown key; allowed keys:"),
        (
            ("rate_hz = 50", 'rate_hz = 50\nadapter = "usb0"'),
            r"devices\[0\]\.adapter: 'usb0' is not an adapter name; write the BlueZ name",
        ),
        (
            ('quiet_hours = "22-7"', 'quiet_hours = "late"'),
            r"quiet_hours: 'late' is not a range of whole hours",
        ),
        (("[hub]", "[hub"), r"hub.toml: not valid TOML: .*line 1.*; fix the syntax there"),
    ],
)
def test_config_errors_name_the_file_line_key_and_fix(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_a_device_can_name_its_adapter(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(GOOD.replace("rate_hz = 50", 'rate_hz = 50\nadapter = "hci1"'))
    config = load_config(path)
    assert [d.adapter for d in config.devices][:1] == ["hci1"]


def test_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sensorhub devices add"):
        load_config(tmp_path / "nope.toml")


def test_append_device_keeps_comments_and_refuses_invalid_bindings(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text("# my hub\n" + GOOD)
    config = append_device(path, DeviceConfig("bob", "polar-h10", "chest", name="Polar H10 1"))
    assert [w.id for w in config.wearers] == ["ada", "bob"]
    assert path.read_text().startswith("# my hub\n")
    before = path.read_text()
    with pytest.raises(ConfigError, match="listed twice"):
        append_device(path, DeviceConfig("ada", "polar-h10", "chest", name="Polar H10 1"))
    assert path.read_text() == before  # nothing written
