"""InfiniTime, Thingy:52 and MetaWear codecs: vectors, hand-worked vectors, round trips, fuzz."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from firmware_protocols import infinitime, metawear, thingy52
from firmware_protocols.errors import DecodeError, EncodeError
from tests.support.protocols import fuzz_decoder, load_vectors, vector, vector_bytes

i16 = st.integers(-32768, 32767)


def _documented(protocol: str, kind: str | None = None) -> dict[str, object]:
    for d in load_vectors()["documented_not_run"]:
        if d["protocol"] == protocol and (kind is None or kind in d["frame_kind"]):
            return dict(d)
    raise KeyError(protocol)


# ----------------------------------------------------------------------- InfiniTime


def test_vector_infinitime_motion() -> None:
    v = vector("infinitime-motion-raw")
    m = infinitime.decode_motion_raw(vector_bytes(v["id"]))
    assert m.acc_g.tolist() == [v["expected"]["acceleration"]["value"]]
    assert infinitime.encode_motion_raw(m) == vector_bytes(v["id"])


def test_documented_infinitime_alert() -> None:
    d = _documented("InfiniTime Alert Notification")
    text = d["inputs"]["text"]  # type: ignore[index]
    assert infinitime.encode_alert(infinitime.InfiniTimeAlert(text)).hex() == d["hex"]
    back = infinitime.decode_alert(bytes.fromhex(str(d["hex"])))
    assert back.text == text
    assert back.category == 0


def test_hand_infinitime() -> None:
    # 1 g = 1024 = 0x0400; -1 g = 0xfc00; 512 = 0.5 g
    m = infinitime.decode_motion_raw(bytes.fromhex("000400fc0002"))
    assert m.acc_g.tolist() == [[1.0, -1.0, 0.5]]
    assert infinitime.decode_step_count(bytes.fromhex("10270000")) == 10000
    assert infinitime.encode_step_count(10000) == bytes.fromhex("10270000")
    with pytest.raises(DecodeError, match="must be 6 bytes"):
        infinitime.decode_motion_raw(b"\x00" * 7)
    with pytest.raises(DecodeError, match="must be 4 bytes"):
        infinitime.decode_step_count(b"\x00")
    with pytest.raises(DecodeError, match="3-byte header"):
        infinitime.decode_alert(b"\x00\x01")
    with pytest.raises(EncodeError):
        infinitime.encode_step_count(-1)


@settings(deadline=None)
@given(hnp.arrays(np.int16, (1, 3), elements=i16))
def test_infinitime_motion_roundtrip(counts: np.ndarray) -> None:
    raw = infinitime.encode_motion_raw(infinitime.InfiniTimeMotion(counts))
    back = infinitime.decode_motion_raw(raw)
    np.testing.assert_array_equal(back.acc_counts, counts)
    assert infinitime.encode_motion_raw(back) == raw


@settings(deadline=None)
@given(st.binary(min_size=6, max_size=6))
def test_infinitime_motion_bytes_roundtrip(raw: bytes) -> None:
    assert infinitime.encode_motion_raw(infinitime.decode_motion_raw(raw)) == raw


@settings(deadline=None)
@given(st.integers(0, 0xFFFF_FFFF))
def test_infinitime_steps_roundtrip(steps: int) -> None:
    assert infinitime.decode_step_count(infinitime.encode_step_count(steps)) == steps


@settings(deadline=None)
@given(st.text(max_size=60), st.integers(0, 255), st.binary(min_size=2, max_size=2))
def test_infinitime_alert_roundtrip(text: str, cat: int, header: bytes) -> None:
    a = infinitime.InfiniTimeAlert(text, cat, header)
    raw = infinitime.encode_alert(a)
    assert infinitime.decode_alert(raw) == a
    assert infinitime.encode_alert(infinitime.decode_alert(raw)) == raw


# ----------------------------------------------------------------------- Thingy:52


def test_vector_thingy_raw() -> None:
    v = vector("thingy52-raw-motion")
    m = thingy52.decode_raw_motion(vector_bytes(v["id"]))
    exp = v["expected"]
    assert m.acc_g.tolist() == [exp["acceleration"]["value"]]
    assert m.gyro_dps.tolist() == [exp["angular_rate"]["value"]]
    assert m.compass_ut.tolist() == [exp["magnetic_field"]["value"]]
    assert thingy52.encode_raw_motion(m) == vector_bytes(v["id"])
    assert v["characteristic_uuid"] == thingy52.RAW_MOTION_UUID


def test_vector_thingy_pedometer() -> None:
    v = vector("thingy52-pedometer")
    p = thingy52.decode_pedometer(vector_bytes(v["id"]))
    assert p.steps == v["expected"]["steps"]["value"]
    assert p.time_ms == v["expected"]["time"]["value"]
    assert thingy52.encode_pedometer(p) == vector_bytes(v["id"])


def test_hand_thingy() -> None:
    # acc -2 g = -2048 = 00 f8 (Q6.10); gyro 250 deg/s = 8000 = 40 1f (Q11.5);
    # compass -50 uT = -800 = e0 fc (Q12.4)
    raw = bytes.fromhex("00f8" + "0000" * 2 + "401f" + "0000" * 2 + "e0fc" + "0000" * 2)
    m = thingy52.decode_raw_motion(raw)
    assert m.acc_g[0, 0] == -2.0
    assert m.gyro_dps[0, 0] == 250.0
    assert m.compass_ut[0, 0] == -50.0
    # config: pedometer 1000 ms (e8 03), temp 500 (f4 01), mag 100 (64 00), 50 Hz (32 00), wake 1
    c = thingy52.decode_motion_config(bytes.fromhex("e803f40164003200" + "01"))
    assert c == thingy52.MotionConfig(1000, 500, 100, 50, True)
    assert thingy52.encode_motion_config(c).hex() == "e803f4016400320001"
    with pytest.raises(DecodeError, match=r"outside 1\.\.200"):
        thingy52.decode_motion_config(bytes.fromhex("e803f4016400c90001"))
    with pytest.raises(DecodeError, match="wake-on-motion"):
        thingy52.decode_motion_config(bytes.fromhex("e803f4016400320002"))
    with pytest.raises(DecodeError, match="18 bytes"):
        thingy52.decode_raw_motion(raw[:-1])
    with pytest.raises(DecodeError, match="8 bytes"):
        thingy52.decode_pedometer(b"")
    assert thingy52.thingy_uuid(0x0406) == "ef680406-9b35-4933-9b10-52ffa9740042"


@settings(deadline=None)
@given(st.binary(min_size=18, max_size=18))
def test_thingy_raw_bytes_roundtrip(raw: bytes) -> None:
    assert thingy52.encode_raw_motion(thingy52.decode_raw_motion(raw)) == raw


@settings(deadline=None)
@given(hnp.arrays(np.int16, (3, 1, 3), elements=i16))
def test_thingy_raw_roundtrip(v: np.ndarray) -> None:
    m = thingy52.RawMotion(v[0], v[1], v[2])
    back = thingy52.decode_raw_motion(thingy52.encode_raw_motion(m))
    np.testing.assert_array_equal(back.gyro_counts, v[1])


@settings(deadline=None)
@given(st.integers(0, 0xFFFF_FFFF), st.integers(0, 0xFFFF_FFFF))
def test_thingy_pedometer_roundtrip(steps: int, t: int) -> None:
    p = thingy52.Pedometer(steps, t)
    assert thingy52.decode_pedometer(thingy52.encode_pedometer(p)) == p


@settings(deadline=None)
@given(
    st.builds(
        thingy52.MotionConfig,
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFF),
        st.integers(1, 200),
        st.booleans(),
    )
)
def test_thingy_config_roundtrip(c: thingy52.MotionConfig) -> None:
    raw = thingy52.encode_motion_config(c)
    assert thingy52.decode_motion_config(raw) == c
    assert thingy52.encode_motion_config(thingy52.decode_motion_config(raw)) == raw


# ----------------------------------------------------------------------- MetaWear


@pytest.mark.parametrize("vid", ["metawear-bmi160-acc-single", "metawear-bmi160-acc-packed"])
def test_vector_metawear(vid: str) -> None:
    v = vector(vid)
    a = metawear.decode_acc_data(vector_bytes(vid), range_g=v["context"]["range"]["value"])
    assert metawear.LSB_PER_G[a.range_g] == v["context"]["lsb_per_g"]
    assert a.acc_g.round(3).tolist() == v["expected"]["samples"]["value"]
    assert metawear.encode_acc_data(a) == vector_bytes(vid)


def test_documented_metawear() -> None:
    steps = _documented("MetaWear", "step counter")
    assert metawear.decode_step_count(bytes.fromhex(str(steps["hex"]))) == 43
    assert metawear.encode_step_count(43).hex() == steps["hex"]
    cmds = _documented("MetaWear", "commands")["commands"]
    assert isinstance(cmds, dict)
    config = metawear.AccConfig(200.0, 8)
    assert metawear.encode_acc_config(config).hex() == cmds["odr_range_200hz_8g"]
    assert metawear.decode_acc_config(bytes.fromhex(cmds["odr_range_200hz_8g"])) == config
    assert metawear.ENABLE_SAMPLING.hex() == cmds["enable_sampling"]
    assert metawear.DISABLE_SAMPLING.hex() == cmds["disable_sampling"]
    assert metawear.SUBSCRIBE_ACC.hex() == cmds["subscribe_acc"]
    assert metawear.UNSUBSCRIBE_ACC.hex() == cmds["unsubscribe_acc"]
    assert metawear.SUBSCRIBE_PACKED_ACC.hex() == cmds["subscribe_packed_acc"]
    assert metawear.READ_STEP_COUNT.hex() == cmds["read_step_count"]


def test_hand_metawear() -> None:
    # +-2 g: 16384 counts per g; 0x4000 = 1 g, 0xe000 = -8192 = -0.5 g
    a = metawear.decode_acc_data(bytes.fromhex("0304" + "0040" + "00e0" + "0000"), range_g=2)
    assert a.acc_g.tolist() == [[1.0, -0.5, 0.0]]
    assert not a.packed
    # 100 Hz = code 8, normal bandwidth 2 -> 0x28; 16 g = 0x0c
    assert metawear.encode_acc_config(metawear.AccConfig(100.0, 16)).hex() == "0303280c"
    with pytest.raises(DecodeError, match="must start with 03 04 or 03 1c"):
        metawear.decode_acc_data(bytes.fromhex("0305000000000000"))
    with pytest.raises(DecodeError, match="must be 20 bytes"):
        metawear.decode_acc_data(bytes.fromhex("031c0000"))
    with pytest.raises(DecodeError, match="unknown range code"):
        metawear.decode_acc_config(bytes.fromhex("03032907"))
    with pytest.raises(DecodeError, match="unknown rate code"):
        metawear.decode_acc_config(bytes.fromhex("03032f08"))
    with pytest.raises(ValueError, match="range_g"):
        metawear.decode_acc_data(bytes.fromhex("030416c494a22ad0"), range_g=3)
    with pytest.raises(EncodeError, match=r"no 30\.0 Hz"):
        metawear.encode_acc_config(metawear.AccConfig(30.0, 8))


@settings(deadline=None)
@given(st.booleans(), st.binary(min_size=18, max_size=18))
def test_metawear_bytes_roundtrip(packed: bool, body: bytes) -> None:
    raw = (b"\x03\x1c" + body) if packed else (b"\x03\x04" + body[:6])
    assert metawear.encode_acc_data(metawear.decode_acc_data(raw)) == raw


@settings(deadline=None)
@given(st.booleans(), st.sampled_from([2, 4, 8, 16]), st.data())
def test_metawear_roundtrip(packed: bool, range_g: int, data: st.DataObject) -> None:
    counts = data.draw(hnp.arrays(np.int16, (3 if packed else 1, 3), elements=i16))
    a = metawear.MetaWearAcc(counts, packed, range_g)
    back = metawear.decode_acc_data(metawear.encode_acc_data(a), range_g=range_g)
    np.testing.assert_array_equal(back.acc_counts, counts)
    np.testing.assert_allclose(back.acc_g, counts / metawear.LSB_PER_G[range_g])


@settings(deadline=None)
@given(
    st.sampled_from([12.5, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 0.78125]),
    st.sampled_from([2, 4, 8, 16]),
    st.integers(0, 7),
    st.booleans(),
)
def test_metawear_config_roundtrip(odr: float, rng: int, bw: int, us: bool) -> None:
    c = metawear.AccConfig(odr, rng, bw, us)
    raw = metawear.encode_acc_config(c)
    assert metawear.decode_acc_config(raw) == c
    assert metawear.encode_acc_config(metawear.decode_acc_config(raw)) == raw


# ----------------------------------------------------------------------- fuzz


def test_fuzz_infinitime() -> None:
    fuzz_decoder(
        infinitime.decode_motion_raw,
        [vector_bytes("infinitime-motion-raw")],
        seed=31,
        encode=infinitime.encode_motion_raw,
    )
    fuzz_decoder(
        infinitime.decode_step_count,
        [bytes.fromhex("10270000")],
        seed=32,
        encode=infinitime.encode_step_count,
    )
    fuzz_decoder(
        infinitime.decode_alert,
        [bytes.fromhex("000100") + b"Stand up"],
        seed=33,
        encode=infinitime.encode_alert,
    )


def test_fuzz_thingy() -> None:
    fuzz_decoder(
        thingy52.decode_raw_motion,
        [vector_bytes("thingy52-raw-motion")],
        seed=41,
        encode=thingy52.encode_raw_motion,
    )
    fuzz_decoder(
        thingy52.decode_pedometer,
        [vector_bytes("thingy52-pedometer")],
        seed=42,
        encode=thingy52.encode_pedometer,
    )
    fuzz_decoder(
        thingy52.decode_motion_config,
        [bytes.fromhex("e803f4016400320001")],
        seed=43,
        encode=thingy52.encode_motion_config,
    )


def test_fuzz_metawear() -> None:
    seeds = [vector_bytes("metawear-bmi160-acc-single"), vector_bytes("metawear-bmi160-acc-packed")]
    fuzz_decoder(metawear.decode_acc_data, seeds, seed=51, encode=metawear.encode_acc_data)
    fuzz_decoder(
        metawear.decode_acc_config,
        [bytes.fromhex("03032908")],
        seed=52,
        encode=metawear.encode_acc_config,
    )
    fuzz_decoder(
        metawear.decode_step_count,
        [bytes.fromhex("039a2b00")],
        seed=53,
        encode=metawear.encode_step_count,
    )
