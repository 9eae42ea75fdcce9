"""The on-disk outbox: durable, ordered, size-bounded, private, and exact about its records."""

from __future__ import annotations

import math
import os
import sqlite3
import stat
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorhub.errors import OutboxError
from sensorhub.model import (
    CurrentBout,
    EpochSummary,
    Fall,
    GaitBout,
    NonWear,
    Posture,
    PostureSegment,
    StaticBout,
)
from sensorhub.store import (
    DeviceRecord,
    LiveRecord,
    NudgeRecord,
    Outbox,
    WearerRecords,
    nudge_id,
    outbox_path_for,
)
from sensorhub.store.records import record_from_json, record_to_json

T0 = 1_795_422_600_000_000_000

times = st.integers(min_value=0, max_value=2**62)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
maybe = st.none() | finite
postures = st.sampled_from(list(Posture))

events = st.one_of(
    st.builds(StaticBout, times, times, postures),
    st.builds(PostureSegment, times, times, postures),
    st.builds(NonWear, times, times),
    st.builds(Fall, times, finite),
    st.builds(
        GaitBout,
        times,
        times,
        st.integers(0, 10**6),
        finite,
        maybe,
        maybe,
        maybe,
        maybe,
        maybe,
        maybe,
        maybe,
        maybe,
    ),
)
epochs = st.builds(
    EpochSummary,
    times,
    finite,
    postures,
    finite,
    st.integers(0, 10**4),
    st.booleans(),
    st.dictionaries(st.sampled_from([p.value for p in Posture]), finite, max_size=3),
    maybe,
)
records = st.one_of(
    st.builds(
        WearerRecords,
        st.text(min_size=1, max_size=20),
        st.lists(events, max_size=4).map(tuple),
        st.lists(epochs, max_size=4).map(tuple),
    ),
    st.builds(
        NudgeRecord,
        st.text(min_size=1),
        times,
        st.text(),
        times,
        finite,
        st.integers(1, 2),
        st.text(),
        st.text(),
        st.text(),
        st.none() | st.text(),
        st.uuids(),
    ),
    st.builds(
        DeviceRecord,
        st.text(min_size=1),
        st.text(),
        st.text(),
        st.text(),
        st.text(),
        st.none() | st.integers(0, 100),
        st.none() | times,
        st.dictionaries(st.text(max_size=8), st.integers(-(2**40), 2**40), max_size=4),
    ),
    st.builds(
        LiveRecord,
        st.text(min_size=1),
        postures,
        st.none()
        | st.builds(CurrentBout, times, postures, times, st.floats(0, 1e4), st.floats(0, 1e4)),
        times,
        st.none() | times,
        st.none() | st.tuples(finite, finite, finite),
    ),
)


@given(records)
@settings(max_examples=300, deadline=None)
def test_every_record_survives_its_json_form_exactly(record: object) -> None:
    assert record_from_json(record_to_json(record)) == record  # type: ignore[arg-type]


def test_a_nan_measure_comes_back_as_nan() -> None:
    epoch = EpochSummary(T0, 60.0, Posture.WALKING, math.nan, steps=80)
    back = record_from_json(record_to_json(WearerRecords("w", epochs=(epoch,))))
    assert isinstance(back, WearerRecords)
    assert math.isnan(back.epochs[0].enmo_mg)


def test_nudge_ids_are_deterministic_and_distinct() -> None:
    assert nudge_id("w1", T0, 1) == nudge_id("w1", T0, 1)
    assert len({nudge_id("w1", T0, 1), nudge_id("w1", T0, 2), nudge_id("w2", T0, 1)}) == 3


def _bout_records(n: int) -> list[WearerRecords]:
    return [
        WearerRecords("w1", events=(StaticBout(T0 + i, T0 + i + 10**12, Posture.SITTING),))
        for i in range(n)
    ]


def test_records_survive_closing_and_reopening_in_order(tmp_path: Path) -> None:
    path = tmp_path / "var" / "hub.db.outbox"
    outbox = Outbox(path)
    outbox.put(_bout_records(5))
    outbox.close()  # as after kill -9: everything put is on disk already
    again = Outbox(path)
    entries = again.peek()
    assert [e.record for e in entries] == _bout_records(5)
    assert again.pending == 5
    again.remove([e.seq for e in entries[:2]])
    assert [e.record for e in again.peek()] == _bout_records(5)[2:]
    assert again.pending == 3


def test_the_outbox_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "hub.db.outbox"
    Outbox(path).put(_bout_records(1))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for side in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) == 0o600, side


def test_a_full_outbox_refuses_with_a_clear_error_and_keeps_what_it_has(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o", max_bytes=2_000)
    each = len(record_to_json(_bout_records(1)[0]).__repr__())  # about one record's size
    kept = 0
    while outbox.pending_bytes + 2 * each < outbox.max_bytes:
        outbox.put(_bout_records(kept + 1)[kept:])
        kept += 1
    with pytest.raises(OutboxError, match="is full"):
        outbox.put(_bout_records(100)[kept:])
    assert 0 < kept < 100
    assert outbox.pending == kept
    assert [e.record for e in outbox.peek(1000)] == _bout_records(kept)


def test_snapshots_keep_only_the_newest_until_written(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o")
    old = LiveRecord("w1", Posture.SITTING, CurrentBout(T0, Posture.SITTING, T0 + 5), T0 + 5)
    new = LiveRecord("w1", Posture.SITTING, CurrentBout(T0, Posture.SITTING, T0 + 9), T0 + 9)
    outbox.put([old])
    outbox.put([new])
    (key, version, record), *rest = outbox.unwritten_latest()
    assert rest == []
    assert record == new
    outbox.mark_written(key, version)
    assert outbox.unwritten_latest() == []
    assert outbox.live_states() == {"w1": new}  # still there for a restart to resume from
    assert outbox.pending == 0  # snapshots are not queued records


def test_a_damaged_entry_is_named_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "o"
    Outbox(path).put(_bout_records(1))
    with sqlite3.connect(path) as raw:
        raw.execute('INSERT INTO queued (body) VALUES (\'{"type": "bogus"}\')')
    with pytest.raises(OutboxError, match=r"entry 2 .* damaged"):
        Outbox(path).peek()


def test_a_file_that_is_not_an_outbox_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "o"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(OutboxError, match="cannot open the outbox"):
        Outbox(path)


def test_set_aside_moves_a_refused_record_to_the_dead_letters(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o")
    outbox.put(_bout_records(3))
    first = outbox.peek()[0]
    outbox.set_aside(first.seq)
    assert outbox.pending == 2
    assert outbox.dead_letters == 1


def test_the_default_outbox_sits_beside_sqlite_and_never_names_a_password() -> None:
    assert outbox_path_for("sqlite:///var/hub.db") == Path("var/hub.db.outbox")
    path = outbox_path_for("postgresql+psycopg://hub:s3cret@db.example/sensorhub")
    assert "s3cret" not in str(path)
    assert path.parent == Path("var")


def test_nudge_records_keep_their_id(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o")
    nid = uuid.uuid4()
    nudge = NudgeRecord("w1", T0, "static_load_sitting", T0, 1800.0, 1, "m", "band", "pending",
                        None, nid)  # fmt: skip
    outbox.put([nudge])
    assert outbox.peek()[0].record == nudge
