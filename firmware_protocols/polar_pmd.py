"""Polar Measurement Data (PMD): control point and data frames of Polar H10, Verity Sense, OH1.

Layouts follow Polar's public documentation and SDK (implemented from the documents, no code
copied; the SDK licence is proprietary):

* polarofficial/polar-ble-sdk @8fb5311c ``technical_documentation/online_measurement.pdf``
  ("Polar Measurement Data", v1.0, Aug 2024): UUIDs, control-point commands and responses,
  settings TLV sizes (Table 5), data frame header and frame types (Table 7).
* the same repository, Android ``.../gatt/client/pmd/``: ``PmdControlPointCommand.kt``,
  ``PmdControlPointResponse.kt``, ``PmdSetting.kt``, ``PmdMeasurementType.kt``,
  ``BlePMDClient.kt`` (``parseDeltaFramesAll``: delta compression), ``model/AccData.kt``
  (units and ``factor``), ``model/PmdTimeStampUtils.kt`` (per-sample times).
* the summary and verified vectors in ``../shared/research/ble-and-devices.md`` section 4.1 and
  ``vectors.json``.

Wire summary (all multi-byte fields little-endian)::

    control point request   op u8 | (offline << 7) | type u8 | settings TLV ...
    control point response  0xF0 | op u8 | type u8 | status u8 | more u8 | parameters ...
    settings TLV            setting u8 | count u8 | count x value (size per setting)
    feature read            0x0F | bitmask u16 (bit i = measurement type i)
    data frame              type u8 | timestamp u64 | (compressed << 7) | frame type u8 | content

The data-frame timestamp is the device clock, in ns since 2000-01-01T00:00:00Z, of the **last**
sample of the frame; :func:`sample_times_ns` spreads it over the samples.

Delta-compressed content is a reference sample (``channels x ceil(resolution / 8)`` bytes,
signed) followed by blocks ``delta_bits u8 | count u8 | count x channels x delta_bits bits``,
the bits read LSB-first across the little-endian byte stream; each delta is sign-extended and
added to the previous sample. Decoding is vectorised: one Python step per block header, numpy
for every sample.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import numpy as np
from numpy.typing import NDArray

from firmware_protocols.errors import DecodeError, EncodeError, ProtocolError

__all__ = [
    "PMD_CONTROL_POINT_UUID",
    "PMD_DATA_UUID",
    "PMD_SERVICE_UUID",
    "POLAR_EPOCH_UNIX_NS",
    "ControlPointOp",
    "ControlPointValue",
    "MeasurementType",
    "PmdControlPointRequest",
    "PmdControlPointResponse",
    "PmdDataFrame",
    "PmdFeatures",
    "PmdSetting",
    "PmdStatus",
    "decode_control_point",
    "decode_control_point_request",
    "decode_control_point_response",
    "decode_features",
    "decode_pmd_data",
    "decode_settings",
    "encode_control_point",
    "encode_control_point_request",
    "encode_control_point_response",
    "encode_features",
    "encode_pmd_data",
    "encode_settings",
    "factor_from_bits",
    "factor_to_bits",
    "polar_to_unix_ns",
    "sample_times_ns",
    "settings_factor",
    "supported_frame_kinds",
]

PMD_SERVICE_UUID: Final = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
#: read (features), write with response (commands), indicate (responses)
PMD_CONTROL_POINT_UUID: Final = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
#: notify (data frames)
PMD_DATA_UUID: Final = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

#: 2000-01-01T00:00:00Z in ns since the Unix epoch: add it to a PMD timestamp for Unix time.
POLAR_EPOCH_UNIX_NS: Final = 946_684_800_000_000_000

#: First byte of a control-point response (``MEASUREMENT_CONTROL``) and of a feature read.
CP_RESPONSE_CODE: Final = 0xF0
CP_FEATURE_READ_CODE: Final = 0x0F

_HEADER_LEN: Final = 10
_U64_MAX: Final = (1 << 64) - 1
_MAX_DELTA_BITS: Final = 32


class MeasurementType(enum.IntEnum):
    """PMD measurement types (``PmdMeasurementType.kt``; low 6 bits of the type byte)."""

    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6
    SKIN_TEMP = 7
    SDK_MODE = 9
    LOCATION = 10
    PRESSURE = 11
    TEMPERATURE = 12
    OFFLINE_RECORDING = 13
    OFFLINE_HR = 14


class PmdSetting(enum.IntEnum):
    """Setting types of the settings TLV (online_measurement.pdf Table 5, ``PmdSetting.kt``)."""

    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5
    SECURITY = 6

    @property
    def size_bytes(self) -> int:
        """Size of one value of this setting on the wire."""
        return _SETTING_SIZES[self]


_SETTING_SIZES: Final[Mapping[PmdSetting, int]] = MappingProxyType(
    {
        PmdSetting.SAMPLE_RATE: 2,
        PmdSetting.RESOLUTION: 2,
        PmdSetting.RANGE: 2,
        PmdSetting.RANGE_MILLIUNIT: 4,
        PmdSetting.CHANNELS: 1,
        PmdSetting.FACTOR: 4,  # IEEE-754 float32 bits
        PmdSetting.SECURITY: 16,
    }
)


class ControlPointOp(enum.IntEnum):
    """Control-point op codes (``PmdControlPointCommand.kt``)."""

    GET_MEASUREMENT_SETTINGS = 1
    REQUEST_MEASUREMENT_START = 2
    STOP_MEASUREMENT = 3
    GET_SDK_MODE_SETTINGS = 4
    GET_MEASUREMENT_STATUS = 5
    GET_SDK_MODE_STATUS = 6
    GET_OFFLINE_RECORDING_TRIGGER_STATUS = 7
    SET_OFFLINE_RECORDING_TRIGGER_MODE = 8
    SET_OFFLINE_RECORDING_TRIGGER_SETTINGS = 9


class PmdStatus(enum.IntEnum):
    """Control-point response status (online_measurement.pdf; ``PmdControlPointResponse.kt``)."""

    SUCCESS = 0
    INVALID_OP_CODE = 1
    INVALID_MEASUREMENT_TYPE = 2
    NOT_SUPPORTED = 3
    INVALID_LENGTH = 4
    INVALID_PARAMETER = 5
    ALREADY_IN_STATE = 6
    INVALID_RESOLUTION = 7
    INVALID_SAMPLE_RATE = 8
    INVALID_RANGE = 9
    INVALID_MTU = 10
    INVALID_NUMBER_OF_CHANNELS = 11
    INVALID_STATE = 12
    DEVICE_IN_CHARGER = 13
    DISK_FULL = 14

    @property
    def message(self) -> str:
        """A sentence a user can read, for logs and the ``decode`` command."""
        return STATUS_MESSAGES[self]

    @property
    def ok(self) -> bool:
        """True for :attr:`SUCCESS`."""
        return self is PmdStatus.SUCCESS


#: Readable message for every status.
STATUS_MESSAGES: Final[Mapping[PmdStatus, str]] = MappingProxyType(
    {
        PmdStatus.SUCCESS: "success",
        PmdStatus.INVALID_OP_CODE: "the device does not know this op code",
        PmdStatus.INVALID_MEASUREMENT_TYPE: "the device does not know this measurement type",
        PmdStatus.NOT_SUPPORTED: "the device does not support this measurement or request",
        PmdStatus.INVALID_LENGTH: "the request has the wrong length",
        PmdStatus.INVALID_PARAMETER: "a setting in the request is not valid",
        PmdStatus.ALREADY_IN_STATE: "the measurement is already in the requested state",
        PmdStatus.INVALID_RESOLUTION: "the requested resolution is not supported",
        PmdStatus.INVALID_SAMPLE_RATE: "the requested sample rate is not supported",
        PmdStatus.INVALID_RANGE: "the requested range is not supported",
        PmdStatus.INVALID_MTU: "the ATT MTU is too small for this measurement; negotiate a larger"
        " MTU (at least 229 bytes for 36 ACC samples)",
        PmdStatus.INVALID_NUMBER_OF_CHANNELS: "the requested number of channels is not supported",
        PmdStatus.INVALID_STATE: "the device is in a state that does not allow this request",
        PmdStatus.DEVICE_IN_CHARGER: "the device is in its charger and cannot measure",
        PmdStatus.DISK_FULL: "the device's storage is full",
    }
)

_MEASUREMENTS: Final = {m.value: m for m in MeasurementType}
_SETTINGS: Final = {s.value: s for s in PmdSetting}
_OPS: Final = {o.value: o for o in ControlPointOp}
_STATUSES: Final = {s.value: s for s in PmdStatus}


# --------------------------------------------------------------------------- helpers


def polar_to_unix_ns(timestamp_ns: int) -> int:
    """Convert a PMD device timestamp (ns since 2000-01-01) to ns since the Unix epoch."""
    return timestamp_ns + POLAR_EPOCH_UNIX_NS


def factor_to_bits(factor: float) -> int:
    """Encode a FACTOR setting value: the IEEE-754 float32 bit pattern as an unsigned int."""
    return int.from_bytes(struct.pack("<f", factor), "little")


def factor_from_bits(bits: int) -> float:
    """Decode a FACTOR setting value (float32 bits) to a float."""
    if not 0 <= bits <= 0xFFFF_FFFF:
        raise DecodeError(f"FACTOR bits {bits:#x} do not fit 32 bits")
    value: float = struct.unpack("<f", bits.to_bytes(4, "little"))[0]
    return value


def _measurement(value: int, what: str) -> MeasurementType:
    m = _MEASUREMENTS.get(value)
    if m is None:
        raise DecodeError(f"{what}: unknown PMD measurement type {value}")
    return m


def _type_byte(value: int, what: str) -> tuple[MeasurementType, bool]:
    """Split a request/response type byte into (measurement, offline); bit 6 is reserved."""
    if value & 0x40:
        raise DecodeError(f"{what}: reserved bit 6 set in measurement type byte {value:#04x}")
    return _measurement(value & 0x3F, what), bool(value & 0x80)


# --------------------------------------------------------------------------- settings


def decode_settings(parameters: bytes) -> dict[PmdSetting, tuple[int, ...]]:
    """Decode a settings TLV (``setting u8 | count u8 | values``) to a dict.

    Values are unsigned little-endian integers of the setting's size (online_measurement.pdf
    Table 5; FACTOR is the raw float32 bit pattern, see :func:`factor_from_bits`).

    Parameters
    ----------
    parameters
        The TLV bytes, e.g. the parameters of a GET_MEASUREMENT_SETTINGS response.

    Returns
    -------
    dict
        Setting -> tuple of values, in wire order.

    Raises
    ------
    DecodeError
        On an unknown setting type, a setting given twice, or a truncated value list.
    """
    out: dict[PmdSetting, tuple[int, ...]] = {}
    data = bytes(parameters)
    i, n = 0, len(data)
    while i < n:
        if i + 2 > n:
            raise DecodeError(f"PMD settings truncated: header at byte {i} needs 2 bytes")
        setting = _SETTINGS.get(data[i])
        if setting is None:
            raise DecodeError(f"PMD settings: unknown setting type {data[i]} at byte {i}")
        if setting in out:
            raise DecodeError(f"PMD settings: {setting.name} appears twice")
        count = data[i + 1]
        size = _SETTING_SIZES[setting]
        i += 2
        end = i + count * size
        if end > n:
            raise DecodeError(
                f"PMD settings: {setting.name} has {count} values of {size} bytes "
                f"but only {n - i} bytes remain"
            )
        out[setting] = tuple(
            int.from_bytes(data[j : j + size], "little") for j in range(i, end, size)
        )
        i = end
    return out


def encode_settings(settings: Mapping[PmdSetting, Sequence[int]]) -> bytes:
    """Encode settings as a TLV; the inverse of :func:`decode_settings`.

    Raises
    ------
    EncodeError
        If a setting has more than 255 values or a value does not fit its size.
    """
    out = bytearray()
    for setting, values in settings.items():
        setting = PmdSetting(setting)
        size = _SETTING_SIZES[setting]
        if len(values) > 255:
            raise EncodeError(f"{setting.name}: {len(values)} values, at most 255 fit")
        out += bytes((setting, len(values)))
        for v in values:
            if not 0 <= v < 1 << (8 * size):
                raise EncodeError(f"{setting.name} value {v} does not fit {size} unsigned bytes")
            out += int(v).to_bytes(size, "little")
    return bytes(out)


def settings_factor(settings: Mapping[PmdSetting, Sequence[int]]) -> float:
    """The FACTOR of a settings dict as a float (1.0 if absent), e.g. from a start response."""
    values = settings.get(PmdSetting.FACTOR)
    if not values:
        return 1.0
    return factor_from_bits(values[0])


# --------------------------------------------------------------------------- control point


@dataclass(frozen=True, slots=True)
class PmdControlPointRequest:
    """A command written to the PMD control point.

    Parameters
    ----------
    op
        The op code.
    measurement
        The measurement the command is about.
    settings
        One value per setting (REQUEST_MEASUREMENT_START); empty for stop and get-settings.
        FACTOR values are float32 bit patterns (:func:`factor_to_bits`).
    offline
        Recording type bit (bit 7 of the type byte): False = online streaming.

    Notes
    -----
    Example (vectors.json ``polar-pmd-start-acc-h10``): start ACC at 200 Hz, 16 bit, 8 g is
    ``02 02 00 01 C8 00 01 01 10 00 02 01 08 00``. The single-byte commands of the offline
    trigger ops (7-9) carry no measurement byte and are not modelled here.
    """

    op: ControlPointOp
    measurement: MeasurementType
    settings: Mapping[PmdSetting, int] = field(default_factory=dict)
    offline: bool = False


def encode_control_point_request(req: PmdControlPointRequest) -> bytes:
    """Encode a control-point command: ``op | type | TLV (count 1 per setting)``."""
    head = bytes(
        (ControlPointOp(req.op), (0x80 if req.offline else 0) | MeasurementType(req.measurement))
    )
    return head + encode_settings({s: (v,) for s, v in req.settings.items()})


def decode_control_point_request(data: bytes) -> PmdControlPointRequest:
    """Decode a control-point command (what a device, or the emulator, receives).

    Raises
    ------
    DecodeError
        If the command is shorter than 2 bytes, has an unknown op or measurement, or a setting
        with other than exactly one value.
    """
    data = bytes(data)
    if len(data) < 2:
        raise DecodeError(
            f"PMD control-point request too short: {len(data)} bytes, need at least 2"
        )
    op = _OPS.get(data[0])
    if op is None:
        raise DecodeError(f"PMD control-point request: unknown op code {data[0]}")
    measurement, offline = _type_byte(data[1], "PMD control-point request")
    tlv = decode_settings(data[2:])
    settings: dict[PmdSetting, int] = {}
    for setting, values in tlv.items():
        if len(values) != 1:
            raise DecodeError(
                f"PMD control-point request: {setting.name} has {len(values)} values, need 1"
            )
        settings[setting] = values[0]
    return PmdControlPointRequest(op, measurement, MappingProxyType(settings), offline)


@dataclass(frozen=True, slots=True)
class PmdControlPointResponse:
    """A control-point response (indication): ``F0 | op | type | status | more | parameters``.

    Parameters
    ----------
    op, measurement
        Echo of the request.
    status
        Result; :attr:`PmdStatus.message` explains errors.
    more
        More response frames follow (long settings lists).
    parameters
        Settings TLV (GET_MEASUREMENT_SETTINGS; FACTOR in a start response), see
        :meth:`settings`.
    offline
        Recording type bit of the type byte.

    Notes
    -----
    Canonical form: a success response always carries the ``more`` byte; an error response
    ends after the status byte. Like the Polar SDK (``PmdControlPointResponse.kt``), the decoder
    also accepts a success response without the ``more`` byte and ignores anything after the
    status of an error response; such input re-encodes in canonical form.
    """

    op: ControlPointOp
    measurement: MeasurementType
    status: PmdStatus
    more: bool = False
    parameters: bytes = b""
    offline: bool = False

    def settings(self) -> dict[PmdSetting, tuple[int, ...]]:
        """The parameters decoded as a settings TLV (raises :class:`DecodeError`)."""
        return decode_settings(self.parameters)


def encode_control_point_response(resp: PmdControlPointResponse) -> bytes:
    """Encode a control-point response (the emulator sends these)."""
    status = PmdStatus(resp.status)
    head = bytes(
        (
            CP_RESPONSE_CODE,
            ControlPointOp(resp.op),
            (0x80 if resp.offline else 0) | MeasurementType(resp.measurement),
            status,
        )
    )
    if status is not PmdStatus.SUCCESS:
        if resp.more or resp.parameters:
            raise EncodeError(
                f"an error response ({status.name}) carries no more flag or parameters"
            )
        return head
    return head + bytes((1 if resp.more else 0,)) + bytes(resp.parameters)


def decode_control_point_response(data: bytes) -> PmdControlPointResponse:
    """Decode a control-point response indication.

    Raises
    ------
    DecodeError
        If it is shorter than 4 bytes, does not start with 0xF0, or has an unknown op,
        measurement type or status.

    Examples
    --------
    >>> r = decode_control_point_response(bytes.fromhex("f001020000ffffff"))
    >>> r.op.name, r.measurement.name, r.status.name, r.more, r.parameters.hex()
    ('GET_MEASUREMENT_SETTINGS', 'ACC', 'SUCCESS', False, 'ffffff')
    """
    data = bytes(data)
    if len(data) < 4:
        raise DecodeError(
            f"PMD control-point response too short: {len(data)} bytes, need at least 4"
        )
    if data[0] != CP_RESPONSE_CODE:
        raise DecodeError(f"PMD control-point response must start with 0xf0, got {data[0]:#04x}")
    op = _OPS.get(data[1])
    if op is None:
        raise DecodeError(f"PMD control-point response: unknown op code {data[1]}")
    measurement, offline = _type_byte(data[2], "PMD control-point response")
    status = _STATUSES.get(data[3])
    if status is None:
        raise DecodeError(f"PMD control-point response: unknown status {data[3]}")
    if status is not PmdStatus.SUCCESS:
        return PmdControlPointResponse(op, measurement, status, False, b"", offline)
    more = len(data) > 4 and data[4] != 0
    return PmdControlPointResponse(op, measurement, status, more, data[5:], offline)


@dataclass(frozen=True, slots=True)
class PmdFeatures:
    """Result of reading the control point: the measurements the device offers.

    ``0F | b1 | b2``: bit *i* of the little-endian u16 ``b1 | b2 << 8`` is measurement type
    *i* (``PmdMeasurementType.fromByteArray``; H10 answers ``0F 05 00`` = ECG, ACC).
    ``unknown_bits`` keeps bits of types this codec does not know, so the read round-trips.
    """

    measurements: frozenset[MeasurementType]
    unknown_bits: int = 0


def encode_features(features: PmdFeatures) -> bytes:
    """Encode a feature read value (the emulator answers reads with it)."""
    mask = features.unknown_bits
    if not 0 <= mask <= 0xFFFF:
        raise EncodeError(f"unknown_bits {mask:#x} do not fit 16 bits")
    for m in features.measurements:
        mask |= 1 << MeasurementType(m)
    return bytes((CP_FEATURE_READ_CODE,)) + mask.to_bytes(2, "little")


def decode_features(data: bytes) -> PmdFeatures:
    """Decode a control-point read (feature bitmask), exactly 3 bytes starting with 0x0F."""
    data = bytes(data)
    if len(data) != 3:
        raise DecodeError(f"PMD feature read must be 3 bytes, got {len(data)}")
    if data[0] != CP_FEATURE_READ_CODE:
        raise DecodeError(f"PMD feature read must start with 0x0f, got {data[0]:#04x}")
    mask = int.from_bytes(data[1:3], "little")
    found = frozenset(m for m in MeasurementType if mask >> m & 1)
    known = sum(1 << m for m in found)
    return PmdFeatures(found, mask & ~known)


# --------------------------------------------------------------------------- data frames


@dataclass(frozen=True, slots=True)
class _Layout:
    """Content layout of one (measurement, frame type, compressed) kind of data frame."""

    channels: int
    #: bytes per value (raw) or per reference value (compressed)
    width: int
    #: bits per value; for compressed frames the reference sample's resolution
    resolution: int
    description: str


_LAYOUTS: Final[Mapping[tuple[MeasurementType, int, bool], _Layout]] = MappingProxyType(
    {
        # online_measurement.pdf Table 7; AccData.kt. Raw TYPE0 is "G for Verity Sense, mG for
        # other devices"; this codec reports it as mG x factor.
        (MeasurementType.ACC, 0, False): _Layout(3, 1, 8, "3 x i8, mG"),
        (MeasurementType.ACC, 1, False): _Layout(3, 2, 16, "3 x i16, mG"),
        (MeasurementType.ACC, 2, False): _Layout(3, 3, 24, "3 x i24, mG"),
        (MeasurementType.ACC, 0, True): _Layout(3, 2, 16, "delta, G x factor"),
        (MeasurementType.ACC, 1, True): _Layout(3, 2, 16, "delta, mG (x factor if != 1)"),
        # GyrData.kt: raw counts x factor = deg/s
        (MeasurementType.GYRO, 0, False): _Layout(3, 2, 16, "3 x i16, counts x factor deg/s"),
        (MeasurementType.GYRO, 0, True): _Layout(3, 2, 16, "delta, counts x factor deg/s"),
        # MagData.kt: raw counts (units not verified here)
        (MeasurementType.MAG, 0, False): _Layout(3, 2, 16, "3 x i16, counts"),
        (MeasurementType.MAG, 0, True): _Layout(3, 2, 16, "delta, counts"),
        # EcgData.kt / bleakheart: H10 ECG, 1 x i24 microvolts
        (MeasurementType.ECG, 0, False): _Layout(1, 3, 24, "1 x i24, uV"),
    }
)


def supported_frame_kinds() -> dict[str, str]:
    """Data-frame kinds this codec decodes: ``"ACC type 1 raw"`` -> content description."""
    return {
        f"{m.name} type {ft} {'compressed' if c else 'raw'}": lay.description
        for (m, ft, c), lay in _LAYOUTS.items()
    }


@dataclass(frozen=True, slots=True, eq=False)
class PmdDataFrame:
    """One PMD data notification.

    Parameters
    ----------
    measurement
        What the frame carries (ACC, GYRO, ...).
    timestamp_ns
        Device clock, ns since 2000-01-01T00:00:00Z, of the **last** sample of the frame
        (:func:`polar_to_unix_ns` for Unix time; :func:`sample_times_ns` for every sample).
    frame_type
        Frame type, bits 0-6 of byte 9 (ACC: 0 = i8, 1 = i16, 2 = i24 when raw).
    compressed
        Bit 7 of byte 9: delta-compressed content.
    samples
        int32, shape (N, channels): counts as the device sent them (mG for ACC raw frames and
        compressed type 1; for ACC compressed type 0, G / ``factor``).
    factor
        FACTOR setting of the stream (from the start response), applied by the unit properties.
    delta_blocks
        For compressed frames, ``(delta_bits, count)`` of each block as received, so that
        :func:`encode_pmd_data` reproduces the device's bytes; empty means "choose minimal bit
        widths". Ignored for raw frames.
    """

    measurement: MeasurementType
    timestamp_ns: int
    frame_type: int
    compressed: bool
    samples: NDArray[np.int32]
    factor: float = 1.0
    delta_blocks: tuple[tuple[int, int], ...] = ()

    def __len__(self) -> int:
        return int(self.samples.shape[0])

    def _require(self, measurement: MeasurementType, prop: str) -> None:
        if self.measurement is not measurement:
            raise ProtocolError(
                f"{prop} is only defined for {measurement.name} frames, "
                f"this is {self.measurement.name}"
            )

    @property
    def acc_g(self) -> NDArray[np.float64]:
        """Acceleration in g, float64 (N, 3).

        Compressed type 0 carries G / factor; every other ACC frame carries mG (x factor when
        the stream has one), ``AccData.kt``.
        """
        self._require(MeasurementType.ACC, "acc_g")
        s = self.samples.astype(np.float64)
        if self.compressed and self.frame_type == 0:
            return s * self.factor
        if self.factor != 1.0:
            s *= self.factor
        return s / 1000.0

    @property
    def acc_mg(self) -> NDArray[np.int32]:
        """Acceleration in integer mG exactly as the Polar SDK computes it (float32, truncated).

        Compressed type 0: ``int(f32(factor) * f32(raw) * f32(1000))``; other frames: ``raw``,
        or ``int(f32(raw) * f32(factor))`` when ``factor != 1`` (``AccData.kt``).
        """
        self._require(MeasurementType.ACC, "acc_mg")
        f32 = np.float32
        if self.compressed and self.frame_type == 0:
            scaled = f32(self.factor) * self.samples.astype(f32) * f32(1000.0)
            return scaled.astype(np.int32)
        if self.factor != 1.0:
            return (self.samples.astype(f32) * f32(self.factor)).astype(np.int32)
        return self.samples

    @property
    def gyro_dps(self) -> NDArray[np.float64]:
        """Angular rate in degrees per second, float64 (N, 3): counts x factor (``GyrData.kt``)."""
        self._require(MeasurementType.GYRO, "gyro_dps")
        return self.samples.astype(np.float64) * self.factor

    @property
    def ecg_uv(self) -> NDArray[np.float64]:
        """ECG in microvolts, float64 (N,)."""
        self._require(MeasurementType.ECG, "ecg_uv")
        return self.samples[:, 0].astype(np.float64)

    def times_ns(
        self, sample_rate_hz: float, previous_timestamp_ns: int | None = None
    ) -> NDArray[np.int64]:
        """Device time of every sample, see :func:`sample_times_ns`."""
        return sample_times_ns(self.timestamp_ns, len(self), sample_rate_hz, previous_timestamp_ns)


def _frame_name(measurement: MeasurementType, frame_type: int, compressed: bool) -> str:
    return f"{measurement.name} frame type {frame_type}{' (compressed)' if compressed else ''}"


def decode_pmd_data(data: bytes, *, factor: float = 1.0) -> PmdDataFrame:
    """Decode a PMD data notification.

    Parameters
    ----------
    data
        The notification value: 10-byte header then content.
    factor
        FACTOR of the stream (from the start response, :func:`settings_factor`); stored on the
        frame and applied by its unit properties.

    Returns
    -------
    PmdDataFrame

    Raises
    ------
    DecodeError
        If the frame is shorter than its header, has an unknown or unsupported
        (measurement, frame type), raw content that is not a whole number of samples, or
        truncated compressed blocks.

    Examples
    --------
    >>> f = decode_pmd_data(bytes.fromhex("02650000000000000081f1ff1400f00306017b0f08"))
    >>> f.samples.tolist(), f.timestamp_ns
    ([[-15, 20, 1008], [-20, 17, 1008]], 101)
    """
    n = len(data)
    if n < _HEADER_LEN:
        raise DecodeError(f"PMD data frame too short: {n} bytes, need at least {_HEADER_LEN}")
    type_byte = data[0]
    if type_byte & 0xC0:
        raise DecodeError(f"PMD data frame: reserved bits set in measurement byte {type_byte:#04x}")
    measurement = _measurement(type_byte, "PMD data frame")
    timestamp_ns = int.from_bytes(data[1:9], "little")
    frame_byte = data[9]
    compressed = frame_byte >= 0x80
    frame_type = frame_byte & 0x7F
    layout = _LAYOUTS.get((measurement, frame_type, compressed))
    if layout is None:
        raise DecodeError(
            f"PMD data frame: unsupported {_frame_name(measurement, frame_type, compressed)}"
        )
    if compressed:
        samples, blocks = _decode_delta(data, layout, measurement, frame_type)
        return PmdDataFrame(measurement, timestamp_ns, frame_type, True, samples, factor, blocks)
    return PmdDataFrame(
        measurement,
        timestamp_ns,
        frame_type,
        False,
        _decode_raw(data, layout, measurement, frame_type),
        factor,
    )


def _decode_raw(
    data: bytes, layout: _Layout, measurement: MeasurementType, frame_type: int
) -> NDArray[np.int32]:
    content = len(data) - _HEADER_LEN
    sample_bytes = layout.channels * layout.width
    if content == 0 or content % sample_bytes:
        raise DecodeError(
            f"PMD {_frame_name(measurement, frame_type, False)} content is {content} bytes, "
            f"not a positive multiple of the {sample_bytes}-byte sample"
        )
    ch = layout.channels
    if layout.width == 2:
        return np.frombuffer(data, "<i2", offset=_HEADER_LEN).astype(np.int32).reshape(-1, ch)
    if layout.width == 1:
        return np.frombuffer(data, np.int8, offset=_HEADER_LEN).astype(np.int32).reshape(-1, ch)
    b = np.frombuffer(data, np.uint8, offset=_HEADER_LEN).reshape(-1, 3).astype(np.int32)
    v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    return ((v ^ 0x800000) - 0x800000).reshape(-1, ch)


def _decode_delta(
    data: bytes, layout: _Layout, measurement: MeasurementType, frame_type: int
) -> tuple[NDArray[np.int32], tuple[tuple[int, int], ...]]:
    """Delta-compressed content (``BlePMDClient.parseDeltaFramesAll``), vectorised."""
    n = len(data)
    ch = layout.channels
    ref_end = _HEADER_LEN + ch * layout.width
    if n < ref_end:
        raise DecodeError(
            f"PMD {_frame_name(measurement, frame_type, True)} content is {n - _HEADER_LEN} "
            f"bytes, shorter than the {ch * layout.width}-byte reference sample"
        )
    half = 1 << (layout.resolution - 1)
    ref: NDArray[np.int64] | list[int]
    if layout.width == 2 and layout.resolution == 16:
        ref = np.frombuffer(data, "<i2", ch, _HEADER_LEN)
    else:
        ref = [
            ((int.from_bytes(data[i : i + layout.width], "little") & ((half << 1) - 1)) ^ half)
            - half
            for i in range(_HEADER_LEN, ref_end, layout.width)
        ]
    # Block headers: one Python step per block (a frame has a handful).
    blocks: list[tuple[int, int]] = []
    starts: list[int] = []
    off = ref_end
    n_deltas = 0
    bound = half  # |sample| <= bound: decides whether int32 arithmetic is safe
    while off < n:
        if off + 2 > n:
            raise DecodeError(f"PMD compressed frame: truncated block header at byte {off}")
        bits, count = data[off], data[off + 1]
        if bits > _MAX_DELTA_BITS:
            raise DecodeError(
                f"PMD compressed frame: delta width {bits} bits at byte {off}, "
                f"at most {_MAX_DELTA_BITS}"
            )
        off += 2
        nbytes = (bits * count * ch + 7) >> 3
        if off + nbytes > n:
            raise DecodeError(
                f"PMD compressed frame: block at byte {off - 2} needs {nbytes} bytes of deltas, "
                f"only {n - off} remain"
            )
        blocks.append((bits, count))
        starts.append(off)
        n_deltas += count
        bound += count << max(bits - 1, 0)
        off += nbytes
    if bound <= 0x7FFF_FFFF:  # the usual case: accumulate in int32 directly
        out = np.empty((n_deltas + 1, ch), np.int32)
        out[0] = ref
        if n_deltas:
            out[1:] = _unpack_deltas(data, blocks, starts, ch).reshape(n_deltas, ch)
            out.cumsum(axis=0, out=out)
        return out, tuple(blocks)
    wide = np.empty((n_deltas + 1, ch), np.int64)
    wide[0] = ref
    wide[1:] = _unpack_deltas(data, blocks, starts, ch).reshape(n_deltas, ch)
    wide.cumsum(axis=0, out=wide)
    if wide.max() > 0x7FFF_FFFF or wide.min() < -0x8000_0000:
        raise DecodeError("PMD compressed frame: a delta-decoded sample overflows int32")
    return wide.astype(np.int32), tuple(blocks)


@dataclass(frozen=True, slots=True)
class _UnpackPlan:
    """Where every delta of a frame's blocks sits: byte index, bit shift, mask, sign bit."""

    byte_index: NDArray[np.intp]
    shift: NDArray[np.uint64]
    mask: NDArray[np.uint64] | np.uint64
    sign: NDArray[np.int64] | np.int64


