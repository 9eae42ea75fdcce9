"""The emulated Polar H10 through bleak's public API, judged by its own ground-truth log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice

from firmware_protocols.polar_pmd import (
    PMD_CONTROL_POINT_UUID,
    PMD_DATA_UUID,
    PMD_SERVICE_UUID,
    POLAR_EPOCH_UNIX_NS,
    ControlPointOp,
    MeasurementType,
    PmdControlPointRequest,
    PmdControlPointResponse,
    PmdSetting,
    PmdStatus,
    decode_control_point_response,
    decode_features,
    decode_pmd_data,
    encode_control_point_request,
)
from firmware_protocols.sig import (
    ALERT_LEVEL_UUID,
    BATTERY_LEVEL_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    AlertLevel,
    decode_battery_level,
    decode_heart_rate_measurement,
    encode_alert_level,
)
from sensorhub.sim.backend import BumbleClient, BumbleScanner, VirtualAir
from sensorhub.sim.polar_h10 import SAMPLES_PER_FRAME, EmulatedPolarH10
from sensorhub.sim.scenario import SCENARIOS, Scenario, Segment
from tests.support.sim import wait_until

NAME = "Polar H10 0E2E0001"
#: 100 scenario seconds per real second: 100 Hz ACC gives ~280 frames per real second.
SPEED = 100.0
START_UTC_NS = 1_786_000_000 * 1_000_000_000  # 2026-08-05T...Z


@pytest.fixture
async def h10(air: VirtualAir) -> AsyncIterator[EmulatedPolarH10]:
    band = EmulatedPolarH10(
        air,
        scenario=SCENARIOS["e2e-short"],
        name=NAME,
        speed=SPEED,
        device_start_utc_ns=START_UTC_NS,
    )
    await band.start()
    yield band
    await band.stop()


async def find_h10(air: VirtualAir) -> BLEDevice:
    device = await BleakScanner.find_device_by_filter(
        lambda d, ad: (ad.local_name or "").startswith("Polar H10"),
        timeout=2.0,
        backend=BumbleScanner,
        air=air,
    )
    assert device is not None
    return device


class PmdClient:
    """The few lines a collector needs to drive the PMD control point (plain bleak)."""

    def __init__(self, client: BleakClient) -> None:
        self.client = client
        self.responses: asyncio.Queue[bytes] = asyncio.Queue()
        self.frames: asyncio.Queue[bytes] = asyncio.Queue()

    async def subscribe(self) -> None:
        await self.client.start_notify(
            PMD_CONTROL_POINT_UUID, lambda _, data: self.responses.put_nowait(bytes(data))
        )
        await self.client.start_notify(
            PMD_DATA_UUID, lambda _, data: self.frames.put_nowait(bytes(data))
        )

    async def request(
        self,
        op: ControlPointOp,
        measurement: MeasurementType = MeasurementType.ACC,
        settings: dict[PmdSetting, int] | None = None,
    ) -> PmdControlPointResponse:
        payload = encode_control_point_request(
            PmdControlPointRequest(op, measurement, settings or {})
        )
        return decode_control_point_response(await self.raw_request(payload))

    async def raw_request(self, payload: bytes) -> bytes:
        await self.client.write_gatt_char(PMD_CONTROL_POINT_UUID, payload, response=True)
        return await asyncio.wait_for(self.responses.get(), 2.0)

    async def start_acc(self, rate_hz: int = 100, range_g: int = 8) -> PmdControlPointResponse:
        return await self.request(
            ControlPointOp.REQUEST_MEASUREMENT_START,
            settings={
                PmdSetting.SAMPLE_RATE: rate_hz,
                PmdSetting.RESOLUTION: 16,
                PmdSetting.RANGE: range_g,
            },
        )


async def test_scan_finds_h10_by_name_and_by_heart_rate_service(
    air: VirtualAir, h10: EmulatedPolarH10
) -> None:
    by_name = await BleakScanner.find_device_by_name(
        NAME, timeout=2.0, backend=BumbleScanner, air=air
    )
    by_service = await BleakScanner.discover(
        timeout=0.2, service_uuids=[HEART_RATE_SERVICE_UUID], backend=BumbleScanner, air=air
    )
    assert by_name is not None
    assert by_name.address == h10.address
    assert [d.name for d in by_service] == [NAME]


async def test_gatt_layout_battery_and_alert(air: VirtualAir, h10: EmulatedPolarH10) -> None:
    async with BleakClient(await find_h10(air), backend=BumbleClient, air=air) as client:
        assert client.services.get_service(PMD_SERVICE_UUID) is not None
        assert decode_battery_level(bytes(await client.read_gatt_char(BATTERY_LEVEL_UUID))) == 93
        model = await client.read_gatt_char("00002a24-0000-1000-8000-00805f9b34fb")
        assert model == bytearray(b"H10")
        features = decode_features(bytes(await client.read_gatt_char(PMD_CONTROL_POINT_UUID)))
        assert features.measurements == {MeasurementType.ACC}

        await client.write_gatt_char(
            ALERT_LEVEL_UUID, encode_alert_level(AlertLevel.HIGH), response=False
        )
        await client.write_gatt_char(ALERT_LEVEL_UUID, b"\x07", response=False)  # reserved
        await wait_until(lambda: h10.rejected_alert_writes == 1)
    [alert] = h10.alerts_received
    assert alert.level is AlertLevel.HIGH
    assert 0 < alert.scenario_time_s < 60
    assert alert.device_time_ns + POLAR_EPOCH_UNIX_NS == pytest.approx(
        START_UTC_NS + alert.scenario_time_s * 1e9, abs=1e6
    )
    assert h10.rejected_alert_writes == 1


async def test_acc_frames_match_the_ground_truth(air: VirtualAir, h10: EmulatedPolarH10) -> None:
    async with BleakClient(await find_h10(air), backend=BumbleClient, air=air) as client:
        pmd = PmdClient(client)
        await pmd.subscribe()
        response = await pmd.start_acc(rate_hz=100)
        assert (response.op, response.status) == (
            ControlPointOp.REQUEST_MEASUREMENT_START,
            PmdStatus.SUCCESS,
        )
        frames = [decode_pmd_data(await asyncio.wait_for(pmd.frames.get(), 2.0)) for _ in range(10)]
        stop = await pmd.request(ControlPointOp.STOP_MEASUREMENT)
        assert stop.status is PmdStatus.SUCCESS
        assert not h10.is_streaming

    sent = h10.frames_sent[:10]
    for frame, truth in zip(frames, sent, strict=True):
        assert frame.measurement is MeasurementType.ACC
        assert (frame.frame_type, frame.compressed) == (1, False)
        assert len(frame) == SAMPLES_PER_FRAME
        assert frame.timestamp_ns == truth.timestamp_ns
        np.testing.assert_allclose(frame.acc_g, h10.acc_truth_g(truth), atol=0.0005)
    # consecutive frames, 36 samples of 10 ms apart, on the scenario's time grid
    assert np.all(np.diff([f.timestamp_ns for f in frames]) == SAMPLES_PER_FRAME * 10_000_000)
    assert [s.first_sample_index for s in sent] == [
        sent[0].first_sample_index + k * SAMPLES_PER_FRAME for k in range(10)
    ]
    # sitting: about 1 g of gravity
    assert np.linalg.norm(frames[0].acc_g.mean(axis=0)) == pytest.approx(1.0, abs=0.02)


async def test_streaming_is_paced_by_the_scaled_clock(
    air: VirtualAir, h10: EmulatedPolarH10
) -> None:
    async with BleakClient(await find_h10(air), backend=BumbleClient, air=air) as client:
        pmd = PmdClient(client)
        await pmd.subscribe()
        await pmd.start_acc(rate_hz=50)
        await asyncio.sleep(0.2)
        elapsed_s = h10.scenario_elapsed_s()
        sent = list(h10.frames_sent)
    assert sent, "no frame in 0.2 s at 100x"
    # never ahead of the wearer's time, and not lagging by more than a frame (on the test
    # loop's virtual clock no host delay adds to that, whatever the machine's load)
    assert sent[-1].last_sample_time_s <= elapsed_s
    assert elapsed_s - sent[-1].last_sample_time_s < SAMPLES_PER_FRAME / 50
    assert {s.sample_rate_hz for s in sent} == {50}


async def test_control_point_errors(air: VirtualAir, h10: EmulatedPolarH10) -> None:
    async with BleakClient(await find_h10(air), backend=BumbleClient, air=air) as client:
        pmd = PmdClient(client)
        await pmd.subscribe()
        settings = await pmd.request(ControlPointOp.GET_MEASUREMENT_SETTINGS)
        assert settings.status is PmdStatus.SUCCESS
        assert settings.settings() == {
            PmdSetting.SAMPLE_RATE: (25, 50, 100, 200),
            PmdSetting.RESOLUTION: (16,),
            PmdSetting.RANGE: (2, 4, 8),
        }
        assert (await pmd.start_acc(rate_hz=130)).status is PmdStatus.INVALID_SAMPLE_RATE
        assert (await pmd.start_acc(range_g=16)).status is PmdStatus.INVALID_RANGE
        ecg = await pmd.request(ControlPointOp.REQUEST_MEASUREMENT_START, MeasurementType.ECG)
        assert ecg.status is PmdStatus.NOT_SUPPORTED
        stop = await pmd.request(ControlPointOp.STOP_MEASUREMENT)
        assert stop.status is PmdStatus.ALREADY_IN_STATE
        # an op code the codec does not know either: the raw echo F0 | op | type | status
        unknown_op = await pmd.raw_request(bytes([0x0C, 0x02]))
        assert unknown_op == bytes([0xF0, 0x0C, 0x02, PmdStatus.INVALID_OP_CODE])
        assert (await pmd.start_acc()).status is PmdStatus.SUCCESS
        assert (await pmd.start_acc()).status is PmdStatus.ALREADY_IN_STATE
    assert len(h10.control_log) == 8


async def test_disconnect_stops_the_stream_and_reconnects_three_times(
    air: VirtualAir, h10: EmulatedPolarH10
) -> None:
    device = await find_h10(air)
    for _ in range(3):
        async with BleakClient(device, backend=BumbleClient, air=air) as client:
            pmd = PmdClient(client)
            await pmd.subscribe()
            assert (await pmd.start_acc()).status is PmdStatus.SUCCESS
            decode_pmd_data(await asyncio.wait_for(pmd.frames.get(), 2.0))
        await wait_until(lambda: not h10.is_streaming)
    sent_after_last_disconnect = len(h10.frames_sent)
    await asyncio.sleep(0.1)
    assert len(h10.frames_sent) == sent_after_last_disconnect


async def test_strap_side_disconnect_fires_disconnected_callback(
    air: VirtualAir, h10: EmulatedPolarH10
) -> None:
    disconnected = asyncio.Event()
    client = BleakClient(
        await find_h10(air),
        disconnected_callback=lambda _: disconnected.set(),
        backend=BumbleClient,
        air=air,
    )
    await client.connect()
    pmd = PmdClient(client)
    await pmd.subscribe()
    await pmd.start_acc()
    await h10.disconnect_all()
    await asyncio.wait_for(disconnected.wait(), 1.0)
    assert not client.is_connected
    assert not h10.is_streaming


async def test_heart_rate_notifications(air: VirtualAir, h10: EmulatedPolarH10) -> None:
    measurements: asyncio.Queue[bytes] = asyncio.Queue()
    async with BleakClient(await find_h10(air), backend=BumbleClient, air=air) as client:
        await client.start_notify(
            HEART_RATE_MEASUREMENT_UUID, lambda _, data: measurements.put_nowait(bytes(data))
        )
        value = await asyncio.wait_for(measurements.get(), 1.0)
    measurement = decode_heart_rate_measurement(value)
    assert measurement.sensor_contact
    assert 50 <= measurement.heart_rate_bpm <= 90  # the wearer is sitting
    [rr_s] = measurement.rr_intervals_s
    assert rr_s == pytest.approx(60 / measurement.heart_rate_bpm, abs=1 / 1024)


async def test_device_clock_defaults_to_the_h10_reset_value(air: VirtualAir) -> None:
    scenario = Scenario("still", (Segment("lying", 60),))
    band = EmulatedPolarH10(air, scenario=scenario)
    assert band.device_time_ns() == 599_616_000_000_000_000
    with pytest.raises(ValueError, match="not 30"):
        EmulatedPolarH10(air, scenario=scenario, acc_rate_hz=30)
