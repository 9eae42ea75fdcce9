"""Nordic Thingy:52 motion service: raw motion, pedometer, motion configuration.

Layouts from NordicSemiconductor/Nordic-Thingy52-FW @6ada0a9a ``include/ble_services/ble_tms.h``,
``source/ble_services/ble_tms.c`` and ``source/modules/m_motion.c``; summarised in
``../shared/research/ble-and-devices.md`` section 4.3. Base UUID
``EF68xxxx-9B35-4933-9B10-52FFA9740042``; motion service ``EF680400``.

* Raw data ``EF680406`` (notify): 9 x i16 = accelerometer, gyroscope, compass (x, y, z each).
  The firmware shifts its 16Q16 driver values into fixed point: accelerometer Q6.10 g
  (/1024), gyroscope Q11.5 deg/s (/32), compass Q12.4 uT (/16). The firmware swaps compass x/y
  and negates y before sending; the values here are as sent.
* Pedometer ``EF680405`` (notify): u32 steps, u32 time in ms.
* Configuration ``EF680401`` (read/write): u16 pedometer interval ms, u16 temperature
  compensation interval ms, u16 magnetometer compensation interval ms, u16 motion processing
  frequency Hz (1-200), u8 wake on motion (0/1).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from firmware_protocols.errors import DecodeError, EncodeError

__all__ = [
    "CONFIG_UUID",
    "MOTION_SERVICE_UUID",
    "PEDOMETER_UUID",
    "RAW_MOTION_UUID",
    "MotionConfig",
    "Pedometer",
    "RawMotion",
    "decode_motion_config",
    "decode_pedometer",
    "decode_raw_motion",
    "encode_motion_config",
    "encode_pedometer",
    "encode_raw_motion",
    "thingy_uuid",
]


def thingy_uuid(short: int) -> str:
    """Full UUID of a Thingy:52 characteristic from its 16-bit part (``0x0406`` -> raw)."""
    if not 0 <= short <= 0xFFFF:
        raise ValueError(f"Thingy:52 short UUID must be 0..0xffff, got {short:#x}")
    return f"ef68{short:04x}-9b35-4933-9b10-52ffa9740042"


MOTION_SERVICE_UUID: Final = thingy_uuid(0x0400)
CONFIG_UUID: Final = thingy_uuid(0x0401)
PEDOMETER_UUID: Final = thingy_uuid(0x0405)
RAW_MOTION_UUID: Final = thingy_uuid(0x0406)

ACC_COUNTS_PER_G: Final = 1 << 10  # Q6.10
GYRO_COUNTS_PER_DPS: Final = 1 << 5  # Q11.5
COMPASS_COUNTS_PER_UT: Final = 1 << 4  # Q12.4


@dataclass(frozen=True, slots=True, eq=False)
class RawMotion:
    """One raw motion notification: int16 counts, each of shape (1, 3), as sent."""

    acc_counts: NDArray[np.int16]
    gyro_counts: NDArray[np.int16]
    compass_counts: NDArray[np.int16]

    @property
    def acc_g(self) -> NDArray[np.float64]:
        """Acceleration in g, float64 (1, 3) (Q6.10)."""
        return self.acc_counts.astype(np.float64) / ACC_COUNTS_PER_G

    @property
    def gyro_dps(self) -> NDArray[np.float64]:
        """Angular rate in deg/s, float64 (1, 3) (Q11.5)."""
        return self.gyro_counts.astype(np.float64) / GYRO_COUNTS_PER_DPS

    @property
    def compass_ut(self) -> NDArray[np.float64]:
        """Magnetic field in microtesla, float64 (1, 3) (Q12.4)."""
        return self.compass_counts.astype(np.float64) / COMPASS_COUNTS_PER_UT


def decode_raw_motion(data: bytes) -> RawMotion:
    """Decode raw motion ``EF680406``: 9 x i16 LE.

    Raises
    ------
    DecodeError
        On a length other than 18.

    Examples
    --------
    >>> m = decode_raw_motion(bytes.fromhex("0004000000fe200000000000100000000000"))
    >>> m.acc_g.tolist(), m.gyro_dps.tolist(), m.compass_ut.tolist()
    ([[1.0, 0.0, -0.5]], [[1.0, 0.0, 0.0]], [[1.0, 0.0, 0.0]])
    """
    if len(data) != 18:
        raise DecodeError(f"Thingy:52 raw motion must be 18 bytes (9 x i16), got {len(data)}")
    v = np.frombuffer(data, "<i2").astype(np.int16).reshape(3, 1, 3)
    return RawMotion(v[0], v[1], v[2])


def encode_raw_motion(m: RawMotion) -> bytes:
    """Encode raw motion (9 x i16 LE)."""
    parts = [np.asarray(a).reshape(-1) for a in (m.acc_counts, m.gyro_counts, m.compass_counts)]
    v = np.concatenate(parts)
    if v.shape != (9,) or v.min() < -32768 or v.max() > 32767:
        raise EncodeError("raw motion needs three int16 (1, 3) arrays")
    return v.astype("<i2").tobytes()


@dataclass(frozen=True, slots=True)
class Pedometer:
    """Pedometer notification ``EF680405``: steps and the time they were counted over."""

    steps: int
    time_ms: int


def decode_pedometer(data: bytes) -> Pedometer:
    """Decode the pedometer: u32 steps, u32 time ms (``e8030000 10270000`` -> 1000, 10 s)."""
    if len(data) != 8:
        raise DecodeError(f"Thingy:52 pedometer must be 8 bytes, got {len(data)}")
    steps, time_ms = struct.unpack("<II", data)
    return Pedometer(steps, time_ms)


def encode_pedometer(p: Pedometer) -> bytes:
    """Encode the pedometer value."""
    if not (0 <= p.steps <= 0xFFFF_FFFF and 0 <= p.time_ms <= 0xFFFF_FFFF):
        raise EncodeError("pedometer steps and time_ms must fit u32")
    return struct.pack("<II", p.steps, p.time_ms)


@dataclass(frozen=True, slots=True)
class MotionConfig:
    """Motion configuration ``EF680401`` (read/write)."""

    pedometer_interval_ms: int
    temperature_compensation_interval_ms: int
    magnetometer_compensation_interval_ms: int
    motion_processing_freq_hz: int
    wake_on_motion: bool


def _config_problem(c: MotionConfig) -> str | None:
    for name in (
        "pedometer_interval_ms",
        "temperature_compensation_interval_ms",
        "magnetometer_compensation_interval_ms",
    ):
        if not 0 <= getattr(c, name) <= 0xFFFF:
            return f"{name} {getattr(c, name)} does not fit u16"
    if not 1 <= c.motion_processing_freq_hz <= 200:
        return f"motion processing frequency {c.motion_processing_freq_hz} Hz is outside 1..200"
    return None


def decode_motion_config(data: bytes) -> MotionConfig:
    """Decode the motion configuration (9 bytes).

    Raises
    ------
    DecodeError
        On a length other than 9, a frequency outside 1..200 Hz or wake-on-motion not 0/1.
    """
    if len(data) != 9:
        raise DecodeError(f"Thingy:52 motion config must be 9 bytes, got {len(data)}")
    pedo, temp, mag, freq, wake = struct.unpack("<4HB", data)
    if wake > 1:
        raise DecodeError(f"Thingy:52 motion config: wake-on-motion must be 0 or 1, got {wake}")
    config = MotionConfig(pedo, temp, mag, freq, bool(wake))
    problem = _config_problem(config)
    if problem:
        raise DecodeError(f"Thingy:52 motion config: {problem}")
    return config


def encode_motion_config(c: MotionConfig) -> bytes:
    """Encode the motion configuration (write it to set the motion processing rate)."""
    problem = _config_problem(c)
    if problem:
        raise EncodeError(problem)
    return struct.pack(
        "<4HB",
        c.pedometer_interval_ms,
        c.temperature_compensation_interval_ms,
        c.magnetometer_compensation_interval_ms,
        c.motion_processing_freq_hz,
        int(c.wake_on_motion),
    )
