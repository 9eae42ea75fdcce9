"""A bleak 3.x backend on bumble's in-process virtual radio.

Emulated wearables and the collector meet on a :class:`VirtualAir`: one bumble
:class:`~bumble.link.LocalLink` to which every participant attaches its own bumble
:class:`~bumble.device.Device` with its own virtual controller. The collector keeps using only
bleak's public API and selects this backend through bleak's ``backend=`` hook, passing the air
as an extra keyword argument (bleak forwards unknown keyword arguments to the backend)::

    air = VirtualAir()
    device = await BleakScanner.find_device_by_filter(
        is_polar, timeout=5.0, backend=BumbleScanner, air=air
    )
    async with BleakClient(device, backend=BumbleClient, air=air) as client:
        ...

Code checked by ``mypy --strict`` cannot pass ``air=`` to ``BleakScanner.find_device_by_*``
(their ``**kwargs`` are a closed ``TypedDict``); it can pass a class already bound to the air
instead: ``backend=air.scanner_backend`` / ``backend=air.client_backend``.

What differs from a real radio, on purpose or by bumble's design:

* Timing is not realistic: there is no connection interval, a notification arrives on the next
  event-loop iteration (~8 000 per second). Code under test must use sensor timestamps.
* There is no attribute cache: ``use_cached=True`` reads from the device like any other read.
* Unpairing is not supported (:class:`UnsupportedOperationError`).
* Everything on one air must run on the event loop that created it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal, TypeVar

from bleak import BleakScanner
from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import (
    AdvertisementData,
    AdvertisementDataCallback,
    BaseBleakScanner,
)
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bumble import att, core, hci
from bumble.controller import Controller
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt_client import CharacteristicProxy
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

__all__ = [
    "ADVERTISING_INTERVAL_MS",
    "REQUESTED_ATT_MTU",
    "AirRequiredError",
    "BumbleClient",
    "BumblePeerDetails",
    "BumbleScanner",
    "UnsupportedOperationError",
    "VirtualAir",
    "WrongAirError",
    "bumble_uuid_to_str",
]

_LOGGER = logging.getLogger(__name__)

#: Advertising interval of emulated peripherals. bumble's default (1 s) makes every scan and
#: every connect wait ~1 s for the next advertising event (research/ble-and-devices.md 2.4.1).
ADVERTISING_INTERVAL_MS: Final = 20.0

#: ATT MTU requested on connect. Without it bumble silently truncates notifications to
#: 20 bytes, and a Polar PMD frame with 36 ACC samples needs 229 (ble-and-devices.md 2.4.3).
REQUESTED_ATT_MTU: Final = 247

#: Largest LE link-layer payload with Data Length Extension (Core Vol 6 Part B 2.4.2.21).
LE_MAX_DATA_OCTETS: Final = 251

#: ATT MTU before the exchange (Bluetooth Core Vol 3 Part F 3.2.8).
DEFAULT_ATT_MTU: Final = 23

#: Opcode (1 byte) + attribute handle (2 bytes) in front of a write command or notification.
ATT_HEADER_SIZE: Final = 3

#: How long a user-requested disconnect may take before we give up waiting.
DISCONNECT_TIMEOUT_S: Final = 5.0

#: Keyword arguments that bleak passes to every backend for real platforms; meaningless here.
# ``_is_retry_client`` is passed by bleak-retry-connector's establish_connection, which the
# collector uses on every radio; platform backends ignore it as well.
_PLATFORM_KWARGS: Final = frozenset({"bluez", "cb", "winrt", "adapter", "_is_retry_client"})

_ServiceUuidListType = Literal[
    AdvertisingData.Type.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
]
_SERVICE_UUID_LIST_TYPES: Final[tuple[_ServiceUuidListType, ...]] = (
    AdvertisingData.Type.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)

_ServiceDataType = Literal[
    AdvertisingData.Type.SERVICE_DATA_16_BIT_UUID,
    AdvertisingData.Type.SERVICE_DATA_32_BIT_UUID,
    AdvertisingData.Type.SERVICE_DATA_128_BIT_UUID,
]
_SERVICE_DATA_TYPES: Final[tuple[_ServiceDataType, ...]] = (
    AdvertisingData.Type.SERVICE_DATA_16_BIT_UUID,
    AdvertisingData.Type.SERVICE_DATA_32_BIT_UUID,
    AdvertisingData.Type.SERVICE_DATA_128_BIT_UUID,
)

_T = TypeVar("_T")


class AirRequiredError(TypeError):
    """A bumble backend was created without saying which :class:`VirtualAir` to use."""


class WrongAirError(BleakError):
    """A device discovered on one :class:`VirtualAir` was used with another one."""


class UnsupportedOperationError(BleakError, NotImplementedError):
    """The operation has no meaning on the virtual radio (e.g. removing a bond)."""


def bumble_uuid_to_str(value: core.UUID) -> str:
    """Return a bumble UUID as bleak spells UUIDs: the full lowercase 128-bit form.

    Parameters
    ----------
    value
        A 16-, 32- or 128-bit bumble UUID.

    Returns
    -------
    str
        For example ``"0000180f-0000-1000-8000-00805f9b34fb"`` for the Battery service.
    """
    # bumble stores UUIDs little-endian; the textual form is big-endian.
    return str(uuid.UUID(bytes=value.to_bytes(force_128=True)[::-1]))


class VirtualAir:
    """An in-process radio environment that emulated wearables and the collector share.

    Every participant gets its own bumble :class:`~bumble.device.Device` with its own virtual
    controller on one :class:`~bumble.link.LocalLink`. bumble delivers link traffic with
    ``asyncio.get_running_loop().call_soon``, so an air belongs to the event loop that created
    it; create it inside that loop (in tests: inside the test or an async fixture).

    Raises
    ------
    RuntimeError
        When created outside a running event loop.

    Examples
    --------
    >>> async def main() -> None:  # doctest: +SKIP
    ...     air = VirtualAir()
    ...     band = air.new_device("EmuBand")
    """

    def __init__(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "VirtualAir() must be created inside a running event loop (in tests: inside "
                "the async test or an async fixture), because bumble's virtual link delivers "
                "every packet on the loop that is running at send time"
            ) from None
        self._link = LocalLink()  # type: ignore[no-untyped-call]
        # Keyed by the device itself (identity hash), which also keeps it alive until removed.
        self._controllers: dict[Device, Controller] = {}
        self._created = 0
        self._scanner_backend: type[BumbleScanner] | None = None
        self._client_backend: type[BumbleClient] | None = None

    def __repr__(self) -> str:
        return f"<VirtualAir devices={len(self._controllers)} created={self._created}>"

    @property
    def device_count(self) -> int:
        """Number of devices currently attached to the air (powered or not)."""
        return len(self._controllers)

    def new_device(self, name: str, address: str | None = None) -> Device:
        """Create a bumble device with its own virtual controller on this air.

        Parameters
        ----------
        name
            GAP device name (also names the controller in bumble's logs).
        address
            ``"AA:BB:CC:DD:EE:FF"`` to use as the device's random static address, or None
            for a fresh random static address.

        Returns
        -------
        bumble.device.Device
            Not yet powered on. Release it with :meth:`remove_device` when done.
        """
        self._check_loop()
        self._created += 1
        device_address = (
            hci.Address(address, hci.Address.RANDOM_DEVICE_ADDRESS)
            if address is not None
            else hci.Address.generate_static_address()
        )
        controller = Controller(f"{name}#{self._created}", link=self._link)
        # LE Data Length Extension (Bluetooth 4.2, on every current phone, adapter and strap):
        # a 226-byte PMD frame travels as one link-layer packet instead of nine 27-byte
        # fragments, which is also what makes the in-process link fast enough for the demo.
        controller.le_acl_data_packet_length = LE_MAX_DATA_OCTETS
        controller.supported_max_tx_octets = LE_MAX_DATA_OCTETS
        controller.supported_max_rx_octets = LE_MAX_DATA_OCTETS
        controller.suggested_max_tx_octets = LE_MAX_DATA_OCTETS
        device = Device(
            name=name,
            address=device_address,
            host=Host(controller, AsyncPipeSink(controller)),
        )
        self._controllers[device] = controller
        _LOGGER.debug("new device %r at %s on %r", name, device_address, self)
        return device

    async def remove_device(self, device: Device) -> None:
        """Power a device off and detach its controller from the air.

        bumble's ``power_off`` leaves the controller on the link, where it would keep receiving
        every advertisement; long runs with many reconnects would slow down. Idempotent.

        Parameters
        ----------
        device
            A device created by :meth:`new_device` on this air.
        """
        controller = self._controllers.pop(device, None)
        if controller is None:
            return
        try:
            await device.power_off()
        except Exception:
            _LOGGER.warning("powering off %r failed; detaching it anyway", device, exc_info=True)
        self._link.remove_controller(controller)

    @property
    def scanner_backend(self) -> type[BumbleScanner]:
        """A :class:`BumbleScanner` subclass bound to this air (no ``air=`` needed)."""
        if self._scanner_backend is None:
            self._scanner_backend = type(
                "BumbleScanner", (BumbleScanner,), {"bound_air": self, "__module__": __name__}
            )
        return self._scanner_backend

    @property
    def client_backend(self) -> type[BumbleClient]:
        """A :class:`BumbleClient` subclass bound to this air (no ``air=`` needed)."""
        if self._client_backend is None:
            self._client_backend = type(
                "BumbleClient", (BumbleClient,), {"bound_air": self, "__module__": __name__}
            )
        return self._client_backend

    def _check_loop(self) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not self._loop:
            raise RuntimeError(
                "this VirtualAir belongs to another event loop; create one VirtualAir per "
                "event loop (in pytest-asyncio: per test, inside the test or an async fixture)"
            )


@dataclass(frozen=True, slots=True)
class BumblePeerDetails:
    """What :class:`BumbleScanner` puts in ``BLEDevice.details``.

    Attributes
    ----------
    address
        The peer's typed bumble address (``BLEDevice.address`` is the plain string).
    air
        The air the advertisement was heard on.
    advertisement
        The latest bumble advertisement of the peer.
    """

    address: hci.Address
    air: VirtualAir
    advertisement: Advertisement


def _resolve_air(
    explicit: VirtualAir | None, bound: VirtualAir | None, role: Literal["scanner", "client"]
) -> VirtualAir:
    if explicit is not None and bound is not None and explicit is not bound:
        raise WrongAirError(f"the {role} backend class is bound to another VirtualAir than air=")
    air = explicit if explicit is not None else bound
    if air is None:
        if role == "scanner":
            fix = "BleakScanner(..., backend=BumbleScanner, air=air)"
        else:
            fix = "BleakClient(device, backend=BumbleClient, air=air)"
        raise AirRequiredError(
            f"the bumble {role} backend needs the VirtualAir to use: call {fix}, or pass "
            f"backend=air.{role}_backend"
        )
    if not isinstance(air, VirtualAir):
        raise AirRequiredError(f"air= must be a VirtualAir, got {type(air).__name__}")
    return air


def _current_task_is_cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _reject_unknown_kwargs(kwargs: dict[str, Any], role: str) -> None:
    unknown = set(kwargs) - _PLATFORM_KWARGS
    if unknown:
        raise TypeError(f"the bumble {role} backend got unexpected arguments: {sorted(unknown)}")


def _advertisement_to_bleak(advertisement: Advertisement) -> AdvertisementData:
    data = advertisement.data
    name = data.get(AdvertisingData.Type.COMPLETE_LOCAL_NAME) or data.get(
        AdvertisingData.Type.SHORTENED_LOCAL_NAME
    )
    service_uuids: list[str] = []
    for list_type in _SERVICE_UUID_LIST_TYPES:
        for uuids in data.get_all(list_type):
            service_uuids.extend(bumble_uuid_to_str(u) for u in uuids)
    manufacturer_data: dict[int, bytes] = {}
    for company_id, payload in data.get_all(AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA):
        manufacturer_data[company_id] = bytes(payload)
    service_data: dict[str, bytes] = {}
    for data_type in _SERVICE_DATA_TYPES:
        for service_uuid, service_payload in data.get_all(data_type):
            service_data[bumble_uuid_to_str(service_uuid)] = bytes(service_payload)
    tx_power = data.get(AdvertisingData.Type.TX_POWER_LEVEL)
    return AdvertisementData(
        local_name=name if isinstance(name, str) else None,
        manufacturer_data=manufacturer_data,
        service_data=service_data,
        # With active scanning the advertisement and the scan response are accumulated and
        # may repeat an AD structure; bleak lists each UUID once.
        service_uuids=list(dict.fromkeys(service_uuids)),
        tx_power=tx_power if isinstance(tx_power, int) else None,
        rssi=advertisement.rssi,
        platform_data=(advertisement,),
    )


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend listening on a :class:`VirtualAir`.

    bleak builds it as ``BumbleScanner(detection_callback, service_uuids, scanning_mode,
    bluez=..., cb=..., **user_kwargs)``; pass ``air=`` among the user keyword arguments.

    Parameters
    ----------
    detection_callback
        Passed on to bleak's base class.
    service_uuids
        Only advertisements listing one of these service UUIDs are reported.
    scanning_mode
        ``"active"`` (also collects scan responses) or ``"passive"``.
    air
        The air to listen on. Required unless the class came from
        :attr:`VirtualAir.scanner_backend`.
    **kwargs
        Platform arguments bleak always passes (``bluez``, ``cb``); ignored. Anything else is
        rejected with :class:`TypeError`, so a misspelt ``air`` is not silently dropped.
    """

    #: Set on the subclasses made by :attr:`VirtualAir.scanner_backend`.
    bound_air: ClassVar[VirtualAir | None] = None

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        *,
        air: VirtualAir | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        _reject_unknown_kwargs(kwargs, "scanner")
        self._air = _resolve_air(air, type(self).bound_air, "scanner")
        self._active = scanning_mode == "active"
        self._device: Device | None = None

    async def start(self) -> None:
        """Start listening for advertisements (forgets devices seen by a previous scan)."""
        if self._device is not None:
            raise BleakError("the scanner is already running")
        self.seen_devices = {}
        device = self._air.new_device("bleak-scanner")
        self._device = device
        device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        try:
            await device.power_on()
            await device.start_scanning(active=self._active, filter_duplicates=False)
        except BaseException:
            self._device = None
            await self._air.remove_device(device)
            raise
        _LOGGER.debug("scanning on %r (active=%s)", self._air, self._active)

    async def stop(self) -> None:
        """Stop listening. Idempotent."""
        device, self._device = self._device, None
        if device is None:
            return
        device.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        try:
            await device.stop_scanning()
        finally:
            await self._air.remove_device(device)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        advertisement_data = _advertisement_to_bleak(advertisement)
        if not self.is_allowed_uuid(advertisement_data.service_uuids):
            return
        address = advertisement.address.to_string(with_type_qualifier=False)
        ble_device = self.create_or_update_device(
            address,
            address,
            advertisement_data.local_name,
            BumblePeerDetails(advertisement.address, self._air, advertisement),
            advertisement_data,
        )
        self.call_detection_callbacks(ble_device, advertisement_data)


class BumbleClient(BaseBleakClient):
    """bleak client backend connecting over a :class:`VirtualAir`.

    bleak builds it as ``BumbleClient(address_or_ble_device, disconnected_callback=...,
    services=..., timeout=..., bluez=..., winrt=..., **user_kwargs)``; pass ``air=`` among the
    user keyword arguments.

    Parameters
    ----------
    address_or_ble_device
        A device found by :class:`BumbleScanner`, or its address string (then ``connect``
        first scans for it, as bleak's BlueZ backend does).
    disconnected_callback
        Called without arguments after a disconnection the user did not ask for.
    timeout
        Default time limit of ``connect`` in seconds (scan, connection, MTU exchange and
        service discovery together).
    services
        If given, only these services (normalised 128-bit UUID strings) are discovered.
    air
        The air to connect over. Required unless the class came from
        :attr:`VirtualAir.client_backend`.
    **kwargs
        Platform arguments bleak always passes (``bluez``, ``winrt``); ignored. Anything
        else is rejected with :class:`TypeError`.
    """

    #: Set on the subclasses made by :attr:`VirtualAir.client_backend`.
    bound_air: ClassVar[VirtualAir | None] = None

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None,
        timeout: float,
        services: set[str] | None = None,
        air: VirtualAir | None = None,
        **kwargs: Any,
    ) -> None:
        _reject_unknown_kwargs(kwargs, "client")
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._air = _resolve_air(air, type(self).bound_air, "client")
        self._ble_device = (
            address_or_ble_device if isinstance(address_or_ble_device, BLEDevice) else None
        )
        self._wanted_services = (
            frozenset(s.lower() for s in services) if services is not None else None
        )
        self._central: Device | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._characteristic_proxies: dict[int, CharacteristicProxy[bytes]] = {}
        self._subscriptions: dict[int, Callable[[bytes], None]] = {}
        self._disconnect_requested = False
        # True from the link-layer connection until discovery is done: a drop in that window
        # makes connect() raise instead of calling the disconnected callback.
        self._connecting = False
        # Strong references to clean-up tasks started from bumble callbacks.
        self._background_tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ properties

    @property
    def name(self) -> str:
        """The advertised name, or the address when the device advertised none."""
        if self._ble_device is not None and self._ble_device.name:
            return self._ble_device.name
        return self.address

    @property
    def mtu_size(self) -> int:
        """The negotiated ATT MTU (23 before the exchange or when not connected)."""
        if self._connection is None:
            return DEFAULT_ATT_MTU
        return int(self._connection.att_mtu)

    @property
    def is_connected(self) -> bool:
        """True between a successful ``connect`` and the disconnection."""
        return self._connection is not None

    # ---------------------------------------------------------------- connectivity

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, exchange the MTU, optionally pair, and discover the GATT database.

        Parameters
        ----------
        pair
            Pair (bumble's default "just works" pairing) before service discovery.
        **kwargs
            ``timeout`` overrides the constructor's timeout.

        Raises
        ------
        BleakDeviceNotFoundError
            Connecting by address and no device with that address advertised in time.
        TimeoutError
            The whole connect did not finish within the timeout.
        BleakError
            Already connected, or bumble refused the connection.
        """
        if self.is_connected:
            raise BleakError("Client is already connected")
        timeout = float(kwargs.get("timeout", self._timeout))
        target = await self._resolve_target(timeout)
        central = self._air.new_device("bleak-central")
        self._central = central
        self._disconnect_requested = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                await central.power_on()
                # bumble cancels its pending connection attempt itself on its own timeout.
                connection = await central.connect(target, timeout=max(deadline - loop.time(), 0.0))
                self._connection = connection
                self._connecting = True
                connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
                self._peer = Peer(connection)
                await self._peer.request_mtu(REQUESTED_ATT_MTU)
                if pair:
                    await connection.pair()
                self.services = await self._discover_services(self._peer)
                self._connecting = False
        except BaseException as exc:
            await self._abandon_connection()
            if isinstance(exc, asyncio.CancelledError) and not _current_task_is_cancelling():
                # bumble cancels pending ATT requests when the link drops mid-connect.
                raise BleakError(
                    f"{self.address} disconnected while connecting (MTU exchange or discovery)"
                ) from None
            if isinstance(exc, TimeoutError | core.TimeoutError):
                raise TimeoutError(
                    f"connecting to {self.address} did not finish within {timeout:g} s "
                    "(is the emulated device started and advertising on this air?)"
                ) from exc
            if isinstance(exc, core.BaseBumbleError):
                raise BleakError(f"connecting to {self.address} failed: {exc!r}") from exc
            raise
        _LOGGER.debug("connected to %s (%s), ATT MTU %d", self.address, self.name, self.mtu_size)

    async def disconnect(self) -> None:
        """Disconnect; never calls the disconnected callback. Idempotent."""
        connection = self._connection
        if connection is not None:
            self._disconnect_requested = True
            try:
                async with asyncio.timeout(DISCONNECT_TIMEOUT_S):
                    await connection.disconnect()
            except (TimeoutError, core.BaseBumbleError):
                # The link may already be going down; the bookkeeping below still runs.
                _LOGGER.debug("disconnect from %s did not complete cleanly", self.address)
            self._forget_connection()
        await self._release_central()
        self.services = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Pair with the connected device (bumble "just works" pairing)."""
        connection = self._require_connection()
        await self._gatt_call("pairing", connection.pair())

    async def unpair(self) -> None:
        """Not supported: the virtual radio keeps no bonds to remove."""
        raise UnsupportedOperationError(
            "unpair is not supported on the virtual radio: it keeps no bonds between runs"
        )

    # ------------------------------------------------------------------ GATT access

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        """Read a characteristic value (``use_cached`` has no effect: there is no cache)."""
        peer = self._require_peer()
        value = await self._gatt_call(
            f"read of {characteristic.uuid}", peer.read_value(characteristic.handle)
        )
        return bytearray(value)

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        """Read a descriptor value (``use_cached`` has no effect: there is no cache)."""
        peer = self._require_peer()
        value = await self._gatt_call(
            f"read of descriptor {descriptor.uuid}", peer.read_value(descriptor.handle)
        )
        return bytearray(value)

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        """Write a characteristic value, with or without a write response."""
        peer = self._require_peer()
        await self._gatt_call(
            f"write of {characteristic.uuid}",
            peer.write_value(characteristic.handle, bytes(data), with_response=response),
        )

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        """Write a descriptor value (always with a response, as ATT requires)."""
        peer = self._require_peer()
        await self._gatt_call(
            f"write of descriptor {descriptor.uuid}",
            peer.write_value(descriptor.handle, bytes(data), with_response=True),
        )

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        """Subscribe to notifications or, failing that, indications of a characteristic.

        Exceptions raised by ``callback`` are logged, never propagated into the BLE stack.
        """
        peer = self._require_peer()
        handle = characteristic.handle
        if handle in self._subscriptions:
            raise BleakError(f"notifications are already started on {characteristic.uuid}")
        properties = characteristic.properties
        if "notify" not in properties and "indicate" not in properties:
            raise BleakError(f"{characteristic.uuid} supports neither notify nor indicate")
        proxy = self._characteristic_proxies.get(handle)
        if proxy is None:
            raise BleakError(f"{characteristic.uuid} was not discovered on this connection")
        address = self.address

        def forward(value: bytes) -> None:
            try:
                callback(bytearray(value))
            except Exception:
                _LOGGER.exception("notification callback for %s on %s failed", proxy, address)

        self._subscriptions[handle] = forward
        try:
            await self._gatt_call(
                f"subscription to {characteristic.uuid}",
                peer.subscribe(proxy, forward, prefer_notify="notify" in properties),
            )
        except BaseException:
            self._subscriptions.pop(handle, None)
            raise

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Unsubscribe; does nothing if not subscribed or not connected (as BlueZ does)."""
        subscriber = self._subscriptions.pop(characteristic.handle, None)
        proxy = self._characteristic_proxies.get(characteristic.handle)
        if subscriber is None or proxy is None or self._peer is None:
            return
        await self._gatt_call(
            f"unsubscription from {characteristic.uuid}", self._peer.unsubscribe(proxy, subscriber)
        )

    # ---------------------------------------------------------------------- helpers

    async def _resolve_target(self, scan_timeout_s: float) -> hci.Address:
        if self._ble_device is None:
            found = await BleakScanner.find_device_by_address(
                self.address, timeout=scan_timeout_s, backend=self._air.scanner_backend
            )
            if found is None:
                raise BleakDeviceNotFoundError(
                    self.address, f"Device with address {self.address} was not found."
                )
            self._ble_device = found
        details = self._ble_device.details
        if not isinstance(details, BumblePeerDetails):
            raise BleakError(
                f"{self._ble_device!r} was not found by BumbleScanner; scan with "
                "backend=BumbleScanner on the same VirtualAir"
            )
        if details.air is not self._air:
            raise WrongAirError(
                f"{self._ble_device.address} was discovered on {details.air!r}, not on the "
                f"client's {self._air!r}; pass the same air= to the scanner and the client"
            )
        return details.address

    async def _discover_services(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        self._characteristic_proxies.clear()
        # Discover all primary services and filter here: discovering by UUID would miss
        # 16-bit services asked for in their 128-bit form (ATT compares raw bytes).
        for service_proxy in await peer.discover_services():
            service_uuid = bumble_uuid_to_str(service_proxy.uuid)
            if self._wanted_services is not None and service_uuid not in self._wanted_services:
                continue
            service = BleakGATTService(service_proxy, service_proxy.handle, service_uuid)
            collection.add_service(service)
            for characteristic_proxy in await service_proxy.discover_characteristics():
                mask = int(characteristic_proxy.properties)
                characteristic = BleakGATTCharacteristic(
                    characteristic_proxy,
                    characteristic_proxy.handle,
                    bumble_uuid_to_str(characteristic_proxy.uuid),
                    [name for bit, name in CHARACTERISTIC_PROPERTIES.items() if mask & bit],
                    self._max_write_without_response_size,
                    service,
                )
                collection.add_characteristic(characteristic)
                self._characteristic_proxies[characteristic_proxy.handle] = characteristic_proxy
                for descriptor_proxy in await characteristic_proxy.discover_descriptors():
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor_proxy,
                            descriptor_proxy.handle,
                            bumble_uuid_to_str(descriptor_proxy.type),
                            characteristic,
                        )
                    )
        return collection

    def _max_write_without_response_size(self) -> int:
        return self.mtu_size - ATT_HEADER_SIZE

    def _on_disconnection(self, reason: int) -> None:
        unsolicited = not (self._disconnect_requested or self._connecting)
        self._forget_connection()
        if not unsolicited:
            return
        _LOGGER.info("%s disconnected unexpectedly (HCI reason 0x%02X)", self.address, int(reason))
        # Detach this connection's central now (not whatever central a reconnect creates).
        central, self._central = self._central, None
        if central is None:
            return
        task = asyncio.get_running_loop().create_task(self._air.remove_device(central))
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)
        if self._disconnected_callback is not None:
            try:
                self._disconnected_callback()
            except Exception:
                _LOGGER.exception("disconnected callback for %s failed", self.address)

    def _forget_connection(self) -> None:
        self._connection = None
        self._peer = None
        self._subscriptions.clear()
        self._characteristic_proxies.clear()

    async def _abandon_connection(self) -> None:
        connection = self._connection
        self._disconnect_requested = True
        self._connecting = False
        self._forget_connection()
        self.services = None
        if connection is not None:
            try:
                async with asyncio.timeout(DISCONNECT_TIMEOUT_S):
                    await connection.disconnect()
            except (TimeoutError, core.BaseBumbleError):
                _LOGGER.debug("abandoning the half-open connection to %s", self.address)
        await self._release_central()

    async def _release_central(self) -> None:
        central, self._central = self._central, None
        if central is not None:
            await self._air.remove_device(central)

    def _require_connection(self) -> Connection:
        if self._connection is None:
            raise BleakError(f"Not connected to {self.address}")
        return self._connection

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"Not connected to {self.address}")
        return self._peer

    async def _gatt_call(self, what: str, operation: Awaitable[_T]) -> _T:
        """Await a bumble GATT operation and translate its errors into bleak's."""
        try:
            return await operation
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
        except core.TimeoutError as exc:
            raise TimeoutError(f"{what} on {self.address}: the device did not answer") from exc
        except core.BaseBumbleError as exc:
            raise BleakError(f"{what} on {self.address} failed: {exc!r}") from exc
        except asyncio.CancelledError:
            # bumble cancels the pending ATT request when the link drops; only a cancellation
            # of our own task is a real cancellation.
            if _current_task_is_cancelling():
                raise
            raise BleakError(f"{what} on {self.address} failed: the device disconnected") from None
