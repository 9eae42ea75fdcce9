"""Bluetooth SIG codecs: research vectors, hand-worked vectors, round trips, fuzz."""

from __future__ import annotations

import pytest
from fp_support import fuzz_decoder, vector, vector_bytes
from hypothesis import given
from hypothesis import strategies as st

from firmware_protocols import sig
from firmware_protocols.errors import DecodeError, EncodeError
from firmware_protocols.sig import (
    AlertLevel,
    decode_alert_level,
    decode_battery_level,
    encode_alert_level,
    encode_battery_level,
)


def test_uuids_are_full_lowercase() -> None:
    assert sig.ALERT_LEVEL_UUID == "00002a06-0000-1000-8000-00805f9b34fb"
    assert sig.IMMEDIATE_ALERT_SERVICE_UUID == "00001802-0000-1000-8000-00805f9b34fb"
    assert sig.BATTERY_SERVICE_UUID == "0000180f-0000-1000-8000-00805f9b34fb"
    assert sig.BATTERY_LEVEL_UUID == "00002a19-0000-1000-8000-00805f9b34fb"
    assert sig.HEART_RATE_SERVICE_UUID == "0000180d-0000-1000-8000-00805f9b34fb"
    assert sig.HEART_RATE_MEASUREMENT_UUID == "00002a37-0000-1000-8000-00805f9b34fb"


def test_vector_alert_level() -> None:
    v = vector("sig-alert-level-high")
    assert encode_alert_level(AlertLevel(v["inputs"]["alert_level"]["value"])).hex() == v["hex"]
    for hexstr, name in v["expected"]["levels"].items():
        level = decode_alert_level(bytes.fromhex(hexstr))
        assert name.lower().startswith({"NONE": "no", "MILD": "mild", "HIGH": "high"}[level.name])


def test_vector_battery() -> None:
    v = vector("sig-battery-level")
    assert decode_battery_level(vector_bytes(v["id"])) == v["expected"]["battery_level"]["value"]
    assert encode_battery_level(87) == vector_bytes(v["id"])


def test_hand_alert_and_battery() -> None:
    assert encode_alert_level(AlertLevel.MILD) == b"\x01"
    assert decode_alert_level(b"\x00") is AlertLevel.NONE
    assert decode_battery_level(b"\x64") == 100
    assert decode_battery_level(b"\x00") == 0


@pytest.mark.parametrize(
    ("decoder", "data", "match"),
    [
        (decode_alert_level, b"", "must be 1 byte, got 0"),
        (decode_alert_level, b"\x03", "reserved"),
        (decode_alert_level, b"\x01\x00", "got 2"),
        (decode_battery_level, b"\x65", "101 % is out of range"),
        (decode_battery_level, b"", "must be 1 byte"),
    ],
)
def test_bad_values(decoder: object, data: bytes, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        decoder(data)  # type: ignore[operator]


def test_encoders_reject() -> None:
    with pytest.raises(EncodeError):
        encode_battery_level(101)
    with pytest.raises(ValueError, match="not a valid AlertLevel"):
        encode_alert_level(7)  # type: ignore[arg-type]


@given(st.sampled_from(list(AlertLevel)))
def test_alert_roundtrip(level: AlertLevel) -> None:
    assert decode_alert_level(encode_alert_level(level)) is level


@given(st.integers(0, 100))
def test_battery_roundtrip(pct: int) -> None:
    assert decode_battery_level(encode_battery_level(pct)) == pct
    raw = bytes((pct,))
    assert encode_battery_level(decode_battery_level(raw)) == raw


def test_fuzz_alert_and_battery() -> None:
    fuzz_decoder(decode_alert_level, [b"\x02", b"\x00"], seed=11)
    fuzz_decoder(decode_battery_level, [b"\x57"], seed=12)
