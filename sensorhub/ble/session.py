"""One connected wearable: find it, connect, stream, reconnect, nudge (bleak public API only).

The notification callback does one thing: enqueue ``(host monotonic ns, bytes)``. A consumer
task decodes and forwards :class:`SampleBlock` s, so a slow pipeline never blocks the BLE
stack and a malformed frame never raises inside bleak's callback. Which radio is used is
injected (:class:`BleakBackend`): the platform's default stack in production, the bumble
emulator in the demo and tests.
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
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

from firmware_protocols.errors import DecodeError
from firmware_protocols.polar_pmd import (
    PMD_CONTROL_POINT_UUID,
    PMD_DATA_UUID,
    ControlPointOp,
    MeasurementType,
    PmdControlPointRequest,
    PmdSetting,
    PmdStatus,
    decode_control_point_response,
    encode_control_point_request,
)
from firmware_protocols.sig import (
    ALERT_LEVEL_UUID,
    BATTERY_LEVEL_UUID,
    AlertLevel,
    decode_battery_level,
    encode_alert_level,
)
from sensorhub.ble.clock import Clock
from sensorhub.ble.polar_stream import PolarAccStream, StreamCounters
from sensorhub.errors import DeviceError
from sensorhub.model import SampleBlock

_LOGGER = logging.getLogger(__name__)

BlockHandler = Callable[[SampleBlock], Awaitable[None]]


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


class PolarPmdSession:
    """Streams accelerometer data from a Polar PMD device (H10, Verity Sense, OH1).

    Parameters
    ----------
    binding
        Which device, for which wearer.
    backend
        How bleak reaches the radio.
    clock
        Host clock (injectable for time-compressed emulation).
    on_block
        Awaited for each decoded block, in order.
    acc_rate_hz, acc_range_g
        ACC settings requested from the device (H10: 25/50/100/200 Hz, 2/4/8 g).
    connect_timeout_s
        Per-attempt connection timeout (at least 10 s on real radios).
    max_backoff_s
        Upper bound of the exponential reconnect backoff (with jitter).
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
        connect_timeout_s: float = 15.0,
        scan_timeout_s: float = 10.0,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.binding = binding
        self._backend = backend
        self._clock = clock
        self._on_block = on_block
        self.acc_rate_hz = acc_rate_hz
        self.acc_range_g = acc_range_g
        self._connect_timeout_s = connect_timeout_s
        self._scan_timeout_s = scan_timeout_s
        self._max_backoff_s = max_backoff_s
        self.counters = StreamCounters()
        self.health = SessionHealth()
        self._stream = PolarAccStream(acc_rate_hz, self.counters)
        self._client: BleakClient | None = None
        self._queue: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()
        self._cp_responses: asyncio.Queue[bytes] = asyncio.Queue()
        self._streaming = asyncio.Event()

    @property
    def streaming(self) -> asyncio.Event:
        """Set while ACC data is flowing (tests and the demo wait on it)."""
        return self._streaming

    async def run(self) -> None:
        """Collect until cancelled: find, connect, stream; reconnect with backoff on loss."""
        attempt = 0
        consumer = asyncio.create_task(self._consume(), name=f"decode {self.binding.label}")
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
                delay = random.uniform(0, min(self._max_backoff_s, 0.25 * 2**attempt))
                await asyncio.sleep(delay)
        finally:
            self._queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await consumer

    async def _find(self) -> BLEDevice:
        device = await BleakScanner.find_device_by_filter(
            self.binding.matches, timeout=self._scan_timeout_s, **self._backend.scanner_kwargs
        )
        if device is None:
            raise DeviceError(
                f"{self.binding.label} not found within {self._scan_timeout_s:.0f} s: check "
                "that it is worn, charged and not connected to a phone app"
            )
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
        self._client = client
        self.health.connects += 1
        self.health.connected = True
        self.health.address = device.address
        self._stream.reset_connection()
        try:
            await self._read_battery(client)
            await self._start_acc(client)
            self._streaming.set()
            await disconnected.wait()
            _LOGGER.warning("%s disconnected", self.binding.label)
        finally:
            self._streaming.clear()
            self.health.connected = False
            self._client = None
            if client.is_connected:
                # Stop the measurement first: a Polar strap otherwise keeps streaming into
                # the void and drains its battery.
                with contextlib.suppress(BleakError, TimeoutError, DeviceError):
                    await asyncio.wait_for(self._stop_acc(client), 5)
                with contextlib.suppress(BleakError, TimeoutError):
                    await asyncio.wait_for(client.disconnect(), 5)

    async def _read_battery(self, client: BleakClient) -> None:
        try:
            self.health.battery_pct = decode_battery_level(
                bytes(await client.read_gatt_char(BATTERY_LEVEL_UUID))
            )
        except (BleakError, DecodeError) as exc:
            _LOGGER.info("%s: battery level unavailable (%s)", self.binding.label, exc)

    def _on_data(self, _characteristic: BleakGATTCharacteristic, data: bytearray) -> None:
        self._queue.put_nowait((self._clock.monotonic_ns(), bytes(data)))

    def _on_control_point(self, _characteristic: BleakGATTCharacteristic, data: bytearray) -> None:
        self._cp_responses.put_nowait(bytes(data))

    async def _control(self, client: BleakClient, request: PmdControlPointRequest) -> None:
        while not self._cp_responses.empty():
            self._cp_responses.get_nowait()
        await client.write_gatt_char(
            PMD_CONTROL_POINT_UUID, encode_control_point_request(request), response=True
        )
        raw = await asyncio.wait_for(self._cp_responses.get(), 5)
        try:
            response = decode_control_point_response(raw)
        except DecodeError as exc:
            raise DeviceError(
                f"{self.binding.label}: bad PMD control point response: {exc}"
            ) from exc
        if response.status != PmdStatus.SUCCESS:
            raise DeviceError(
                f"{self.binding.label} refused {request.op.name} {request.measurement.name}: "
                f"{response.status.name}"
            )

    async def _start_acc(self, client: BleakClient) -> None:
        await client.start_notify(PMD_CONTROL_POINT_UUID, self._on_control_point)
        await client.start_notify(PMD_DATA_UUID, self._on_data)
        await self._control(
            client,
            PmdControlPointRequest(
                ControlPointOp.REQUEST_MEASUREMENT_START,
                MeasurementType.ACC,
                {
                    PmdSetting.SAMPLE_RATE: self.acc_rate_hz,
                    PmdSetting.RESOLUTION: 16,
                    PmdSetting.RANGE: self.acc_range_g,
                },
            ),
        )

    async def _stop_acc(self, client: BleakClient) -> None:
        await self._control(
            client,
            PmdControlPointRequest(ControlPointOp.STOP_MEASUREMENT, MeasurementType.ACC, {}),
        )

    async def _consume(self) -> None:
        while (item := await self._queue.get()) is not None:
            monotonic_ns, payload = item
            utc_ns = self._clock.utc_from_monotonic(monotonic_ns)
            self.health.last_seen_utc_ns = utc_ns
            block = self._stream.feed(utc_ns, payload)
            if block is not None:
                await self._on_block(block)

    async def buzz(self, level: AlertLevel) -> str:
        """Write an Immediate Alert level to the band; return the delivery result."""
        client = self._client
        if client is None or not client.is_connected:
            return "failed: band not connected"
        try:
            await client.write_gatt_char(
                ALERT_LEVEL_UUID, encode_alert_level(level), response=False
            )
        except BleakError as exc:
            return f"failed: {exc}"
        return "delivered"
