"""Emulated Polar PMD devices: the H10 chest strap and the Verity Sense optical sensor.

The emulator is a bumble GATT server on a :class:`~sensorhub.sim.backend.VirtualAir`. It
speaks the protocol a collector sees on a real H10, encoded with the project's own codecs
(:mod:`firmware_protocols.polar_pmd`, :mod:`firmware_protocols.sig`), so the emulator and the
decoders cannot drift apart silently:

* **PMD** service ``FB005C80-...``: the control point (read = features, write with response =
  commands, indicate = responses) answers get-settings, start and stop of ACC with the status
  a device gives (``INVALID_SAMPLE_RATE``, ``ALREADY_IN_STATE``, ``NOT_SUPPORTED`` ...); the
  data characteristic notifies raw type-1 ACC frames (3 x int16 mG, 36 samples per frame).
* **Heart Rate** 0x180D / 0x2A37 (notify, one measurement per second of scenario time).
* **Battery** 0x180F / 0x2A19 (read) and **Device Information** 0x180A.
* **Immediate Alert** 0x1802 / 0x2A06 (write without response). A real H10 has no vibration
  motor and no such service; the emulator exposes one so the demo can "buzz" its wearer and
  the tests can check that a nudge arrived.

What it does not emulate: ECG, offline recording, SDK mode, bonding. Its feature read
therefore lists ACC only (a real H10 also lists ECG).

Time. The wearer's scenario starts at :meth:`EmulatedPolarH10.start` and runs ``speed`` times
faster than real time. The device clock (the PMD clock, ns since 2000-01-01) advances with
scenario time from ``clock_start_ns``, or from ``device_start_utc_ns`` expressed in UTC. ACC
sample ``k`` of the stream lies on the scenario time ``k / rate``; a frame is sent as soon as
the scaled clock passes the time of its last sample, and its timestamp is that sample's
device time. Samples that fall into a time without a streaming connection are never sent,
as on a real strap.

Throughput. bumble's in-process link alone carries roughly 30 000 ACC samples per second
(~850 frames; measured on a shared 2026 build machine). A collector and pipeline in the same
process take their share, so keep ``speed x rate`` under ~15 000 samples/s there (speed 300
at 50 Hz); beyond that the stream falls behind the wearer's clock and the emulator logs a
warning.

Both share :class:`~sensorhub.sim.base.EmulatedWearable` (lifecycle, clocks, paced streams,
faults, ground truth) with the other emulators. :class:`EmulatedVeritySense` differs in its
name, rates and ranges, and in sending delta-compressed ACC frames (type 0, counts of
``FACTOR`` g) with the FACTOR in the start response, as the Verity Sense does.

Ground truth. The emulator logs every frame sent (:attr:`EmulatedPolarH10.frames_sent`) and
every alert received (:attr:`EmulatedPolarH10.alerts_received`);
:meth:`EmulatedPolarH10.acc_truth_g` gives the exact accelerations behind a frame.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

import numpy as np
from bumble import att
from bumble.device import Connection
from bumble.gatt import Characteristic, CharacteristicValue, Service
from numpy.typing import NDArray

from firmware_protocols.errors import DecodeError
from firmware_protocols.polar_pmd import (
    CP_RESPONSE_CODE,
    PMD_CONTROL_POINT_UUID,
    PMD_DATA_UUID,
    PMD_SERVICE_UUID,
    POLAR_EPOCH_UNIX_NS,
    ControlPointOp,
    MeasurementType,
    PmdControlPointRequest,
    PmdControlPointResponse,
    PmdDataFrame,
    PmdFeatures,
    PmdSetting,
    PmdStatus,
    decode_control_point_request,
    encode_control_point_response,
    encode_features,
    encode_pmd_data,
    encode_settings,
    factor_to_bits,
)
from firmware_protocols.sig import (
    DEVICE_INFORMATION_SERVICE_UUID,
    DEVICE_INFORMATION_STRINGS,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    HeartRateMeasurement,
    encode_heart_rate_measurement,
    encode_utf8_string,
)
from sensorhub.model import Placement
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.base import EmulatedWearable, ReceivedAlert, TruthFrame
from sensorhub.sim.scenario import Scenario

__all__ = [
    "ACC_RANGES_G",
    "ACC_SAMPLE_RATES_HZ",
    "H10_DEFAULT_CLOCK_NS",
    "SAMPLES_PER_FRAME",
    "EmulatedPolarH10",
    "EmulatedVeritySense",
    "ReceivedAlert",
    "SentFrame",
]

_LOGGER = logging.getLogger(__name__)

#: ACC settings a Polar H10 offers (polar-ble-sdk ``documentation/products/PolarH10.md``).
ACC_SAMPLE_RATES_HZ: Final = (25, 50, 100, 200)
ACC_RANGES_G: Final = (2, 4, 8)
ACC_RESOLUTION_BITS: Final = 16
#: ACC settings of a Polar Verity Sense (polar-ble-sdk ``documentation/products/``).
VERITY_ACC_SAMPLE_RATES_HZ: Final = (26, 52, 104, 208, 416)
VERITY_ACC_RANGES_G: Final = (2, 4, 8, 16)

#: The H10 resets its clock to 2019-01-01T00:00:00Z after a shutdown unless an app sets it
#: (polar-ble-sdk ``documentation/TimeSystemExplained.md``); in PMD ns since 2000-01-01.
H10_DEFAULT_CLOCK_NS: Final = 599_616_000_000_000_000

#: ACC samples per data frame: 10-byte header + 36 x 6 bytes = 226 bytes, as an H10 sends.
SAMPLES_PER_FRAME: Final = 36
_FRAME_HEADER_BYTES: Final = 10
_ACC_SAMPLE_BYTES: Final = 6
#: Opcode + handle in front of a notification's value.
_ATT_NOTIFICATION_HEADER_BYTES: Final = 3

#: Roughly what bumble's in-process link alone carries (see the module docstring).
_VIRTUAL_RADIO_SAMPLES_PER_S: Final = 30_000
#: Real seconds behind the wearer's clock before the emulator warns that it cannot keep up.
_LAG_WARNING_S: Final = 2.0

#: Heart rate at rest per scripted activity (bpm); walking adds to it with cadence.
_HEART_RATE_BPM: Final[Mapping[str, float]] = MappingProxyType(
    {
        "lying": 60.0,
        "sitting": 68.0,
        "fidget": 72.0,
        "standing": 74.0,
        "walking": 80.0,
        "shuffle": 78.0,
        "fall": 105.0,
    }
)
#: Time constant of the heart rate following the activity, seconds of scenario time.
_HEART_RATE_TAU_S: Final = 30.0
#: At most this many heart-rate notifications per real second, however fast the scenario runs.
_MAX_HEART_RATE_NOTIFICATIONS_PER_S: Final = 20.0


@dataclass(frozen=True, slots=True)
class SentFrame:
    """One ACC data frame the emulator notified.

    Attributes
    ----------
    timestamp_ns
        PMD timestamp of the frame (device time of its last sample, ns since 2000-01-01).
    first_sample_index
        Index of its first sample in the scenario stream at ``sample_rate_hz`` (sample ``k``
        lies at ``k / sample_rate_hz`` seconds of scenario time).
    n_samples
        Samples in the frame.
    sample_rate_hz
        Rate of the stream the frame belongs to.
    range_g
        Measurement range; values beyond it were clipped, as a real sensor saturates.
    """

    timestamp_ns: int
    first_sample_index: int
    n_samples: int
    sample_rate_hz: int
    range_g: int

    @property
    def last_sample_time_s(self) -> float:
        """Scenario time of the frame's last sample."""
        return (self.first_sample_index + self.n_samples - 1) / self.sample_rate_hz


