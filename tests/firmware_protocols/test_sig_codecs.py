"""Bluetooth SIG codecs: research vectors, hand-worked vectors, round trips, fuzz."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_protocols import sig
from firmware_protocols.errors import DecodeError, EncodeError
from firmware_protocols.sig import (
    AdjustReason,
    AlertCategory,
    AlertLevel,
    CurrentTime,
    HeartRateMeasurement,
    NewAlert,
    RscFeature,
    RscMeasurement,
    decode_alert_level,
    decode_battery_level,
    decode_current_time,
    decode_heart_rate_measurement,
    decode_new_alert,
    decode_rsc_feature,
    decode_rsc_measurement,
    decode_utf8_string,
    encode_alert_level,
    encode_battery_level,
    encode_current_time,
    encode_heart_rate_measurement,
    encode_new_alert,
    encode_rsc_feature,
    encode_rsc_measurement,
    encode_utf8_string,
)
from tests.support.protocols import fuzz_decoder, vector, vector_bytes


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


@settings(deadline=None)
@given(st.sampled_from(list(AlertLevel)))
def test_alert_roundtrip(level: AlertLevel) -> None:
    assert decode_alert_level(encode_alert_level(level)) is level


@settings(deadline=None)
@given(st.integers(0, 100))
def test_battery_roundtrip(pct: int) -> None:
    assert decode_battery_level(encode_battery_level(pct)) == pct
    raw = bytes((pct,))
    assert encode_battery_level(decode_battery_level(raw)) == raw


def test_fuzz_alert_and_battery() -> None:
    fuzz_decoder(decode_alert_level, [b"\x02", b"\x00"], seed=11, encode=encode_alert_level)
    fuzz_decoder(decode_battery_level, [b"\x57"], seed=12, encode=encode_battery_level)


# ----------------------------------------------------------------------- Heart Rate


def test_vector_hr_measurements() -> None:
    v = vector("sig-hr-measurement-rr")
    m = decode_heart_rate_measurement(vector_bytes(v["id"]))
    exp = v["expected"]
    assert m.heart_rate_bpm == exp["heart_rate"]["value"]
    assert m.sensor_contact_supported is exp["sensor_contact_supported"]
    assert m.sensor_contact_detected is exp["sensor_contact_detected"]
    assert m.energy_expended_kj is exp["energy_expended"]["value"]
    assert list(m.rr_intervals_s) == exp["rr_intervals"]["value"]
    assert encode_heart_rate_measurement(m) == vector_bytes(v["id"])
    for vid in ("sig-hr-measurement-emulated-h10", "sig-hr-measurement-emulated-band"):
        v = vector(vid)
        m = decode_heart_rate_measurement(vector_bytes(vid))
        assert m.heart_rate_bpm == v["expected"]["heart_rate"]["value"]
        assert m.sensor_contact_supported is v["expected"]["sensor_contact_supported"]
        assert m.sensor_contact is None
        assert list(m.rr_intervals_s) == v["expected"]["rr_intervals"]["value"]
        assert encode_heart_rate_measurement(m) == vector_bytes(vid)


def test_hand_hr_all_fields() -> None:
    # flags 0x1f: u16 HR, contact supported+detected, energy, RR. HR 300 = 2c 01,
    # energy 1000 kJ = e8 03, RR 512/1024 s = 00 02 and 1536/1024 s = 00 06
    m = decode_heart_rate_measurement(bytes.fromhex("1f2c01e80300020006"))
    assert m == HeartRateMeasurement(300, True, True, 1000, (0.5, 1.5), hr_uint16=True)
    assert m.sensor_contact is True
    # flags 0x04: contact supported but not detected; u8 HR 60
    m = decode_heart_rate_measurement(bytes.fromhex("043c"))
    assert m.sensor_contact is False
    assert m.rr_intervals_s == ()


@pytest.mark.parametrize(
    ("hexstr", "match"),
    [
        ("10", "too short"),
        ("013c", "u16 heart rate"),
        ("083c00", "energy expended announced"),
        ("103c", "RR intervals need whole u16 values, got 0"),
        ("103c000400", "got 3 bytes"),
        ("003c00", "1 unexpected trailing bytes"),
    ],
)
def test_bad_hr(hexstr: str, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        decode_heart_rate_measurement(bytes.fromhex(hexstr))


@settings(deadline=None)
@given(
    st.builds(
        HeartRateMeasurement,
        st.integers(0, 255),
        st.booleans(),
        st.booleans(),
        st.one_of(st.none(), st.integers(0, 0xFFFF)),
        st.lists(st.integers(0, 0xFFFF).map(lambda r: r / 1024), max_size=9).map(tuple),
        st.just(False),
        st.sampled_from([0, 0x20, 0xE0]),
    )
    | st.builds(
        HeartRateMeasurement,
        st.integers(0, 0xFFFF),
        hr_uint16=st.just(True),
        rr_intervals_s=st.lists(st.integers(0, 0xFFFF).map(lambda r: r / 1024), max_size=3).map(
            tuple
        ),
    )
)
def test_hr_roundtrip(m: HeartRateMeasurement) -> None:
    raw = encode_heart_rate_measurement(m)
    assert decode_heart_rate_measurement(raw) == m
    assert encode_heart_rate_measurement(decode_heart_rate_measurement(raw)) == raw


@settings(deadline=None)
@given(st.integers(0, 0xFF), st.binary(max_size=12))
def test_hr_bytes_roundtrip(flags: int, rest: bytes) -> None:
    raw = bytes((flags,)) + rest
    try:
        m = decode_heart_rate_measurement(raw)
    except DecodeError:
        return
    assert encode_heart_rate_measurement(m) == raw


# ----------------------------------------------------------------------- RSC


@pytest.mark.parametrize("vid", ["sig-rsc-measurement-running", "sig-rsc-measurement-walking"])
def test_vector_rsc(vid: str) -> None:
    v = vector(vid)
    exp = v["expected"]
    m = decode_rsc_measurement(vector_bytes(vid))
    assert m.speed_mps == exp["instantaneous_speed"]["value"]
    assert m.cadence_spm == exp["instantaneous_cadence"]["value"]
    assert m.stride_length_m == exp["instantaneous_stride_length"]["value"]
    assert m.total_distance_m == exp["total_distance"]["value"]
    assert m.running is exp["running"]
    assert encode_rsc_measurement(m) == vector_bytes(vid)


def test_vector_rsc_feature() -> None:
    v = vector("sig-rsc-feature")
    f = decode_rsc_feature(vector_bytes(v["id"]))
    exp = v["expected"]
    assert int(f) == exp["value"]
    assert (RscFeature.STRIDE_LENGTH in f) is exp["stride_length_measurement_supported"]
    assert (RscFeature.TOTAL_DISTANCE in f) is exp["total_distance_measurement_supported"]
    assert (RscFeature.WALKING_OR_RUNNING_STATUS in f) is exp["walking_or_running_status_supported"]
    assert (RscFeature.CALIBRATION_PROCEDURE in f) is exp["calibration_procedure_supported"]
    assert (RscFeature.MULTIPLE_SENSOR_LOCATIONS in f) is exp["multiple_sensor_locations_supported"]
    assert encode_rsc_feature(f) == vector_bytes(v["id"])


def test_hand_rsc() -> None:
    # flags 0: walking, speed 256/256 = 1 m/s (00 01), cadence 60 (3c)
    assert decode_rsc_measurement(bytes.fromhex("0000013c")) == RscMeasurement(1.0, 60)
    # flags 0x01: stride 75 cm (4b 00)
    assert decode_rsc_measurement(bytes.fromhex("0180005a4b00")).stride_length_m == 0.75
    with pytest.raises(DecodeError, match="must be 6 bytes, got 4"):
        decode_rsc_measurement(bytes.fromhex("0100013c"))
    with pytest.raises(DecodeError, match="reserved flag"):
        decode_rsc_measurement(bytes.fromhex("0800013c"))
    with pytest.raises(DecodeError, match="empty"):
        decode_rsc_measurement(b"")
    with pytest.raises(EncodeError, match="multiple of 1/256"):
        encode_rsc_measurement(RscMeasurement(1.0001, 60))
    assert decode_rsc_feature(b"\x1f\x80") == RscFeature(0x801F)


@settings(deadline=None)
@given(
    st.builds(
        RscMeasurement,
        st.integers(0, 0xFFFF).map(lambda r: r / 256),
        st.integers(0, 255),
        st.one_of(st.none(), st.integers(0, 0xFFFF).map(lambda r: r / 100)),
        st.one_of(st.none(), st.integers(0, 0xFFFF_FFFF).map(lambda r: r / 10)),
        st.booleans(),
    )
)
def test_rsc_roundtrip(m: RscMeasurement) -> None:
    raw = encode_rsc_measurement(m)
    assert decode_rsc_measurement(raw) == m
    assert encode_rsc_measurement(decode_rsc_measurement(raw)) == raw


@settings(deadline=None)
@given(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7]), st.binary(min_size=3, max_size=9))
def test_rsc_bytes_roundtrip(flags: int, rest: bytes) -> None:
    raw = bytes((flags,)) + rest
    try:
        m = decode_rsc_measurement(raw)
    except DecodeError:
        return
    assert encode_rsc_measurement(m) == raw


@settings(deadline=None)
@given(st.binary(min_size=2, max_size=2))
def test_rsc_feature_roundtrip(raw: bytes) -> None:
    assert encode_rsc_feature(decode_rsc_feature(raw)) == raw


# ----------------------------------------------------------------------- Alert Notification


def test_hand_new_alert() -> None:
    a = decode_new_alert(bytes.fromhex("0301") + b"Mum")
    assert a == NewAlert(AlertCategory.CALL, 1, "Mum")
    assert encode_new_alert(a) == bytes.fromhex("03014d756d")
    with pytest.raises(DecodeError, match="not valid UTF-8"):
        decode_new_alert(b"\x00\x01\xff")
    with pytest.raises(DecodeError, match="too short"):
        decode_new_alert(b"\x00")


@settings(deadline=None)
@given(st.integers(0, 255), st.integers(0, 255), st.text(max_size=40))
def test_new_alert_roundtrip(cat: int, count: int, text: str) -> None:
    a = NewAlert(cat, count, text)
    raw = encode_new_alert(a)
    assert decode_new_alert(raw) == a
    assert encode_new_alert(decode_new_alert(raw)) == raw


# ----------------------------------------------------------------------- Current Time


def test_vector_current_time() -> None:
    v = vector("sig-current-time")
    t = decode_current_time(vector_bytes(v["id"]))
    exp = v["expected"]
    assert t.isoformat() == exp["date_time"]["value"]
    assert t.day_of_week == exp["day_of_week"]["value"]
    assert t.fractions256 == exp["fractions256"]["value"]
    assert int(t.adjust_reason) == exp["adjust_reason"]["value"]
    assert AdjustReason.MANUAL_TIME_UPDATE in t.adjust_reason
    assert encode_current_time(t) == vector_bytes(v["id"])


def test_hand_current_time() -> None:
    # 2024-02-29 23:59:59, Thursday (4), 128/256 s, timezone change (0x04); 2024 = e8 07
    t = decode_current_time(bytes.fromhex("e807021d173b3b048004"))
    assert t == CurrentTime(2024, 2, 29, 23, 59, 59, 4, 128, AdjustReason.CHANGE_OF_TIME_ZONE)
    with pytest.raises(DecodeError, match="month 13"):
        decode_current_time(bytes.fromhex("e8070d1d173b3b048004"))
    with pytest.raises(DecodeError, match="must be 10 bytes"):
        decode_current_time(bytes.fromhex("e807"))
    with pytest.raises(EncodeError, match="hours 24"):
        encode_current_time(CurrentTime(2024, 1, 1, 24, 0, 0))


@settings(deadline=None)
@given(
    st.builds(
        CurrentTime,
        st.sampled_from([0, 1582, 2026, 9999]),
        st.integers(0, 12),
        st.integers(0, 31),
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
        st.integers(0, 7),
        st.integers(0, 255),
        st.integers(0, 255).map(AdjustReason),
    )
)
def test_current_time_roundtrip(t: CurrentTime) -> None:
    raw = encode_current_time(t)
    assert decode_current_time(raw) == t
    assert encode_current_time(decode_current_time(raw)) == raw


# ----------------------------------------------------------------------- strings


def test_device_information_strings() -> None:
    assert decode_utf8_string(b"Polar Electro Oy") == "Polar Electro Oy"
    assert encode_utf8_string("H10") == b"H10"
    assert sig.DEVICE_INFORMATION_STRINGS["model-number"] == "00002a24-0000-1000-8000-00805f9b34fb"
    with pytest.raises(DecodeError, match="not valid UTF-8"):
        decode_utf8_string(b"\xc3")


@settings(deadline=None)
@given(st.text(max_size=60))
def test_string_roundtrip(text: str) -> None:
    assert decode_utf8_string(encode_utf8_string(text)) == text


# ----------------------------------------------------------------------- fuzz


def test_fuzz_sig_decoders() -> None:
    fuzz_decoder(
        decode_heart_rate_measurement,
        [
            vector_bytes("sig-hr-measurement-rr"),
            vector_bytes("sig-hr-measurement-emulated-h10"),
            bytes.fromhex("1f2c01e80300020006"),
        ],
        seed=21,
        encode=encode_heart_rate_measurement,
    )
    fuzz_decoder(
        decode_rsc_measurement,
        [vector_bytes("sig-rsc-measurement-running"), bytes.fromhex("0000013c")],
        seed=22,
        encode=encode_rsc_measurement,
    )
    fuzz_decoder(
        decode_rsc_feature, [vector_bytes("sig-rsc-feature")], seed=23, encode=encode_rsc_feature
    )
    fuzz_decoder(decode_new_alert, [bytes.fromhex("03014d756d")], seed=24, encode=encode_new_alert)
    fuzz_decoder(
        decode_current_time, [vector_bytes("sig-current-time")], seed=25, encode=encode_current_time
    )
    fuzz_decoder(decode_utf8_string, ["Grüße".encode()], seed=26, encode=encode_utf8_string)
