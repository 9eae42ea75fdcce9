"""One connected wearable of any supported profile: find, connect, stream, reconnect, nudge.

:class:`DeviceSession` is driven by the device registry (:mod:`firmware_protocols.profiles`)
through a :class:`~sensorhub.ble.drivers.ProfileDriver`: what to subscribe to, which commands
start and stop the stream, how to nudge. It uses bleak's public API only; which radio is used
is injected (:class:`BleakBackend`): the platform's own stack in production, the bumble
emulator in the demo and tests.

The notification callback does one thing: enqueue ``(host monotonic ns, connection, key,
bytes)``. A consumer task decodes and forwards :class:`SampleBlock` s (and step/cadence data),
so a slow pipeline never blocks the BLE stack and a malformed frame never raises inside bleak's
callback (it is counted and logged by :class:`~sensorhub.ble.streams.ImuStream`).

Connections: a fresh ``BleakClient`` per connection through
``bleak_retry_connector.establish_connection`` (timeout >= 10 s on real radios), a reconnect
loop with exponential backoff and full jitter, and a clean shutdown that stops the stream
before disconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

from firmware_protocols.errors import DecodeError
from firmware_protocols.sig import BATTERY_LEVEL_UUID, AlertLevel, decode_battery_level
from sensorhub.ble.clock import Clock
from sensorhub.ble.drivers import ProfileDriver, StreamSettings, driver_for
from sensorhub.ble.streams import (
    FrameDecoder,
    ImuFrame,
    ImuStream,
    StepData,
    StreamCounters,
    StreamTiming,
)
from sensorhub.errors import DeviceError
from sensorhub.model import SampleBlock

__all__ = [
    "BleakBackend",
    "BlockHandler",
    "DeviceBinding",
    "DeviceSession",
    "PolarPmdSession",
    "SessionHealth",
    "StepHandler",
]

_LOGGER = logging.getLogger(__name__)

BlockHandler = Callable[[SampleBlock], Awaitable[None]]
StepHandler = Callable[[StepData], Awaitable[None]]

#: Queue item: host monotonic ns, connection number, subscription key, payload.
_Item = tuple[int, int, str, bytes]


@dataclass(frozen=True)
class BleakBackend:
    """Extra keyword arguments for ``BleakScanner`` and ``BleakClient``.

    Empty for the platform's own Bluetooth stack; ``{"backend": ..., "air": ...}`` for the
    emulated radio of :mod:`sensorhub.sim` (bleak forwards unknown keywords to the backend).
    """

    scanner_kwargs: Mapping[str, Any] = field(default_factory=dict)
    client_kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceBinding:
    """A wearable bound to a wearer and a body placement (from the hub config)."""

    wearer_id: str
    profile: str
    placement: str
    name: str | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        if not self.name and not self.address:
            raise ValueError(f"device of wearer {self.wearer_id!r} needs a name or an address")

    def matches(self, device: BLEDevice, advertisement: AdvertisementData) -> bool:
        """True if an advertising device is this binding's wearable."""
        if self.address:
            return device.address.upper() == self.address.upper()
        return (advertisement.local_name or device.name or "") == self.name

    @property
    def label(self) -> str:
        """How logs and the dashboard name the device."""
        return self.name or self.address or "?"


@dataclass
class SessionHealth:
    """Connection-level health of one device."""

    connects: int = 0
    reconnects: int = 0
    battery_pct: int | None = None
    last_seen_utc_ns: int | None = None
    connected: bool = False
    address: str | None = None
    rssi_dbm: int | None = None
    stalls: int = 0
    nudges_delivered: int = 0
    nudges_failed: int = 0