#: Plans by block layout. A stream repeats the same layout frame after frame, so the index
#: arithmetic is done once per layout; bounded so hostile input cannot grow it.
_PLANS: dict[tuple[tuple[tuple[int, int], ...], tuple[int, ...], int], _UnpackPlan] = {}
_MAX_PLANS: Final = 256


def _plan(blocks: list[tuple[int, int]], starts: list[int], ch: int) -> _UnpackPlan:
    key = (tuple(blocks), tuple(starts), ch)
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    mask: NDArray[np.uint64] | np.uint64
    sign: NDArray[np.int64] | np.int64
    if len(blocks) == 1:
        bits, count = blocks[0]
        offs = starts[0] * 8 + np.arange(count * ch, dtype=np.int64) * bits
        mask = np.uint64((1 << bits) - 1)
        sign = np.int64((1 << bits) >> 1)
    else:
        per_block = np.array([c * ch for _, c in blocks], np.int64)
        widths = np.array([b for b, _ in blocks], np.int64)
        first = np.cumsum(per_block) - per_block
        total = int(per_block.sum())
        w = np.repeat(widths, per_block)
        local = np.arange(total, dtype=np.int64) - np.repeat(first, per_block)
        offs = np.repeat(np.array(starts, np.int64) * 8, per_block) + local * w
        mask = ((np.int64(1) << w) - 1).astype(np.uint64)
        sign = (np.int64(1) << w) >> 1
    plan = _UnpackPlan((offs >> 3).astype(np.intp), (offs & 7).astype(np.uint64), mask, sign)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan


