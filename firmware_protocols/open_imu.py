"""The open sensorhub IMU profile, version 1: codec for ``OPEN_IMU_SPEC.md`` (same folder).

A GATT layout designed by this project for makers who flash their own band: one custom service
with batched, timestamped int16 IMU samples (IMU Data), a command characteristic (IMU Control)
and a status characteristic (IMU Status); battery and haptic reuse the SIG Battery and Immediate
Alert services (:mod:`firmware_protocols.sig`). Section numbers below refer to the spec.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from firmware_protocols.errors import DecodeError, EncodeError

__all__ = [
    "CONTROL_UUID",
    "DATA_UUID",
    "DATA_VERSION",
    "HEADER_LEN_V1",
    "SERVICE_UUID",
    "STATUS_UUID",
    "HapticPattern",
    "ImuCommand",
    "ImuOp",
    "ImuPacket",
    "ImuResponse",
    "ImuResultCode",
    "ImuStatus",
    "decode_command",
    "decode_control",
    "decode_imu_packet",
    "decode_response",
    "decode_status",
    "encode_command",
    "encode_control",
    "encode_imu_packet",
    "encode_response",
    "encode_status",
    "open_imu_uuid",
]


def open_imu_uuid(short: int) -> str:
    """Full UUID of a sensorhub IMU attribute from its 16-bit part (spec section 1)."""
    if not 0 <= short <= 0xFFFF:
        raise ValueError(f"short UUID must be 0..0xffff, got {short:#x}")
    return f"6030{short:04x}-54c5-4fd2-a62b-6aa56bc0bdd3"


SERVICE_UUID: Final = open_imu_uuid(0x0001)
DATA_UUID: Final = open_imu_uuid(0x0002)
CONTROL_UUID: Final = open_imu_uuid(0x0003)
STATUS_UUID: Final = open_imu_uuid(0x0004)

DATA_VERSION: Final = 1
HEADER_LEN_V1: Final = 22
_FULL_SCALE: Final = 32768.0
_HEADER = struct.Struct("<BBHQIBBBBH")
_FLAG_GYRO: Final = 0x01
_FLAG_RESYNC: Final = 0x02
_FLAG_CLIPPED: Final = 0x04


# --------------------------------------------------------------------------- IMU Data


@dataclass(frozen=True, slots=True, eq=False)
class ImuPacket:
    """One IMU Data notification (spec section 2).

    Parameters
    ----------
    sequence
        Packet counter, wraps at 65536.
    t_first_us
        Device clock of the first sample, microseconds.
    sample_rate_mhz
        Nominal sample rate in millihertz.
    acc_range_g
        Accelerometer full scale (+/- g).
    acc_counts
        int16 (N, 3).
    gyro_counts
        int16 (N, 3), or None when the packet has no gyroscope axes.
    gyro_range_dps
        Gyroscope full scale (+/- deg/s); 0 without gyroscope.
    resync, clipped
        Flag bits 1 and 2.
    header_extra
        Header bytes of a later minor revision (``header_len - 22`` of them), kept verbatim.
    """

    sequence: int
    t_first_us: int
    sample_rate_mhz: int
    acc_range_g: int
    acc_counts: NDArray[np.int16]
    gyro_counts: NDArray[np.int16] | None = None
    gyro_range_dps: int = 0
    resync: bool = False
    clipped: bool = False
    header_extra: bytes = b""

    def __len__(self) -> int:
        return int(self.acc_counts.shape[0])

    @property
    def sample_rate_hz(self) -> float:
        """Nominal sample rate in Hz."""
        return self.sample_rate_mhz / 1000.0

    @property
    def acc_g(self) -> NDArray[np.float64]:
        """Acceleration in g, float64 (N, 3): counts x range / 32768."""
        return self.acc_counts.astype(np.float64) * (self.acc_range_g / _FULL_SCALE)

    @property
    def gyro_dps(self) -> NDArray[np.float64] | None:
        """Angular rate in deg/s, float64 (N, 3), or None without gyroscope."""
        if self.gyro_counts is None:
            return None
        return self.gyro_counts.astype(np.float64) * (self.gyro_range_dps / _FULL_SCALE)

    def sample_times_ns(self) -> NDArray[np.int64]:
        """Device time of every sample in ns: ``t_first + i * 1e12 / rate_mHz`` (rounded)."""
        i = np.arange(len(self), dtype=np.float64)
        step_ns = 1e12 / self.sample_rate_mhz
        return self.t_first_us * 1000 + np.rint(i * step_ns).astype(np.int64)


def decode_imu_packet(data: bytes) -> ImuPacket:
    """Decode an IMU Data notification (version 1).

    Raises
    ------
    DecodeError
        On another version, a header shorter than 22 bytes, reserved bits or bytes that are
        not 0, a zero count, rate or range, or a length that does not match the count.

    Examples
    --------
    >>> raw = bytes.fromhex("0116070040420f000000000050c30000000108000000000000000010")
    >>> p = decode_imu_packet(raw)
    >>> p.sequence, p.sample_rate_hz, p.acc_g.tolist()
    (7, 50.0, [[0.0, 0.0, 1.0]])
    """
    n = len(data)
    if n < 2:
        raise DecodeError(f"open-imu data packet too short: {n} bytes")
    if data[0] != DATA_VERSION:
        raise DecodeError(
            f"unsupported open-imu data version {data[0]}; this decoder reads version "
            f"{DATA_VERSION}"
        )
    if n < HEADER_LEN_V1:
        raise DecodeError(f"open-imu data packet too short: {n} bytes, need at least 22")
    (_, header_len, seq, t_us, rate, flags, count, acc_range, reserved, gyro_range) = (
        _HEADER.unpack_from(data)
    )
    if header_len < HEADER_LEN_V1 or header_len > n:
        raise DecodeError(f"open-imu header_len {header_len} must be 22..{n} (packet length)")
    if flags & ~0x07 or reserved:
        raise DecodeError("open-imu data packet: reserved bits or bytes are not 0")
    if count == 0 or rate == 0 or acc_range == 0:
        raise DecodeError(
            f"open-imu data packet: count ({count}), sample rate ({rate} mHz) and acc range "
            f"({acc_range} g) must be non-zero"
        )
    gyro = bool(flags & _FLAG_GYRO)
    if gyro != (gyro_range != 0):
        raise DecodeError(
            f"open-imu data packet: gyro range {gyro_range} dps contradicts the GYRO flag"
        )
    per_sample = 12 if gyro else 6
    if n != header_len + count * per_sample:
        raise DecodeError(
            f"open-imu data packet: {count} samples of {per_sample} bytes after a "
            f"{header_len}-byte header need {header_len + count * per_sample} bytes, got {n}"
        )
    values = np.frombuffer(data, "<i2", offset=header_len).astype(np.int16)
    values = values.reshape(count, per_sample // 2)
    return ImuPacket(
        seq,
        t_us,
        rate,
        acc_range,
        values[:, :3],
        values[:, 3:] if gyro else None,
        gyro_range,
        bool(flags & _FLAG_RESYNC),
        bool(flags & _FLAG_CLIPPED),
        bytes(data[HEADER_LEN_V1:header_len]),
    )


def encode_imu_packet(p: ImuPacket) -> bytes:
    """Encode an IMU Data notification (the emulator and maker firmware send these).

    Raises
    ------
    EncodeError
        If a field does not fit its width, counts are not (N, 3) int16 with 1 <= N <= 255,
        or gyro counts and gyro range disagree.
    """
    acc = np.asarray(p.acc_counts)
    count = acc.shape[0] if acc.ndim == 2 else 0
    if acc.ndim != 2 or acc.shape[1] != 3 or not 1 <= count <= 255:
        raise EncodeError(f"acc_counts must have shape (N, 3), 1 <= N <= 255, got {acc.shape}")
    gyro = p.gyro_counts is not None
    if gyro != (p.gyro_range_dps != 0):
        raise EncodeError("gyro_counts and a non-zero gyro_range_dps go together")
    checks = (
        (0 <= p.sequence <= 0xFFFF, "sequence"),
        (0 <= p.t_first_us < 1 << 64, "t_first_us"),
        (1 <= p.sample_rate_mhz <= 0xFFFF_FFFF, "sample_rate_mhz"),
        (1 <= p.acc_range_g <= 0xFF, "acc_range_g"),
        (0 <= p.gyro_range_dps <= 0xFFFF, "gyro_range_dps"),
        (HEADER_LEN_V1 + len(p.header_extra) <= 0xFF, "header_extra"),
    )
    for ok, name in checks:
        if not ok:
            raise EncodeError(f"open-imu {name} out of range")
    flags = (_FLAG_GYRO if gyro else 0) | (_FLAG_RESYNC if p.resync else 0)
    flags |= _FLAG_CLIPPED if p.clipped else 0
    header = _HEADER.pack(
        DATA_VERSION,
        HEADER_LEN_V1 + len(p.header_extra),
        p.sequence,
        p.t_first_us,
        p.sample_rate_mhz,
        flags,
        count,
        p.acc_range_g,
        0,
        p.gyro_range_dps,
    )
    body = acc
    if p.gyro_counts is not None:
        g = np.asarray(p.gyro_counts)
        if g.shape != acc.shape:
            raise EncodeError(f"gyro_counts shape {g.shape} != acc_counts shape {acc.shape}")
        body = np.concatenate([acc, g], axis=1)
    if body.min() < -32768 or body.max() > 32767:
        raise EncodeError("counts must fit int16")
    return header + bytes(p.header_extra) + body.astype("<i2").tobytes()


# --------------------------------------------------------------------------- IMU Control


class ImuOp(enum.IntEnum):
    """IMU Control op codes (spec section 3)."""

    START = 0x01
    STOP = 0x02
    SET_SAMPLE_RATE = 0x03
    SET_ACC_RANGE = 0x04
    SET_GYRO_RANGE = 0x05
    SET_TIME = 0x06
    HAPTIC = 0x07


#: Parameter format of each op's single integer value (HAPTIC has its own).
_OP_FORMATS: Final = {
    ImuOp.START: None,
    ImuOp.STOP: None,
    ImuOp.SET_SAMPLE_RATE: struct.Struct("<I"),
    ImuOp.SET_ACC_RANGE: struct.Struct("<B"),
    ImuOp.SET_GYRO_RANGE: struct.Struct("<H"),
    ImuOp.SET_TIME: struct.Struct("<Q"),
}
_HAPTIC = struct.Struct("<BHHB")
_OPS: Final = {o.value: o for o in ImuOp}


@dataclass(frozen=True, slots=True)
class HapticPattern:
    """A vibration pattern for the ``HAPTIC`` command."""

    pulses: int
    on_ms: int
    off_ms: int
    intensity_pct: int = 100


@dataclass(frozen=True, slots=True)
class ImuCommand:
    """An IMU Control command: ``op`` with ``value`` (rate in mHz, range, Unix us) or
    ``haptic`` for HAPTIC; neither for START/STOP."""

    op: ImuOp
    value: int | None = None
    haptic: HapticPattern | None = None


def encode_command(cmd: ImuCommand) -> bytes:
    """Encode an IMU Control command."""
    op = ImuOp(cmd.op)
    if op is ImuOp.HAPTIC:
        h = cmd.haptic
        if h is None or cmd.value is not None:
            raise EncodeError("HAPTIC takes a haptic pattern and no value")
        if not (
            0 <= h.pulses <= 0xFF
            and 0 <= h.on_ms <= 0xFFFF
            and 0 <= h.off_ms <= 0xFFFF
            and 0 <= h.intensity_pct <= 100
        ):
            raise EncodeError(f"haptic pattern out of range: {h}")
        return bytes((op,)) + _HAPTIC.pack(h.pulses, h.on_ms, h.off_ms, h.intensity_pct)
    if cmd.haptic is not None:
        raise EncodeError(f"{op.name} takes no haptic pattern")
    fmt = _OP_FORMATS[op]
    if fmt is None:
        if cmd.value is not None:
            raise EncodeError(f"{op.name} takes no value")
        return bytes((op,))
    if cmd.value is None or not 0 <= cmd.value < 1 << (8 * fmt.size):
        raise EncodeError(f"{op.name} needs a value that fits {fmt.size} unsigned bytes")
    return bytes((op,)) + fmt.pack(cmd.value)


def decode_command(data: bytes) -> ImuCommand:
    """Decode an IMU Control command (what the device receives).

    Raises
    ------
    DecodeError
        On an unknown op, a parameter length that does not match the op, or a haptic
        intensity above 100 %.
    """
    data = bytes(data)
    if not data:
        raise DecodeError("open-imu command is empty")
    op = _OPS.get(data[0])
    if op is None:
        raise DecodeError(f"open-imu command: unknown op {data[0]:#04x}")
    params = data[1:]
    if op is ImuOp.HAPTIC:
        if len(params) != _HAPTIC.size:
            raise DecodeError(f"open-imu HAPTIC needs {_HAPTIC.size} parameter bytes")
        pulses, on_ms, off_ms, intensity = _HAPTIC.unpack(params)
        if intensity > 100:
            raise DecodeError(f"open-imu HAPTIC intensity {intensity} % is above 100")
        return ImuCommand(op, None, HapticPattern(pulses, on_ms, off_ms, intensity))
    fmt = _OP_FORMATS[op]
    size = 0 if fmt is None else fmt.size
    if len(params) != size:
        raise DecodeError(f"open-imu {op.name} takes {size} parameter bytes, got {len(params)}")
    return ImuCommand(op, None if fmt is None else int(fmt.unpack(params)[0]))


class ImuResultCode(enum.IntEnum):
    """Status of an IMU Control response (spec section 3)."""

    SUCCESS = 0
    UNKNOWN_OP = 1
    INVALID_PARAMETER = 2
    INVALID_STATE = 3
    INVALID_LENGTH = 4


_RESULTS: Final = {r.value: r for r in ImuResultCode}


@dataclass(frozen=True, slots=True)
class ImuResponse:
    """An IMU Control response indication: ``0x80 | op``, status. ``op`` is the raw op byte
    of the command, so responses to ops this codec does not know still decode."""

    op: int
    status: ImuResultCode


def encode_response(r: ImuResponse) -> bytes:
    """Encode an IMU Control response."""
    if not 0 <= r.op <= 0x7F:
        raise EncodeError(f"response op {r.op} must be 0..0x7f")
    return bytes((0x80 | r.op, ImuResultCode(r.status)))


def decode_response(data: bytes) -> ImuResponse:
    """Decode an IMU Control response (exactly 2 bytes, first with bit 7 set)."""
    if len(data) != 2:
        raise DecodeError(f"open-imu response must be 2 bytes, got {len(data)}")
    if not data[0] & 0x80:
        raise DecodeError(f"open-imu response must have bit 7 set in {data[0]:#04x}")
    status = _RESULTS.get(data[1])
    if status is None:
        raise DecodeError(f"open-imu response: unknown status {data[1]}")
    return ImuResponse(data[0] & 0x7F, status)


def decode_control(data: bytes) -> ImuCommand | ImuResponse:
    """Decode either direction of IMU Control: responses have bit 7 of byte 0 set."""
    if data and data[0] & 0x80:
        return decode_response(data)
    return decode_command(data)


def encode_control(value: ImuCommand | ImuResponse) -> bytes:
    """Encode either direction of IMU Control."""
    if isinstance(value, ImuResponse):
        return encode_response(value)
    return encode_command(value)


# --------------------------------------------------------------------------- IMU Status

_STATUS = struct.Struct("<BBIBBH")


@dataclass(frozen=True, slots=True)
class ImuStatus:
    """IMU Status (spec section 4); ``extra`` keeps fields of later revisions verbatim."""

    streaming: bool
    gyro_available: bool
    time_set: bool
    haptic_patterns: bool
    sample_rate_mhz: int
    acc_range_g: int
    gyro_range_dps: int = 0
    extra: bytes = b""


def decode_status(data: bytes) -> ImuStatus:
    """Decode IMU Status (at least 10 bytes, version 1)."""
    n = len(data)
    if n < _STATUS.size:
        raise DecodeError(f"open-imu status too short: {n} bytes, need at least {_STATUS.size}")
    version, flags, rate, acc_range, reserved, gyro_range = _STATUS.unpack_from(data)
    if version != DATA_VERSION:
        raise DecodeError(f"unsupported open-imu status version {version}")
    if flags & ~0x0F or reserved:
        raise DecodeError("open-imu status: reserved bits or bytes are not 0")
    return ImuStatus(
        bool(flags & 1),
        bool(flags & 2),
        bool(flags & 4),
        bool(flags & 8),
        rate,
        acc_range,
        gyro_range,
        bytes(data[_STATUS.size :]),
    )


def encode_status(s: ImuStatus) -> bytes:
    """Encode IMU Status."""
    if not (
        0 <= s.sample_rate_mhz <= 0xFFFF_FFFF
        and 0 <= s.acc_range_g <= 0xFF
        and 0 <= s.gyro_range_dps <= 0xFFFF
    ):
        raise EncodeError("open-imu status field out of range")
    flags = s.streaming | s.gyro_available << 1 | s.time_set << 2 | s.haptic_patterns << 3
    packed = _STATUS.pack(
        DATA_VERSION, flags, s.sample_rate_mhz, s.acc_range_g, 0, s.gyro_range_dps
    )
    return packed + bytes(s.extra)
