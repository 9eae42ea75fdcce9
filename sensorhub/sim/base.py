"""The common base of every emulated wearable: lifecycle, clocks, paced streams, faults, truth.

An :class:`EmulatedWearable` is a bumble GATT server on a
:class:`~sensorhub.sim.backend.VirtualAir`, worn by a wearer who follows a scripted
:class:`~sensorhub.sim.scenario.Scenario` at ``speed`` times real time. Subclasses add their
GATT services and speak their protocol with the project's own codecs; the base gives them:

* **Lifecycle**: :meth:`~EmulatedWearable.start` (power on, advertise with auto-restart),
  :meth:`~EmulatedWearable.stop`, :meth:`~EmulatedWearable.disconnect_all`.
* **Clocks**: scenario time (:meth:`~EmulatedWearable.scenario_elapsed_s`) and the device
  clock (:meth:`~EmulatedWearable.sample_device_time_ns`), which runs ``skew_ppm`` fast, steps
  by ``jump_s`` and restarts from :attr:`~EmulatedWearable.reset_clock_ns` at every reboot.
* **Paced streams** (:meth:`~EmulatedWearable.start_stream`): a frame of ``n`` samples is
  notified as soon as the scaled clock passes the time of its last sample; sample ``k`` lies
  at ``k / rate`` seconds of scenario time and comes from a :class:`MotionGenerator` for the
  device's placement. Samples that fall into a time without a streaming connection are never
  sent, as on a real device.
* **Faults** (:class:`~sensorhub.sim.faults.FaultSpec`): links dropped and reboots at planned
  scenario times, refused connections, lost and corrupted notifications, clock skew and steps.
* **Ground truth**: every data frame, with its fate (sent, lost, corrupted), in
  :attr:`~EmulatedWearable.truth`; link drops and reboots in :attr:`~EmulatedWearable.events`.

Throughput: the in-process link carries roughly 25 000 samples/s in total (~1 000 notifications
per second) next to a collector; keep the sum of ``speed x rate / samples per frame`` over all
emulators under ~1 000 notifications/s, or streams fall behind the wearer's clock (a warning
is logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import numpy as np
from bumble.core import AdvertisingData
from bumble.device import Connection
from bumble.gatt import Characteristic, CharacteristicValue, Service
from numpy.typing import NDArray

from firmware_protocols.errors import DecodeError
from firmware_protocols.sig import (
    ALERT_LEVEL_UUID,
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    IMMEDIATE_ALERT_SERVICE_UUID,
    AlertLevel,
    decode_alert_level,
    encode_battery_level,
)
from sensorhub.model import NS_PER_S, Placement
from sensorhub.sim.backend import ADVERTISING_INTERVAL_MS, VirtualAir
from sensorhub.sim.faults import FaultPlan, FaultSpec
from sensorhub.sim.scenario import MotionGenerator, Scenario

__all__ = [
    "REBOOT_DOWNTIME_S",
    "EmulatedWearable",
    "ReceivedAlert",
    "TruthFrame",
    "WearableEvent",
]

_LOGGER = logging.getLogger(__name__)

#: Scenario seconds a rebooting device stays unreachable.
REBOOT_DOWNTIME_S: Final = 20.0
#: Real seconds behind the wearer's clock before a stream warns that it cannot keep up.
_LAG_WARNING_S: Final = 2.0
#: Roughly what the in-process link carries next to a collector (samples per second).
VIRTUAL_RADIO_SAMPLES_PER_S: Final = 25_000


@dataclass(frozen=True, slots=True)
class TruthFrame:
    """One data frame an emulator produced, whatever became of it.

    Attributes
    ----------
    stream
        Which stream (``"acc"``, ``"imu"``, ``"rsc"`` ...).
    first_sample_index, n_samples, sample_rate_hz
        Sample ``k`` of the stream lies at ``k / sample_rate_hz`` s of scenario time.
    fate
        ``"sent"`` (notified intact), ``"lost"`` (never sent) or ``"corrupted"`` (sent mangled).
    device_first_ns
        Device clock of the first sample (ns, device epoch).
    boot
        How many reboots came before it (0 = first power-on).
    """

    stream: str
    first_sample_index: int
    n_samples: int
    sample_rate_hz: float
    fate: str
    device_first_ns: int
    boot: int

    @property
    def first_time_s(self) -> float:
        """Scenario time of the first sample."""
        return self.first_sample_index / self.sample_rate_hz

    @property
    def last_time_s(self) -> float:
        """Scenario time of the last sample."""
        return (self.first_sample_index + self.n_samples - 1) / self.sample_rate_hz


@dataclass(frozen=True, slots=True)
class WearableEvent:
    """A fault or lifecycle event: ``kind`` in disconnect, refuse, reboot, at scenario time."""

    kind: str
    scenario_time_s: float


@dataclass(frozen=True, slots=True)
class ReceivedAlert:
    """An Immediate Alert or text alert the emulator received."""

    device_time_ns: int
    scenario_time_s: float
    level: AlertLevel
    text: str | None = None


@dataclass(slots=True)
class _Stream:
    connection: Connection
    name: str
    task: asyncio.Task[None] | None = None


class EmulatedWearable:
    """Base of every emulated wearable (see the module docstring).

    Parameters
    ----------
    air
        The virtual radio to advertise on.
    scenario
        What the wearer does.
    name
        Advertised local name.
    placement
        Where it is worn (default: the class's :attr:`default_placement`).
    speed
        Scenario seconds per real second.
    faults
        Faults to inject (none by default).
    fault_window_s
        Scenario time over which planned faults are spread (default: the scenario's length).
    battery_pct
        Battery level reported.
    seed
        Seed of motion and faults (defaults to the scenario's).
    address
        Fixed random static address, else a random one.
    clock_start_ns
        Device clock at scenario start (default: :attr:`reset_clock_ns`).
    start_at_s
        Scenario time at power-on: the wearer's day has already run this long (a hub that
        restarts while the band goes on); the device clock and the motion are the ones the
        band would have at that time.
    """

    #: Profile model name in :mod:`firmware_protocols.profiles`.
    model: ClassVar[str] = ""
    default_placement: ClassVar[Placement] = Placement.WRIST
    #: Device clock after power-on or a reboot (ns in the device's epoch).
    reset_clock_ns: ClassVar[int] = 0

    def __init__(
        self,
        air: VirtualAir,
        *,
        scenario: Scenario,
        name: str,
        placement: Placement | str | None = None,
        speed: float = 1.0,
        faults: FaultSpec | None = None,
        fault_window_s: float | None = None,
        battery_pct: int = 90,
        seed: int | None = None,
        address: str | None = None,
        clock_start_ns: int | None = None,
        start_at_s: float = 0.0,
    ) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be positive, got {speed}")
        self.air = air
        self.scenario = scenario
        self.name = name
        self.placement = Placement(placement or self.default_placement)
        self.speed = float(speed)
        self.battery_pct = battery_pct
        self.seed = scenario.seed if seed is None else seed
        self.clock_start_ns = self.reset_clock_ns if clock_start_ns is None else clock_start_ns
        if not (math.isfinite(start_at_s) and start_at_s >= 0):
            raise ValueError(f"start_at_s must be a time >= 0, got {start_at_s}")
        self.start_at_s = float(start_at_s)
        self.faults = faults or FaultSpec()
        self.plan = FaultPlan.build(self.faults, fault_window_s or scenario.duration_s, self.seed)
        #: Ground truth: every data frame produced, with its fate.
        self.truth: list[TruthFrame] = []
        #: Ground truth: link drops, refusals and reboots.
        self.events: list[WearableEvent] = []
        #: Ground truth: every valid alert received.
        self.alerts_received: list[ReceivedAlert] = []
        #: Alert writes that could not be decoded (ignored, as by a real band).
        self.rejected_alert_writes = 0
        #: Alert Level also takes writes with response (set before :meth:`start`): the band
        #: acknowledges nudges. Off by default, as on InfiniTime and the older Mi Bands.
        self.alert_with_response = False
        #: While this event is not set, the band answers no Alert Level write with response
        #: (it records the alert, then hangs): a band whose acknowledgement never comes.
        #: None: answers at once. :meth:`stop` sets it once the links are down, so no hung
        #: handler outlives the band.
        self.alert_response_gate: asyncio.Event | None = None
        self.boot = 0
        self._boot_starts_ns = [0]  # scenario ns at which each boot began
        self._refusals_left = self.faults.refuse
        self._unreachable_until_s = -1.0
        self._faults_fired = 0
        self._generators: dict[float, MotionGenerator] = {}
        self._stream: _Stream | None = None
        self._streams_held = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._connections: list[Connection] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started_at_loop_time: float | None = None
        self._running = False
        self.device = air.new_device(name, address)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.name!r} scenario={self.scenario.name!r} x{self.speed:g}>"
        )

    # ----------------------------------------------------------------- to override

    def services(self) -> list[Service]:
        """The GATT services (subclasses)."""
        raise NotImplementedError

    def advertised_service_uuids(self) -> Sequence[str]:
        """16- or 128-bit service UUIDs put in the advertisement (subclasses)."""
        return ()

    def advertised_manufacturer_data(self) -> tuple[int, bytes] | None:
        """Company id and data for the advertisement, if any."""
        return None

    def on_started(self) -> None:
        """Called once advertising (start background tasks here)."""

    def on_reboot(self) -> None:
        """Called at every reboot (reset counters here)."""

    def corrupt(self, payload: bytes) -> bytes:
        """Mangle a payload so that it cannot be decoded (default: one byte too many)."""
        return payload + b"\xa5"

    # ------------------------------------------------------------------ lifecycle

    @property
    def address(self) -> str:
        """The address collectors see (``BLEDevice.address``)."""
        return str(self.device.random_address.to_string(with_type_qualifier=False))

    @property
    def is_streaming(self) -> bool:
        """True while a data stream runs."""
        return self._stream is not None

    async def start(self) -> None:
        """Power on, advertise and start the wearer's scenario clock."""
        if self._running:
            return
        self.device.add_services(self.services())
        self.device.advertising_data = self._advertising_data()
        self.device.on(self.device.EVENT_CONNECTION, self._on_connection)
        self._loop = asyncio.get_running_loop()
        await self.device.power_on()
        await self.device.start_advertising(
            auto_restart=True,
            advertising_interval_min=ADVERTISING_INTERVAL_MS,
            advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )
        self._started_at_loop_time = self._loop.time() - self.start_at_s / self.speed
        self._running = True
        if self.plan.disconnect_at_s or self.plan.reboot_at_s:
            self.spawn(self._fault_loop(), f"{self.name} faults")
        self.spawn(self._advertising_guard(), f"{self.name} advertising guard")
        self.on_started()
        _LOGGER.info("%r advertising at %s", self, self.address)

    async def stop(self) -> None:
        """Stop streaming, drop connections and leave the air. Idempotent."""
        if not self._running:
            return
        self._running = False
        self.stop_stream("emulator stopped")
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.disconnect_all()
        if self.alert_response_gate is not None:
            self.alert_response_gate.set()  # the hung write handler ends (links are down)
        await self.air.remove_device(self.device)
        _LOGGER.info("%r stopped", self)

    async def disconnect_all(self) -> None:
        """Drop every connection from the device's side (an unsolicited disconnect)."""
        for connection in list(self._connections):
            with contextlib.suppress(Exception):
                await connection.disconnect()

    def spawn(self, coroutine: Coroutine[Any, Any, None], what: str) -> None:
        """Run a background task owned by the emulator (cancelled by :meth:`stop`)."""
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine, name=what)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _advertising_data(self) -> bytes:
        structures: list[tuple[int, bytes]] = [
            (AdvertisingData.Type.FLAGS, bytes([0x06])),
            (AdvertisingData.Type.COMPLETE_LOCAL_NAME, self.name.encode()),
        ]
        short = [u for u in self.advertised_service_uuids() if len(u) == 4]
        long = [u for u in self.advertised_service_uuids() if len(u) > 4]
        if short:
            structures.append(
                (
                    AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                    b"".join(int(u, 16).to_bytes(2, "little") for u in short),
                )
            )
        for uuid in long[:1]:  # one 128-bit UUID fits next to a name
            structures.append(
                (
                    AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                    bytes.fromhex(uuid.replace("-", ""))[::-1],
                )
            )
        manufacturer = self.advertised_manufacturer_data()
        if manufacturer is not None:
            company, data = manufacturer
            structures.append(
                (
                    AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA,
                    company.to_bytes(2, "little") + data,
                )
            )
        return bytes(AdvertisingData(structures))

    # ------------------------------------------------------------------ connections

    def _on_connection(self, connection: Connection) -> None:
        self._connections.append(connection)
        now_s = self.scenario_elapsed_s()
        refuse = now_s < self._unreachable_until_s or self._refusals_left > 0
        if refuse:
            if now_s >= self._unreachable_until_s:
                self._refusals_left -= 1
            self.events.append(WearableEvent("refuse", now_s))
            self.spawn(self._drop(connection), f"{self.name} refuse")

        def on_disconnection(reason: int) -> None:
            with contextlib.suppress(ValueError):
                self._connections.remove(connection)
            if self._stream is not None and self._stream.connection is connection:
                self.stop_stream(f"disconnected (HCI reason 0x{reason:02X})")

        connection.on(connection.EVENT_DISCONNECTION, on_disconnection)

    async def _advertising_guard(self) -> None:
        """Advertise again whenever the device is idle but silent.

        bumble's virtual controllers now and then lose a disconnection that crosses a
        connection attempt; the device then neither advertises nor is connected, which no
        real device does for long (its supervision timeout ends the link).
        """
        while self._running:
            await asyncio.sleep(0.25)
            live = [c for c in self._connections if c.handle in self.device.connections]
            self._connections[:] = live
            if not live and not self.device.is_advertising:
                _LOGGER.info("%r: idle and not advertising; advertising again", self)
                with contextlib.suppress(Exception):
                    await self.device.start_advertising(
                        auto_restart=True,
                        advertising_interval_min=ADVERTISING_INTERVAL_MS,
                        advertising_interval_max=ADVERTISING_INTERVAL_MS,
                    )

    async def _drop(self, connection: Connection) -> None:
        with contextlib.suppress(Exception):
            await connection.disconnect()

    # ------------------------------------------------------------------ clocks

    def scenario_elapsed_s(self) -> float:
        """Scenario time since :meth:`start`, in seconds (0 before the start)."""
        if self._started_at_loop_time is None or self._loop is None:
            return 0.0
        return (self._loop.time() - self._started_at_loop_time) * self.speed

    def device_clock_ns(self, scenario_ns: int) -> int:
        """The device clock at a scenario time (skew, clock step and reboots applied)."""
        boot = max(i for i, start in enumerate(self._boot_starts_ns) if start <= scenario_ns)
        boot_start = self._boot_starts_ns[boot]
        origin = self.clock_start_ns if boot == 0 else self.reset_clock_ns
        since_boot = scenario_ns - boot_start
        device = origin + since_boot
        if self.faults.skew_ppm:
            device += round(since_boot * self.faults.skew_ppm * 1e-6)
        jump_at = self.plan.jump_at_s
        if jump_at is not None:
            jump_ns = round(jump_at * NS_PER_S)
            if boot_start <= jump_ns <= scenario_ns:
                device += round(self.faults.jump_s * NS_PER_S)
        return device

    def sample_device_time_ns(self, sample_index: int, sample_rate_hz: float) -> int:
        """Device time of sample ``sample_index`` of a stream at ``sample_rate_hz``."""
        if float(sample_rate_hz).is_integer():
            scenario_ns = sample_index * NS_PER_S // int(sample_rate_hz)
        else:
            scenario_ns = round(sample_index * NS_PER_S / sample_rate_hz)
        return self.device_clock_ns(scenario_ns)

    def device_time_ns(self) -> int:
        """The device clock now."""
        return self.device_clock_ns(round(self.scenario_elapsed_s() * NS_PER_S))

    # ------------------------------------------------------------------ ground truth

    def motion(self, sample_rate_hz: float) -> MotionGenerator:
        """The motion generator behind streams at ``sample_rate_hz``."""
        generator = self._generators.get(sample_rate_hz)
        if generator is None:
            generator = MotionGenerator(
                self.scenario, self.placement, fs_hz=sample_rate_hz, seed=self.seed
            )
            self._generators[sample_rate_hz] = generator
        return generator

    def acc_truth_g(self, frame: TruthFrame) -> NDArray[np.float64]:
        """The accelerations (g, device axes, before quantisation) behind a frame."""
        return self.motion(frame.sample_rate_hz).samples_at(
            frame.first_sample_index, frame.n_samples
        )

    def frames(self, fate: str = "sent", stream: str | None = None) -> list[TruthFrame]:
        """The truth frames of one fate (and stream)."""
        return [f for f in self.truth if f.fate == fate and (stream is None or f.stream == stream)]

    def samples(self, fate: str = "sent", stream: str | None = None) -> int:
        """Samples in the frames of one fate."""
        return sum(f.n_samples for f in self.frames(fate, stream))

    # ------------------------------------------------------------------ faults

    async def _fault_loop(self) -> None:
        """Fire reboots on time; link drops are fired by the streaming loop.

        A link drop hits a streaming link, after a frame: one dropped while the collector is
        still connecting (service discovery) is not what the fault means, and bumble's
        virtual controllers sometimes lose such a disconnection.
        """
        while self._running:
            due = self._next_fault()
            if due is None:
                return
            await asyncio.sleep(max((due[0] - self.scenario_elapsed_s()) / self.speed, 0.0))
            if due[1] == "disconnect":
                await asyncio.sleep(0.05)  # the streaming loop fires it after a frame
                continue
            # Slept until it is due: fire it even if the clock reads a hair earlier. A wake-up
            # within the loop's clock resolution of the due time reads as on time to the loop
            # but not always to the scenario clock (a float product), and on a virtual clock,
            # which stands still until every task waits, re-checking would spin forever.
            await self._fire_due_faults(max(self.scenario_elapsed_s(), due[0]))

    def _next_fault(self) -> tuple[float, str] | None:
        pending = sorted(
            [(t, "disconnect") for t in self.plan.disconnect_at_s]
            + [(t, "reboot") for t in self.plan.reboot_at_s]
        )
        return pending[self._faults_fired] if self._faults_fired < len(pending) else None

    async def _fire_due_faults(self, now_s: float) -> None:
        while (due := self._next_fault()) is not None and due[0] <= now_s:
            self._faults_fired += 1
            at_s, kind = due
            if kind == "disconnect":
                at_s = max(at_s, now_s)  # a drop deferred until the link streamed again
            self.events.append(WearableEvent(kind, at_s))
            self.stop_stream(kind)
            if kind == "reboot":
                self.boot += 1
                self._boot_starts_ns.append(round(at_s * NS_PER_S))
                self._unreachable_until_s = at_s + REBOOT_DOWNTIME_S
                self.on_reboot()
                _LOGGER.info("%r reboots at %.1f s", self, at_s)
            await self.disconnect_all()

    # ------------------------------------------------------------------ streaming

    def start_stream(
        self,
        connection: Connection,
        characteristic: Characteristic[bytes],
        *,
        name: str,
        sample_rate_hz: float,
        samples_per_frame: int,
        payload: Callable[[int, int], bytes],
    ) -> None:
        """Start notifying frames paced by the scenario clock on ``connection``.

        ``payload(first_sample_index, n)`` encodes one frame. Starting while a stream runs
        does nothing.
        """
        if self._stream is not None or self._streams_held:
            return
        stream = _Stream(connection, name)
        self._stream = stream
        stream.task = asyncio.get_running_loop().create_task(
            self._paced(stream, characteristic, sample_rate_hz, samples_per_frame, payload),
            name=f"{self.name} {name}",
        )

    def hold_streams(self) -> None:
        """Stop streaming for good (the end of a run): later start commands are ignored.

        Lets a run end with every frame the emulator logged as sent already on its way,
        before the collector shuts down.
        """
        self._streams_held = True
        self.stop_stream("streams held")

    def stop_stream(self, why: str) -> None:
        """Stop the data stream (idempotent)."""
        stream, self._stream = self._stream, None
        if stream is None:
            return
        _LOGGER.info("%r: %s stream stopped (%s)", self, stream.name, why)
        if stream.task is not None and stream.task is not asyncio.current_task():
            stream.task.cancel()

    async def _paced(
        self,
        stream: _Stream,
        characteristic: Characteristic[bytes],
        rate: float,
        per_frame: int,
        payload: Callable[[int, int], bytes],
    ) -> None:
        next_index = math.ceil(self.scenario_elapsed_s() * rate)
        warned = False
        _LOGGER.info("%r: %s streaming at %g Hz", self, stream.name, rate)
        while self._stream is stream:
            last_index = next_index + per_frame - 1
            last_s = last_index / rate
            wait_s = (last_s - self.scenario_elapsed_s()) / self.speed
            if wait_s < -_LAG_WARNING_S and not warned:
                warned = True
                _LOGGER.warning(
                    "%r streams %.0f s of real time behind its wearer: the virtual radio "
                    "carries ~%d samples/s in all; lower speed x rate (now %.0f samples/s)",
                    self,
                    -wait_s,
                    VIRTUAL_RADIO_SAMPLES_PER_S,
                    self.speed * rate,
                )
            # Always yield once per frame so catching up never starves the event loop.
            await asyncio.sleep(max(wait_s, 0.0))
            if self._stream is not stream:
                break
            fate = self.plan.frame_fate()
            frame = TruthFrame(
                stream.name,
                next_index,
                per_frame,
                rate,
                fate,
                self.sample_device_time_ns(next_index, rate),
                self.boot,
            )
            if fate != "lost":
                data = payload(next_index, per_frame)
                if fate == "corrupted":
                    data = self.corrupt(data)
                try:
                    await self.device.notify_subscriber(stream.connection, characteristic, data)
                except Exception:
                    _LOGGER.debug("%r: notification failed", self, exc_info=True)
                    break
            self.truth.append(frame)
            next_index += per_frame
            # faults due by this frame's last sample: the link drops after it was sent
            await self._fire_due_faults(last_s)

    # ------------------------------------------------------------------ common services

    def battery_service(self) -> Service:
        """SIG Battery service (read)."""
        return Service(
            BATTERY_SERVICE_UUID,
            [
                Characteristic(
                    BATTERY_LEVEL_UUID,
                    Characteristic.Properties.READ,
                    Characteristic.Permissions.READABLE,
                    CharacteristicValue(read=lambda _c: encode_battery_level(self.battery_pct)),
                )
            ],
        )

    def immediate_alert_service(self) -> Service:
        """SIG Immediate Alert service, logging alerts.

        Write without response; also write with response if :attr:`alert_with_response`.
        """
        properties = Characteristic.Properties.WRITE_WITHOUT_RESPONSE
        if self.alert_with_response:
            properties |= Characteristic.Properties.WRITE
        return Service(
            IMMEDIATE_ALERT_SERVICE_UUID,
            [
                Characteristic(
                    ALERT_LEVEL_UUID,
                    properties,
                    Characteristic.Permissions.WRITEABLE,
                    CharacteristicValue(write=self._on_alert_write),
                )
            ],
        )

    async def _on_alert_write(self, connection: Connection, value: bytes) -> None:
        # bumble sends the write response (if one was asked for) when this returns
        try:
            level = decode_alert_level(bytes(value))
        except DecodeError as exc:
            self.rejected_alert_writes += 1
            _LOGGER.warning("%r ignored an Alert Level write: %s", self, exc)
            return
        self.record_alert(level)
        gate = self.alert_response_gate
        if gate is not None:
            await gate.wait()

    def record_alert(self, level: AlertLevel, text: str | None = None) -> None:
        """Log a received alert as ground truth."""
        now_s = self.scenario_elapsed_s()
        alert = ReceivedAlert(self.device_clock_ns(round(now_s * NS_PER_S)), now_s, level, text)
        self.alerts_received.append(alert)
        _LOGGER.info(
            "%r buzzes: %s %s at %.1f s", self, level.name, text or "", alert.scenario_time_s
        )