def _unpack_deltas(
    data: bytes, blocks: list[tuple[int, int]], starts: list[int], ch: int
) -> NDArray[np.int64]:
    """All deltas of all blocks as int64, sign-extended.

    A uint64 view with a stride of one byte gives the little-endian 8-byte word starting at
    every byte; gathering the word at each delta's first byte, shifting by its bit offset and
    masking yields the delta (deltas are at most 32 bits, so shift + width <= 39 < 64).
    """
    plan = _plan(blocks, starts, ch)
    padded = bytes(data) + bytes(8)
    words = np.ndarray((len(padded) - 7,), "<u8", padded, 0, (1,))
    raw = ((words[plan.byte_index] >> plan.shift) & plan.mask).view(np.int64)
    result: NDArray[np.int64] = (raw ^ plan.sign) - plan.sign
    return result


def encode_pmd_data(frame: PmdDataFrame) -> bytes:
    """Encode a data frame; the inverse of :func:`decode_pmd_data`.

    Raw frames pack ``samples`` at the frame type's width. Compressed frames write the first
    sample as the reference and then delta blocks: the widths in ``frame.delta_blocks`` when
    given (so decoded device frames re-encode to the same bytes, padding bits zeroed), else
    blocks of at most 255 samples each at the minimal signed bit width.

    Raises
    ------
    EncodeError
        If the kind of frame is unsupported, ``samples`` has the wrong shape or is empty, a
        value does not fit its wire width, or ``delta_blocks`` does not match the samples.
    """
    measurement = MeasurementType(frame.measurement)
    layout = _LAYOUTS.get((measurement, frame.frame_type, bool(frame.compressed)))
    name = _frame_name(measurement, frame.frame_type, bool(frame.compressed))
    if layout is None:
        raise EncodeError(f"unsupported {name}")
    if not 0 <= frame.timestamp_ns <= _U64_MAX:
        raise EncodeError(f"timestamp_ns {frame.timestamp_ns} does not fit u64")
    samples = np.asarray(frame.samples)
    if samples.ndim != 2 or samples.shape[1] != layout.channels or samples.shape[0] == 0:
        raise EncodeError(
            f"{name} needs samples of shape (N >= 1, {layout.channels}), got {samples.shape}"
        )
    if not np.issubdtype(samples.dtype, np.integer):
        raise EncodeError(f"samples must be integers, got {samples.dtype}")
    header = (
        bytes((measurement,))
        + frame.timestamp_ns.to_bytes(8, "little")
        + bytes(((0x80 if frame.compressed else 0) | frame.frame_type,))
    )
    values = samples.astype(np.int64)
    if not frame.compressed:
        return header + _pack_signed(values.reshape(-1), layout.width * 8, name)
    ref = _pack_signed(values[0], layout.resolution, name + " reference sample")
    return header + ref + _encode_deltas(np.diff(values, axis=0), frame.delta_blocks, name)


