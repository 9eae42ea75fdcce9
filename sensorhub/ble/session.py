"""One connected wearable of any supported profile: find, connect, stream, reconnect, nudge.

:class:`DeviceSession` is driven by the device registry (:mod:`firmware_protocols.profiles`)
through a :class:`~sensorhub.ble.drivers.ProfileDriver`: what to subscribe to, which commands
start and stop the stream, how to nudge. It uses bleak's public API only; which radio is used
is injected (:class:`BleakBackend`): the platform's own stack in production, the bumble
emulator in the demo and tests.

The notification callback does one thing: enqueue ``(host monotonic ns, connection, key,
bytes, notifications dropped before it)``. A consumer task decodes and forwards
:class:`SampleBlock` s (and step/cadence data), so a slow pipeline never blocks the BLE stack
and a malformed frame never raises inside bleak's callback (it is counted and logged by
:class:`~sensorhub.ble.streams.ImuStream`).

Connections: a fresh ``BleakClient`` per connection through
``bleak_retry_connector.establish_connection`` (timeout >= 10 s on real radios), a reconnect
loop with capped exponential backoff and full jitter, and a clean shutdown that stops the
stream before disconnecting.

Failure isolation (as Home Assistant's Bluetooth stack treats devices; one device must never
take the hub down, and the hub runs every session in one TaskGroup):

* :meth:`DeviceSession.run` ends only when cancelled. Any ``Exception`` out of one connection
  attempt is counted and retried; expected ones (not found, refused, timed out) are logged at
  WARNING the first time, then at DEBUG with an INFO summary at most every ``log_interval_s``;
  an unexpected one is logged with its traceback the first time its type is seen
  (``SessionHealth.errors``). The backoff is capped and cannot overflow
  (:func:`~sensorhub.ble.retry.backoff_delay_s`): a band left on its charger for days is
  tried again forever, never more than ``max_backoff_s`` (plus the scan) after the last try.
* A device that cannot be reached is *unavailable* (``SessionHealth.available``,
  ``unavailable_since_utc_ns``: when its last connection ended, else its first failed
  attempt; ``consecutive_failures``) until it streams again.
* A handler (``on_block``/``on_steps``) that raises loses that one item: it is counted
  (``StreamCounters.handler_errors``), logged with its traceback (rate-limited) and the stream
  goes on. The consumer task is supervised: if it fails anyway (a bug in decoding), it is
  restarted at once (``SessionHealth.consumer_restarts``, logged at ERROR); if it ends any
  other way (cancelled from outside), the connection loop notices within a quarter of the
  stall timeout and starts a new one.
* The queue is bounded: it holds ``queue_s`` (default 180 s) of notifications at one per
  sample of the requested rate, the worst case (9 000 at 50 Hz, a few MB). When it is full,
  *new* notifications are dropped (drop-newest: what is queued stays in order) and counted
  (``StreamCounters.overflow``); the next motion frame that gets in carries the number dropped
  before it, and :meth:`~sensorhub.ble.streams.ImuStream.frames_lost` makes the hole a
  recorded gap, not a silent time jump. Connection markers always get in.
* ``stream_motion=False`` connects without subscribing to motion (a wearer's second IMU):
  battery, steps and nudges still work. Such a connection has no steady stream to watch, so
  the stall watchdog probes it with a battery read instead.
* :meth:`DeviceSession.nudge` never raises (but for cancellation), times out after
  ``nudge_timeout_s`` and returns a :class:`~sensorhub.ble.drivers.NudgeDelivery`; it may run
  concurrently with streaming (writes and notifications do not wait on each other; bleak
  serialises the ATT requests of one connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
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
from sensorhub.ble.drivers import (
    NUDGE_TIMEOUT_S,
    NudgeDelivery,
    NudgeOutcome,
    ProfileDriver,
    StreamSettings,
    driver_for,
)
from sensorhub.ble.retry import RateLimitedLog, backoff_delay_s
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
    "QUEUE_S",
    "BleakBackend",
    "BlockHandler",
    "DeviceBinding",
    "DeviceSession",
    "NudgeDelivery",
    "NudgeOutcome",
    "PolarPmdSession",
    "SessionHealth",
    "StepHandler",
]

_LOGGER = logging.getLogger(__name__)

BlockHandler = Callable[[SampleBlock], Awaitable[None]]
StepHandler = Callable[[StepData], Awaitable[None]]

#: Queue item: host monotonic ns, connection number, subscription key, payload, and how many
#: notifications of the same key were dropped (queue full) just before this one.
_Item = tuple[int, int, str, bytes, int]

#: Default host time of notifications the queue holds (at one notification per sample).
QUEUE_S = 180.0
#: The queue holds at least this many notifications, whatever the rate.
_MIN_QUEUE = 256


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
    """Connection-level health of one device.

    Attributes
    ----------
    available
        True from the moment the device streams until a connection attempt fails.
    unavailable_since_utc_ns
        While unavailable: when its last connection ended, or (never connected) when the
        first attempt failed. None while available, and before the first attempt.
    consecutive_failures
        Failed connection attempts since the device last streamed.
    connect_failures
        Failed connection attempts in all.
    errors
        Unexpected exceptions out of a connection attempt (bugs, not radio trouble).
    consumer_restarts
        Times the decoding task failed and was restarted.
    nudges_delivered
        Nudges that reached the device (acknowledged or written without response).
    nudges_acknowledged
        Of those, the ones the device acknowledged.
    """

    connects: int = 0
    reconnects: int = 0
    battery_pct: int | None = None
    last_seen_utc_ns: int | None = None
    connected: bool = False
    address: str | None = None
    rssi_dbm: int | None = None
    stalls: int = 0
    nudges_delivered: int = 0
    nudges_acknowledged: int = 0
    nudges_failed: int = 0
    available: bool = False
    unavailable_since_utc_ns: int | None = None
    consecutive_failures: int = 0
    connect_failures: int = 0
    errors: int = 0
    consumer_restarts: int = 0


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
        A connection without a steady stream (``stream_motion=False``) is probed with a
        battery read instead.
    stream_motion
        False: do not subscribe to motion (battery, steps and nudges only).
    nudge_timeout_s
        How long a nudge write may take before it is reported as failed.
    queue_s
        Notifications the queue holds, in seconds at one notification per sample of the
        requested rate (see the module docstring).
    max_queued
        The queue's bound as a count (overrides ``queue_s``).
    log_interval_s
        Least host time between two summary lines of a repeating failure.
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
        stream_motion: bool = True,
        nudge_timeout_s: float = NUDGE_TIMEOUT_S,
        queue_s: float = QUEUE_S,
        max_queued: int | None = None,
        log_interval_s: float = 600.0,
    ) -> None:
        self.binding = binding
        self.driver: ProfileDriver = driver_for(
            binding.profile, settings, stream_motion=stream_motion
        )
        self.stream_motion = stream_motion
        self._backend = backend
        self._clock = clock
        self._on_block = on_block
        self._on_steps = on_steps
        self._connect_timeout_s = connect_timeout_s
        self._scan_timeout_s = scan_timeout_s
        self._min_backoff_s = min_backoff_s
        self._max_backoff_s = max_backoff_s
        self._stall_timeout_ns = round(stall_timeout_s * 1e9)
        self._nudge_timeout_s = nudge_timeout_s
        #: Most notifications waiting for the consumer (see the module docstring).
        self.max_queued = (
            max_queued
            if max_queued is not None
            else max(math.ceil(self.driver.sample_rate_hz * queue_s), _MIN_QUEUE)
        )
        self._dropped: dict[str, int] = {}  # per key: dropped since the last one queued
        self._last_rx_monotonic_ns = 0
        self.counters = StreamCounters()
        self.health = SessionHealth()
        self.stream = ImuStream(self.counters, timing=timing)
        self.last_steps: StepData | None = None
        self._client: BleakClient | None = None
        # Unbounded as an asyncio.Queue so that connection markers and the end-of-stream
        # sentinel always get in; on_notification bounds the notifications to max_queued.
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._consumer: asyncio.Task[None] | None = None
        self._lost_at_utc_ns: int | None = None
        self._unexpected_seen: set[type[BaseException]] = set()
        self._failure_log = RateLimitedLog(_LOGGER, log_interval_s)
        self._handler_log = RateLimitedLog(_LOGGER, log_interval_s)
        self._overflow_log = RateLimitedLog(_LOGGER, log_interval_s)
        self._consumer_log = RateLimitedLog(_LOGGER, log_interval_s)
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
        """Collect until cancelled: find, connect, stream; reconnect with backoff on loss.

        Never returns and never raises but :class:`asyncio.CancelledError` (see the module
        docstring): a device that cannot be reached is marked unavailable and retried.
        """
        try:
            while True:
                self._check_consumer()
                try:
                    await self._one_connection()
                except (BleakError, DeviceError, TimeoutError, OSError) as exc:
                    self._attempt_failed(exc, expected=True)
                except Exception as exc:  # one device must not end the hub
                    self._attempt_failed(exc, expected=False)
                self.health.reconnects += 1
                await asyncio.sleep(
                    backoff_delay_s(
                        self.health.consecutive_failures,
                        min_s=self._min_backoff_s,
                        max_s=self._max_backoff_s,
                    )
                )
        finally:
            self._queue.put_nowait(None)
            consumer = self._consumer
            if consumer is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await consumer
                self._consumer = None

    def _now_s(self) -> float:
        return self._clock.monotonic_ns() / 1e9

    def _utc_now_ns(self) -> int:
        return self._clock.utc_from_monotonic(self._clock.monotonic_ns())

    def _attempt_failed(self, exc: Exception, *, expected: bool) -> None:
        """Count a failed connection attempt, mark the device unavailable, log (rate-limited)."""
        health = self.health
        health.connect_failures += 1
        health.consecutive_failures += 1
        if health.available or health.unavailable_since_utc_ns is None:
            health.available = False
            health.unavailable_since_utc_ns = self._lost_at_utc_ns or self._utc_now_ns()
        label = self.binding.label
        if not expected:
            health.errors += 1
            if type(exc) not in self._unexpected_seen:
                self._unexpected_seen.add(type(exc))
                _LOGGER.error(
                    "%s: unexpected error in a connection attempt; retrying", label, exc_info=exc
                )
                return
        self._failure_log.log(
            self._now_s(),
            logging.WARNING,
            "%s unavailable: %s (retrying, at most every %g s)",
            label,
            exc if expected else repr(exc),
            self._max_backoff_s,
        )

    def _mark_available(self) -> None:
        health = self.health
        if not health.available and health.consecutive_failures:
            _LOGGER.info(
                "%s available again after %d failed attempts",
                self.binding.label,
                health.consecutive_failures,
            )
        health.available = True
        health.unavailable_since_utc_ns = None
        health.consecutive_failures = 0
        self._lost_at_utc_ns = None
        self._failure_log.reset()

    def _check_consumer(self) -> None:
        """Start the decoding task, or a new one if it ended while the session runs."""
        consumer = self._consumer
        if consumer is not None and not consumer.done():
            return
        if consumer is not None:
            self.health.consumer_restarts += 1
            _LOGGER.error(
                "%s: the decoding task ended unexpectedly (%s); starting a new one",
                self.binding.label,
                "cancelled" if consumer.cancelled() else repr(consumer.exception()),
            )
        self._consumer = asyncio.create_task(
            self._supervised_consume(), name=f"decode {self.binding.label}"
        )

    async def _supervised_consume(self) -> None:
        """:meth:`consume`, restarted at once if it fails (the failing item is lost)."""
        while True:
            try:
                await self.consume()
            except Exception as exc:  # the stream must go on
                self.health.consumer_restarts += 1
                self._consumer_log.log(
                    self._now_s(),
                    logging.ERROR,
                    "%s: decoding failed; restarting the decoding task",
                    self.binding.label,
                    exc_info=exc,
                )
            else:
                return

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
        self.health.connects += 1
        self.health.connected = True
        self.health.address = device.address
        self._dropped.clear()
        self._queue.put_nowait((0, number, "", b"", 0))  # marks the new connection in order
        self._decoders = {number: self.driver.early_decoders()}
        self._decoders_settled.clear()
        started = False
        try:
            await self._read_battery(client)
            self.driver.choose_nudge_method(client)
            self._client = client  # nudges may go now

            def enqueue(key: str, payload: bytes) -> None:
                self.on_notification(number, key, payload)

            decoders = await self.driver.start(client, enqueue)
            self._decoders = {number: decoders}
            self._decoders_settled.set()
            started = True
            self._mark_available()
            self._streaming.set()
            steady = not self.driver.steady_keys.isdisjoint(decoders)
            await self._until_disconnected_or_stalled(disconnected, client, steady=steady)
        finally:
            self._decoders_settled.set()
            self._streaming.clear()
            self.health.connected = False
            self._client = None
            if started:
                self._lost_at_utc_ns = self._utc_now_ns()
            if client.is_connected:
                if started:
                    # Stop the stream first: a Polar strap otherwise keeps streaming into
                    # the void and drains its battery.
                    with contextlib.suppress(BleakError, TimeoutError, DeviceError):
                        await asyncio.wait_for(self.driver.stop(client), 5)
                with contextlib.suppress(BleakError, TimeoutError):
                    await asyncio.wait_for(client.disconnect(), 5)

    async def _until_disconnected_or_stalled(
        self, disconnected: asyncio.Event, client: BleakClient, *, steady: bool
    ) -> None:
        """Return when the link is lost, or silent for the stall timeout.

        Without a steady stream (``steady`` False) silence is normal: the link is probed with
        a battery read instead, and only a failed probe counts as a stall.
        """
        self._last_rx_monotonic_ns = self._clock.monotonic_ns()
        check_s = max(self._stall_timeout_ns / 4e9, 0.01)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(disconnected.wait(), check_s)
            if disconnected.is_set():
                _LOGGER.warning("%s disconnected", self.binding.label)
                return
            self._check_consumer()
            silent_ns = self._clock.monotonic_ns() - self._last_rx_monotonic_ns
            if silent_ns <= self._stall_timeout_ns:
                continue
            if not steady and await self._probe(client):
                self._last_rx_monotonic_ns = self._clock.monotonic_ns()
                continue
            self.health.stalls += 1
            _LOGGER.warning(
                "%s: no data for %.1f s although connected; reconnecting",
                self.binding.label,
                silent_ns / 1e9,
            )
            return

    async def _probe(self, client: BleakClient) -> bool:
        """Whether a quiet link still answers (a battery read; True if there is nothing to read)."""
        if (
            client.services is None
            or client.services.get_characteristic(BATTERY_LEVEL_UUID) is None
        ):
            return True
        try:
            async with asyncio.timeout(max(self._stall_timeout_ns / 1e9, 1.0)):
                raw = bytes(await client.read_gatt_char(BATTERY_LEVEL_UUID))
        except (BleakError, TimeoutError, OSError) as exc:
            _LOGGER.info("%s: the link does not answer (%s)", self.binding.label, exc)
            return False
        with contextlib.suppress(DecodeError):
            self.health.battery_pct = decode_battery_level(raw)
        self.health.last_seen_utc_ns = self._utc_now_ns()
        return True

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
        """What bleak's notification callback does: stamp with the host clock and enqueue.

        Drops the notification (counted in ``overflow``) when :attr:`max_queued` are waiting.
        """
        now = self._clock.monotonic_ns()
        self._last_rx_monotonic_ns = now
        if self._queue.qsize() >= self.max_queued:
            self.counters.overflow += 1
            self._dropped[key] = self._dropped.get(key, 0) + 1
            self._overflow_log.log(
                now / 1e9,
                logging.WARNING,
                "%s: %d notifications waiting, dropping new ones (the handler is too slow)",
                self.binding.label,
                self.max_queued,
            )
            return
        dropped = self._dropped.pop(key, 0) if self._dropped else 0
        self._queue.put_nowait((now, connection_number, key, payload, dropped))

    def end_of_stream(self) -> None:
        """Let :meth:`consume` return once the queue is drained (benchmark replays)."""
        self._queue.put_nowait(None)

    async def consume(self) -> None:
        """Decode queued notifications and forward them, until :meth:`end_of_stream`.

        A handler that raises loses only that item (counted in ``handler_errors``).
        """
        while (item := await self._queue.get()) is not None:
            if item[1] == self._connection_number and not self._decoders_settled.is_set():
                await self._decoders_settled.wait()
            block, steps = self.process(item)
            if block is not None:
                await self._forward(self._on_block, block)
            if steps is not None and self._on_steps is not None:
                await self._forward(self._on_steps, steps)

    async def _forward(
        self, handler: Callable[[Any], Awaitable[None]], data: SampleBlock | StepData
    ) -> None:
        try:
            await handler(data)
        except Exception as exc:  # one bad item must not stop the stream
            self.counters.handler_errors += 1
            self._handler_log.log(
                self._now_s(),
                logging.ERROR,
                "%s: the handler of %s failed; the stream goes on",
                self.binding.label,
                type(data).__name__,
                exc_info=exc,
            )

    def process(self, item: _Item) -> tuple[SampleBlock | None, StepData | None]:
        """Decode one queued notification (the receive path, also driven by the benchmark)."""
        monotonic_ns, number, key, payload, dropped = item
        if not key:
            self.stream.reset_connection()
            return None, None
        decoder = self._decoders.get(number, {}).get(key)
        if decoder is None:
            return None, None
        utc_ns = self._clock.utc_from_monotonic(monotonic_ns)
        self.health.last_seen_utc_ns = utc_ns
        motion = key == self._motion_key
        if dropped and motion:
            self.stream.frames_lost(dropped)
        try:
            decoded = decoder(payload)
        except (DecodeError, ValueError, IndexError) as exc:  # a codec bug must not stop it
            error = exc if isinstance(exc, DecodeError) else DecodeError(repr(exc))
            self.stream.decode_error(error, payload, self.binding.label, motion=motion)
            return None, None
        if isinstance(decoded, ImuFrame):
            if dropped and not motion:
                self.stream.frames_lost(dropped)
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

    async def nudge(self, level: AlertLevel, text: str) -> NudgeDelivery:
        """Nudge the wearer through this device; return what became of it.

        Never raises but :class:`asyncio.CancelledError`; a write that hangs is reported
        as ``failed: timed out after <nudge_timeout_s> s``. Safe to call while streaming.
        See :class:`~sensorhub.ble.drivers.NudgeDelivery` for the outcomes and their stored
        strings.
        """
        client = self._client
        if client is None or not client.is_connected:
            result = NudgeDelivery.failed("band not connected")
        else:
            try:
                result = await self.driver.nudge(
                    client, level, text, timeout_s=self._nudge_timeout_s
                )
            except Exception as exc:  # a nudge must not take the caller down
                _LOGGER.exception("%s: unexpected error while nudging", self.binding.label)
                result = NudgeDelivery.failed(f"unexpected error: {exc!r}")
        if result.reached_device:
            self.health.nudges_delivered += 1
            if result.outcome is NudgeOutcome.ACKNOWLEDGED:
                self.health.nudges_acknowledged += 1
        elif result.outcome is NudgeOutcome.FAILED:
            self.health.nudges_failed += 1
            _LOGGER.info("%s: nudge %s", self.binding.label, result.stored)
        return result

    async def buzz(self, level: AlertLevel) -> NudgeDelivery:
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