@dataclass(frozen=True, slots=True)
class _AccStream:
    """Settings of the running ACC measurement."""

    connection: Connection
    sample_rate_hz: int
    range_g: int


def _raw_error_response(request: bytes) -> bytes:
    """Answer a request the codec cannot decode: ``F0 | op | type | status``, echoed raw.

    The response codec only encodes known op codes and measurement types, but a device echoes
    whatever it was sent.
    """
    known_ops = {op.value for op in ControlPointOp}
    if request[0] not in known_ops:
        status = PmdStatus.INVALID_OP_CODE
    elif len(request) < 2:
        status = PmdStatus.INVALID_LENGTH
    else:
        # a known op with an unknown measurement type or malformed settings
        status = PmdStatus.INVALID_MEASUREMENT_TYPE
    op, measurement = request[0], request[1] if len(request) > 1 else 0
    return bytes((CP_RESPONSE_CODE, op, measurement, status))


class EmulatedPolarH10(EmulatedWearable):
    """An emulated Polar H10 whose wearer follows a scripted motion scenario.

    Parameters
    ----------
    air
        The virtual radio to advertise on.
    scenario
        What the wearer does; the strap is worn on the chest.
    name
        Advertised name (a real H10 advertises ``"Polar H10 "`` + its 8-hex-digit id).
    acc_rate_hz
        ACC rate used when a start command carries no SAMPLE_RATE (25, 50, 100 or 200).
    speed
        Scenario seconds per real second (60: one minute of the wearer's day per second).
    clock_start_ns
        PMD clock at scenario start, ns since 2000-01-01. Defaults to the H10's reset value
        (2019-01-01) unless ``device_start_utc_ns`` is given.
    device_start_utc_ns
        Alternatively, the UTC instant (ns since the Unix epoch) the device clock shows at
        scenario start, so that device time tracks a chosen wall-clock day.
    battery_pct
        Battery level reported.
    seed
        Seed of the motion generator (defaults to the scenario's).
    address
        Fixed random static address (``"C0:..."``), else a random one.
    **kwargs
        ``placement``, ``faults``, ``fault_window_s`` of :class:`EmulatedWearable`.

    Raises
    ------
    ValueError
        For an unsupported ``acc_rate_hz``, a non-positive ``speed`` or both clock arguments.
    """

    model = "polar-h10"
    default_placement = Placement.CHEST
    reset_clock_ns = H10_DEFAULT_CLOCK_NS
    #: ACC settings the device offers.
    acc_sample_rates_hz: tuple[int, ...] = ACC_SAMPLE_RATES_HZ
    acc_ranges_g: tuple[int, ...] = ACC_RANGES_G
    model_number = "H10"

    def __init__(
        self,
        air: VirtualAir,
        *,
        scenario: Scenario,
        name: str = "Polar H10 A1B2C3D4",
        acc_rate_hz: int = 100,
        speed: float = 1.0,
        clock_start_ns: int | None = None,
        device_start_utc_ns: int | None = None,
        battery_pct: int = 93,
        seed: int | None = None,
        address: str | None = None,
        **kwargs: Any,
    ) -> None:
        if acc_rate_hz not in self.acc_sample_rates_hz:
            raise ValueError(
                f"a {self.model} samples ACC at {self.acc_sample_rates_hz} Hz, not {acc_rate_hz}"
            )
        if clock_start_ns is not None and device_start_utc_ns is not None:
            raise ValueError("give clock_start_ns or device_start_utc_ns, not both")
        if device_start_utc_ns is not None:
            clock_start_ns = device_start_utc_ns - POLAR_EPOCH_UNIX_NS
        if clock_start_ns is not None and clock_start_ns < 0:
            raise ValueError("the device clock cannot start before 2000-01-01")
        super().__init__(
            air,
            scenario=scenario,
            name=name,
            speed=speed,
            battery_pct=battery_pct,
            seed=seed,
            address=address,
            clock_start_ns=clock_start_ns,
            **kwargs,
        )
        self.default_acc_rate_hz = acc_rate_hz
        #: Control-point requests and the responses sent, in order (raw bytes).
        self.control_log: list[tuple[bytes, bytes]] = []
        self._acc: _AccStream | None = None
        self._control_point: Characteristic[bytes] = Characteristic(
            PMD_CONTROL_POINT_UUID,
            Characteristic.Properties.READ
            | Characteristic.Properties.WRITE
            | Characteristic.Properties.INDICATE,
            Characteristic.Permissions.READABLE | Characteristic.Permissions.WRITEABLE,
            CharacteristicValue(read=self._read_features, write=self._on_control_point_write),
        )
        # Notify-only characteristics need no permissions: nobody reads or writes them.
        no_access = Characteristic.Permissions(0)
        self._data: Characteristic[bytes] = Characteristic(
            PMD_DATA_UUID, Characteristic.Properties.NOTIFY, no_access, b""
        )
        self._heart_rate: Characteristic[bytes] = Characteristic(
            HEART_RATE_MEASUREMENT_UUID, Characteristic.Properties.NOTIFY, no_access, b""
        )
        self._range_by_rate: dict[int, int] = {}

    # --------------------------------------------------------------------- clocks

    def device_time_utc_ns(self) -> int:
        """The device clock now, as ns since the Unix epoch."""
        return self.device_time_ns() + POLAR_EPOCH_UNIX_NS

    # ----------------------------------------------------------------- ground truth

    @property
    def frames_sent(self) -> list[SentFrame]:
        """Ground truth: every ACC frame notified intact, in order."""
        return [
            SentFrame(
                self.sample_device_time_ns(
                    f.first_sample_index + f.n_samples - 1, f.sample_rate_hz
                ),
                f.first_sample_index,
                f.n_samples,
                int(f.sample_rate_hz),
                self._range_by_rate.get(int(f.sample_rate_hz), max(self.acc_ranges_g)),
            )
            for f in self.frames("sent", "acc")
        ]

    @property
    def is_streaming(self) -> bool:
        """True while an ACC measurement runs."""
        return self._acc is not None

    def acc_truth_g(self, frame: SentFrame | TruthFrame) -> NDArray[np.float64]:
        """The accelerations (g, device axes, before quantisation) behind a sent frame."""
        return self.motion(frame.sample_rate_hz).samples_at(
            frame.first_sample_index, frame.n_samples
        )

    # ------------------------------------------------------------------- GATT layout

    def advertised_service_uuids(self) -> tuple[str, ...]:
        """Heart Rate, as a real H10 advertises."""
        return ("180d",)

    def services(self) -> list[Service]:
        """PMD, Heart Rate, Battery, Device Information and Immediate Alert."""
        device_information = {
            "manufacturer-name": "Polar Electro Oy",
            "model-number": self.model_number,
            "serial-number": self.name.rsplit(" ", 1)[-1],
            "firmware-revision": "3.1.1",
        }
        return [
            Service(PMD_SERVICE_UUID, [self._control_point, self._data]),
            Service(HEART_RATE_SERVICE_UUID, [self._heart_rate]),
            self.battery_service(),
            Service(
                DEVICE_INFORMATION_SERVICE_UUID,
                [
                    Characteristic(
                        DEVICE_INFORMATION_STRINGS[key],
                        Characteristic.Properties.READ,
                        Characteristic.Permissions.READABLE,
                        encode_utf8_string(text),
                    )
                    for key, text in device_information.items()
                ],
            ),
            self.immediate_alert_service(),
        ]

    def on_started(self) -> None:
        """Start the heart-rate notifications."""
        self.spawn(self._heart_rate_loop(), f"{self.name} heart rate")

    def stop_stream(self, why: str) -> None:
        """Stop the ACC measurement (idempotent)."""
        self._acc = None
        super().stop_stream(why)

    def corrupt(self, payload: bytes) -> bytes:
        """An unknown measurement type byte: the decoder rejects the frame."""
        return b"\x3f" + payload[1:]

    # ---------------------------------------------------------------- GATT handlers

    def _read_features(self, connection: Connection) -> bytes:
        return encode_features(PmdFeatures(frozenset({MeasurementType.ACC})))

    def _on_control_point_write(self, connection: Connection, value: bytes) -> None:
        request_bytes = bytes(value)
        if not request_bytes:
            raise att.ATT_Error(att.ErrorCode.INVALID_ATTRIBUTE_LENGTH)
        response = self._answer(connection, request_bytes)
        self.control_log.append((request_bytes, response))
        # The indication must follow the write response, so send it from a task that runs
        # after this handler has returned (ble-and-devices.md 2.4.11).
        self.spawn(self._indicate(connection, response), "control point response")

    def _answer(self, connection: Connection, request_bytes: bytes) -> bytes:
        """Carry out a control-point command; return the response indication."""
        try:
            request = decode_control_point_request(request_bytes)
        except DecodeError as exc:
            _LOGGER.info(
                "%r: undecodable control-point request %s: %s", self, request_bytes.hex(), exc
            )
            return _raw_error_response(request_bytes)
        status, parameters = self._carry_out(connection, request)
        return encode_control_point_response(
            PmdControlPointResponse(
                request.op, request.measurement, status, False, parameters, request.offline
            )
        )

    def _carry_out(
        self, connection: Connection, request: PmdControlPointRequest
    ) -> tuple[PmdStatus, bytes]:
        if request.offline:
            return PmdStatus.NOT_SUPPORTED, b""
        if request.measurement is not MeasurementType.ACC:
            return PmdStatus.NOT_SUPPORTED, b""
        if request.op is ControlPointOp.GET_MEASUREMENT_SETTINGS:
            return PmdStatus.SUCCESS, encode_settings(
                {
                    PmdSetting.SAMPLE_RATE: self.acc_sample_rates_hz,
                    PmdSetting.RESOLUTION: (ACC_RESOLUTION_BITS,),
                    PmdSetting.RANGE: self.acc_ranges_g,
                }
            )
        if request.op is ControlPointOp.REQUEST_MEASUREMENT_START:
            status = self._start_acc(connection, request.settings)
            return status, self.start_parameters() if status is PmdStatus.SUCCESS else b""
        if request.op is ControlPointOp.STOP_MEASUREMENT:
            if self._acc is None:
                return PmdStatus.ALREADY_IN_STATE, b""
            self.stop_stream("stop command")
            return PmdStatus.SUCCESS, b""
        return PmdStatus.NOT_SUPPORTED, b""

    def start_parameters(self) -> bytes:
        """Parameters of a successful start response (none on an H10)."""
        return b""

    def _start_acc(self, connection: Connection, settings: Mapping[PmdSetting, int]) -> PmdStatus:
        if self._acc is not None:
            return PmdStatus.ALREADY_IN_STATE
        unexpected = set(settings) - {
            PmdSetting.SAMPLE_RATE,
            PmdSetting.RESOLUTION,
            PmdSetting.RANGE,
        }
        if unexpected:
            return PmdStatus.INVALID_PARAMETER
        rate = settings.get(PmdSetting.SAMPLE_RATE, self.default_acc_rate_hz)
        if rate not in self.acc_sample_rates_hz:
            return PmdStatus.INVALID_SAMPLE_RATE
        if settings.get(PmdSetting.RESOLUTION, ACC_RESOLUTION_BITS) != ACC_RESOLUTION_BITS:
            return PmdStatus.INVALID_RESOLUTION
        range_g = settings.get(PmdSetting.RANGE, max(self.acc_ranges_g))
        if range_g not in self.acc_ranges_g:
            return PmdStatus.INVALID_RANGE
        frame_bytes = _FRAME_HEADER_BYTES + SAMPLES_PER_FRAME * _ACC_SAMPLE_BYTES
        if connection.att_mtu - _ATT_NOTIFICATION_HEADER_BYTES < frame_bytes:
            return PmdStatus.INVALID_MTU
        self._acc = _AccStream(connection, rate, range_g)
        self._range_by_rate[rate] = range_g
        # Streaming starts once the response has been indicated (see _indicate).
        return PmdStatus.SUCCESS

    async def _indicate(self, connection: Connection, response: bytes) -> None:
        try:
            await self.device.indicate_subscriber(connection, self._control_point, response)
        except Exception:
            _LOGGER.info("%r: control-point response not delivered", self, exc_info=True)
        acc = self._acc
        if acc is not None and acc.connection is connection and not super().is_streaming:
            self.start_stream(
                connection,
                self._data,
                name="acc",
                sample_rate_hz=acc.sample_rate_hz,
                samples_per_frame=SAMPLES_PER_FRAME,
                payload=lambda first, n: self.acc_frame(first, n, acc),
            )

    # ------------------------------------------------------------------- streaming

    def acc_frame(self, first_index: int, n: int, acc: _AccStream) -> bytes:
        """Encode ACC samples ``first_index ..`` as a raw type-1 frame (mG, clipped)."""
        rate = acc.sample_rate_hz
        full_scale_mg = acc.range_g * 1000
        acc_g = self.motion(rate).samples_at(first_index, n)
        acc_mg = np.clip(np.rint(acc_g * 1000.0), -full_scale_mg, full_scale_mg)
        return encode_pmd_data(
            PmdDataFrame(
                MeasurementType.ACC,
                self.sample_device_time_ns(first_index + n - 1, rate),
                frame_type=1,
                compressed=False,
                samples=acc_mg.astype(np.int32),
            )
        )

    async def _heart_rate_loop(self) -> None:
        heart_rate = self._heart_rate_target(0.0)
        rng = np.random.default_rng([self.seed, 2])
        last_s = self.scenario_elapsed_s()
        while True:
            # One measurement per scenario second, but never flood the link at high speed.
            await asyncio.sleep(max(1.0 / self.speed, 1.0 / _MAX_HEART_RATE_NOTIFICATIONS_PER_S))
            now_s = self.scenario_elapsed_s()
            target = self._heart_rate_target(now_s)
            heart_rate += (target - heart_rate) * (
                1.0 - math.exp(-(now_s - last_s) / _HEART_RATE_TAU_S)
            )
            last_s = now_s
            bpm = int(np.clip(round(heart_rate + rng.normal(0.0, 1.5)), 30, 220))
            measurement = HeartRateMeasurement(
                bpm,
                sensor_contact_supported=True,
                sensor_contact_detected=True,
                # RR intervals travel in 1/1024 s
                rr_intervals_s=(round(60.0 / bpm * 1024) / 1024,),
            )
            try:
                await self.device.notify_subscribers(
                    self._heart_rate, encode_heart_rate_measurement(measurement)
                )
            except Exception:
                _LOGGER.debug("%r: heart-rate notification failed", self, exc_info=True)

    def _heart_rate_target(self, scenario_s: float) -> float:
        return heart_rate_target(self.scenario, scenario_s)