def _pack_signed(values: NDArray[np.int64], bits: int, what: str) -> bytes:
    """Little-endian two's complement, ``bits`` a multiple of 8."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if values.size and (int(values.min()) < lo or int(values.max()) > hi):
        raise EncodeError(f"{what}: values must lie in [{lo}, {hi}] to fit {bits} bits")
    width = bits // 8
    as_bytes = values.astype("<i4").view(np.uint8).reshape(-1, 4)
    return as_bytes[:, :width].tobytes()


def _min_signed_bits(deltas: NDArray[np.int64]) -> int:
    """Smallest two's-complement width (at least 1) that holds every value."""
    if deltas.size == 0:
        return 1
    m = max(int(deltas.max()), -int(deltas.min()) - 1, 0)
    return m.bit_length() + 1


def _encode_deltas(
    deltas: NDArray[np.int64], blocks: tuple[tuple[int, int], ...], name: str
) -> bytes:
    n = deltas.shape[0]
    if blocks:
        if sum(c for _, c in blocks) != n:
            raise EncodeError(
                f"{name}: delta_blocks cover {sum(c for _, c in blocks)} deltas, samples have {n}"
            )
        plan = list(blocks)
    else:
        plan = []
        for i in range(0, n, 255):
            chunk = deltas[i : i + 255]
            plan.append((_min_signed_bits(chunk), chunk.shape[0]))
    out = bytearray()
    pos = 0
    for bits, count in plan:
        if not 0 <= bits <= _MAX_DELTA_BITS or not 0 <= count <= 255:
            raise EncodeError(f"{name}: delta block ({bits} bits, {count} samples) out of range")
        chunk = deltas[pos : pos + count].reshape(-1)
        pos += count
        if bits == 0:
            if chunk.any():
                raise EncodeError(f"{name}: a 0-bit delta block holds non-zero deltas")
            out += bytes((0, count))
            continue
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if chunk.size and (int(chunk.min()) < lo or int(chunk.max()) > hi):
            raise EncodeError(f"{name}: a delta does not fit its block's {bits} bits")
        u = chunk.astype(np.uint64) & np.uint64((1 << bits) - 1)
        bit_matrix = (u[:, None] >> np.arange(bits, dtype=np.uint64)) & np.uint64(1)
        out += bytes((bits, count))
        out += np.packbits(bit_matrix.astype(np.uint8).reshape(-1), bitorder="little").tobytes()
    return bytes(out)


