"""Device clock -> UTC: offset, skew (drift), delays and clock steps."""

from __future__ import annotations

import numpy as np

from sensorhub.ble.timesync import DeviceClockMapper

NS = 1_000_000_000
UTC0 = 1_790_000_000 * NS
DEVICE0 = 600_000_000 * NS


def feed(mapper: DeviceClockMapper, skew_ppm: float, seconds: float, *, seed: int = 1) -> float:
    """Frames every 0.36 s with exponential delays (min 2 ms); return the last mapping error."""
    rng = np.random.default_rng(seed)
    error_s = 0.0
    for t in np.arange(0.0, seconds, 0.36):
        true_utc = UTC0 + round(t * NS)
        device = DEVICE0 + round(t * (1 + skew_ppm * 1e-6) * NS)
        delay = round((0.002 + rng.exponential(0.02)) * NS)
        mapper.observe(device, true_utc + delay)
        error_s = (mapper.to_utc(device) - true_utc) / NS
    return error_s


def test_offset_is_the_minimum_delay_not_the_average() -> None:
    mapper = DeviceClockMapper()
    error = feed(mapper, 0.0, 60.0)
    assert 0.0 <= error < 0.005  # the smallest delays (2 ms) bound the error


def test_skew_of_80_ppm_is_estimated_and_corrected_over_an_hour() -> None:
    mapper = DeviceClockMapper()
    error = feed(mapper, 80.0, 3600.0)
    # uncorrected, 80 ppm is 0.29 s after an hour
    assert abs(error) < 0.01
    assert abs(mapper.state.skew_ppm - (-80.0)) < 5.0  # device fast -> UTC offset shrinks


def test_no_sample_is_mapped_after_its_arrival() -> None:
    mapper = DeviceClockMapper()
    rng = np.random.default_rng(3)
    for t in np.arange(0.0, 300.0, 0.5):
        device = DEVICE0 + round(t * (1 - 50e-6) * NS)
        arrival = UTC0 + round(t * NS) + round(rng.exponential(0.01) * NS)
        mapper.observe(device, arrival)
        assert mapper.to_utc(device) <= arrival


def test_a_forward_clock_step_is_recognised_and_re_anchoring_keeps_utc_continuous() -> None:
    mapper = DeviceClockMapper(step_threshold_s=5.0)
    feed(mapper, 0.0, 100.0)
    host = UTC0 + 100 * NS
    assert not mapper.is_forward_step(DEVICE0 + 100 * NS, host)
    jumped = DEVICE0 + 130 * NS  # the device clock was set 30 s ahead
    assert mapper.is_forward_step(jumped, host)
    mapper.anchor(jumped, host)
    assert mapper.to_utc(jumped) == host
    assert mapper.to_utc(jumped + NS) == host + NS


def test_inverse_mapping() -> None:
    mapper = DeviceClockMapper()
    feed(mapper, 40.0, 600.0)
    device = DEVICE0 + 500 * NS
    assert abs(mapper.to_device(mapper.to_utc(device)) - device) <= 1