def heart_rate_target(scenario: Scenario, scenario_s: float) -> float:
    """Heart rate the wearer's activity leads to (bpm), for emulated HR sensors."""
    segment = scenario.segment_at(scenario_s)
    target = _HEART_RATE_BPM[segment.activity]
    if segment.effective_cadence_spm is not None:
        # brisker walking, higher heart rate
        target += 0.3 * max(segment.effective_cadence_spm - 80.0, 0.0)
    return target


class EmulatedVeritySense(EmulatedPolarH10):
    """An emulated Polar Verity Sense: delta-compressed ACC frames with a FACTOR.

    Worn on the upper arm or, clipped, at the hip (default placement: hip). ACC rates 26, 52,
    104, 208, 416 Hz and ranges 2-16 g; frames are compressed type 0 whose counts are
    ``FACTOR`` g each, with ``FACTOR = range / 32768`` sent in the start response.
    """

    model = "polar-verity-sense"
    default_placement = Placement.HIP
    acc_sample_rates_hz = VERITY_ACC_SAMPLE_RATES_HZ
    acc_ranges_g = VERITY_ACC_RANGES_G
    model_number = "Polar Sense"

    def __init__(
        self,
        air: VirtualAir,
        *,
        scenario: Scenario,
        name: str = "Polar Sense B5C6D7E8",
        acc_rate_hz: int = 52,
        **kwargs: Any,
    ) -> None:
        super().__init__(air, scenario=scenario, name=name, acc_rate_hz=acc_rate_hz, **kwargs)

    def advertised_service_uuids(self) -> tuple[str, ...]:
        """Heart Rate."""
        return ("180d",)

    def _factor(self) -> float:
        acc = self._acc
        range_g = acc.range_g if acc is not None else max(self.acc_ranges_g)
        return range_g / 32768.0

    def start_parameters(self) -> bytes:
        """FACTOR of the stream (float32 bits), as a Verity Sense sends it."""
        return encode_settings({PmdSetting.FACTOR: (factor_to_bits(self._factor()),)})

    def acc_frame(self, first_index: int, n: int, acc: _AccStream) -> bytes:
        """Encode ACC samples as a delta-compressed type-0 frame (counts of FACTOR g)."""
        factor = acc.range_g / 32768.0
        acc_g = self.motion(acc.sample_rate_hz).samples_at(first_index, n)
        counts = np.clip(np.rint(acc_g / factor), -32768, 32767).astype(np.int32)
        return encode_pmd_data(
            PmdDataFrame(
                MeasurementType.ACC,
                self.sample_device_time_ns(first_index + n - 1, acc.sample_rate_hz),
                frame_type=0,
                compressed=True,
                samples=counts,
                factor=factor,
            )
        )
