"""MetaWear (mbientlab) boards with a Bosch BMI160: accelerometer data, configuration, steps.

Layouts from mbientlab/MetaWear-SDK-Cpp ``test/test_accelerometer_bmi160.py`` (commands and data
vectors), the BMI160 datasheet register codes (ACC_CONF output data rate / bandwidth and
ACC_RANGE), and the UUIDs used by mbientlab's SDKs; summarised in
``../shared/research/ble-and-devices.md`` section 4.4.

Every packet is ``module u8 | register u8 | payload``; the accelerometer is module 0x03.
Commands are written to ``326A9001-...``; data and read responses are notified on
``326A9006-...``.

* ODR and range ``03 03 <acc_conf> <acc_range>``: acc_conf bits 0-3 output data rate code,
  bits 4-6 bandwidth (2 = normal), bit 7 undersampling; acc_range 3/5/8/12 = 2/4/8/16 g
  (200 Hz, 8 g: ``03 03 29 08``).
* Data ``03 04`` + 3 x i16 LE; packed data ``03 1C`` + 3 samples x 3 x i16 LE;
  LSB per g 16384 / 8192 / 4096 / 2048 for 2 / 4 / 8 / 16 g.
* Step counter read response ``03 9A`` + u16 steps.

A full board also needs mbientlab's module-discovery handshake on connect; that is the
collector's job (it sends the fixed commands in this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import numpy as np
from numpy.typing import NDArray

from firmware_protocols.errors import DecodeError, EncodeError

__all__ = [
    "COMMAND_UUID",
    "DEFAULT_RANGE_G",
    "DISABLE_SAMPLING",
    "ENABLE_SAMPLING",
    "LSB_PER_G",
    "NOTIFY_UUID",
    "READ_STEP_COUNT",
    "SERVICE_UUID",
    "START_ACC",
    "STOP_ACC",
    "SUBSCRIBE_ACC",
    "SUBSCRIBE_PACKED_ACC",
    "UNSUBSCRIBE_ACC",
    "AccConfig",
    "MetaWearAcc",
    "decode_acc_config",
    "decode_acc_data",
    "decode_step_count",
    "encode_acc_config",
    "encode_acc_data",
    "encode_step_count",
]

SERVICE_UUID: Final = "326a9000-85cb-9195-d9dd-464cfbbae75a"
COMMAND_UUID: Final = "326a9001-85cb-9195-d9dd-464cfbbae75a"
NOTIFY_UUID: Final = "326a9006-85cb-9195-d9dd-464cfbbae75a"

ACC_MODULE: Final = 0x03
_REG_POWER: Final = 0x01
_REG_INTERRUPT_ENABLE: Final = 0x02
_REG_CONFIG: Final = 0x03
_REG_DATA: Final = 0x04
_REG_PACKED: Final = 0x1C
_REG_STEP_COUNT_READ: Final = 0x9A  # 0x1A | read bit 0x80

#: Fixed commands from the SDK test file (vectors.json ``documented_not_run``).
ENABLE_SAMPLING: Final = bytes.fromhex("03020100")
DISABLE_SAMPLING: Final = bytes.fromhex("03020001")
SUBSCRIBE_ACC: Final = bytes.fromhex("030401")
UNSUBSCRIBE_ACC: Final = bytes.fromhex("030400")
SUBSCRIBE_PACKED_ACC: Final = bytes.fromhex("031c01")
READ_STEP_COUNT: Final = bytes.fromhex("039a")
#: Accelerometer power on / off (register 0x01, ``mbl_mw_acc_start`` / ``_stop``).
START_ACC: Final = bytes.fromhex("030101")
STOP_ACC: Final = bytes.fromhex("030100")

#: BMI160 counts per g for each range (g).
LSB_PER_G: Final = MappingProxyType({2: 16384, 4: 8192, 8: 4096, 16: 2048})
#: Range sensorhub configures on a MetaWear, assumed when no range is given.
DEFAULT_RANGE_G: Final = 8

_RANGE_CODES: Final = MappingProxyType({2: 0x03, 4: 0x05, 8: 0x08, 16: 0x0C})
_RANGE_FROM_CODE: Final = MappingProxyType({v: k for k, v in _RANGE_CODES.items()})
#: BMI160 ACC_CONF output data rate codes (Hz).
_ODR_CODES: Final = MappingProxyType(
    {
        1: 25 / 32,
        2: 25 / 16,
        3: 25 / 8,
        4: 25 / 4,
        5: 12.5,
        6: 25.0,
        7: 50.0,
        8: 100.0,
        9: 200.0,
        10: 400.0,
        11: 800.0,
        12: 1600.0,
    }
)
_ODR_FROM_HZ: Final = MappingProxyType({v: k for k, v in _ODR_CODES.items()})


@dataclass(frozen=True, slots=True, eq=False)
class MetaWearAcc:
    """Accelerometer data: one sample (``03 04``) or three packed samples (``03 1C``).

    Parameters
    ----------
    acc_counts
        int16, shape (N, 3) with N = 1 or 3, as sent.
    packed
        From the packed-data register.
    range_g
        Configured range (2, 4, 8, 16 g), which sets the scale.
    """

    acc_counts: NDArray[np.int16]
    packed: bool
    range_g: int = DEFAULT_RANGE_G

    @property
    def acc_g(self) -> NDArray[np.float64]:
        """Acceleration in g, float64 (N, 3)."""
        return self.acc_counts.astype(np.float64) / LSB_PER_G[self.range_g]


def decode_acc_data(data: bytes, *, range_g: int = DEFAULT_RANGE_G) -> MetaWearAcc:
    """Decode accelerometer data (single or packed).

    Parameters
    ----------
    data
        The notification value.
    range_g
        The range the board was configured with (sets the scale).

    Raises
    ------
    DecodeError
        If it is not module 0x03 register 0x04 (8 bytes) or 0x1C (20 bytes).

    Examples
    --------
    >>> decode_acc_data(bytes.fromhex("030416c494a22ad0"), range_g=4).acc_g.round(3).tolist()
    [[-1.872, -2.919, -1.495]]
    """
    if range_g not in LSB_PER_G:
        raise ValueError(f"range_g must be one of {sorted(LSB_PER_G)}, got {range_g}")
    n = len(data)
    if n < 2 or data[0] != ACC_MODULE or data[1] not in (_REG_DATA, _REG_PACKED):
        raise DecodeError(
            "MetaWear accelerometer data must start with 03 04 or 03 1c, "
            f"got {bytes(data[:2]).hex()}"
        )
    packed = data[1] == _REG_PACKED
    need = 20 if packed else 8
    if n != need:
        kind = "packed " if packed else ""
        raise DecodeError(f"MetaWear {kind}accelerometer data must be {need} bytes, got {n}")
    counts = np.frombuffer(data, "<i2", offset=2).astype(np.int16).reshape(-1, 3)
    return MetaWearAcc(counts, packed, range_g)


def encode_acc_data(acc: MetaWearAcc) -> bytes:
    """Encode accelerometer data (the emulator notifies it)."""
    counts = np.asarray(acc.acc_counts)
    need = (3, 3) if acc.packed else (1, 3)
    if counts.shape != need:
        raise EncodeError(f"{'packed ' if acc.packed else ''}data needs shape {need}")
    if counts.min() < -32768 or counts.max() > 32767:
        raise EncodeError("acc_counts must fit int16")
    head = bytes((ACC_MODULE, _REG_PACKED if acc.packed else _REG_DATA))
    return head + counts.astype("<i2").tobytes()


@dataclass(frozen=True, slots=True)
class AccConfig:
    """BMI160 output data rate and range (``03 03 <acc_conf> <acc_range>``)."""

    odr_hz: float
    range_g: int
    bandwidth: int = 2
    undersampling: bool = False


def encode_acc_config(c: AccConfig) -> bytes:
    """Encode the ODR/range command (``AccConfig(200, 8)`` -> ``03 03 29 08``)."""
    odr = _ODR_FROM_HZ.get(c.odr_hz)
    if odr is None:
        raise EncodeError(f"BMI160 has no {c.odr_hz} Hz rate; choose one of {sorted(_ODR_FROM_HZ)}")
    if c.range_g not in _RANGE_CODES:
        raise EncodeError(f"range must be one of {sorted(_RANGE_CODES)} g, got {c.range_g}")
    if not 0 <= c.bandwidth <= 7:
        raise EncodeError(f"bandwidth must be 0..7, got {c.bandwidth}")
    conf = odr | c.bandwidth << 4 | (0x80 if c.undersampling else 0)
    return bytes((ACC_MODULE, _REG_CONFIG, conf, _RANGE_CODES[c.range_g]))


def decode_acc_config(data: bytes) -> AccConfig:
    """Decode the ODR/range command.

    Raises
    ------
    DecodeError
        If it is not ``03 03`` + 2 bytes, or the rate or range code is not a BMI160 code.
    """
    if len(data) != 4 or data[0] != ACC_MODULE or data[1] != _REG_CONFIG:
        raise DecodeError(
            f"MetaWear accelerometer config must be 03 03 xx xx, got {bytes(data).hex()}"
        )
    odr = _ODR_CODES.get(data[2] & 0x0F)
    if odr is None:
        raise DecodeError(f"MetaWear accelerometer config: unknown rate code {data[2] & 0x0F}")
    range_g = _RANGE_FROM_CODE.get(data[3])
    if range_g is None:
        raise DecodeError(f"MetaWear accelerometer config: unknown range code {data[3]:#04x}")
    return AccConfig(odr, range_g, (data[2] >> 4) & 0x07, bool(data[2] & 0x80))


def decode_step_count(data: bytes) -> int:
    """Decode the step counter read response ``03 9A`` + u16 (``03 9a 2b 00`` -> 43)."""
    if len(data) != 4 or data[0] != ACC_MODULE or data[1] != _REG_STEP_COUNT_READ:
        raise DecodeError(f"MetaWear step count must be 03 9a + u16, got {bytes(data).hex()}")
    return data[2] | data[3] << 8


def encode_step_count(steps: int) -> bytes:
    """Encode the step counter read response."""
    if not 0 <= steps <= 0xFFFF:
        raise EncodeError(f"step count {steps} does not fit u16")
    return bytes((ACC_MODULE, _REG_STEP_COUNT_READ)) + steps.to_bytes(2, "little")
