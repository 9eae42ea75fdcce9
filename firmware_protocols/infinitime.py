"""InfiniTime (PineTime open firmware): motion service, alerts, time.

Layouts from InfiniTimeOrg/InfiniTime @82505657 (GPLv3: reimplemented from the description, no
code copied): ``src/components/ble/MotionService.cpp`` and ``doc/MotionService.md`` (motion
service), ``src/drivers/Bma421.cpp`` and PR #1950 (1 g = 1024), ``ImmediateAlertService.cpp``,
``AlertNotificationService.cpp``, ``CurrentTimeService.cpp``; summarised in
``../shared/research/ble-and-devices.md`` section 4.2.

* Motion service ``00030000-78fc-48fe-8e23-433b3a1942d0``: step count ``00030001`` (READ,
  NOTIFY; u32 steps today) and raw motion ``00030002`` (READ, NOTIFY; 3 x i16 x, y, z in
  "binary milli-g", 1 g = 1024). The watch polls the BMA421 at about 10 Hz and notifies only
  when a value changed, so samples are irregular and at most about 10 Hz.
* Nudges: Immediate Alert 0x2A06 (:mod:`firmware_protocols.sig`) or Alert Notification New
  Alert 0x2A46, which InfiniTime reads as a 3-byte header (byte 0 category, bytes 1-2 ignored)
  followed by UTF-8 text.
* Heart rate (0x2A37), battery (0x2A19) and Current Time (0x2A2B) are the SIG characteristics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from firmware_protocols.errors import DecodeError, EncodeError
from firmware_protocols.sig import MAX_ATT_VALUE_LEN, AlertCategory, decode_utf8_string

__all__ = [
    "LEGACY_MOTION_SERVICE_UUID",
    "MOTION_RAW_UUID",
    "MOTION_SERVICE_UUID",
    "STEP_COUNT_UUID",
    "InfiniTimeAlert",
    "InfiniTimeMotion",
    "decode_alert",
    "decode_motion_raw",
    "decode_step_count",
    "encode_alert",
    "encode_motion_raw",
    "encode_step_count",
]

MOTION_SERVICE_UUID: Final = "00030000-78fc-48fe-8e23-433b3a1942d0"
STEP_COUNT_UUID: Final = "00030001-78fc-48fe-8e23-433b3a1942d0"
MOTION_RAW_UUID: Final = "00030002-78fc-48fe-8e23-433b3a1942d0"
#: Service UUID of the historic motion service (older ``doc/MotionService.md``); discover the
#: characteristics by UUID and accept either service.
LEGACY_MOTION_SERVICE_UUID: Final = "00020000-78fc-48fe-8e23-433b3a1942d0"

#: Raw motion counts per g ("binary milli-g", PR #1950).
COUNTS_PER_G: Final = 1024


def decode_step_count(data: bytes) -> int:
    """Decode the step count characteristic: u32 LE, steps today.

    Raises
    ------
    DecodeError
        On a length other than 4.
    """
    if len(data) != 4:
        raise DecodeError(f"InfiniTime step count must be 4 bytes, got {len(data)}")
    return int.from_bytes(data, "little")


def encode_step_count(steps: int) -> bytes:
    """Encode the step count characteristic (the emulator notifies it)."""
    if not 0 <= steps <= 0xFFFF_FFFF:
        raise EncodeError(f"step count {steps} does not fit u32")
    return steps.to_bytes(4, "little")


@dataclass(frozen=True, slots=True, eq=False)
class InfiniTimeMotion:
    """One raw motion notification.

    Parameters
    ----------
    acc_counts
        int16, shape (1, 3): x, y, z as sent, 1024 counts per g.
    """

    acc_counts: NDArray[np.int16]

    @property
    def acc_g(self) -> NDArray[np.float64]:
        """Acceleration in g, float64 (1, 3)."""
        return self.acc_counts.astype(np.float64) / COUNTS_PER_G


def decode_motion_raw(data: bytes) -> InfiniTimeMotion:
    """Decode the raw motion characteristic: 3 x i16 LE, 1 g = 1024.

    Raises
    ------
    DecodeError
        On a length other than 6.

    Examples
    --------
    >>> decode_motion_raw(bytes.fromhex("000000fe0004")).acc_g.tolist()
    [[0.0, -0.5, 1.0]]
    """
    if len(data) != 6:
        raise DecodeError(f"InfiniTime raw motion must be 6 bytes (3 x i16), got {len(data)}")
    return InfiniTimeMotion(np.frombuffer(data, "<i2").astype(np.int16).reshape(1, 3))


def encode_motion_raw(motion: InfiniTimeMotion) -> bytes:
    """Encode a raw motion value (3 x i16 LE)."""
    counts = np.asarray(motion.acc_counts)
    if counts.shape not in ((1, 3), (3,)):
        raise EncodeError(f"acc_counts must have shape (1, 3), got {counts.shape}")
    if counts.min() < -32768 or counts.max() > 32767:
        raise EncodeError("acc_counts must fit int16")
    return counts.astype("<i2").tobytes()


@dataclass(frozen=True, slots=True)
class InfiniTimeAlert:
    """A text nudge for InfiniTime's Alert Notification service (New Alert 0x2A46).

    InfiniTime skips a 3-byte header (category, then two bytes it ignores, which standard
    clients fill with the alert count and the first text byte) and shows the rest as text.
    ``header`` keeps bytes 1-2 so a received value round-trips.
    """

    text: str
    category: int = AlertCategory.SIMPLE_ALERT
    header: bytes = b"\x01\x00"


def encode_alert(alert: InfiniTimeAlert) -> bytes:
    """Encode a New Alert write for InfiniTime: ``category | 01 00 | UTF-8 text``.

    Examples
    --------
    >>> encode_alert(InfiniTimeAlert("Time to stand up")).hex()
    '00010054696d6520746f207374616e64207570'
    """
    if not 0 <= alert.category <= 0xFF:
        raise EncodeError(f"category {alert.category} does not fit u8")
    if len(alert.header) != 2:
        raise EncodeError(f"header must be 2 bytes, got {len(alert.header)}")
    out = bytes((alert.category,)) + alert.header + alert.text.encode("utf-8")
    if len(out) > MAX_ATT_VALUE_LEN:
        raise EncodeError(f"alert is {len(out)} bytes, at most {MAX_ATT_VALUE_LEN}")
    return out


def decode_alert(data: bytes) -> InfiniTimeAlert:
    """Decode a New Alert write as InfiniTime reads it (what the emulated watch receives).

    Raises
    ------
    DecodeError
        If shorter than the 3-byte header or the text is not UTF-8.
    """
    data = bytes(data)
    if len(data) < 3:
        raise DecodeError(f"InfiniTime alert too short: {len(data)} bytes, need the 3-byte header")
    return InfiniTimeAlert(
        decode_utf8_string(data[3:], "InfiniTime alert text"), data[0], data[1:3]
    )