class DeviceSession:
    """Streams one wearable of any supported profile, for as long as it runs.

    Parameters
    ----------
    binding
        Which device, for which wearer, with which profile.
    backend
        How bleak reaches the radio.
    clock
        Host clock (injectable for time-compressed emulation).
    on_block
        Awaited for each decoded motion block, in order.
    on_steps
        Awaited for each step/cadence/heart-rate measurement (default: counted only).
    settings
        Requested sample rate and range (default: the profile's).
    timing
        Clock-step and jitter thresholds of the time mapping.
    connect_timeout_s
        Per-attempt connection timeout (at least 10 s on real radios).
    scan_timeout_s
        How long to look for the device before backing off.
    min_backoff_s, max_backoff_s
        Base and upper bound of the exponential reconnect backoff (with full jitter).
    stall_timeout_s
        A connection that delivers no notification for this long (host monotonic time) is
        dropped and re-established: a watchdog for links whose disconnection is never
        reported (it happens with BlueZ, and with bumble's virtual controllers under load).
    """

    def __init__(
        self,
        binding: DeviceBinding,
        *,
        backend: BleakBackend,
        clock: Clock,
        on_block: BlockHandler,
        on_steps: StepHandler | None = None,
        settings: StreamSettings | None = None,
        timing: StreamTiming | None = None,
        connect_timeout_s: float = 15.0,
        scan_timeout_s: float = 10.0,
        min_backoff_s: float = 0.25,
        max_backoff_s: float = 30.0,
        stall_timeout_s: float = 30.0,
    ) -> None:
        self.binding = binding
        self.driver: ProfileDriver = driver_for(binding.profile, settings)
        self._backend = backend
        self._clock = clock
        self._on_block = on_block
        self._on_steps = on_steps
        self._connect_timeout_s = connect_timeout_s
        self._scan_timeout_s = scan_timeout_s
        self._min_backoff_s = min_backoff_s
        self._max_backoff_s = max_backoff_s
        self._stall_timeout_ns = round(stall_timeout_s * 1e9)
        self._last_rx_monotonic_ns = 0
        self.counters = StreamCounters()
        self.health = SessionHealth()
        self.stream = ImuStream(self.counters, timing=timing)
        self.last_steps: StepData | None = None
        self._client: BleakClient | None = None
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._decoders: dict[int, Mapping[str, FrameDecoder]] = {}
        self._connection_number = 0
        self._motion_key: str | None = None  # the subscription that carries motion frames
        # Notifications can arrive before the driver's start() returns its decoders (a
        # device that streams as soon as it is subscribed): the consumer waits for them.
        self._decoders_settled = asyncio.Event()
        self._decoders_settled.set()
        self._streaming = asyncio.Event()

    @property
    def streaming(self) -> asyncio.Event:
        """Set while data is flowing (tests and the demo wait on it)."""
        return self._streaming

    @property
    def nudge_method(self) -> str | None:
        """How this device is nudged once connected (None: dashboard only)."""
        return self.driver.nudge_method

    # ---------------------------------------------------------------- lifecycle

    async def run(self) -> None:
        """Collect until cancelled: find, connect, stream; reconnect with backoff on loss."""
        attempt = 0
        consumer = asyncio.create_task(self.consume(), name=f"decode {self.binding.label}")
        try:
            while True:
                try:
                    await self._one_connection()
                    attempt = 0
                except (BleakError, DeviceError, TimeoutError, OSError) as exc:
                    _LOGGER.warning("%s: %s", self.binding.label, exc)
                attempt += 1
                self.health.reconnects += 1
                # Exponential backoff with full jitter (AWS architecture blog; the same idea
                # as bleak-retry-connector's calculate_backoff_time).
                cap = min(self._max_backoff_s, self._min_backoff_s * 2**attempt)
                await asyncio.sleep(random.uniform(0, cap))
        finally:
            self._queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await consumer

    async def _find(self) -> BLEDevice:
        rssi: dict[str, int] = {}

        def matches(device: BLEDevice, advertisement: AdvertisementData) -> bool:
            found = self.binding.matches(device, advertisement)
            if found:
                rssi[device.address] = advertisement.rssi
            return found

        device = await BleakScanner.find_device_by_filter(
            matches, timeout=self._scan_timeout_s, **self._backend.scanner_kwargs
        )
        if device is None:
            raise DeviceError(
                f"{self.binding.label} not found within {self._scan_timeout_s:.0f} s: check "
                "that it is worn, charged and not connected to a phone app"
            )
        self.health.rssi_dbm = rssi.get(device.address)
        return device

    async def _one_connection(self) -> None:
        device = await self._find()
        disconnected = asyncio.Event()
        client = await establish_connection(
            BleakClient,
            device,
            self.binding.label,
            disconnected_callback=lambda _client: disconnected.set(),
            max_attempts=3,
            timeout=self._connect_timeout_s,
            **self._backend.client_kwargs,
        )
        self._connection_number += 1
        number = self._connection_number
        self._client = client
        self.health.connects += 1
        self.health.connected = True
        self.health.address = device.address
        self._queue.put_nowait((0, number, "", b""))  # marks the new connection in order
        self._decoders = {number: self.driver.early_decoders()}
        self._decoders_settled.clear()
        started = False
        try:
            await self._read_battery(client)
            self.driver.choose_nudge_method(client)

            def enqueue(key: str, payload: bytes) -> None:
                self.on_notification(number, key, payload)

            self._decoders = {number: await self.driver.start(client, enqueue)}
            self._decoders_settled.set()
            started = True
            self._streaming.set()
            await self._until_disconnected_or_stalled(disconnected)
        finally:
            self._decoders_settled.set()
            self._streaming.clear()
            self.health.connected = False
            self._client = None
            if client.is_connected:
                if started:
                    # Stop the stream first: a Polar strap otherwise keeps streaming into
                    # the void and drains its battery.
                    with contextlib.suppress(BleakError, TimeoutError, DeviceError):
                        await asyncio.wait_for(self.driver.stop(client), 5)
                with contextlib.suppress(BleakError, TimeoutError):
                    await asyncio.wait_for(client.disconnect(), 5)

    async def _until_disconnected_or_stalled(self, disconnected: asyncio.Event) -> None:
        self._last_rx_monotonic_ns = self._clock.monotonic_ns()
        check_s = max(self._stall_timeout_ns / 4e9, 0.01)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(disconnected.wait(), check_s)
            if disconnected.is_set():
                _LOGGER.warning("%s disconnected", self.binding.label)
                return
            silent_ns = self._clock.monotonic_ns() - self._last_rx_monotonic_ns
            if silent_ns > self._stall_timeout_ns:
                self.health.stalls += 1
                _LOGGER.warning(
                    "%s: no data for %.1f s although connected; reconnecting",
                    self.binding.label,
                    silent_ns / 1e9,
                )
                return

    async def _read_battery(self, client: BleakClient) -> None:
        if (
            client.services is None
            or client.services.get_characteristic(BATTERY_LEVEL_UUID) is None
        ):
            return
        try:
            self.health.battery_pct = decode_battery_level(
                bytes(await client.read_gatt_char(BATTERY_LEVEL_UUID))
            )
        except (BleakError, DecodeError) as exc:
            _LOGGER.info("%s: battery level unavailable (%s)", self.binding.label, exc)

    # ---------------------------------------------------------------- receive path

    def on_notification(self, connection_number: int, key: str, payload: bytes) -> None:
        """What bleak's notification callback does: stamp with the host clock and enqueue."""
        now = self._clock.monotonic_ns()
        self._last_rx_monotonic_ns = now
        self._queue.put_nowait((now, connection_number, key, payload))

    def end_of_stream(self) -> None:
        """Let :meth:`consume` return once the queue is drained (benchmark replays)."""
        self._queue.put_nowait(None)

    async def consume(self) -> None:
        """Decode queued notifications and forward them, until :meth:`end_of_stream`."""
        while (item := await self._queue.get()) is not None:
            if item[1] == self._connection_number and not self._decoders_settled.is_set():
                await self._decoders_settled.wait()
            block, steps = self.process(item)
            if block is not None:
                await self._on_block(block)
            if steps is not None and self._on_steps is not None:
                await self._on_steps(steps)

    def process(self, item: _Item) -> tuple[SampleBlock | None, StepData | None]:
        """Decode one queued notification (the receive path, also driven by the benchmark)."""
        monotonic_ns, number, key, payload = item
        if not key:
            self.stream.reset_connection()
            return None, None
        decoder = self._decoders.get(number, {}).get(key)
        if decoder is None:
            return None, None
        utc_ns = self._clock.utc_from_monotonic(monotonic_ns)
        self.health.last_seen_utc_ns = utc_ns
        try:
            decoded = decoder(payload)
        except (DecodeError, ValueError, IndexError) as exc:  # a codec bug must not stop it
            error = exc if isinstance(exc, DecodeError) else DecodeError(repr(exc))
            motion = key == self._motion_key
            self.stream.decode_error(error, payload, self.binding.label, motion=motion)
            return None, None
        if isinstance(decoded, ImuFrame):
            self._motion_key = key
            return self.stream.feed(utc_ns, decoded), None
        if isinstance(decoded, StepData):
            self.counters.measurements += 1
            steps = StepData(
                utc_ns,
                decoded.steps_total,
                decoded.cadence_spm,
                decoded.speed_mps,
                decoded.stride_length_m,
                decoded.distance_m,
                decoded.heart_rate_bpm,
            )
            self.last_steps = steps
            return None, steps
        return None, None

    def install_decoders(self, decoders: Mapping[str, FrameDecoder]) -> int:
        """Use ``decoders`` for a new (replayed) connection; returns its number (benchmark)."""
        self._connection_number += 1
        self._decoders = {self._connection_number: decoders}
        self.stream.reset_connection()
        return self._connection_number

    # ---------------------------------------------------------------- nudges

    async def nudge(self, level: AlertLevel, text: str) -> str:
        """Nudge the wearer through this device; return the delivery result.

        ``"delivered"``, ``"dashboard-only"`` (the device has no way to buzz or show text)
        or ``"failed: ..."`` (not connected, or the write failed).
        """
        client = self._client
        if client is None or not client.is_connected:
            result = "failed: band not connected"
        else:
            result = await self.driver.nudge(client, level, text)
        if result == "delivered":
            self.health.nudges_delivered += 1
        elif result.startswith("failed"):
            self.health.nudges_failed += 1
        return result

    async def buzz(self, level: AlertLevel) -> str:
        """Write an Immediate Alert level (or the profile's nudge); return the result."""
        return await self.nudge(level, "Time to move")


class PolarPmdSession(DeviceSession):
    """A :class:`DeviceSession` for a Polar PMD device with explicit ACC rate and range.

    Kept for callers written before the generic session; ``acc_rate_hz`` (H10: 25/50/100/200)
    and ``acc_range_g`` (2/4/8) become the session's :class:`StreamSettings`.
    """

    def __init__(
        self,
        binding: DeviceBinding,
        *,
        backend: BleakBackend,
        clock: Clock,
        on_block: BlockHandler,
        acc_rate_hz: int = 50,
        acc_range_g: int = 8,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            binding,
            backend=backend,
            clock=clock,
            on_block=on_block,
            settings=StreamSettings(float(acc_rate_hz), acc_range_g),
            **kwargs,
        )
        self.acc_rate_hz = acc_rate_hz
        self.acc_range_g = acc_range_g
