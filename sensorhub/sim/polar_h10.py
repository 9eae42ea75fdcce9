"""An emulated Polar H10 chest strap: Polar PMD accelerometer streaming over bumble GATT.

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

Ground truth. The emulator logs every frame sent (:attr:`EmulatedPolarH10.frames_sent`) and
every alert received (:attr:`EmulatedPolarH10.alerts_received`);
:meth:`EmulatedPolarH10.acc_truth_g` gives the exact accelerations behind a frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

import numpy as np
from bumble import att
from bumble.core import AdvertisingData
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
)
from firmware_protocols.sig import (
    ALERT_LEVEL_UUID,
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    DEVICE_INFORMATION_SERVICE_UUID,
    DEVICE_INFORMATION_STRINGS,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    IMMEDIATE_ALERT_SERVICE_UUID,
    AlertLevel,
    HeartRateMeasurement,
    decode_alert_level,
    encode_battery_level,
    encode_heart_rate_measurement,
    encode_utf8_string,
)
from sensorhub.model import NS_PER_S, Placement
from sensorhub.sim.backend import ADVERTISING_INTERVAL_MS, VirtualAir
from sensorhub.sim.scenario import MotionGenerator, Scenario

__all__ = [
    "ACC_RANGES_G",
    "ACC_SAMPLE_RATES_HZ",
    "H10_DEFAULT_CLOCK_NS",
    "SAMPLES_PER_FRAME",
    "EmulatedPolarH10",
    "ReceivedAlert",
    "SentFrame",
]

_LOGGER = logging.getLogger(__name__)

#: ACC settings a Polar H10 offers (polar-ble-sdk ``documentation/products/PolarH10.md``).
ACC_SAMPLE_RATES_HZ: Final = (25, 50, 100, 200)
ACC_RANGES_G: Final = (2, 4, 8)
ACC_RESOLUTION_BITS: Final = 16

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
class ReceivedAlert:
    """An Immediate Alert write the emulator received."""

    device_time_ns: int
    scenario_time_s: float
    level: AlertLevel


@dataclass(frozen=True, slots=True)
class _AccStream:
    """Settings of the running ACC measurement."""

    connection: Connection
    sample_rate_hz: int
    range_g: int
    generator: MotionGenerator


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


class EmulatedPolarH10:
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

    Raises
    ------
    ValueError
        For an unsupported ``acc_rate_hz``, a non-positive ``speed`` or both clock arguments.
    """

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
    ) -> None:
        if acc_rate_hz not in ACC_SAMPLE_RATES_HZ:
            raise ValueError(
                f"a Polar H10 samples ACC at {ACC_SAMPLE_RATES_HZ} Hz, not {acc_rate_hz}"
            )
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be positive, got {speed}")
        if clock_start_ns is not None and device_start_utc_ns is not None:
            raise ValueError("give clock_start_ns or device_start_utc_ns, not both")
        if device_start_utc_ns is not None:
            clock_start_ns = device_start_utc_ns - POLAR_EPOCH_UNIX_NS
        self.clock_start_ns = H10_DEFAULT_CLOCK_NS if clock_start_ns is None else clock_start_ns
        if self.clock_start_ns < 0:
            raise ValueError("the device clock cannot start before 2000-01-01")
        self.air = air
        self.scenario = scenario
        self.name = name
        self.default_acc_rate_hz = acc_rate_hz
        self.speed = float(speed)
        self.battery_pct = battery_pct
        self.seed = scenario.seed if seed is None else seed

        #: Ground truth: every ACC frame notified, in order.
        self.frames_sent: list[SentFrame] = []
        #: Ground truth: every valid Immediate Alert write, in order.
        self.alerts_received: list[ReceivedAlert] = []
        #: Alert writes that were not a valid Alert Level (ignored, as by a real band).
        self.rejected_alert_writes = 0
        #: Control-point requests and the responses sent, in order (raw bytes).
        self.control_log: list[tuple[bytes, bytes]] = []

        self._generators: dict[int, MotionGenerator] = {}
        self._stream: _AccStream | None = None
        self._streaming_task: asyncio.Task[None] | None = None
        self._heart_rate_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connections: list[Connection] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started_at_loop_time: float | None = None
        self._running = False

        self.device = air.new_device(name, address)
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
        self.device.add_services(self._services())
        self.device.advertising_data = bytes(
            AdvertisingData(
                [
                    (AdvertisingData.Type.FLAGS, bytes([0x06])),  # LE general, no BR/EDR
                    (AdvertisingData.Type.COMPLETE_LOCAL_NAME, name.encode()),
                    (
                        AdvertisingData.Type.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        bytes.fromhex("0d18"),  # Heart Rate, as a real H10 advertises
                    ),
                ]
            )
        )
        self.device.on(self.device.EVENT_CONNECTION, self._on_connection)

    def __repr__(self) -> str:
        return f"<EmulatedPolarH10 {self.name!r} scenario={self.scenario.name!r} x{self.speed:g}>"

    # --------------------------------------------------------------------- lifecycle

    @property
    def address(self) -> str:
        """The address collectors see (``BLEDevice.address``)."""
        return str(self.device.random_address.to_string(with_type_qualifier=False))

    @property
    def is_streaming(self) -> bool:
        """True while an ACC measurement runs."""
        return self._stream is not None

    async def start(self) -> None:
        """Power on, start advertising and start the wearer's scenario clock."""
        if self._running:
            return
        self._loop = asyncio.get_running_loop()
        await self.device.power_on()
        await self.device.start_advertising(
            auto_restart=True,
            advertising_interval_min=ADVERTISING_INTERVAL_MS,
            advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )
        self._started_at_loop_time = self._loop.time()
        self._running = True
        self._heart_rate_task = self._loop.create_task(
            self._heart_rate_loop(), name=f"{self.name} heart rate"
        )
        _LOGGER.info("%r advertising at %s", self, self.address)

    async def stop(self) -> None:
        """Stop streaming, drop connections and leave the air. Idempotent."""
        if not self._running:
            return
        self._running = False
        self._stop_streaming("emulator stopped")
        tasks = [t for t in (self._heart_rate_task, self._streaming_task) if t is not None]
        tasks.extend(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.disconnect_all()
        await self.air.remove_device(self.device)
        _LOGGER.info("%r stopped", self)

    async def disconnect_all(self) -> None:
        """Drop every connection from the strap's side (an unsolicited disconnect)."""
        for connection in list(self._connections):
            with contextlib.suppress(Exception):
                await connection.disconnect()

    # ------------------------------------------------------------------------ clocks

    def scenario_elapsed_s(self) -> float:
        """Scenario time since :meth:`start`, in seconds (0 before the start)."""
        if self._started_at_loop_time is None or self._loop is None:
            return 0.0
        return (self._loop.time() - self._started_at_loop_time) * self.speed

    def device_time_ns(self) -> int:
        """The device (PMD) clock now: ns since 2000-01-01."""
        return self.clock_start_ns + round(self.scenario_elapsed_s() * NS_PER_S)

    def device_time_utc_ns(self) -> int:
        """The device clock now, as ns since the Unix epoch."""
        return self.device_time_ns() + POLAR_EPOCH_UNIX_NS

    def sample_device_time_ns(self, sample_index: int, sample_rate_hz: int) -> int:
        """Device time of ACC sample ``sample_index`` of a stream at ``sample_rate_hz``."""
        return self.clock_start_ns + sample_index * NS_PER_S // sample_rate_hz

    # ----------------------------------------------------------------- ground truth

    def motion(self, sample_rate_hz: int) -> MotionGenerator:
        """The motion generator behind the ACC stream at ``sample_rate_hz``."""
        generator = self._generators.get(sample_rate_hz)
        if generator is None:
            generator = MotionGenerator(
                self.scenario, Placement.CHEST, fs_hz=sample_rate_hz, seed=self.seed
            )
            self._generators[sample_rate_hz] = generator
        return generator

    def acc_truth_g(self, frame: SentFrame) -> NDArray[np.float64]:
        """The accelerations (g, device axes, before quantisation) behind a sent frame."""
        return self.motion(frame.sample_rate_hz).samples_at(
            frame.first_sample_index, frame.n_samples
        )

    # ------------------------------------------------------------------- GATT layout

    def _services(self) -> list[Service]:
        device_information = {
            "manufacturer-name": "Polar Electro Oy",
            "model-number": "H10",
            "serial-number": self.name.rsplit(" ", 1)[-1],
            "firmware-revision": "3.1.1",
        }
        return [
            Service(PMD_SERVICE_UUID, [self._control_point, self._data]),
            Service(HEART_RATE_SERVICE_UUID, [self._heart_rate]),
            Service(
                BATTERY_SERVICE_UUID,
                [
                    Characteristic(
                        BATTERY_LEVEL_UUID,
                        Characteristic.Properties.READ,
                        Characteristic.Permissions.READABLE,
                        CharacteristicValue(read=self._read_battery),
                    )
                ],
            ),
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
            Service(
                IMMEDIATE_ALERT_SERVICE_UUID,
                [
                    Characteristic(
                        ALERT_LEVEL_UUID,
                        Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
                        Characteristic.Permissions.WRITEABLE,
                        CharacteristicValue(write=self._on_alert_write),
                    )
                ],
            ),
        ]

    def _on_connection(self, connection: Connection) -> None:
        self._connections.append(connection)
        _LOGGER.debug("%r: connection from %s", self, connection.peer_address)

        def on_disconnection(reason: int) -> None:
            self._connections.remove(connection)
            if self._stream is not None and self._stream.connection is connection:
                self._stop_streaming(f"disconnected (HCI reason 0x{reason:02X})")

        connection.on(connection.EVENT_DISCONNECTION, on_disconnection)

    # ---------------------------------------------------------------- GATT handlers

    def _read_battery(self, connection: Connection) -> bytes:
        return encode_battery_level(self.battery_pct)

    def _read_features(self, connection: Connection) -> bytes:
        return encode_features(PmdFeatures(frozenset({MeasurementType.ACC})))

    def _on_alert_write(self, connection: Connection, value: bytes) -> None:
        try:
            level = decode_alert_level(bytes(value))
        except DecodeError as exc:
            self.rejected_alert_writes += 1
            _LOGGER.warning("%r ignored an Alert Level write: %s", self, exc)
            return
        alert = ReceivedAlert(self.device_time_ns(), self.scenario_elapsed_s(), level)
        self.alerts_received.append(alert)
        _LOGGER.info("%r buzzes: alert level %s at %.1f s", self, level.name, alert.scenario_time_s)

    def _on_control_point_write(self, connection: Connection, value: bytes) -> None:
        request_bytes = bytes(value)
        if not request_bytes:
            raise att.ATT_Error(att.ErrorCode.INVALID_ATTRIBUTE_LENGTH)
        response = self._answer(connection, request_bytes)
        self.control_log.append((request_bytes, response))
        # The indication must follow the write response, so send it from a task that runs
        # after this handler has returned (ble-and-devices.md 2.4.11).
        self._spawn(self._indicate(connection, response), "control point response")

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
                    PmdSetting.SAMPLE_RATE: ACC_SAMPLE_RATES_HZ,
                    PmdSetting.RESOLUTION: (ACC_RESOLUTION_BITS,),
                    PmdSetting.RANGE: ACC_RANGES_G,
                }
            )
        if request.op is ControlPointOp.REQUEST_MEASUREMENT_START:
            return self._start_acc(connection, request.settings), b""
        if request.op is ControlPointOp.STOP_MEASUREMENT:
            if self._stream is None:
                return PmdStatus.ALREADY_IN_STATE, b""
            self._stop_streaming("stop command")
            return PmdStatus.SUCCESS, b""
        return PmdStatus.NOT_SUPPORTED, b""

    def _start_acc(self, connection: Connection, settings: Mapping[PmdSetting, int]) -> PmdStatus:
        if self._stream is not None:
            return PmdStatus.ALREADY_IN_STATE
        unexpected = set(settings) - {
            PmdSetting.SAMPLE_RATE,
            PmdSetting.RESOLUTION,
            PmdSetting.RANGE,
        }
        if unexpected:
            return PmdStatus.INVALID_PARAMETER
        rate = settings.get(PmdSetting.SAMPLE_RATE, self.default_acc_rate_hz)
        if rate not in ACC_SAMPLE_RATES_HZ:
            return PmdStatus.INVALID_SAMPLE_RATE
        if settings.get(PmdSetting.RESOLUTION, ACC_RESOLUTION_BITS) != ACC_RESOLUTION_BITS:
            return PmdStatus.INVALID_RESOLUTION
        range_g = settings.get(PmdSetting.RANGE, max(ACC_RANGES_G))
        if range_g not in ACC_RANGES_G:
            return PmdStatus.INVALID_RANGE
        frame_bytes = _FRAME_HEADER_BYTES + SAMPLES_PER_FRAME * _ACC_SAMPLE_BYTES
        if connection.att_mtu - _ATT_NOTIFICATION_HEADER_BYTES < frame_bytes:
            return PmdStatus.INVALID_MTU
        self._stream = _AccStream(connection, rate, range_g, self.motion(rate))
        # Streaming starts once the response has been indicated (see _indicate).
        return PmdStatus.SUCCESS

    async def _indicate(self, connection: Connection, response: bytes) -> None:
        try:
            await self.device.indicate_subscriber(connection, self._control_point, response)
        except Exception:
            _LOGGER.info("%r: control-point response not delivered", self, exc_info=True)
        stream = self._stream
        if stream is not None and stream.connection is connection and self._streaming_task is None:
            self._streaming_task = asyncio.get_running_loop().create_task(
                self._stream_acc(stream), name=f"{self.name} ACC"
            )

    # ------------------------------------------------------------------- streaming

    def _stop_streaming(self, why: str) -> None:
        if self._stream is None:
            return
        _LOGGER.info("%r: ACC stream stopped (%s)", self, why)
        self._stream = None
        task, self._streaming_task = self._streaming_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _stream_acc(self, stream: _AccStream) -> None:
        rate = stream.sample_rate_hz
        full_scale_mg = stream.range_g * 1000
        # The first sample is the next one on the scenario's sample grid.
        next_index = math.ceil(self.scenario_elapsed_s() * rate)
        warned_lag = False
        _LOGGER.info("%r: ACC streaming at %d Hz, +-%d g", self, rate, stream.range_g)
        try:
            while self._stream is stream:
                last_index = next_index + SAMPLES_PER_FRAME - 1
                wait_s = (last_index / rate - self.scenario_elapsed_s()) / self.speed
                if wait_s < -_LAG_WARNING_S and not warned_lag:
                    warned_lag = True
                    _LOGGER.warning(
                        "%r streams %.0f s of real time behind its wearer: the virtual radio "
                        "carries ~%d ACC samples/s; lower speed x rate (now %.0f samples/s)",
                        self,
                        -wait_s,
                        _VIRTUAL_RADIO_SAMPLES_PER_S,
                        self.speed * rate,
                    )
                # Always yield once per frame so catching up never starves the event loop.
                await asyncio.sleep(max(wait_s, 0.0))
                if self._stream is not stream:
                    break
                acc_g = stream.generator.samples_at(next_index, SAMPLES_PER_FRAME)
                acc_mg = np.clip(np.rint(acc_g * 1000.0), -full_scale_mg, full_scale_mg)
                frame = SentFrame(
                    self.sample_device_time_ns(last_index, rate),
                    next_index,
                    SAMPLES_PER_FRAME,
                    rate,
                    stream.range_g,
                )
                payload = encode_pmd_data(
                    PmdDataFrame(
                        MeasurementType.ACC,
                        frame.timestamp_ns,
                        frame_type=1,
                        compressed=False,
                        samples=acc_mg.astype(np.int32),
                    )
                )
                await self.device.notify_subscriber(stream.connection, self._data, payload)
                self.frames_sent.append(frame)
                next_index += SAMPLES_PER_FRAME
        finally:
            if self._streaming_task is asyncio.current_task():
                self._streaming_task = None

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
        segment = self.scenario.segment_at(scenario_s)
        target = _HEART_RATE_BPM[segment.activity]
        if segment.effective_cadence_spm is not None:
            # brisker walking, higher heart rate
            target += 0.3 * max(segment.effective_cadence_spm - 80.0, 0.0)
        return target

    def _spawn(self, coroutine: Coroutine[Any, Any, None], what: str) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine, name=what)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
