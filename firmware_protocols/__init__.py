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
    Bluetooth SIG standard services (Immediate Alert, Battery, Heart Rate, ...).
"""

from __future__ import annotations

from firmware_protocols.errors import DecodeError, EncodeError, ProtocolError

__all__ = ["DecodeError", "EncodeError", "ProtocolError"]
