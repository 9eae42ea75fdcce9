"""PMD notifications -> SampleBlocks: timestamps, duplicates, out-of-order, gaps, bad bytes."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_protocols.polar_pmd import MeasurementType, PmdDataFrame, encode_pmd_data
from sensorhub.ble.polar_stream import PolarAccStream

RATE = 50
PERIOD = 1_000_000_000 // RATE
N = 36
T_DEVICE0 = 700_000_000_000_000_000  # ns since 2000 (device clock)
HOST0 = 1_790_000_000_000_000_000  # UTC ns at the first frame


def frame(k: int, *, n: int = N) -> bytes:
    """The k-th frame of a steady 50 Hz stream: samples encode their own index in x."""
    idx = np.arange(k * N, k * N + n, dtype=np.int32)
    samples = np.stack([idx % 2000 - 1000, np.zeros_like(idx), np.full_like(idx, 1000)], axis=1)
    last_ns = T_DEVICE0 + ((k + 1) * N - 1) * PERIOD
    return encode_pmd_data(PmdDataFrame(MeasurementType.ACC, last_ns, 1, False, samples))


def test_contiguous_frames_give_evenly_spaced_utc_times_anchored_at_first_frame() -> None:
    stream = PolarAccStream(RATE)
    blocks = [stream.feed(HOST0 + k * N * PERIOD, frame(k)) for k in range(5)]
    assert all(b is not None for b in blocks)
    t = np.concatenate([b.t_ns for b in blocks if b is not None])
    np.testing.assert_array_equal(np.diff(t), PERIOD)
    assert t[N - 1] == HOST0  # the first frame's last sample is anchored to its arrival
    acc = np.concatenate([b.acc_g for b in blocks if b is not None])
    np.testing.assert_allclose(acc[:3], [[-1.0, 0, 1.0], [-0.999, 0, 1.0], [-0.998, 0, 1.0]])
    assert stream.counters.frames == 5
    assert stream.counters.samples == 5 * N
    assert all(b.gap_before_ns == 0 for b in blocks if b is not None)


def test_duplicates_and_out_of_order_frames_are_dropped_and_counted() -> None:
    stream = PolarAccStream(RATE)
    assert stream.feed(HOST0, frame(0)) is not None
    assert stream.feed(HOST0, frame(1)) is not None
    assert stream.feed(HOST0, frame(1)) is None  # duplicate
    assert stream.feed(HOST0, frame(0)) is None  # late
    assert stream.feed(HOST0, frame(2)) is not None
    c = stream.counters
    assert (c.frames, c.duplicates, c.out_of_order, c.samples) == (3, 1, 1, 3 * N)


def test_lost_frames_are_a_recorded_gap_never_filled() -> None:
    stream = PolarAccStream(RATE)
    first = stream.feed(HOST0, frame(0))
    block = stream.feed(HOST0, frame(4))  # frames 1-3 lost
    assert first is not None
    assert block is not None
    assert len(block) == N  # no invented samples
    expected_first = first.t_ns[-1] + 3 * N * PERIOD + PERIOD
    assert block.t_ns[0] == expected_first
    assert block.gap_before_ns == 3 * N * PERIOD
    [gap] = stream.counters.gaps
    assert (gap.after_ns, gap.before_ns) == (first.t_ns[-1], expected_first)


@pytest.mark.parametrize("payload", [b"", b"\x02", bytes(9), b"\x02" + bytes(9) + b"\x01\x00"])
def test_malformed_frames_are_counted_not_raised(payload: bytes) -> None:
    stream = PolarAccStream(RATE)
    assert stream.feed(HOST0, payload) is None
    assert stream.counters.decode_errors == 1
    assert stream.feed(HOST0, frame(0)) is not None  # the stream goes on


def test_reconnect_re_anchors_time() -> None:
    stream = PolarAccStream(RATE)
    stream.feed(HOST0, frame(10))
    stream.reset_connection()
    # after a reboot the device clock restarts (frame 0 is older than frame 10)
    block = stream.feed(HOST0 + 10**12, frame(0))
    assert block is not None
    assert block.t_ns[-1] == HOST0 + 10**12
