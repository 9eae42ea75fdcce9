"""CSV recordings are read block by block: the same blocks as the file loaded whole, in memory
that does not grow with the file's length."""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorhub.io import csvfile
from sensorhub.io.analysis import analyze_recording
from sensorhub.io.readers import CsvRecording, Recording, iter_blocks, read_recording
from sensorhub.model import Placement
from sensorhub.signal.synthetic import make_signal

SCRIPT = [("standing", 40), ("walking", 40), ("sitting", 40)]


def loaded_whole(path: Path, fs_hz: float | None = None) -> Recording:
    """The recording as the reader before streaming made it: ``np.loadtxt`` of the whole file,
    regular when every time step is within 5 % of the median step."""
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    t = data[:, 0] - data[0, 0]
    acc, gyro = data[:, 1:4], (data[:, 4:7] if data.shape[1] == 7 else None)
    if fs_hz is not None:
        return Recording(acc, fs_hz, None, gyro)
    d = np.diff(t)
    med = float(np.median(d))
    if np.all(np.abs(d - med) <= 0.05 * med):
        return Recording(acc, round(1.0 / med, 6), None, gyro)
    return Recording(acc, math.nan, t, gyro)


def write(path: Path, t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None = None) -> Path:
    cols, header = [t, acc], "time_s,acc_x,acc_y,acc_z"
    if gyro is not None:
        cols.append(gyro)
        header += ",gyro_x,gyro_y,gyro_z"
    np.savetxt(path, np.column_stack(cols), delimiter=",", header=header, comments="", fmt="%.17g")
    return path


@pytest.fixture(scope="module")
def walk() -> tuple[np.ndarray, np.ndarray]:
    s = make_signal(SCRIPT, placement=Placement.LOWER_BACK, fs_hz=50.0, start_ns=0, seed=5)
    return np.arange(len(s.acc_g)) / 50.0, s.acc_g


def assert_same_blocks(a: Recording | CsvRecording, b: Recording, block_s: float) -> None:
    assert (a.fs_hz == b.fs_hz) or (math.isnan(a.fs_hz) and math.isnan(b.fs_hz))
    assert a.nominal_fs_hz == b.nominal_fs_hz
    assert a.duration_s == b.duration_s
    assert len(a) == len(b)
    got, want = list(iter_blocks(a, block_s=block_s)), list(iter_blocks(b, block_s=block_s))
    assert len(got) == len(want) > 1
    for x, y in zip(got, want, strict=True):
        np.testing.assert_array_equal(x.t_ns, y.t_ns)
        np.testing.assert_array_equal(x.acc_g, y.acc_g)
        assert x.acc_g.flags.c_contiguous
        assert x.fs_hz == y.fs_hz
        if y.gyro_dps is None:
            assert x.gyro_dps is None
        else:
            assert x.gyro_dps is not None
            np.testing.assert_array_equal(x.gyro_dps, y.gyro_dps)


@pytest.mark.parametrize("kind", ["regular", "offset+gyro", "jitter", "irregular", "--fs"])
def test_blocks_match_the_file_loaded_whole(
    tmp_path: Path,
    walk: tuple[np.ndarray, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    t, acc = walk
    rng = np.random.default_rng(1)
    gyro = None
    fs = None
    if kind == "offset+gyro":
        t, gyro = t + 1.7e9, rng.normal(0, 20, acc.shape)
    elif kind == "jitter":  # within 5 %: regular, at the median step's rate (not exactly 50 Hz)
        t = t + rng.uniform(-4e-4, 4e-4, len(t))
        # few distinct steps fit in the exact count; force the passes that narrow down the median
        monkeypatch.setattr(csvfile, "_DISTINCT_STEPS", 50)
        monkeypatch.setattr(csvfile, "_BINS", 64)
        monkeypatch.setattr(csvfile, "_COLLECT", 100)
    elif kind == "irregular":
        keep = rng.random(len(t)) < 0.7
        t, acc = t[keep], acc[keep]
    elif kind == "--fs":
        fs = 50.0
    path = write(tmp_path / "r.csv", t, acc, gyro)
    rec = read_recording(path, fs_hz=fs)
    assert isinstance(rec, CsvRecording)
    ref = loaded_whole(path, fs)
    if kind == "jitter":
        assert rec.fs_hz != 50.0
    assert math.isnan(rec.fs_hz) == (kind == "irregular")
    assert_same_blocks(rec, ref, block_s=7.3)
    if kind in ("jitter", "irregular"):
        assert analyze_recording(rec, Placement.LOWER_BACK) == analyze_recording(
            ref, Placement.LOWER_BACK
        )


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.sampled_from([0.0, 0.01, 0.0100001, 0.02, 1e-300, 3.5, 7.25]) | st.floats(0, 10),
        min_size=1,
        max_size=400,
    ),
    distinct=st.sampled_from([2, 5, 1 << 16]),
    bins=st.sampled_from([2, 3, 16]),
    collect=st.sampled_from([1, 4, 1000]),
)
def test_step_median_is_numpy_median(
    steps: list[float], distinct: int, bins: int, collect: int
) -> None:
    """The exact streamed median equals ``np.median``, however few values it may count or
    collect (then it takes extra passes)."""
    d = np.array(steps)
    chunks = [d[i : i + 37] for i in range(0, len(d), 37)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(csvfile, "_DISTINCT_STEPS", distinct)
        mp.setattr(csvfile, "_BINS", bins)
        mp.setattr(csvfile, "_COLLECT", collect)
        m = csvfile._StepMedian()
        for c in chunks:
            m.add(c)
        assert m.median(lambda: iter(chunks)) == np.median(d)


def _peak_bytes(path: Path) -> int:
    """Peak traced allocation while a CSV is scanned and read block by block (10-s blocks)."""
    tracemalloc.start()
    try:
        rec = read_recording(path)
        for _ in iter_blocks(rec, block_s=10.0):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _rows(path: Path, n: int) -> Path:
    """A still recording of ``n`` rows at 128 Hz, written fast (one pattern, numbered); times in
    exact binary fractions, so every time step is the same float."""
    rng = np.random.default_rng(0)
    pattern = [f",{x:.4f},{y:.4f},{z:.4f}\n" for x, y, z in rng.normal([0, 0, 1], 0.01, (997, 3))]
    with path.open("w") as fh:
        fh.write("time_s,acc_x,acc_y,acc_z\n")
        fh.writelines(f"{i / 128:.7f}{pattern[i % 997]}" for i in range(n))
    return path


def test_memory_does_not_grow_with_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading 300,000 rows needs no more memory than 30,000: the reader holds one chunk of
    text and one block, never the file (loaded whole, the 300,000 rows would be 9.6 MB of
    float64). Chunks of 64 KiB here, so that both files are many chunks long.

    What the scan keeps grows with the file only up to fixed sizes (the units check's first
    samples, the first times); they are made small here so that what is left is the reader's.
    """
    monkeypatch.setattr(csvfile, "CHUNK_BYTES", 1 << 16)
    monkeypatch.setattr(csvfile, "MEDIAN_ROWS", 1000)
    monkeypatch.setattr(csvfile, "NOMINAL_ROWS", 1000)
    small = _peak_bytes(_rows(tmp_path / "small.csv", 30_000))
    large = _peak_bytes(_rows(tmp_path / "large.csv", 300_000))
    whole = 300_000 * 4 * 8
    assert large < small + whole // 20, (small, large)
    assert large < whole // 4, (small, large)
