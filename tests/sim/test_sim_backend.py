"""The bumble backend through bleak's public API only (BleakScanner / BleakClient)."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import (
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
    BleakGATTProtocolErrorCode,
)
from bleak_retry_connector import establish_connection

from sensorhub.sim.backend import (
    REQUESTED_ATT_MTU,
    AirRequiredError,
    BumbleClient,
    BumbleScanner,
    UnsupportedOperationError,
    VirtualAir,
    WrongAirError,
)
from tests.support.sim import (
    ALERT_LEVEL,
    ALERT_SERVICE,
    BAND_NAME,
    BATTERY_LEVEL,
    BATTERY_SERVICE,
    VENDOR_SECRET,
    VENDOR_SERVICE,
    VENDOR_STREAM,
    TinyBand,
    wait_until,
)


async def find_band(air: VirtualAir) -> BLEDevice:
    device = await BleakScanner.find_device_by_name(
        BAND_NAME, timeout=2.0, backend=BumbleScanner, air=air
    )
    assert device is not None
    return device


async def test_scan_finds_device_by_name_with_advertisement_data(
    air: VirtualAir, band: TinyBand
) -> None:
    found = await BleakScanner.discover(
        timeout=0.2, return_adv=True, backend=BumbleScanner, air=air
    )
    [(device, advertisement)] = found.values()
    assert device.name == BAND_NAME
    assert device.address == band.device.random_address.to_string(with_type_qualifier=False)
    assert advertisement.local_name == BAND_NAME
    assert advertisement.service_uuids == [BATTERY_SERVICE, ALERT_SERVICE]


async def test_scan_filters_by_service_uuid(air: VirtualAir, band: TinyBand) -> None:
    wanted = await BleakScanner.discover(
        timeout=0.2, service_uuids=[ALERT_SERVICE], backend=BumbleScanner, air=air
    )
    unwanted = await BleakScanner.discover(
        timeout=0.2, service_uuids=[VENDOR_SERVICE], backend=BumbleScanner, air=air
    )
    assert [d.name for d in wanted] == [BAND_NAME]
    assert unwanted == []


async def test_connect_discover_read_write_and_notify(air: VirtualAir, band: TinyBand) -> None:
    device = await find_band(air)
    received: asyncio.Queue[bytes] = asyncio.Queue()
    async with BleakClient(device, backend=BumbleClient, air=air) as client:
        assert client.is_connected
        assert client.name == BAND_NAME
        assert client.mtu_size == REQUESTED_ATT_MTU
        assert client.services.get_characteristic(VENDOR_STREAM) is not None
        assert await client.read_gatt_char(BATTERY_LEVEL) == bytearray([87])

        await client.write_gatt_char(ALERT_LEVEL, b"\x02", response=False)
        await wait_until(lambda: band.alerts == [b"\x02"])

        await client.start_notify(VENDOR_STREAM, lambda _, data: received.put_nowait(bytes(data)))
        big_frame = bytes(range(226))  # a full Polar PMD frame: needs the MTU exchange
        await band.notify(big_frame)
        assert await asyncio.wait_for(received.get(), 1.0) == big_frame

        await client.stop_notify(VENDOR_STREAM)
        await client.stop_notify(VENDOR_STREAM)  # not subscribed any more: a no-op
        await band.notify(b"late")
        await asyncio.sleep(0.01)
        assert received.empty()
    assert not client.is_connected


async def test_att_error_becomes_bleak_gatt_protocol_error(air: VirtualAir, band: TinyBand) -> None:
    async with BleakClient(await find_band(air), backend=BumbleClient, air=air) as client:
        with pytest.raises(BleakGATTProtocolError) as caught:
            await client.read_gatt_char(VENDOR_SECRET)
    assert caught.value.code == BleakGATTProtocolErrorCode.INSUFFICIENT_AUTHENTICATION


async def test_services_filter_limits_discovery(air: VirtualAir, band: TinyBand) -> None:
    device = await find_band(air)
    async with BleakClient(device, services=["180f"], backend=BumbleClient, air=air) as client:
        assert [s.uuid for s in client.services] == [BATTERY_SERVICE]


async def test_reconnects_three_times(air: VirtualAir, band: TinyBand) -> None:
    device = await find_band(air)
    for _ in range(3):
        async with BleakClient(device, backend=BumbleClient, air=air) as client:
            assert await client.read_gatt_char(BATTERY_LEVEL) == bytearray([87])
    # Every central was detached again: only the band is left on the air.
    assert air.device_count == 1


async def test_connect_by_address_string(air: VirtualAir, band: TinyBand) -> None:
    address = band.device.random_address.to_string(with_type_qualifier=False)
    async with BleakClient(address, timeout=2.0, backend=BumbleClient, air=air) as client:
        assert client.name == BAND_NAME


async def test_device_not_found_returns_none_at_the_timeout(air: VirtualAir) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()  # the test loop's virtual clock: exact whatever the machine's load
    found = await BleakScanner.find_device_by_name(
        "Nobody", timeout=0.2, backend=BumbleScanner, air=air
    )
    assert found is None
    assert loop.time() - started == pytest.approx(0.2, abs=0.01)


async def test_unknown_address_raises_device_not_found(air: VirtualAir) -> None:
    client = BleakClient("C0:00:00:00:00:01", timeout=0.2, backend=BumbleClient, air=air)
    with pytest.raises(BleakDeviceNotFoundError):
        await client.connect()


async def test_vanished_device_times_out(air: VirtualAir, band: TinyBand) -> None:
    device = await find_band(air)
    await band.device.stop_advertising()
    await band.device.power_off()
    client = BleakClient(device, timeout=0.3, backend=BumbleClient, air=air)
    with pytest.raises(TimeoutError):
        await client.connect()
    assert not client.is_connected
    assert air.device_count == 1  # the failed central was detached


async def test_unsolicited_disconnect_fires_callback(air: VirtualAir, band: TinyBand) -> None:
    disconnected = asyncio.Event()
    client = BleakClient(
        await find_band(air),
        disconnected_callback=lambda _: disconnected.set(),
        backend=BumbleClient,
        air=air,
    )
    await client.connect()
    await band.drop_link()
    await asyncio.wait_for(disconnected.wait(), 1.0)
    assert not client.is_connected
    with pytest.raises(BleakError):
        await client.read_gatt_char(BATTERY_LEVEL)
    await client.disconnect()  # after the link is gone: still fine


async def test_user_disconnect_is_idempotent_and_silent(air: VirtualAir, band: TinyBand) -> None:
    calls: list[BleakClient] = []
    client = BleakClient(
        await find_band(air), disconnected_callback=calls.append, backend=BumbleClient, air=air
    )
    await client.connect()
    await client.disconnect()
    await client.disconnect()
    await asyncio.sleep(0.01)
    assert calls == []
    assert air.device_count == 1


async def test_unpair_is_reported_as_unsupported(air: VirtualAir, band: TinyBand) -> None:
    async with BleakClient(await find_band(air), backend=BumbleClient, air=air) as client:
        with pytest.raises(UnsupportedOperationError):
            await client.unpair()


async def test_missing_air_names_the_fix() -> None:
    with pytest.raises(AirRequiredError, match="air=air"):
        BleakScanner(backend=BumbleScanner)
    with pytest.raises(AirRequiredError, match="air=air"):
        BleakClient("C0:00:00:00:00:01", backend=BumbleClient)


async def test_misspelt_backend_argument_is_rejected(air: VirtualAir) -> None:
    with pytest.raises(TypeError, match="airr"):
        BleakScanner(backend=BumbleScanner, air=air, airr=air)


async def test_bound_backend_classes_need_no_air_argument(air: VirtualAir, band: TinyBand) -> None:
    device = await BleakScanner.find_device_by_name(
        BAND_NAME, timeout=2.0, backend=air.scanner_backend
    )
    assert device is not None
    async with BleakClient(device, backend=air.client_backend) as client:
        assert await client.read_gatt_char(BATTERY_LEVEL) == bytearray([87])


async def test_device_from_another_air_is_refused(air: VirtualAir, band: TinyBand) -> None:
    device = await find_band(air)
    client = BleakClient(device, backend=BumbleClient, air=VirtualAir())
    with pytest.raises(WrongAirError):
        await client.connect()


def test_air_outside_event_loop_is_refused() -> None:
    with pytest.raises(RuntimeError, match="running event loop"):
        VirtualAir()


async def test_bleak_retry_connector_establishes_a_connection(
    air: VirtualAir, band: TinyBand
) -> None:
    # The collector connects through bleak-retry-connector, which passes its own marker
    # keyword to the backend.
    client = await establish_connection(
        BleakClient, await find_band(air), BAND_NAME, max_attempts=2, backend=BumbleClient, air=air
    )
    try:
        assert await client.read_gatt_char(BATTERY_LEVEL) == bytearray([87])
    finally:
        await client.disconnect()