# --------------------------------------------------------------------------- timestamps


def sample_times_ns(
    timestamp_ns: int,
    n_samples: int,
    sample_rate_hz: float,
    previous_timestamp_ns: int | None = None,
) -> NDArray[np.int64]:
    """Device time of every sample of a frame (``PmdTimeStampUtils.getTimeStamps``).

    The last sample carries the frame timestamp. With a previous frame, the interval
    ``(timestamp - previous) / n`` is spread evenly after the previous timestamp; without
    one, samples are ``1e9 / sample_rate_hz`` apart. Intermediate times are rounded half to
    even, computed exactly (no float64 loss at 2019-era ~6e17 ns timestamps).

    Parameters
    ----------
    timestamp_ns
        Frame timestamp (time of the last sample), ns.
    n_samples
        Number of samples in the frame.
    sample_rate_hz
        Nominal rate; used only when there is no previous frame.
    previous_timestamp_ns
        Timestamp of the previous frame of the same stream, or None for the first frame.

    Returns
    -------
    numpy.ndarray
        int64 (n_samples,).

    Examples
    --------
    >>> sample_times_ns(101, 2, 52.0, previous_timestamp_ns=100).tolist()
    [100, 101]
    """
    if n_samples < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples}")
    if not -(1 << 63) <= timestamp_ns < 1 << 63:
        raise ValueError(f"timestamp_ns {timestamp_ns} does not fit int64")
    out = np.empty(n_samples, np.int64)
    if n_samples == 0:
        return out
    out[-1] = timestamp_ns
    if n_samples == 1:
        return out
    i = np.arange(1, n_samples, dtype=np.int64)  # sample i-1 of the n-1 before the last
    if previous_timestamp_ns is not None:
        span = timestamp_ns - previous_timestamp_ns
        if abs(span) * n_samples < 1 << 62:
            num = span * i
            q = num // n_samples
            r = num - q * n_samples
        else:  # astronomically large spans: exact Python integers
            qr = [divmod(span * int(k), n_samples) for k in i]
            q = np.array([a for a, _ in qr], np.int64)
            r = np.array([b for _, b in qr], np.int64)
        base = previous_timestamp_ns + q
        up = (2 * r > n_samples) | ((2 * r == n_samples) & (base % 2 == 1))
        out[:-1] = base + up
        return out
    if not sample_rate_hz > 0:
        raise ValueError(f"sample_rate_hz must be positive, got {sample_rate_hz}")
    offset = (1e9 / sample_rate_hz) * (n_samples - i).astype(np.float64)
    whole = np.floor(offset)
    frac = offset - whole
    lower = timestamp_ns - whole.astype(np.int64) - 1  # the two integers around ts - offset
    pick_upper = (frac < 0.5) | ((frac == 0.5) & (lower % 2 == 1))
    out[:-1] = lower + pick_upper
    return out


# --------------------------------------------------------------------------- either direction

ControlPointValue = PmdControlPointRequest | PmdControlPointResponse | PmdFeatures


def decode_control_point(data: bytes) -> ControlPointValue:
    """Decode any control-point value by its first byte: 0xF0 response, 0x0F feature read,
    otherwise a command (op codes are 1..9). For the ``decode`` command and the emulator."""
    if data and data[0] == CP_RESPONSE_CODE:
        return decode_control_point_response(data)
    if data and data[0] == CP_FEATURE_READ_CODE:
        return decode_features(data)
    return decode_control_point_request(data)


def encode_control_point(value: ControlPointValue) -> bytes:
    """Encode any control-point value; the inverse of :func:`decode_control_point`."""
    if isinstance(value, PmdControlPointResponse):
        return encode_control_point_response(value)
    if isinstance(value, PmdFeatures):
        return encode_features(value)
    return encode_control_point_request(value)
