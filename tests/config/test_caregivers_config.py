"""Caregivers and alert timing in hub.toml: read as written, wrong values refused in one line.

Notification URLs hold passwords and tokens: an error about one shows it masked.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from sensorhub.config import AlertDeliverySettings, parse_config
from sensorhub.errors import ConfigError

GOOD = """
[[wearers]]
id = "ada"

[alerts]
repeat_min = 3
escalate_after_min = 7.5

[[caregivers]]
username = "ana"
notify = ["mailto://ana:app-pass@example.org", "ntfys://ntfy.sh/ana-7f3c"]
order = 1
quiet_hours = "22:00-07:00"
timezone = "Europe/Berlin"

[[caregivers]]
username = "ben"
notify = ["json://127.0.0.1:8080/hook/s3cret"]
order = 2
"""


def test_caregivers_and_alert_timing_are_read_as_written() -> None:
    config = parse_config(GOOD, source="hub.toml")
    assert config.alerts == AlertDeliverySettings(repeat_min=3.0, escalate_after_min=7.5)
    ana, ben = config.caregivers
    assert (ana.username, ana.order, ana.timezone) == ("ana", 1, "Europe/Berlin")
    assert ana.quiet_hours == (dt.time(22), dt.time(7))
    assert ana.notify == ("mailto://ana:app-pass@example.org", "ntfys://ntfy.sh/ana-7f3c")
    assert ana.channels == ("mailto://***@example.org", "ntfys://ntfy.sh/***")
    assert (ben.order, ben.quiet_hours, ben.timezone) == (2, None, None)
    assert "s3cret" not in repr(ben)
    assert "app-pass" not in repr(config)


def test_without_caregivers_nobody_is_told_and_the_defaults_hold() -> None:
    config = parse_config("[[wearers]]\nid = 'ada'\n")
    assert config.caregivers == ()
    assert config.alerts == AlertDeliverySettings(repeat_min=5.0, escalate_after_min=10.0)


def _with(caregiver: str) -> str:
    return f"[[wearers]]\nid = 'ada'\n\n[[caregivers]]\n{caregiver}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            _with("username = 'ana'\nnotify = ['mailto://a:b@example.org']\nphone = '1'"),
            "hub.toml, line 4: caregivers[0].phone: unknown key; allowed keys: notify, order, "
            "quiet_hours, timezone, username",
        ),
        (_with("notify = ['mailto://a:b@example.org']"), "caregivers[0].username: missing"),
        (_with("username = 'ana'"), "caregivers[0].notify: missing; write e.g. notify = ["),
        (_with("username = 'ana'\nnotify = []"), "must be a list of one or more"),
        (
            _with("username = 'ana'\nnotify = ['mailto://a:b@example.org']\nquiet_hours = '22-7'"),
            "caregivers[0].quiet_hours: '22-7' is not a range of times of day; write "
            'quiet_hours = "22:00-07:00"',
        ),
        (
            _with("username = 'ana'\nnotify = ['mailto://a:b@x.org']\nquiet_hours = '25:00-07:00'"),
            "not a range of times of day",
        ),
        (
            _with("username = 'ana'\nnotify = ['mailto://a:b@example.org']\norder = 0"),
            "caregivers[0].order: 0 is not a whole number from 1 to 99",
        ),
        (
            _with("username = 'ana'\nnotify = ['mailto://a:b@example.org']\ntimezone = 'Mars'"),
            "caregivers[0].timezone: unknown time zone 'Mars'",
        ),
        (
            "[alerts]\nrepeat_min = 0\n",
            "alerts.repeat_min: 0 is not a number of minutes from 1 to 1440; write e.g. "
            "repeat_min = 5",
        ),
        ("[alerts]\nescalate_min = 3\n", "alerts.escalate_min: unknown key"),
        (
            _with("username = 'ana'\nnotify = ['mailto://a:b@example.org']")
            + "\n[[caregivers]]\nusername = 'ana'\nnotify = ['mailto://c:d@example.org']\n",
            "line 8: caregivers[1].username: 'ana' appears twice",
        ),
    ],
)
def test_wrong_caregiver_settings_say_what_to_write(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        parse_config(text, source="hub.toml")


@pytest.mark.parametrize(
    "url",
    [
        "bogus://hunter2-token@example.org/hunter2-path",
        "mailto://",
        "json://",
        "not a url hunter2",
        "ntfys://hunter2-token@ntfy.sh/hunter2-topic\n",
    ],
)
def test_a_url_apprise_cannot_use_is_refused_without_showing_its_secrets(url: str) -> None:
    text = _with("username = 'ana'") + f"notify = [{_toml_string(url)}]\n"
    with pytest.raises(ConfigError, match=r"caregivers\[0\]\.notify\[0\]") as caught:
        parse_config(text, source="hub.toml")
    assert "hunter2" not in str(caught.value)


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
