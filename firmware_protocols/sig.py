"""Bluetooth SIG standard GATT services: UUIDs and codecs.

Layouts are from the Bluetooth SIG service and characteristic specifications (GATT
Specification Supplement), cross-checked against the independent ``bluetooth-sig`` 0.6.0
package (RonanB96, ``bluetooth_sig/gatt/characteristics/*.py``) and bleakheart ``_core.py``,
as summarised with verified vectors in ``../shared/research/ble-and-devices.md`` section 4.7 and
``vectors.json``. All multi-byte fields are little-endian.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Final

from firmware_protocols.errors import DecodeError, EncodeError

__all__ = [
    "ALERT_LEVEL_UUID",
    "ALERT_NOTIFICATION_SERVICE_UUID",
    "BATTERY_LEVEL_UUID",
    "BATTERY_SERVICE_UUID",
    "CURRENT_TIME_SERVICE_UUID",
    "CURRENT_TIME_UUID",
    "DEVICE_INFORMATION_SERVICE_UUID",
    "DEVICE_INFORMATION_STRINGS",
    "HEART_RATE_MEASUREMENT_UUID",
    "HEART_RATE_SERVICE_UUID",
    "IMMEDIATE_ALERT_SERVICE_UUID",
    "MAX_ATT_VALUE_LEN",
    "NEW_ALERT_UUID",
    "RSC_FEATURE_UUID",
    "RSC_MEASUREMENT_UUID",
    "RSC_SERVICE_UUID",
    "AdjustReason",
    "AlertCategory",
    "AlertLevel",
    "CurrentTime",
    "HeartRateMeasurement",
    "NewAlert",
    "RscFeature",
    "RscMeasurement",
    "decode_alert_level",
    "decode_battery_level",
    "decode_current_time",
    "decode_heart_rate_measurement",
    "decode_new_alert",
    "decode_rsc_feature",
    "decode_rsc_measurement",
    "decode_utf8_string",
    "encode_alert_level",
    "encode_battery_level",
    "encode_current_time",
    "encode_heart_rate_measurement",
    "encode_new_alert",
    "encode_rsc_feature",
    "encode_rsc_measurement",
    "encode_utf8_string",
    "sig_uuid",
]


def sig_uuid(short: int) -> str:
    """Full lowercase 128-bit UUID string of a 16-bit SIG UUID (Bluetooth base UUID)."""
    if not 0 <= short <= 0xFFFF:
        raise ValueError(f"a 16-bit SIG UUID must be in 0..0xffff, got {short:#x}")
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


IMMEDIATE_ALERT_SERVICE_UUID: Final = sig_uuid(0x1802)
ALERT_LEVEL_UUID: Final = sig_uuid(0x2A06)
BATTERY_SERVICE_UUID: Final = sig_uuid(0x180F)
BATTERY_LEVEL_UUID: Final = sig_uuid(0x2A19)
HEART_RATE_SERVICE_UUID: Final = sig_uuid(0x180D)
HEART_RATE_MEASUREMENT_UUID: Final = sig_uuid(0x2A37)
RSC_SERVICE_UUID: Final = sig_uuid(0x1814)
RSC_MEASUREMENT_UUID: Final = sig_uuid(0x2A53)
RSC_FEATURE_UUID: Final = sig_uuid(0x2A54)
ALERT_NOTIFICATION_SERVICE_UUID: Final = sig_uuid(0x1811)
NEW_ALERT_UUID: Final = sig_uuid(0x2A46)
CURRENT_TIME_SERVICE_UUID: Final = sig_uuid(0x1805)
CURRENT_TIME_UUID: Final = sig_uuid(0x2A2B)
DEVICE_INFORMATION_SERVICE_UUID: Final = sig_uuid(0x180A)
#: Device Information string characteristics: kebab-case name -> UUID.
DEVICE_INFORMATION_STRINGS: Final = {
    "manufacturer-name": sig_uuid(0x2A29),
    "model-number": sig_uuid(0x2A24),
    "serial-number": sig_uuid(0x2A25),
    "hardware-revision": sig_uuid(0x2A27),
    "firmware-revision": sig_uuid(0x2A26),
    "software-revision": sig_uuid(0x2A28),
}
#: Longest attribute value ATT allows (Core Specification Vol 3 Part F 3.2.9).
MAX_ATT_VALUE_LEN: Final = 512


def _exact_length(data: bytes, n: int, what: str) -> None:
    if len(data) != n:
        raise DecodeError(f"{what} must be {n} byte{'s' if n != 1 else ''}, got {len(data)}")


# --------------------------------------------------------------------------- Immediate Alert


class AlertLevel(enum.IntEnum):
    """Alert Level 0x2A06 (Immediate Alert service 0x1802), written without response.

    InfiniTime shows "Alert : None/Mild/High" and vibrates; older Mi Bands vibrate on 1 and 2
    (ble-and-devices.md section 4.7).
    """

    NONE = 0
    MILD = 1
    HIGH = 2


def encode_alert_level(level: AlertLevel) -> bytes:
    """Encode an Alert Level write: one byte (``02`` = high alert)."""
    return bytes((AlertLevel(level),))


def decode_alert_level(data: bytes) -> AlertLevel:
    """Decode an Alert Level value: exactly one byte, 0..2.

    Raises
    ------
    DecodeError
        On a length other than 1 or a reserved level (3..255).
    """
    _exact_length(data, 1, "Alert Level")
    if data[0] > AlertLevel.HIGH:
        raise DecodeError(f"Alert Level {data[0]} is reserved; valid levels are 0, 1, 2")
    return AlertLevel(data[0])


# --------------------------------------------------------------------------- Battery


def encode_battery_level(percent: int) -> bytes:
    """Encode Battery Level 0x2A19: u8 percent, 0..100."""
    if not 0 <= percent <= 100:
        raise EncodeError(f"battery level must be 0..100 %, got {percent}")
    return bytes((percent,))


def decode_battery_level(data: bytes) -> int:
    """Decode Battery Level 0x2A19 to percent (``57`` -> 87).

    Raises
    ------
    DecodeError
        On a length other than 1 or a value above 100 (reserved by the specification).
    """
    _exact_length(data, 1, "Battery Level")
    if data[0] > 100:
        raise DecodeError(f"Battery Level {data[0]} % is out of range 0..100")
    return data[0]


# --------------------------------------------------------------------------- Heart Rate

_HR_U16: Final = 0x01
_HR_CONTACT_DETECTED: Final = 0x02
_HR_CONTACT_SUPPORTED: Final = 0x04
_HR_ENERGY: Final = 0x08
_HR_RR: Final = 0x10
_HR_KNOWN: Final = 0x1F


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """Heart Rate Measurement 0x2A37 (notify).

    ``flags u8 | HR u8 or u16 | [energy expended u16 kJ] | [RR u16 x n, 1/1024 s]``. Flags:
    b0 HR is u16, b1 sensor contact detected, b2 sensor contact supported, b3 energy expended
    present, b4 RR intervals present; b5-b7 are reserved (kept in ``reserved_flags`` so the
    packet round-trips).

    Parameters
    ----------
    heart_rate_bpm
        Beats per minute.
    sensor_contact_supported, sensor_contact_detected
        Flag bits 2 and 1 as sent (bit 1 means nothing without bit 2, see
        :attr:`sensor_contact`).
    energy_expended_kj
        Cumulative energy in kJ, or None when absent.
    rr_intervals_s
        RR intervals in seconds (exact multiples of 1/1024 s); empty when absent.
    hr_uint16
        The heart rate is sent as u16 (flag bit 0).
    reserved_flags
        Flag bits 5-7 as sent (0 for a conforming sensor).
    """

    heart_rate_bpm: int
    sensor_contact_supported: bool = False
    sensor_contact_detected: bool = False
    energy_expended_kj: int | None = None
    rr_intervals_s: tuple[float, ...] = ()
    hr_uint16: bool = False
    reserved_flags: int = 0

    @property
    def sensor_contact(self) -> bool | None:
        """True/False when the sensor reports contact, None when it does not support it."""
        return self.sensor_contact_detected if self.sensor_contact_supported else None


def decode_heart_rate_measurement(data: bytes) -> HeartRateMeasurement:
    """Decode Heart Rate Measurement 0x2A37 (every flag combination).

    Raises
    ------
    DecodeError
        If a field the flags announce is missing, RR data is not whole u16 values, the RR flag
        is set without any RR value, or bytes follow the last announced field.

    Examples
    --------
    >>> decode_heart_rate_measurement(bytes.fromhex("164800040003")).rr_intervals_s
    (1.0, 0.75)
    """
    data = bytes(data)
    n = len(data)
    if n < 2:
        raise DecodeError(f"Heart Rate Measurement too short: {n} bytes, need at least 2")
    flags = data[0]
    i = 1
    if flags & _HR_U16:
        if n < 3:
            raise DecodeError(
                "Heart Rate Measurement: flags announce a u16 heart rate, 1 byte sent"
            )
        hr = data[1] | data[2] << 8
        i = 3
    else:
        hr = data[1]
        i = 2
    energy = None
    if flags & _HR_ENERGY:
        if n < i + 2:
            raise DecodeError("Heart Rate Measurement: energy expended announced but missing")
        energy = data[i] | data[i + 1] << 8
        i += 2
    rr: tuple[float, ...] = ()
    rest = n - i
    if flags & _HR_RR:
        if rest == 0 or rest % 2:
            raise DecodeError(
                f"Heart Rate Measurement: RR intervals need whole u16 values, got {rest} bytes"
            )
        rr = tuple(v / 1024.0 for v in struct.unpack_from(f"<{rest // 2}H", data, i))
    elif rest:
        raise DecodeError(f"Heart Rate Measurement: {rest} unexpected trailing bytes")
    return HeartRateMeasurement(
        hr,
        bool(flags & _HR_CONTACT_SUPPORTED),
        bool(flags & _HR_CONTACT_DETECTED),
        energy,
        rr,
        bool(flags & _HR_U16),
        flags & ~_HR_KNOWN,
    )


def encode_heart_rate_measurement(m: HeartRateMeasurement) -> bytes:
    """Encode Heart Rate Measurement 0x2A37; the inverse of the decoder.

    Raises
    ------
    EncodeError
        If the heart rate does not fit its format, energy does not fit u16, an RR interval is
        not a multiple of 1/1024 s within u16, or ``reserved_flags`` has non-reserved bits.
    """
    if m.reserved_flags & _HR_KNOWN or not 0 <= m.reserved_flags <= 0xFF:
        raise EncodeError(f"reserved_flags {m.reserved_flags:#x} must only use bits 5-7")
    limit = 0xFFFF if m.hr_uint16 else 0xFF
    if not 0 <= m.heart_rate_bpm <= limit:
        raise EncodeError(
            f"heart rate {m.heart_rate_bpm} does not fit {'u16' if m.hr_uint16 else 'u8'}"
        )
    flags = m.reserved_flags
    flags |= _HR_U16 if m.hr_uint16 else 0
    flags |= _HR_CONTACT_SUPPORTED if m.sensor_contact_supported else 0
    flags |= _HR_CONTACT_DETECTED if m.sensor_contact_detected else 0
    out = bytearray((flags,))
    out += m.heart_rate_bpm.to_bytes(2 if m.hr_uint16 else 1, "little")
    if m.energy_expended_kj is not None:
        if not 0 <= m.energy_expended_kj <= 0xFFFF:
            raise EncodeError(f"energy expended {m.energy_expended_kj} kJ does not fit u16")
        out[0] |= _HR_ENERGY
        out += m.energy_expended_kj.to_bytes(2, "little")
    if m.rr_intervals_s:
        out[0] |= _HR_RR
        for rr in m.rr_intervals_s:
            raw = rr * 1024.0
            if raw != int(raw) or not 0 <= raw <= 0xFFFF:
                raise EncodeError(f"RR interval {rr} s is not a u16 multiple of 1/1024 s")
            out += int(raw).to_bytes(2, "little")
    return bytes(out)


# --------------------------------------------------------------------------- RSC

_RSC_STRIDE: Final = 0x01
_RSC_DISTANCE: Final = 0x02
_RSC_RUNNING: Final = 0x04


@dataclass(frozen=True, slots=True)
class RscMeasurement:
    """RSC Measurement 0x2A53 (notify).

    ``flags u8 | speed u16 (1/256 m/s) | cadence u8 (1/min) | [stride u16 (1/100 m)] |
    [total distance u32 (1/10 m)]``; flags b0 stride present, b1 distance present,
    b2 running (0 = walking). Reserved flag bits 3-7 are rejected.
    """

    speed_mps: float
    cadence_spm: int
    stride_length_m: float | None = None
    total_distance_m: float | None = None
    running: bool = False


def decode_rsc_measurement(data: bytes) -> RscMeasurement:
    """Decode RSC Measurement 0x2A53.

    Raises
    ------
    DecodeError
        On reserved flag bits, or a length that does not match the flags.

    Examples
    --------
    >>> m = decode_rsc_measurement(bytes.fromhex("0780016e520039300000"))
    >>> m.speed_mps, m.cadence_spm, m.stride_length_m, m.total_distance_m, m.running
    (1.5, 110, 0.82, 1234.5, True)
    """
    data = bytes(data)
    if not data:
        raise DecodeError("RSC Measurement is empty")
    flags = data[0]
    if flags & ~0x07:
        raise DecodeError(f"RSC Measurement: reserved flag bits set in {flags:#04x}")
    need = 4 + (2 if flags & _RSC_STRIDE else 0) + (4 if flags & _RSC_DISTANCE else 0)
    if len(data) != need:
        raise DecodeError(
            f"RSC Measurement with flags {flags:#04x} must be {need} bytes, got {len(data)}"
        )
    speed = (data[1] | data[2] << 8) / 256.0
    cadence = data[3]
    i = 4
    stride = None
    if flags & _RSC_STRIDE:
        stride = (data[i] | data[i + 1] << 8) / 100.0
        i += 2
    distance = None
    if flags & _RSC_DISTANCE:
        distance = int.from_bytes(data[i : i + 4], "little") / 10.0
    return RscMeasurement(speed, cadence, stride, distance, bool(flags & _RSC_RUNNING))


def _fixed(value: float, scale: int, bits: int, what: str) -> int:
    raw = round(value * scale)
    if not 0 <= raw < 1 << bits or abs(raw - value * scale) > 1e-6 * max(1.0, abs(raw)):
        raise EncodeError(f"{what} {value} is not a u{bits} multiple of 1/{scale}")
    return raw


def encode_rsc_measurement(m: RscMeasurement) -> bytes:
    """Encode RSC Measurement 0x2A53; values must be exact multiples of the field resolution."""
    if not 0 <= m.cadence_spm <= 0xFF:
        raise EncodeError(f"cadence {m.cadence_spm} /min does not fit u8")
    flags = (_RSC_RUNNING if m.running else 0) | (
        _RSC_STRIDE if m.stride_length_m is not None else 0
    )
    flags |= _RSC_DISTANCE if m.total_distance_m is not None else 0
    out = bytearray((flags,))
    out += _fixed(m.speed_mps, 256, 16, "speed (m/s)").to_bytes(2, "little")
    out.append(m.cadence_spm)
    if m.stride_length_m is not None:
        out += _fixed(m.stride_length_m, 100, 16, "stride length (m)").to_bytes(2, "little")
    if m.total_distance_m is not None:
        out += _fixed(m.total_distance_m, 10, 32, "total distance (m)").to_bytes(4, "little")
    return bytes(out)


class RscFeature(enum.IntFlag):
    """RSC Feature 0x2A54 (read, u16): what the sensor supports (bits 5-15 reserved, kept)."""

    STRIDE_LENGTH = 0x01
    TOTAL_DISTANCE = 0x02
    WALKING_OR_RUNNING_STATUS = 0x04
    CALIBRATION_PROCEDURE = 0x08
    MULTIPLE_SENSOR_LOCATIONS = 0x10


def decode_rsc_feature(data: bytes) -> RscFeature:
    """Decode RSC Feature 0x2A54: exactly 2 bytes, u16 bitfield (``0300`` = stride+distance)."""
    _exact_length(data, 2, "RSC Feature")
    return RscFeature(data[0] | data[1] << 8)


def encode_rsc_feature(features: RscFeature) -> bytes:
    """Encode RSC Feature 0x2A54."""
    value = int(features)
    if not 0 <= value <= 0xFFFF:
        raise EncodeError(f"RSC Feature {value:#x} does not fit u16")
    return value.to_bytes(2, "little")


# --------------------------------------------------------------------------- Alert Notification


class AlertCategory(enum.IntEnum):
    """Alert Notification category IDs (0x2A43); 10-250 reserved, 251-255 service-specific."""

    SIMPLE_ALERT = 0
    EMAIL = 1
    NEWS = 2
    CALL = 3
    MISSED_CALL = 4
    SMS_MMS = 5
    VOICE_MAIL = 6
    SCHEDULE = 7
    HIGH_PRIORITIZED_ALERT = 8
    INSTANT_MESSAGE = 9


@dataclass(frozen=True, slots=True)
class NewAlert:
    """New Alert 0x2A46 (write/notify): ``category u8 | new alerts u8 | UTF-8 text``.

    The SIG specification limits the text to 18 bytes; InfiniTime accepts longer text and
    reads it after a 3-byte header (see :mod:`firmware_protocols.infinitime`).
    """

    category: int
    count: int
    text: str


def decode_new_alert(data: bytes) -> NewAlert:
    """Decode New Alert 0x2A46 (what a band receives).

    Raises
    ------
    DecodeError
        If shorter than 2 bytes or the text is not UTF-8.
    """
    data = bytes(data)
    if len(data) < 2:
        raise DecodeError(f"New Alert too short: {len(data)} bytes, need at least 2")
    return NewAlert(data[0], data[1], decode_utf8_string(data[2:], "New Alert text"))


def encode_new_alert(alert: NewAlert) -> bytes:
    """Encode New Alert 0x2A46."""
    if not 0 <= alert.category <= 0xFF or not 0 <= alert.count <= 0xFF:
        raise EncodeError("New Alert category and count must fit u8")
    out = bytes((alert.category, alert.count)) + alert.text.encode("utf-8")
    if len(out) > MAX_ATT_VALUE_LEN:
        raise EncodeError(f"New Alert is {len(out)} bytes, at most {MAX_ATT_VALUE_LEN}")
    return out


# --------------------------------------------------------------------------- Current Time


class AdjustReason(enum.IntFlag):
    """Current Time adjust reason bits (bits 4-7 reserved, kept)."""

    MANUAL_TIME_UPDATE = 0x01
    EXTERNAL_REFERENCE_TIME_UPDATE = 0x02
    CHANGE_OF_TIME_ZONE = 0x04
    CHANGE_OF_DST = 0x08


_NO_ADJUST_REASON: Final = AdjustReason(0)


@dataclass(frozen=True, slots=True)
class CurrentTime:
    """Current Time 0x2A2B: 10 bytes, local time without zone.

    ``year u16 | month | day | hours | minutes | seconds | day_of_week (1 = Monday .. 7,
    0 unknown) | fractions256 (1/256 s) | adjust_reason``. Year 0, month 0, day 0 mean
    "not known".
    """

    year: int
    month: int
    day: int
    hours: int
    minutes: int
    seconds: int
    day_of_week: int = 0
    fractions256: int = 0
    adjust_reason: AdjustReason = _NO_ADJUST_REASON

    def isoformat(self) -> str:
        """``YYYY-MM-DDTHH:MM:SS`` (local time, no zone)."""
        return (
            f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
            f"T{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}"
        )

    def _check(self) -> str | None:
        checks = (
            (self.year == 0 or 1582 <= self.year <= 9999, f"year {self.year}"),
            (0 <= self.month <= 12, f"month {self.month}"),
            (0 <= self.day <= 31, f"day {self.day}"),
            (0 <= self.hours <= 23, f"hours {self.hours}"),
            (0 <= self.minutes <= 59, f"minutes {self.minutes}"),
            (0 <= self.seconds <= 59, f"seconds {self.seconds}"),
            (0 <= self.day_of_week <= 7, f"day of week {self.day_of_week}"),
            (0 <= self.fractions256 <= 255, f"fractions256 {self.fractions256}"),
            (0 <= int(self.adjust_reason) <= 255, f"adjust reason {int(self.adjust_reason)}"),
        )
        bad = [what for ok, what in checks if not ok]
        return ", ".join(bad) if bad else None


def decode_current_time(data: bytes) -> CurrentTime:
    """Decode Current Time 0x2A2B.

    Raises
    ------
    DecodeError
        On a length other than 10 or a field out of its range (e.g. month 13).

    Examples
    --------
    >>> decode_current_time(bytes.fromhex("ea0708130e1e00030001")).isoformat()
    '2026-08-19T14:30:00'
    """
    _exact_length(data, 10, "Current Time")
    month, day, hours, minutes, seconds, dow, fractions = data[2:9]
    t = CurrentTime(
        data[0] | data[1] << 8,
        month,
        day,
        hours,
        minutes,
        seconds,
        dow,
        fractions,
        AdjustReason(data[9]),
    )
    bad = t._check()
    if bad:
        raise DecodeError(f"Current Time: out of range: {bad}")
    return t


def encode_current_time(t: CurrentTime) -> bytes:
    """Encode Current Time 0x2A2B (e.g. to set a band's clock)."""
    bad = t._check()
    if bad:
        raise EncodeError(f"Current Time: out of range: {bad}")
    return t.year.to_bytes(2, "little") + bytes(
        (
            t.month,
            t.day,
            t.hours,
            t.minutes,
            t.seconds,
            t.day_of_week,
            t.fractions256,
            int(t.adjust_reason),
        )
    )


# --------------------------------------------------------------------------- strings


def decode_utf8_string(data: bytes, what: str = "UTF-8 string") -> str:
    """Decode a UTF-8 string characteristic (Device Information 0x2A24-0x2A29 and others).

    Raises
    ------
    DecodeError
        If the bytes are not valid UTF-8.
    """
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"{what} is not valid UTF-8: {exc.reason} at byte {exc.start}") from exc


def encode_utf8_string(text: str) -> bytes:
    """Encode a UTF-8 string characteristic."""
    out = text.encode("utf-8")
    if len(out) > MAX_ATT_VALUE_LEN:
        raise EncodeError(f"string is {len(out)} bytes, at most {MAX_ATT_VALUE_LEN}")
    return out
