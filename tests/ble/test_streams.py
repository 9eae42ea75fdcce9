"""ImuStream: continuity by sequence counter and device time, gaps, clock steps, reboots."""

from __future__ import annotations

import numpy as np

from sensorhub.ble.streams import ImuFrame, ImuStream, StreamTiming

NS = 1_000_000_000
RATE = 50.0
PERIOD = NS // 50
N = 25
UTC0 = 1_790_000_000 * NS
DEVICE0 = 1_000 * NS


def frame(k: int, *, seq: int | None = None, device_shift_ns: int = 0) -> ImuFrame:
    """Frame k of a steady stream: device time of sample i is DEVICE0 + i * PERIOD."""
    first = DEVICE0 + k * N * PERIOD + device_shift_ns
    return ImuFrame(
        np.zeros((N, 3)),
        RATE,
        device_first_ns=first if seq is not None else None,
        device_last_ns=first + (N - 1) * PERIOD,
        sequence=seq,
    )


def arrival(k: int) -> int:
    """Host UTC when frame k arrives (its last sample + 3 ms)."""
    return UTC0 + ((k + 1) * N - 1) * PERIOD + 3_000_000


def run(stream: ImuStream, ks: list[int], **kw: object) -> list[np.ndarray]:
    out = []
    for k in ks:
        block = stream.feed(arrival(k), frame(k, **kw))  # type: ignore[arg-type]
        if block is not None:
            out.append(block.t_ns)
    return out


def test_contiguous_frames_are_evenly_spaced() -> None:
    stream = ImuStream()
    t = np.concatenate(run(stream, list(range(10)), seq=None))
    np.testing.assert_array_equal(np.diff(t), PERIOD)
    assert stream.counters.samples == 10 * N
    assert not stream.counters.gaps


def test_sequence_counter_finds_lost_frames_duplicates_and_out_of_order() -> None:
    stream = ImuStream()
    for k, seq in [(0, 0), (1, 1), (1, 1), (3, 3), (2, 2), (4, 4)]:
        stream.feed(arrival(k), frame(k, seq=seq))
    c = stream.counters
    assert c.duplicates == 1
    assert c.out_of_order == 1
    [gap] = c.gaps
    # the gap lies between the last sample of frame 1 and the first of frame 3 (+-1 period)
    assert abs(gap.before_ns - gap.after_ns - (N + 1) * PERIOD) <= PERIOD
    assert c.samples == 4 * N


def test_lost_frames_without_counter_are_a_gap_with_correct_bounds() -> None:
    stream = ImuStream()
    blocks = run(stream, [0, 1, 2, 6, 7], seq=None)
    [gap] = stream.counters.gaps
    assert gap.after_ns == blocks[2][-1]
    assert gap.before_ns == blocks[3][0]
    assert abs((gap.before_ns - gap.after_ns) - (3 * N + 1) * PERIOD) <= PERIOD


def test_a_forward_clock_jump_is_a_step_not_a_gap() -> None:
    stream = ImuStream(timing=StreamTiming(step_threshold_s=5.0))
    for k in range(20):
        shift = 30 * NS if k >= 10 else 0
        stream.feed(arrival(k), frame(k, device_shift_ns=shift))
    assert stream.counters.clock_steps == 1
    assert not stream.counters.gaps
    assert stream.counters.samples == 20 * N


def test_a_reboot_resets_the_device_clock_and_the_stream_continues() -> None:
    stream = ImuStream()
    for k in range(10):
        stream.feed(arrival(k), frame(k, seq=k))
    # reboot: 5 s offline, then the clock and the counter start again from zero
    stream.reset_connection()
    times = []
    for j in range(5):
        k = 10 + 10 + j  # 10 frames (5 s) later
        f = ImuFrame(
            np.zeros((N, 3)), RATE,
            device_first_ns=j * N * PERIOD, device_last_ns=(j * N + N - 1) * PERIOD, sequence=j,
        )  # fmt: skip
        block = stream.feed(arrival(k), f)
        assert block is not None
        times.append(block.t_ns)
    assert stream.counters.clock_steps == 1
    [gap] = stream.counters.gaps
    assert abs((gap.before_ns - gap.after_ns) - (10 * N + 1) * PERIOD) <= 2 * PERIOD
    t = np.concatenate(times)
    assert np.all(np.diff(t) > 0)


def test_unstamped_device_places_a_new_connection_from_host_time() -> None:
    stream = ImuStream(timing=StreamTiming(host_jitter_s=0.2))
    for k in range(5):
        stream.feed(arrival(k), ImuFrame(np.zeros((N, 3)), RATE))
    stream.reset_connection()
    for k in range(25, 30):
        stream.feed(arrival(k), ImuFrame(np.zeros((N, 3)), RATE))
    [gap] = stream.counters.gaps
    assert abs((gap.before_ns - gap.after_ns) - (20 * N + 1) * PERIOD) <= 0.01 * NS


def test_a_corrupted_frame_of_an_unstamped_device_is_a_gap_not_a_shift() -> None:
    """Without counter or time, an undecodable motion frame still took its samples' time."""
    from firmware_protocols.errors import DecodeError

    stream = ImuStream()
    blocks = [stream.feed(arrival(k), ImuFrame(np.zeros((N, 3)), RATE)) for k in range(3)]
    stream.decode_error(DecodeError("mangled"), b"\x00", "test", motion=True)
    later = stream.feed(arrival(4), ImuFrame(np.zeros((N, 3)), RATE))
    assert blocks[-1] is not None
    assert later is not None
    [gap] = stream.counters.gaps
    assert later.t_ns[0] - blocks[-1].t_ns[-1] == (N + 1) * PERIOD  # the lost frame's slot
    assert gap.before_ns - gap.after_ns == (N + 1) * PERIOD
    assert stream.counters.decode_errors == 1
