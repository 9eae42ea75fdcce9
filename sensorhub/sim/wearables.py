"""Emulated wearables for every other supported profile, on the common base.

Each speaks its device's protocol with the project's codecs and streams the motion of its
placement (:class:`~sensorhub.sim.scenario.MotionGenerator`), paced by the scenario clock,
with the faults and ground truth of :class:`~sensorhub.sim.base.EmulatedWearable`:

:class:`EmulatedOpenImu`
    The open sensorhub IMU profile: IMU Control commands (rate, range, START/STOP, answered
    by indication), IMU Data packets of 25 samples with sequence counter, device time and
    ``RESYNC`` after START; Immediate Alert for nudges. Worn on the lower back by default.
:class:`EmulatedInfiniTime`
    A PineTime with InfiniTime on the wrist: raw motion at 10 Hz (one sample per
    notification, no timestamp), the step counter, text alerts on New Alert and buzzes on
    Immediate Alert.
:class:`EmulatedThingy52`
    A Nordic Thingy:52 in a trouser pocket: the motion rate set through the motion config,
    raw motion (acc + gyro + compass, one sample per notification) and the pedometer.
:class:`EmulatedMetaWear`
    A MetaWear board on the thigh: BMI160 configuration commands, packed accelerometer data
    (three samples per notification).
:class:`EmulatedRscFootPod`
    A foot pod with a heart-rate strap: SIG Running Speed and Cadence measurements (cadence
    and speed from the scenario's gait) and Heart Rate, one each per second of scenario time.

Devices that stamp nothing are the collector's hardest case: it must place their samples from
arrival time alone. Their truth frames still carry the sample indices they were made from.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from typing import Any, Final

import numpy as np
from bumble import att
from bumble.device import Connection
from bumble.gatt import Characteristic, CharacteristicValue, Service

from firmware_protocols import infinitime, metawear, open_imu, sig, thingy52
from firmware_protocols.errors import DecodeError
from sensorhub.model import Placement
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.base import EmulatedWearable, TruthFrame
from sensorhub.sim.polar_h10 import EmulatedPolarH10, EmulatedVeritySense, heart_rate_target
from sensorhub.sim.scenario import Scenario

__all__ = [
    "EMULATORS",
    "EmulatedInfiniTime",
    "EmulatedMetaWear",
    "EmulatedOpenImu",
    "EmulatedRscFootPod",
    "EmulatedThingy52",
]

_LOGGER = logging.getLogger(__name__)

_NO_ACCESS: Final = Characteristic.Permissions(0)
_R = Characteristic.Properties.READ
_W = Characteristic.Properties.WRITE
_WNR = Characteristic.Properties.WRITE_WITHOUT_RESPONSE
_N = Characteristic.Properties.NOTIFY
_I = Characteristic.Properties.INDICATE
_READ = Characteristic.Permissions.READABLE
_WRITE = Characteristic.Permissions.WRITEABLE


def _notify_char(uuid: str) -> Characteristic[bytes]:
    return Characteristic(uuid, _N, _NO_ACCESS, b"")


def _counts(acc_g: np.ndarray[Any, Any], per_g: float) -> np.ndarray[Any, np.dtype[np.int16]]:
    return np.clip(np.rint(acc_g * per_g), -32768, 32767).astype(np.int16)


# --------------------------------------------------------------------------- open IMU


class EmulatedOpenImu(EmulatedWearable):
    """An emulated band running the open sensorhub IMU profile (see the module docstring).

    Parameters
    ----------
    air, scenario, name, **kwargs
        As :class:`~sensorhub.sim.base.EmulatedWearable`.
    samples_per_packet
        Samples per IMU Data packet (25 x 6 bytes + 22-byte header fit ATT MTU 247).
    """

    model = "open-imu"
    default_placement = Placement.LOWER_BACK
    #: Rates and ranges the emulated firmware accepts.
    sample_rates_mhz: Final = (12_500, 25_000, 50_000, 100_000, 200_000)
    acc_ranges_g: Final = (2, 4, 8, 16)

    def __init__(
        self,
        air: VirtualAir,
        *,
        scenario: Scenario,
        name: str = "OpenIMU 0001",
        samples_per_packet: int = 25,
        **kwargs: Any,
    ) -> None:
        super().__init__(air, scenario=scenario, name=name, **kwargs)
        self.samples_per_packet = samples_per_packet
        self.rate_mhz = 50_000
        self.range_g = 8
        self.sequence = 0
        self._resync_next = True
        self._pending_start: Connection | None = None
        self._control: Characteristic[bytes] = Characteristic(
            open_imu.CONTROL_UUID, _W | _I, _WRITE, CharacteristicValue(write=self._on_control)
        )
        self._data = _notify_char(open_imu.DATA_UUID)

    def advertised_service_uuids(self) -> tuple[str, ...]:
        """The open IMU service."""
        return (open_imu.SERVICE_UUID,)

    def services(self) -> list[Service]:
        """IMU service, Battery, Immediate Alert."""
        status: Characteristic[bytes] = Characteristic(
            open_imu.STATUS_UUID, _R, _READ, CharacteristicValue(read=self._read_status)
        )
        return [
            Service(open_imu.SERVICE_UUID, [self._data, self._control, status]),
            self.battery_service(),
            self.immediate_alert_service(),
        ]

    def on_reboot(self) -> None:
        """The sequence counter and the since-boot clock restart."""
        self.sequence = 0
        self._resync_next = True

    def corrupt(self, payload: bytes) -> bytes:
        """A packet of an unknown version."""
        return b"\x7f" + payload[1:]

    def _read_status(self, connection: Connection) -> bytes:
        return open_imu.encode_status(
            open_imu.ImuStatus(self.is_streaming, False, False, False, self.rate_mhz, self.range_g)
        )

    def _on_control(self, connection: Connection, value: bytes) -> None:
        try:
            command = open_imu.decode_command(bytes(value))
        except DecodeError:
            op = value[0] & 0x7F if value else 0
            result = open_imu.ImuResponse(op, open_imu.ImuResultCode.UNKNOWN_OP)
        else:
            result = open_imu.ImuResponse(command.op, self._carry_out(connection, command))
        self.spawn(self._indicate(connection, open_imu.encode_response(result)), "imu response")

    def _carry_out(
        self, connection: Connection, command: open_imu.ImuCommand
    ) -> open_imu.ImuResultCode:
        op, ok = command.op, open_imu.ImuResultCode.SUCCESS
        if op is open_imu.ImuOp.SET_SAMPLE_RATE:
            if command.value not in self.sample_rates_mhz or self.is_streaming:
                return open_imu.ImuResultCode.INVALID_PARAMETER
            self.rate_mhz = int(command.value)
        elif op is open_imu.ImuOp.SET_ACC_RANGE:
            if command.value not in self.acc_ranges_g or self.is_streaming:
                return open_imu.ImuResultCode.INVALID_PARAMETER
            self.range_g = int(command.value)
        elif op is open_imu.ImuOp.START:
            if self.is_streaming:
                return open_imu.ImuResultCode.INVALID_STATE
            self._resync_next = True
            self._pending_start = connection
        elif op is open_imu.ImuOp.STOP:
            if not self.is_streaming:
                return open_imu.ImuResultCode.INVALID_STATE
            self.stop_stream("STOP command")
        else:
            return open_imu.ImuResultCode.UNKNOWN_OP
        return ok

    async def _indicate(self, connection: Connection, response: bytes) -> None:
        with contextlib.suppress(Exception):
            await self.device.indicate_subscriber(connection, self._control, response)
        if self._pending_start is connection:
            self._pending_start = None
            rate = self.rate_mhz / 1000.0
            self.start_stream(
                connection,
                self._data,
                name="imu",
                sample_rate_hz=rate,
                samples_per_frame=self.samples_per_packet,
                payload=self._packet,
            )

    def _packet(self, first_index: int, n: int) -> bytes:
        rate = self.rate_mhz / 1000.0
        acc = self.motion(rate).samples_at(first_index, n)
        packet = open_imu.ImuPacket(
            sequence=self.sequence,
            t_first_us=self.sample_device_time_ns(first_index, rate) // 1000,
            sample_rate_mhz=self.rate_mhz,
            acc_range_g=self.range_g,
            acc_counts=_counts(acc, 32768.0 / self.range_g),
            resync=self._resync_next,
        )
        self.sequence = (self.sequence + 1) % 65536
        self._resync_next = False
        return open_imu.encode_imu_packet(packet)


# --------------------------------------------------------------------------- InfiniTime


class EmulatedInfiniTime(EmulatedWearable):
    """An emulated PineTime with InfiniTime (see the module docstring)."""

    model = "infinitime"
    default_placement = Placement.WRIST
    sample_rate_hz: Final = 10.0

    def __init__(
        self, air: VirtualAir, *, scenario: Scenario, name: str = "InfiniTime", **kwargs: Any
    ) -> None:
        super().__init__(air, scenario=scenario, name=name, **kwargs)
        self._motion = _notify_char(infinitime.MOTION_RAW_UUID)
        self._steps: Characteristic[bytes] = Characteristic(
            infinitime.STEP_COUNT_UUID, _R | _N, _READ, CharacteristicValue(read=self._read_steps)
        )
        #: Text alerts received (ground truth of Alert Notification nudges).
        self.text_alerts: list[str] = []
        self._subscribed: set[Connection] = set()

    def advertised_service_uuids(self) -> tuple[str, ...]:
        """The motion service."""
        return (infinitime.MOTION_SERVICE_UUID,)

    def services(self) -> list[Service]:
        """Motion, Alert Notification, Immediate Alert, Battery."""
        return [
            Service(infinitime.MOTION_SERVICE_UUID, [self._steps, self._motion]),
            Service(
                sig.ALERT_NOTIFICATION_SERVICE_UUID,
                [
                    Characteristic(
                        sig.NEW_ALERT_UUID, _W, _WRITE, CharacteristicValue(write=self._on_text)
                    )
                ],
            ),
            self.immediate_alert_service(),
            self.battery_service(),
        ]

    def on_started(self) -> None:
        """Stream whenever someone subscribes to raw motion (InfiniTime has no start command)."""
        self._motion.on("subscription", self._on_subscription)
        self.spawn(self._steps_loop(), f"{self.name} steps")

    def _on_subscription(self, connection: Connection, notify: bool, indicate: bool) -> None:
        if notify and not self.is_streaming:
            self.start_stream(
                connection,
                self._motion,
                name="acc",
                sample_rate_hz=self.sample_rate_hz,
                samples_per_frame=1,
                payload=self._motion_value,
            )
        elif not notify and not indicate:
            self.stop_stream("unsubscribed")

    def _motion_value(self, index: int, n: int) -> bytes:
        acc = self.motion(self.sample_rate_hz).samples_at(index, n)
        counts = _counts(acc, infinitime.COUNTS_PER_G)
        return infinitime.encode_motion_raw(infinitime.InfiniTimeMotion(counts))

    def steps_at(self, scenario_s: float) -> int:
        """Steps counted since the start (ground truth, from the scenario's heel strikes)."""
        strikes = self.motion(self.sample_rate_hz).step_times_s()
        return int(np.searchsorted(strikes, scenario_s, side="right"))

    def _read_steps(self, connection: Connection) -> bytes:
        return infinitime.encode_step_count(self.steps_at(self.scenario_elapsed_s()))

    async def _steps_loop(self) -> None:
        last = -1
        while True:
            await asyncio.sleep(max(10.0 / self.speed, 0.05))  # every 10 s of scenario time
            steps = self.steps_at(self.scenario_elapsed_s())
            if steps != last:
                last = steps
                with contextlib.suppress(Exception):
                    await self.device.notify_subscribers(
                        self._steps, infinitime.encode_step_count(steps)
                    )

    def _on_text(self, connection: Connection, value: bytes) -> None:
        try:
            alert = infinitime.decode_alert(bytes(value))
        except DecodeError as exc:
            self.rejected_alert_writes += 1
            raise att.ATT_Error(att.ErrorCode.VALUE_NOT_ALLOWED) from exc
        self.text_alerts.append(alert.text)
        self.record_alert(sig.AlertLevel.MILD, alert.text)


# --------------------------------------------------------------------------- Thingy:52


class EmulatedThingy52(EmulatedWearable):
    """An emulated Nordic Thingy:52 (see the module docstring)."""

    model = "thingy52"
    default_placement = Placement.POCKET

    def __init__(
        self, air: VirtualAir, *, scenario: Scenario, name: str = "Thingy", **kwargs: Any
    ) -> None:
        super().__init__(air, scenario=scenario, name=name, **kwargs)
        self.config = thingy52.MotionConfig(1000, 500, 500, 10, False)
        self._raw = _notify_char(thingy52.RAW_MOTION_UUID)
        self._pedometer = _notify_char(thingy52.PEDOMETER_UUID)
        self._config: Characteristic[bytes] = Characteristic(
            thingy52.CONFIG_UUID,
            _R | _W,
            _READ | _WRITE,
            CharacteristicValue(read=self._read_config, write=self._write_config),
        )

    def advertised_service_uuids(self) -> tuple[str, ...]:
        """The Thingy configuration service (as a real Thingy advertises)."""
        return (thingy52.thingy_uuid(0x0100),)

    def services(self) -> list[Service]:
        """Motion service and Battery."""
        return [
            Service(thingy52.MOTION_SERVICE_UUID, [self._config, self._pedometer, self._raw]),
            self.battery_service(),
        ]

    def on_started(self) -> None:
        """Stream raw motion while subscribed; the pedometer once per scenario second."""
        self._raw.on("subscription", self._on_subscription)
        self.spawn(self._pedometer_loop(), f"{self.name} pedometer")

    def _read_config(self, connection: Connection) -> bytes:
        return thingy52.encode_motion_config(self.config)

    def _write_config(self, connection: Connection, value: bytes) -> None:
        try:
            config = thingy52.decode_motion_config(bytes(value))
        except DecodeError as exc:
            raise att.ATT_Error(att.ErrorCode.VALUE_NOT_ALLOWED) from exc
        self.config = config

    def _on_subscription(self, connection: Connection, notify: bool, indicate: bool) -> None:
        rate = float(self.config.motion_processing_freq_hz)
        if notify and not self.is_streaming:
            self.start_stream(
                connection,
                self._raw,
                name="acc",
                sample_rate_hz=rate,
                samples_per_frame=1,
                payload=lambda index, n: self._raw_value(index, n, rate),
            )
        elif not notify:
            self.stop_stream("unsubscribed")

    def _raw_value(self, index: int, n: int, rate: float) -> bytes:
        acc = self.motion(rate).samples_at(index, n)
        zeros = np.zeros((1, 3), np.int16)
        return thingy52.encode_raw_motion(
            thingy52.RawMotion(_counts(acc, thingy52.ACC_COUNTS_PER_G), zeros, zeros)
        )

    async def _pedometer_loop(self) -> None:
        while True:
            await asyncio.sleep(max(1.0 / self.speed, 0.05))
            now_s = self.scenario_elapsed_s()
            strikes = self.motion(10.0).step_times_s()
            steps = int(np.searchsorted(strikes, now_s, side="right"))
            value = thingy52.encode_pedometer(thingy52.Pedometer(steps, round(now_s * 1000)))
            with contextlib.suppress(Exception):
                await self.device.notify_subscribers(self._pedometer, value)


# --------------------------------------------------------------------------- MetaWear


class EmulatedMetaWear(EmulatedWearable):
    """An emulated mbientlab MetaWear board (see the module docstring)."""

    model = "metawear"
    default_placement = Placement.THIGH

    def __init__(
        self, air: VirtualAir, *, scenario: Scenario, name: str = "MetaWear", **kwargs: Any
    ) -> None:
        super().__init__(air, scenario=scenario, name=name, **kwargs)
        self.acc_config = metawear.AccConfig(50.0, 8)
        self.commands: list[bytes] = []
        self._notify = _notify_char(metawear.NOTIFY_UUID)
        self._sampling = False

    def advertised_service_uuids(self) -> tuple[str, ...]:
        """The MetaWear service."""
        return (metawear.SERVICE_UUID,)

    def services(self) -> list[Service]:
        """MetaWear command/notify service and Battery."""
        command: Characteristic[bytes] = Characteristic(
            metawear.COMMAND_UUID, _W | _WNR, _WRITE, CharacteristicValue(write=self._on_command)
        )
        return [
            Service(metawear.SERVICE_UUID, [command, self._notify]),
            self.battery_service(),
        ]

    def _on_command(self, connection: Connection, value: bytes) -> None:
        data = bytes(value)
        self.commands.append(data)
        if data[:2] == bytes((metawear.ACC_MODULE, 0x03)):
            with contextlib.suppress(DecodeError):
                self.acc_config = metawear.decode_acc_config(data)
        elif data == metawear.ENABLE_SAMPLING:
            self._sampling = True
        elif data == metawear.START_ACC and self._sampling:
            rate = self.acc_config.odr_hz
            self.start_stream(
                connection,
                self._notify,
                name="acc",
                sample_rate_hz=rate,
                samples_per_frame=3,
                payload=lambda index, n: self._packed(index, n, rate),
            )
        elif data in (metawear.STOP_ACC, metawear.DISABLE_SAMPLING):
            self._sampling = data != metawear.DISABLE_SAMPLING and self._sampling
            self.stop_stream("stop command")

    def _packed(self, index: int, n: int, rate: float) -> bytes:
        range_g = self.acc_config.range_g
        acc = self.motion(rate).samples_at(index, n)
        counts = _counts(acc, metawear.LSB_PER_G[range_g])
        return metawear.encode_acc_data(metawear.MetaWearAcc(counts, packed=True, range_g=range_g))


# --------------------------------------------------------------------------- RSC + HR


class EmulatedRscFootPod(EmulatedWearable):
    """An emulated RSC foot pod with a heart-rate strap (see the module docstring)."""

    model = "rsc-footpod"
    default_placement = Placement.FOOT
    #: Stride length while walking (m); speed = cadence / 2 x stride.
    stride_length_m: Final = 1.3

    def __init__(
        self, air: VirtualAir, *, scenario: Scenario, name: str = "FootPod", **kwargs: Any
    ) -> None:
        super().__init__(air, scenario=scenario, name=name, **kwargs)
        self._rsc = _notify_char(sig.RSC_MEASUREMENT_UUID)
        self._heart_rate = _notify_char(sig.HEART_RATE_MEASUREMENT_UUID)
        self._distance_m = 0.0

    def advertised_service_uuids(self) -> tuple[str, ...]:
        """Running Speed and Cadence (and Heart Rate)."""
        return ("1814", "180d")

    def services(self) -> list[Service]:
        """RSC, Heart Rate and Battery."""
        feature = Characteristic(
            sig.RSC_FEATURE_UUID,
            _R,
            _READ,
            sig.encode_rsc_feature(sig.RscFeature(0b11)),
        )
        return [
            Service(sig.RSC_SERVICE_UUID, [self._rsc, feature]),
            Service(sig.HEART_RATE_SERVICE_UUID, [self._heart_rate]),
            self.battery_service(),
        ]

    def on_started(self) -> None:
        """Measurements once per scenario second while subscribed."""
        self._rsc.on("subscription", self._on_subscription)
        self.spawn(self._heart_rate_loop(), f"{self.name} heart rate")

    def _on_subscription(self, connection: Connection, notify: bool, indicate: bool) -> None:
        if notify and not self.is_streaming:
            self.start_stream(
                connection,
                self._rsc,
                name="rsc",
                sample_rate_hz=1.0,
                samples_per_frame=1,
                payload=self._measurement,
            )
        elif not notify:
            self.stop_stream("unsubscribed")

    def cadence_spm_at(self, scenario_s: float) -> float:
        """Cadence the pod reports at a scenario time (0 when not walking)."""
        segment = self.scenario.segment_at(scenario_s)
        return segment.effective_cadence_spm or 0.0

    def _measurement(self, index: int, n: int) -> bytes:
        cadence = self.cadence_spm_at(float(index))
        speed = cadence / 120.0 * self.stride_length_m
        self._distance_m += speed
        return sig.encode_rsc_measurement(
            sig.RscMeasurement(
                speed_mps=round(speed * 256) / 256,
                cadence_spm=round(cadence),
                stride_length_m=round(self.stride_length_m * 100) / 100 if cadence else 0.0,
                total_distance_m=round(self._distance_m * 10) / 10,
            )
        )

    def corrupt(self, payload: bytes) -> bytes:
        """Reserved flag bits set: the decoder rejects the measurement."""
        return bytes((payload[0] | 0x80,)) + payload[1:]

    async def _heart_rate_loop(self) -> None:
        while True:
            await asyncio.sleep(max(1.0 / self.speed, 0.05))
            bpm = round(heart_rate_target(self.scenario, self.scenario_elapsed_s()))
            value = sig.encode_heart_rate_measurement(sig.HeartRateMeasurement(bpm))
            with contextlib.suppress(Exception):
                await self.device.notify_subscribers(self._heart_rate, value)


#: Emulator class of every profile model that has one.
EMULATORS: Final[dict[str, type[EmulatedWearable]]] = {}


def _register() -> None:
    for cls in (
        EmulatedPolarH10,
        EmulatedVeritySense,
        EmulatedOpenImu,
        EmulatedInfiniTime,
        EmulatedThingy52,
        EmulatedMetaWear,
        EmulatedRscFootPod,
    ):
        EMULATORS[cls.model] = cls


_register()


def truth_gaps_s(frames: list[TruthFrame]) -> list[tuple[float, float]]:
    """Holes between consecutive delivered frames: (last sample before, first after), s."""
    delivered = [f for f in frames if f.fate == "sent"]
    holes = []
    for before, after in itertools.pairwise(delivered):
        if after.first_sample_index != before.first_sample_index + before.n_samples:
            holes.append((before.last_time_s, after.first_time_s))
    return holes
