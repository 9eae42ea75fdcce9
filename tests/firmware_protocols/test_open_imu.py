"""The open sensorhub IMU profile: spec example, hand-worked vectors, round trips, fuzz."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from firmware_protocols import open_imu
from firmware_protocols.errors import DecodeError, EncodeError
from firmware_protocols.open_imu import (
    HapticPattern,
    ImuCommand,
    ImuOp,
    ImuPacket,
    ImuResponse,
    ImuResultCode,
    ImuStatus,
)
from tests.support.protocols import fuzz_decoder

SPEC = Path(open_imu.__file__).with_name("OPEN_IMU_SPEC.md")
#: the worked example of spec section 2
EXAMPLE = bytes.fromhex("0116070040420f000000000050c30000000108000000000000000010")


def test_spec_example_and_uuids() -> None:
    text = SPEC.read_text(encoding="utf-8")
    block = re.search(r"```\n(01 16 [0-9a-f ]+)\n```", text)
    assert block is not None
    assert bytes.fromhex(block.group(1).replace(" ", "")) == EXAMPLE
    for uuid in (open_imu.SERVICE_UUID, open_imu.DATA_UUID, open_imu.CONTROL_UUID):
        assert uuid in text
    p = open_imu.decode_imu_packet(EXAMPLE)
    assert (p.sequence, p.t_first_us, p.sample_rate_mhz, p.acc_range_g) == (7, 10**6, 50_000, 8)
    assert p.acc_g.tolist() == [[0.0, 0.0, 1.0]]
    assert p.gyro_dps is None
    assert open_imu.encode_imu_packet(p) == EXAMPLE


def test_hand_packet_with_gyro() -> None:
    # v1, header 22, seq 0xffff, t 0, 100 Hz (a0860100), flags GYRO|RESYNC (03), 2 samples,
    # acc 4 g, gyro 2000 dps (d007): sample 0 acc (8192, 0, 0) = 1 g, gyro (16384, 0, 0) =
    # 1000 dps; sample 1 acc (-8192, 0, 0), gyro (0, 0, -32768) = -2000 dps
    raw = bytes.fromhex(
        "0116ffff0000000000000000a0860100030204"
        + "00d007"
        + "002000000000"
        + "004000000000"
        + "00e000000000"
        + "000000000080"
    )
    p = open_imu.decode_imu_packet(raw)
    assert p.resync
    assert not p.clipped
    assert p.acc_g.tolist() == [[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]]
    assert p.gyro_dps is not None
    assert p.gyro_dps.tolist() == [[1000.0, 0.0, 0.0], [0.0, 0.0, -2000.0]]
    assert p.sample_times_ns().tolist() == [0, 10_000_000]
    assert open_imu.encode_imu_packet(p) == raw


def test_future_header_fields_are_skipped() -> None:
    # a later minor revision with a 24-byte header: a v1 reader skips the extra 2 bytes
    raw = bytearray(EXAMPLE)
    raw[1] = 24
    raw[22:22] = b"\xaa\xbb"
    p = open_imu.decode_imu_packet(bytes(raw))
    assert p.header_extra == b"\xaa\xbb"
    assert p.acc_g.tolist() == [[0.0, 0.0, 1.0]]
    assert open_imu.encode_imu_packet(p) == bytes(raw)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda b: b"\x02" + b[1:], "unsupported open-imu data version 2"),
        (lambda b: b[:10], "too short: 10 bytes"),
        (lambda b: b[:1] + b"\x10" + b[2:], "header_len 16"),
        (lambda b: b[:16] + b"\x08" + b[17:], "reserved"),
        (lambda b: b[:17] + b"\x00" + b[18:], "must be non-zero"),
        (lambda b: b[:20] + b"\xfa\x00" + b[22:], "contradicts the GYRO flag"),
        (lambda b: b + b"\x00", "need 28 bytes, got 29"),
    ],
)
def test_bad_packets(mutate: object, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        open_imu.decode_imu_packet(mutate(EXAMPLE))  # type: ignore[operator]


def test_hand_control_and_status() -> None:
    # SET_SAMPLE_RATE 52 Hz = 52000 mHz = 0x0000cb20
    assert open_imu.encode_command(ImuCommand(ImuOp.SET_SAMPLE_RATE, 52_000)).hex() == "0320cb0000"
    assert open_imu.decode_command(bytes.fromhex("01")) == ImuCommand(ImuOp.START)
    # HAPTIC 3 pulses, 200 ms on (c800), 100 ms off (6400), 80 % (50)
    h = open_imu.decode_command(bytes.fromhex("0703c800640050"))
    assert h == ImuCommand(ImuOp.HAPTIC, None, HapticPattern(3, 200, 100, 80))
    assert open_imu.decode_control(bytes.fromhex("8302")) == ImuResponse(
        3, ImuResultCode.INVALID_PARAMETER
    )
    # status: streaming + gyro available (03), 52 Hz, 8 g, 2000 dps
    s = open_imu.decode_status(bytes.fromhex("010320cb00000800d007"))
    assert s == ImuStatus(True, True, False, False, 52_000, 8, 2000)
    assert open_imu.encode_status(s).hex() == "010320cb00000800d007"
    with pytest.raises(DecodeError, match="unknown op"):
        open_imu.decode_command(b"\x7f")
    with pytest.raises(DecodeError, match="takes 4 parameter bytes, got 1"):
        open_imu.decode_command(b"\x03\x00")
    with pytest.raises(DecodeError, match="above 100"):
        open_imu.decode_command(bytes.fromhex("0703c800640065"))
    with pytest.raises(EncodeError, match="takes no value"):
        open_imu.encode_command(ImuCommand(ImuOp.STOP, 1))
    with pytest.raises(EncodeError, match="go together"):
        open_imu.encode_imu_packet(
            ImuPacket(0, 0, 1000, 8, np.zeros((1, 3), np.int16), gyro_range_dps=250)
        )


@st.composite
def packets(draw: st.DrawFn) -> ImuPacket:
    n = draw(st.integers(1, 37))
    gyro = draw(st.booleans())
    acc = draw(hnp.arrays(np.int16, (n, 3)))
    return ImuPacket(
        draw(st.integers(0, 0xFFFF)),
        draw(st.integers(0, (1 << 64) - 1)),
        draw(st.integers(1, 0xFFFF_FFFF)),
        draw(st.integers(1, 255)),
        acc,
        draw(hnp.arrays(np.int16, (n, 3))) if gyro else None,
        draw(st.integers(1, 0xFFFF)) if gyro else 0,
        draw(st.booleans()),
        draw(st.booleans()),
        draw(st.binary(max_size=4)),
    )


@settings(deadline=None)
@given(packets())
def test_packet_roundtrip(p: ImuPacket) -> None:
    raw = open_imu.encode_imu_packet(p)
    back = open_imu.decode_imu_packet(raw)
    for name in ("sequence", "t_first_us", "sample_rate_mhz", "acc_range_g", "gyro_range_dps"):
        assert getattr(back, name) == getattr(p, name)
    assert (back.resync, back.clipped, back.header_extra) == (p.resync, p.clipped, p.header_extra)
    np.testing.assert_array_equal(back.acc_counts, p.acc_counts)
    if p.gyro_counts is None:
        assert back.gyro_counts is None
    else:
        np.testing.assert_array_equal(back.gyro_counts, p.gyro_counts)
    assert open_imu.encode_imu_packet(back) == raw


@settings(deadline=None)
@given(
    st.sampled_from([ImuOp.START, ImuOp.STOP]).map(ImuCommand)
    | st.builds(ImuCommand, st.just(ImuOp.SET_SAMPLE_RATE), st.integers(0, 0xFFFF_FFFF))
    | st.builds(ImuCommand, st.just(ImuOp.SET_ACC_RANGE), st.integers(0, 0xFF))
    | st.builds(ImuCommand, st.just(ImuOp.SET_GYRO_RANGE), st.integers(0, 0xFFFF))
    | st.builds(ImuCommand, st.just(ImuOp.SET_TIME), st.integers(0, (1 << 64) - 1))
    | st.builds(
        ImuCommand,
        st.just(ImuOp.HAPTIC),
        st.none(),
        st.builds(
            HapticPattern,
            st.integers(0, 255),
            st.integers(0, 0xFFFF),
            st.integers(0, 0xFFFF),
            st.integers(0, 100),
        ),
    )
    | st.builds(ImuResponse, st.integers(0, 0x7F), st.sampled_from(list(ImuResultCode)))
)
def test_control_roundtrip(value: ImuCommand | ImuResponse) -> None:
    raw = open_imu.encode_control(value)
    assert open_imu.decode_control(raw) == value
    assert open_imu.encode_control(open_imu.decode_control(raw)) == raw


@settings(deadline=None)
@given(
    st.builds(
        ImuStatus,
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.integers(0, 0xFFFF_FFFF),
        st.integers(0, 255),
        st.integers(0, 0xFFFF),
        st.binary(max_size=6),
    )
)
def test_status_roundtrip(s: ImuStatus) -> None:
    raw = open_imu.encode_status(s)
    assert open_imu.decode_status(raw) == s
    assert open_imu.encode_status(open_imu.decode_status(raw)) == raw


def test_fuzz_open_imu() -> None:
    gyro = bytes.fromhex(
        "0116ffff0000000000000000a0860100030204" + "00d007" + "00200000000000400000000000e0"
        "00000000000000000080"
    )

    def reencode(raw: bytes, p: object) -> None:
        assert isinstance(p, ImuPacket)
        assert open_imu.encode_imu_packet(p) == raw

    fuzz_decoder(open_imu.decode_imu_packet, [EXAMPLE, gyro], seed=61, check=reencode)
    fuzz_decoder(
        open_imu.decode_control,
        [bytes.fromhex("0320cb0000"), bytes.fromhex("0703c800640050"), bytes.fromhex("8302")],
        seed=62,
        encode=open_imu.encode_control,
    )
    fuzz_decoder(
        open_imu.decode_status,
        [bytes.fromhex("010320cb00000800d007")],
        seed=63,
        encode=open_imu.encode_status,
    )
