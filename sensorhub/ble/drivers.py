"""Per-profile connection procedures: what to subscribe to, start/stop commands, nudges.

A :class:`ProfileDriver` is built from a device profile of :mod:`firmware_protocols.profiles`
(UUIDs and codecs come from the registry) and the stream settings asked for. On a connected
``BleakClient`` it subscribes the streamed characteristics with a callback that only enqueues
bytes, sends the device's start commands, and returns a decoder per subscription
(:data:`~sensorhub.ble.streams.FrameDecoder`). Before disconnecting it sends the stop
commands: a Polar strap otherwise keeps streaming and drains its battery.

A driver built with ``stream_motion=False`` leaves the motion stream alone (no motion
subscription, no start command): the device still gives its battery level, its steps and
heart rate where it has them, and takes nudges. A wearer's second IMU runs that way.

Nudges use the best method the connected device really exposes, in the profile's order:
Immediate Alert (a buzz, level MILD or HIGH), Alert Notification (text on the band), or
none ("dashboard-only": the nudge is shown on the dashboard only). The result is a
:class:`NudgeDelivery`; what it says, and the string stored for it, is honest about what the
radio can tell:

================  ===========================  ==============================================
outcome           stored as                    meaning
================  ===========================  ==============================================
acknowledged      ``acknowledged``             written with response: the device's ATT layer
                                               confirmed the write (not that a wearer felt it)
written           ``written-unacknowledged``   the characteristic only takes writes without
                                               response (Immediate Alert often does): the
                                               write left the host; nothing can confirm more
failed            ``failed: <why>``            not connected, refused, timed out
                                               (``failed: timed out after 5 s``), ...
dashboard-only    ``dashboard-only``           the device has no way to buzz or show text
================  ===========================  ==============================================

Before these, the store held ``delivered`` for every write that did not raise; old rows keep it.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Final

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.exc import BleakError

from firmware_protocols import infinitime, metawear, open_imu, polar_pmd, sig, thingy52
from firmware_protocols.errors import DecodeError, EncodeError
from firmware_protocols.profiles import (
    NUDGE_ALERT_NOTIFICATION,
    NUDGE_IMMEDIATE_ALERT,
    DeviceProfile,
    get_profile,
)
from sensorhub.ble.streams import FrameDecoder, ImuFrame, StepData
from sensorhub.errors import DeviceError

__all__ = [
    "DASHBOARD_ONLY",
    "NUDGE_TIMEOUT_S",
    "NudgeDelivery",
    "NudgeOutcome",
    "ProfileDriver",
    "StreamSettings",
    "driver_for",
]

_LOGGER = logging.getLogger(__name__)

#: Delivery result when the device cannot be nudged.
DASHBOARD_ONLY: Final = "dashboard-only"

#: How long a device may take to answer a command on its control characteristic.
COMMAND_TIMEOUT_S: Final = 5.0

#: How long a nudge write may take before it counts as failed.
NUDGE_TIMEOUT_S: Final = 5.0

#: Longest stored delivery string (the store's column holds 200 characters).
_MAX_STORED: Final = 200


class NudgeOutcome(enum.StrEnum):
    """What became of a nudge (see the module docstring)."""

    ACKNOWLEDGED = "acknowledged"
    WRITTEN = "written"
    FAILED = "failed"
    DASHBOARD_ONLY = "dashboard-only"


@dataclass(frozen=True, slots=True)
class NudgeDelivery:
    """The result of one nudge on one device.

    Attributes
    ----------
    outcome
        Acknowledged, written without acknowledgement, failed or dashboard-only.
    detail
        Why it failed, or how it was written (method, characteristic).
    """

    outcome: NudgeOutcome
    detail: str = ""

    @classmethod
    def failed(cls, why: str) -> NudgeDelivery:
        """A failed nudge and why."""
        return cls(NudgeOutcome.FAILED, why)

    @property
    def reached_device(self) -> bool:
        """True if the write left the host without error (acknowledged or not)."""
        return self.outcome in (NudgeOutcome.ACKNOWLEDGED, NudgeOutcome.WRITTEN)

    @property
    def stored(self) -> str:
        """The string the store keeps (``acknowledged``, ``written-unacknowledged``, ...)."""
        if self.outcome is NudgeOutcome.WRITTEN:
            return "written-unacknowledged"
        if self.outcome is NudgeOutcome.FAILED:
            return f"failed: {self.detail or 'unknown error'}"[:_MAX_STORED]
        return str(self.outcome)

    def __str__(self) -> str:
        return self.stored


#: Enqueue callback: (subscription key, payload bytes).
Enqueue = Callable[[str, bytes], None]


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """What to ask the device for (None: the profile's default)."""

    sample_rate_hz: float | None = None
    acc_range_g: int | None = None


def _has(client: BleakClient, uuid: str) -> bool:
    services = client.services
    return services is not None and services.get_characteristic(uuid) is not None


class ProfileDriver:
    """Connection procedure of one profile (subclassed per protocol family).

    Parameters
    ----------
    profile
        The device profile from the registry.
    settings
        Requested rate and range.
    stream_motion
        False: neither subscribe to motion nor start it (battery, steps and nudges only).
    """

    #: Rate used when neither the settings nor the profile name one.
    fallback_rate_hz: float = 50.0
    #: Subscription keys that notify at a steady rate while subscribed: a connection that
    #: carries one of them and goes silent has stalled. (A step counter that notifies only
    #: when the count changes is not one.)
    steady_keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        profile: DeviceProfile,
        settings: StreamSettings | None = None,
        *,
        stream_motion: bool = True,
    ) -> None:
        self.profile = profile
        self.settings = settings or StreamSettings()
        self.stream_motion = stream_motion
        self.nudge_method: str | None = None

    @property
    def sample_rate_hz(self) -> float:
        """The rate asked for: the setting, else the nearest supported default."""
        rates = self.profile.sample_rates_hz
        wanted = self.settings.sample_rate_hz or self.fallback_rate_hz
        if not rates:
            return wanted
        return min(rates, key=lambda r: abs(math.log(r / wanted)))

    @property
    def acc_range_g(self) -> int:
        """The range asked for (8 g unless the profile cannot)."""
        ranges = self.profile.acc_ranges_g
        wanted = self.settings.acc_range_g or 8
        if not ranges:
            return wanted
        return min(ranges, key=lambda r: abs(r - wanted))

    def uuid(self, name: str) -> str:
        """UUID of one of the profile's characteristics by its kebab-case name."""
        return self.profile.characteristics[name].uuid

    async def subscribe(self, client: BleakClient, name: str, enqueue: Enqueue) -> None:
        """Subscribe a characteristic; its notifications are only enqueued."""

        def on_notify(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            enqueue(name, bytes(data))

        await client.start_notify(self.uuid(name), on_notify)

    def early_decoders(self) -> Mapping[str, FrameDecoder]:
        """Decoders usable before :meth:`start` returns.

        Devices that stream as soon as they are subscribed (InfiniTime, Thingy:52, SIG
        services) may notify before the start procedure ends, or before it fails; their
        data is real and is decoded with these.
        """
        return {}

    async def start(self, client: BleakClient, enqueue: Enqueue) -> Mapping[str, FrameDecoder]:
        """Subscribe and start streaming; return a decoder per subscription key."""
        raise NotImplementedError

    async def stop(self, client: BleakClient) -> None:
        """Stop streaming (before a clean disconnect)."""

    # -------------------------------------------------------------------- nudges

    def choose_nudge_method(self, client: BleakClient) -> str | None:
        """The best nudge method this connected device exposes, or None."""
        methods = self.profile.nudge_methods or (NUDGE_IMMEDIATE_ALERT, NUDGE_ALERT_NOTIFICATION)
        uuids = {
            NUDGE_IMMEDIATE_ALERT: sig.ALERT_LEVEL_UUID,
            NUDGE_ALERT_NOTIFICATION: sig.NEW_ALERT_UUID,
        }
        self.nudge_method = next((m for m in methods if _has(client, uuids[m])), None)
        return self.nudge_method

    async def nudge(
        self,
        client: BleakClient,
        level: sig.AlertLevel,
        text: str,
        *,
        timeout_s: float = NUDGE_TIMEOUT_S,
    ) -> NudgeDelivery:
        """Deliver a nudge; never raises (but for cancellation).

        The write asks for a response where the characteristic supports write-with-response,
        so that the device's acknowledgement is known; else it is written without response
        and reported as :attr:`NudgeOutcome.WRITTEN`. A write that takes longer than
        ``timeout_s`` is abandoned and reported as failed.
        """
        method = self.nudge_method
        if method is None:
            return NudgeDelivery(NudgeOutcome.DASHBOARD_ONLY)
        if method == NUDGE_IMMEDIATE_ALERT:
            uuid, what = sig.ALERT_LEVEL_UUID, "Immediate Alert"
        else:
            uuid, what = sig.NEW_ALERT_UUID, "Alert Notification"
        services = client.services
        characteristic = None if services is None else services.get_characteristic(uuid)
        if characteristic is None:
            return NudgeDelivery.failed(f"{what} is not available on this connection")
        properties = characteristic.properties
        if "write" in properties:
            with_response = True
        elif "write-without-response" in properties:
            with_response = False
        else:
            return NudgeDelivery.failed(f"{what} is not writable")
        deadline = asyncio.timeout(timeout_s)
        try:
            payload = (
                sig.encode_alert_level(level)
                if method == NUDGE_IMMEDIATE_ALERT
                else self.encode_text_alert(text)
            )
            async with deadline:
                await client.write_gatt_char(characteristic, payload, response=with_response)
        except TimeoutError as exc:
            if deadline.expired():
                return NudgeDelivery.failed(f"timed out after {timeout_s:g} s")
            return NudgeDelivery.failed(str(exc) or "the device did not answer")
        except (BleakError, EncodeError, OSError) as exc:
            return NudgeDelivery.failed(str(exc) or type(exc).__name__)
        if with_response:
            return NudgeDelivery(NudgeOutcome.ACKNOWLEDGED, f"{what}, write with response")
        return NudgeDelivery(NudgeOutcome.WRITTEN, f"{what}, write without response")

    def encode_text_alert(self, text: str) -> bytes:
        """A New Alert value carrying ``text`` (standard SIG layout)."""
        return sig.encode_new_alert(
            sig.NewAlert(
                sig.AlertCategory.SIMPLE_ALERT, 1, text.encode()[:18].decode(errors="ignore")
            )
        )


class _ControlPointDriver(ProfileDriver):
    """A profile whose motion is started by commands answered on a control point."""

    _responses: asyncio.Queue[bytes]

    async def _listen(self, client: BleakClient, control_uuid: str) -> None:
        """Subscribe to the control point's answers (a fresh queue per connection)."""
        self._responses = asyncio.Queue()

        def on_response(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            self._responses.put_nowait(bytes(data))

        await client.start_notify(control_uuid, on_response)


# --------------------------------------------------------------------------- Polar PMD


class PolarPmdDriver(_ControlPointDriver):
    """Polar H10 / Verity Sense / OH1: ACC over the PMD control point and data characteristic."""

    steady_keys = frozenset({"pmd-data"})
    #: ACC scale factor from the last start response.
    factor = 1.0

    async def start(self, client: BleakClient, enqueue: Enqueue) -> Mapping[str, FrameDecoder]:
        """Start ACC at the requested rate and range; read FACTOR from the response."""
        if not self.stream_motion:
            return {}
        await self._listen(client, polar_pmd.PMD_CONTROL_POINT_UUID)
        await self.subscribe(client, "pmd-data", enqueue)
        rate = round(self.sample_rate_hz)
        response = await self._control(
            client,
            polar_pmd.PmdControlPointRequest(
                polar_pmd.ControlPointOp.REQUEST_MEASUREMENT_START,
                polar_pmd.MeasurementType.ACC,
                {
                    polar_pmd.PmdSetting.SAMPLE_RATE: rate,
                    polar_pmd.PmdSetting.RESOLUTION: 16,
                    polar_pmd.PmdSetting.RANGE: self.acc_range_g,
                },
            ),
        )
        try:
            self.factor = polar_pmd.settings_factor(response.settings())
        except DecodeError:
            self.factor = 1.0
        factor = self.factor

        def decode(payload: bytes) -> ImuFrame | None:
            frame = polar_pmd.decode_pmd_data(payload, factor=factor)
            if frame.measurement != polar_pmd.MeasurementType.ACC:
                return None
            return ImuFrame(frame.acc_g, float(rate), device_last_ns=frame.timestamp_ns)

        return {"pmd-data": decode}

    async def stop(self, client: BleakClient) -> None:
        """Stop the ACC measurement."""
        if not self.stream_motion:
            return
        await self._control(
            client,
            polar_pmd.PmdControlPointRequest(
                polar_pmd.ControlPointOp.STOP_MEASUREMENT, polar_pmd.MeasurementType.ACC, {}
            ),
        )

    async def _control(
        self, client: BleakClient, request: polar_pmd.PmdControlPointRequest
    ) -> polar_pmd.PmdControlPointResponse:
        while not self._responses.empty():
            self._responses.get_nowait()
        await client.write_gatt_char(
            polar_pmd.PMD_CONTROL_POINT_UUID,
            polar_pmd.encode_control_point_request(request),
            response=True,
        )
        raw = await asyncio.wait_for(self._responses.get(), COMMAND_TIMEOUT_S)
        try:
            response = polar_pmd.decode_control_point_response(raw)
        except DecodeError as exc:
            raise DeviceError(f"bad PMD control point response: {exc}") from exc
        if response.status != polar_pmd.PmdStatus.SUCCESS:
            raise DeviceError(
                f"the device refused {request.op.name} {request.measurement.name}: "
                f"{response.status.name}; check the rate and range in the hub config"
            )
        return response


# --------------------------------------------------------------------------- open IMU


class OpenImuDriver(_ControlPointDriver):
    """The open sensorhub IMU profile: rate, range and START on IMU Control."""

    steady_keys = frozenset({"imu-data"})

    async def start(self, client: BleakClient, enqueue: Enqueue) -> Mapping[str, FrameDecoder]:
        """Set rate and range, then START; decode IMU Data packets."""
        if not self.stream_motion:
            return {}
        await self._listen(client, open_imu.CONTROL_UUID)
        await self.subscribe(client, "imu-data", enqueue)
        rate_mhz = round(self.sample_rate_hz * 1000)
        await self._command(client, open_imu.ImuCommand(open_imu.ImuOp.SET_SAMPLE_RATE, rate_mhz))
        await self._command(
            client, open_imu.ImuCommand(open_imu.ImuOp.SET_ACC_RANGE, self.acc_range_g)
        )
        await self._command(client, open_imu.ImuCommand(open_imu.ImuOp.START))

        def decode(payload: bytes) -> ImuFrame:
            packet = open_imu.decode_imu_packet(payload)
            times = packet.sample_times_ns()
            return ImuFrame(
                packet.acc_g,
                packet.sample_rate_hz,
                gyro_dps=packet.gyro_dps,
                device_last_ns=int(times[-1]),
                device_first_ns=int(times[0]),
                sequence=None if packet.resync else packet.sequence,
            )

        return {"imu-data": decode}

    async def stop(self, client: BleakClient) -> None:
        """STOP streaming."""
        if not self.stream_motion:
            return
        await self._command(client, open_imu.ImuCommand(open_imu.ImuOp.STOP))

    async def _command(self, client: BleakClient, command: open_imu.ImuCommand) -> None:
        while not self._responses.empty():
            self._responses.get_nowait()
        await client.write_gatt_char(
            open_imu.CONTROL_UUID, open_imu.encode_command(command), response=True
        )
        raw = await asyncio.wait_for(self._responses.get(), COMMAND_TIMEOUT_S)
        try:
            response = open_imu.decode_response(raw)
        except DecodeError as exc:
            raise DeviceError(f"bad open-imu control response: {exc}") from exc
        if response.status != open_imu.ImuResultCode.SUCCESS:
            raise DeviceError(
                f"the device refused {command.op.name}: {response.status.name}; check the "
                "rate and range in the hub config against the device's IMU Status"
            )


# --------------------------------------------------------------------------- InfiniTime


class InfiniTimeDriver(ProfileDriver):
    """PineTime/InfiniTime: raw motion (~10 Hz, unstamped) and the step counter."""

    fallback_rate_hz = 10.0
    steady_keys = frozenset({"motion-raw"})

    @property
    def _keys(self) -> tuple[str, ...]:
        return ("motion-raw", "step-count") if self.stream_motion else ("step-count",)

    async def start(self, client: BleakClient, enqueue: Enqueue) -> Mapping[str, FrameDecoder]:
        """Subscribe raw motion and steps (InfiniTime streams without a start command)."""
        for name in self._keys:
            await self.subscribe(client, name, enqueue)
        return self.early_decoders()

    def early_decoders(self) -> Mapping[str, FrameDecoder]:
        """Raw motion (if streamed) and step count: nothing to wait for."""
        rate = self.sample_rate_hz

        def motion(payload: bytes) -> ImuFrame:
            return ImuFrame(infinitime.decode_motion_raw(payload).acc_g, rate)

        def steps(payload: bytes) -> StepData:
            return StepData(0, steps_total=infinitime.decode_step_count(payload))

        decoders: dict[str, FrameDecoder] = {"motion-raw": motion, "step-count": steps}
        return {key: decoders[key] for key in self._keys}

    async def stop(self, client: BleakClient) -> None:
        """Unsubscribe (the watch stops sending)."""
        for name in self._keys:
            await client.stop_notify(self.uuid(name))

    def encode_text_alert(self, text: str) -> bytes:
        """InfiniTime shows text after a 3-byte header."""
        return infinitime.encode_alert(infinitime.InfiniTimeAlert(text))


# --------------------------------------------------------------------------- Thingy:52


class Thingy52Driver(ProfileDriver):
    """Nordic Thingy:52: motion rate in the config, raw motion and pedometer notifications."""

    #: The pedometer notifies at its configured interval (1 s by default), steps or not.
    steady_keys = frozenset({"raw-motion", "pedometer"})

    @property
    def _keys(self) -> tuple[str, ...]:
        return ("raw-motion", "pedometer") if self.stream_motion else ("pedometer",)

    async def start(self, client: BleakClient, enqueue: Enqueue) -> Mapping[str, FrameDecoder]:
        """Set the motion rate (keeping the other config fields), subscribe."""
        if not self.stream_motion:
            await self.subscribe(client, "pedometer", enqueue)
            return self.early_decoders()
        config = thingy52.decode_motion_config(
            bytes(await client.read_gatt_char(self.uuid("motion-config")))
        )
        rate = round(self.sample_rate_hz)
        await client.write_gatt_char(
            self.uuid("motion-config"),
            thingy52.encode_motion_config(
                thingy52.MotionConfig(
                    config.pedometer_interval_ms,
                    config.temperature_compensation_interval_ms,
                    config.magnetometer_compensation_interval_ms,
                    rate,
                    config.wake_on_motion,
                )
            ),
            response=True,
        )
        await self.subscribe(client, "raw-motion", enqueue)
        await self.subscribe(client, "pedometer", enqueue)
        return self.early_decoders()

    def early_decoders(self) -> Mapping[str, FrameDecoder]:
        """Raw motion at the configured rate (if streamed) and the pedometer."""
        rate = round(self.sample_rate_hz)

        def motion(payload: bytes) -> ImuFrame:
            m = thingy52.decode_raw_motion(payload)
            return ImuFrame(m.acc_g, float(rate), gyro_dps=m.gyro_dps)

        def pedometer(payload: bytes) -> StepData:
            return StepData(0, steps_total=thingy52.decode_pedometer(payload).steps)

        decoders: dict[str, FrameDecoder] = {"raw-motion": motion, "pedometer": pedometer}
        return {key: decoders[key] for key in self._keys}

    async def stop(self, client: BleakClient) -> None:
        """Unsubscribe (the Thingy stops the motion processing)."""
        for name in self._keys:
            await client.stop_notify(self.uuid(name))


# --------------------------------------------------------------------------- MetaWear


class MetaWearDriver(ProfileDriver):
    """MetaWear BMI160: configure, subscribe packed data, enable sampling and start."""

    steady_keys = frozenset({"acc-data"})

    async def start(self, client: BleakClient, enqueue: Enqueue) -> Mapping[str, FrameDecoder]:
        """Send the accelerometer configuration and start commands."""
        if not self.stream_motion:
            return {}  # its step count travels on the motion notifications, unrequested here
        await self.subscribe(client, "acc-data", enqueue)
        range_g = self.acc_range_g
        rate = self.sample_rate_hz
        for command in (
            metawear.encode_acc_config(metawear.AccConfig(rate, range_g)),
            metawear.SUBSCRIBE_PACKED_ACC,
            metawear.ENABLE_SAMPLING,
            metawear.START_ACC,
        ):
            await client.write_gatt_char(metawear.COMMAND_UUID, command, response=True)

        def decode(payload: bytes) -> ImuFrame | StepData:
            if payload[:2] == metawear.READ_STEP_COUNT:
                return StepData(0, steps_total=metawear.decode_step_count(payload))
            return ImuFrame(metawear.decode_acc_data(payload, range_g=range_g).acc_g, rate)

        return {"acc-data": decode}

    async def stop(self, client: BleakClient) -> None:
        """Stop the accelerometer and disable sampling."""
        if not self.stream_motion:
            return
        for command in (metawear.STOP_ACC, metawear.DISABLE_SAMPLING, metawear.UNSUBSCRIBE_ACC):
            await client.write_gatt_char(metawear.COMMAND_UUID, command, response=True)


# --------------------------------------------------------------------------- SIG RSC / HR


class SigDriver(ProfileDriver):
    """Standard services: RSC Measurement (foot pod) and Heart Rate, whichever exist."""

    #: Both notify about once a second while subscribed (no motion to leave out).
    steady_keys = frozenset({"rsc-measurement", "heart-rate-measurement"})

    def early_decoders(self) -> Mapping[str, FrameDecoder]:
        """RSC Measurement and Heart Rate Measurement."""

        def rsc(payload: bytes) -> StepData:
            m = sig.decode_rsc_measurement(payload)
            return StepData(
                0,
                cadence_spm=float(m.cadence_spm),
                speed_mps=m.speed_mps,
                stride_length_m=m.stride_length_m,
                distance_m=m.total_distance_m,
            )

        def heart_rate(payload: bytes) -> StepData:
            m = sig.decode_heart_rate_measurement(payload)
            return StepData(0, heart_rate_bpm=m.heart_rate_bpm)

        return {"rsc-measurement": rsc, "heart-rate-measurement": heart_rate}

    async def start(self, client: BleakClient, enqueue: Enqueue) -> Mapping[str, FrameDecoder]:
        """Subscribe RSC and heart rate where the device has them."""
        all_decoders = self.early_decoders()
        decoders: dict[str, FrameDecoder] = {}
        if _has(client, sig.RSC_MEASUREMENT_UUID):
            await self._subscribe_uuid(client, "rsc-measurement", sig.RSC_MEASUREMENT_UUID, enqueue)
            decoders["rsc-measurement"] = all_decoders["rsc-measurement"]
        if _has(client, sig.HEART_RATE_MEASUREMENT_UUID):
            await self._subscribe_uuid(
                client, "heart-rate-measurement", sig.HEART_RATE_MEASUREMENT_UUID, enqueue
            )
            decoders["heart-rate-measurement"] = all_decoders["heart-rate-measurement"]
        if not decoders:
            raise DeviceError(
                f"{self.profile.title}: neither RSC Measurement nor Heart Rate found; "
                "is this the right profile for the device?"
            )
        self._subscribed = tuple(decoders)
        return decoders

    async def _subscribe_uuid(
        self, client: BleakClient, key: str, uuid: str, enqueue: Enqueue
    ) -> None:
        def on_notify(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            enqueue(key, bytes(data))

        await client.start_notify(uuid, on_notify)

    async def stop(self, client: BleakClient) -> None:
        """Unsubscribe."""
        uuids = {
            "rsc-measurement": sig.RSC_MEASUREMENT_UUID,
            "heart-rate-measurement": sig.HEART_RATE_MEASUREMENT_UUID,
        }
        for key in getattr(self, "_subscribed", ()):
            await client.stop_notify(uuids[key])


_DRIVERS: Final[Mapping[str, type[ProfileDriver]]] = {
    "polar-h10": PolarPmdDriver,
    "polar-verity-sense": PolarPmdDriver,
    "polar-oh1": PolarPmdDriver,
    "open-imu": OpenImuDriver,
    "infinitime": InfiniTimeDriver,
    "thingy52": Thingy52Driver,
    "metawear": MetaWearDriver,
    "rsc-footpod": SigDriver,
    "sig": SigDriver,
}


def driver_for(
    model: str, settings: StreamSettings | None = None, *, stream_motion: bool = True
) -> ProfileDriver:
    """The driver of a profile model name (``polar-h10``, ``open-imu``, ...).

    ``stream_motion=False`` leaves the motion stream off (see the module docstring).

    Raises
    ------
    KeyError
        For an unknown model, listing the known ones.
    """
    profile = get_profile(model)
    return _DRIVERS[profile.model](profile, settings, stream_motion=stream_motion)
