"""Protocol layer of sensorhub: bytes <-> typed packets for the wearables people own.

Pure, reversible codecs (``decode(encode(x)) == x``) that depend on numpy and the standard
library only: no asyncio, no BLE stack, no I/O (DESIGN.md section 2 and 5). Malformed bytes
raise :class:`~firmware_protocols.errors.DecodeError`, which says what was wrong.

Modules
-------
errors
    ``ProtocolError``, ``DecodeError``, ``EncodeError``.
polar_pmd
    Polar Measurement Data (H10, Verity Sense, OH1): control point and data frames.
sig
    Bluetooth SIG standard services: Heart Rate, Running Speed and Cadence, Battery,
    Immediate Alert, Alert Notification, Current Time, Device Information.
infinitime
    PineTime / InfiniTime motion service (steps, raw acceleration) and text alerts.
thingy52
    Nordic Thingy:52 motion service (raw motion, pedometer, configuration).
metawear
    mbientlab MetaWear BMI160 accelerometer (single and packed data, configuration, steps).
open_imu
    The open sensorhub IMU profile, version 1 (``OPEN_IMU_SPEC.md``).
profiles
    The device registry: match rules, data, placement, nudges, characteristics by name.
jsonview
    Packets as JSON with physical units (``sensorhub decode``).
"""

from __future__ import annotations

from firmware_protocols.errors import DecodeError, EncodeError, ProtocolError
from firmware_protocols.profiles import PROFILES, DeviceProfile, get_profile, match_profile

__all__ = [
    "PROFILES",
    "DecodeError",
    "DeviceProfile",
    "EncodeError",
    "ProtocolError",
    "get_profile",
    "match_profile",
]
