"""Test support: a minimal GATT peripheral (independent of any device protocol), polling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bumble import att
from bumble.core import AdvertisingData
from bumble.device import Connection
from bumble.gatt import Characteristic, CharacteristicValue, Service

from sensorhub.sim.backend import ADVERTISING_INTERVAL_MS, VirtualAir

BAND_NAME = "TinyBand"
BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"
ALERT_SERVICE = "00001802-0000-1000-8000-00805f9b34fb"
ALERT_LEVEL = "00002a06-0000-1000-8000-00805f9b34fb"
VENDOR_SERVICE = "5e4e0001-0000-4000-8000-00805f9b34fb"
VENDOR_STREAM = "5e4e0002-0000-4000-8000-00805f9b34fb"
VENDOR_SECRET = "5e4e0003-0000-4000-8000-00805f9b34fb"


class TinyBand:
    """A minimal peripheral: battery (read), alert sink (write), a stream and a protected char."""

    def __init__(self, air: VirtualAir, name: str = BAND_NAME) -> None:
        self.air = air
        self.device = air.new_device(name)
        self.alerts: list[bytes] = []
        self.connections: list[Connection] = []
        self.stream = Characteristic(
            VENDOR_STREAM,
            Characteristic.Properties.NOTIFY | Characteristic.Properties.READ,
            Characteristic.Permissions.READABLE,
            b"\x00",
        )
        self.device.add_services(
            [
                Service(
                    "180F",
                    [
                        Characteristic(
                            "2A19",
                            Characteristic.Properties.READ,
                            Characteristic.Permissions.READABLE,
                            bytes([87]),
                        )
                    ],
                ),
                Service(
                    "1802",
                    [
                        Characteristic(
                            "2A06",
                            Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
                            Characteristic.Permissions.WRITEABLE,
                            CharacteristicValue(write=self._on_alert),
                        )
                    ],
                ),
                Service(
                    VENDOR_SERVICE,
                    [
                        self.stream,
                        Characteristic(
                            VENDOR_SECRET,
                            Characteristic.Properties.READ,
                            Characteristic.Permissions.READABLE,
                            CharacteristicValue(read=self._refuse_read),
                        ),
                    ],
                ),
            ]
        )
        self.device.advertising_data = bytes(
            AdvertisingData(
                [
                    (AdvertisingData.Type.FLAGS, bytes([0x06])),
                    (AdvertisingData.Type.COMPLETE_LOCAL_NAME, name.encode()),
                    (
                        AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        bytes.fromhex("0f18 0218"),
                    ),
                ]
            )
        )
        self.device.on("connection", self.connections.append)

    def _on_alert(self, connection: Connection, value: bytes) -> None:
        self.alerts.append(bytes(value))

    def _refuse_read(self, connection: Connection) -> bytes:
        raise att.ATT_Error(att.ErrorCode.INSUFFICIENT_AUTHENTICATION)

    async def start(self) -> None:
        await self.device.power_on()
        await self.device.start_advertising(
            auto_restart=True,
            advertising_interval_min=ADVERTISING_INTERVAL_MS,
            advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )

    async def notify(self, value: bytes) -> None:
        await self.device.notify_subscribers(self.stream, value)

    async def drop_link(self) -> None:
        """Disconnect from the peripheral side (an unsolicited disconnect for the central)."""
        await self.connections[-1].disconnect()


async def wait_until(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout_s``.

    For effects that travel without an acknowledgement (a write without response).
    """
    async with asyncio.timeout(timeout_s):
        # Polling on purpose: the condition lives in bumble's callbacks, which signal nothing.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
