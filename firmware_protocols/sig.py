"""Bluetooth SIG standard GATT services: UUIDs and codecs.

Layouts are from the Bluetooth SIG service and characteristic specifications (GATT
Specification Supplement), cross-checked against the independent ``bluetooth-sig`` 0.6.0
package (RonanB96, ``bluetooth_sig/gatt/characteristics/*.py``) and bleakheart ``_core.py``,
as summarised with verified vectors in ``../shared/research/ble-and-devices.md`` section 4.7 and
``vectors.json``. All multi-byte fields are little-endian.
"""

from __future__ import annotations

import enum
from typing import Final

from firmware_protocols.errors import DecodeError, EncodeError

__all__ = [
    "ALERT_LEVEL_UUID",
    "BATTERY_LEVEL_UUID",
    "BATTERY_SERVICE_UUID",
    "HEART_RATE_MEASUREMENT_UUID",
    "HEART_RATE_SERVICE_UUID",
    "IMMEDIATE_ALERT_SERVICE_UUID",
    "AlertLevel",
    "decode_alert_level",
    "decode_battery_level",
    "encode_alert_level",
    "encode_battery_level",
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
