"""``sensorhub analyze`` on bad files: exit 1 and one line on stderr, never a traceback.

Every case runs the command line in-process (``sensorhub.cli.main``) and checks the exit status,
that stderr is exactly one ``sensorhub: error: ...`` line with the key phrase, and that nothing
mentions a traceback or numpy's advice to unpickle. Random and damaged files (hypothesis) may be
accepted or refused, but only ever with the project's error.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorhub.cli import main
from sensorhub.io import readers
from sensorhub.io.readers import read_recording

FS = 50.0
HEADER = "time_s,acc_x,acc_y,acc_z\n"


def still(n: int = 3000, seed: int = 0) -> np.ndarray:
    """``n`` samples of a sensor lying still (gravity on z, 5 mg noise), in g."""
    rng = np.random.default_rng(seed)
    return np.array([0.0, 0.0, 1.0]) + rng.normal(0.0, 0.005, (n, 3))


def csv_text(acc: np.ndarray, fmt: str = "%.6f") -> str:
    t = np.arange(len(acc)) / FS
    body = "\n".join(
        ",".join([f"{ti:.6f}", *(fmt % v for v in row)]) for ti, row in zip(t, acc, strict=True)
    )
    return HEADER + body + "\n"


def npy_bytes_claiming(shape: tuple[int, ...], payload: bytes = b"\0" * 240) -> bytes:
    """An .npy whose header claims ``shape`` of float64 but holds only ``payload``."""
    out = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue() + payload


def npz_with(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def npy_bytes(arr: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, arr, allow_pickle=True)
    return out.getvalue()


Make = Callable[[Path], Path]


def _file(name: str, content: bytes | str) -> Make:
    def make(d: Path) -> Path:
        p = d / name
        if isinstance(content, str):
            p.write_text(content)
        else:
            p.write_bytes(content)
        return p

    return make


def _npz(name: str, **arrays: object) -> Make:
    def make(d: Path) -> Path:
        p = d / name
        np.savez(p, **arrays)
        return p

    return make


def _npy(name: str, arr: np.ndarray) -> Make:
    def make(d: Path) -> Path:
        p = d / name
        np.save(p, arr, allow_pickle=True)
        return p

    return make


def _raw_npz(name: str, members: dict[str, bytes]) -> Make:
    def make(d: Path) -> Path:
        p = d / name
        npz_with(p, members)
        return p

    return make


def _dir(d: Path) -> Path:
    (d / "rec.csv").mkdir()
    return d / "rec.csv"


ACC = still()
SPIKE = ACC.copy()
SPIKE[1000, 2] = 1e6
ROWS = csv_text(ACC[:4]).splitlines()  # header and three rows

CASES: list[tuple[str, Make, list[str], str]] = [
    # (id, file maker, extra arguments, key phrase of the one stderr line)
    ("missing", lambda d: d / "nope.csv", [], "no such file"),
    ("directory", _dir, [], "is a directory"),
    ("unknown suffix", _file("rec.txt", "x"), [], "unknown recording format"),
    # NPZ
    ("empty npz", _file("e.npz", b""), [], "is empty (0 bytes)"),
    ("junk npz", _file("j.npz", b"not a zip at all"), [], "not a readable .npz archive"),
    ("foreign npz", _npz("f.npz", x=np.zeros(3), y=np.ones(2)), [], "no 'acc' array (found: x, y)"),
    ("zip of text", _raw_npz("z.npz", {"notes.txt": b"hi"}), [], "no 'acc' array"),
    ("fs array", _npz("a.npz", acc=ACC, fs=np.array([50.0, 50.0])), [], "'fs' must be one number"),
    ("fs string", _npz("s.npz", acc=ACC, fs=np.array("50")), [], "'fs' holds <U2 values"),
    ("fs bool", _npz("b.npz", acc=ACC, fs=np.array(True)), [], "'fs' holds bool values"),
    ("fs zero", _npz("z.npz", acc=ACC, fs=0.0), [], "sampling rate must be a positive"),
    ("no fs no t", _npz("n.npz", acc=ACC), [], "'fs' is missing or NaN and there is no 't'"),
    (
        "object acc",
        _npz("o.npz", acc=np.array([[1, 2, 3]], dtype=object), fs=50.0),
        [],
        "holds Python objects",
    ),
    ("object fs", _npz("o.npz", acc=ACC, fs=np.array(None)), [], "'fs' holds Python objects"),
    ("acc (N, 2)", _npz("s.npz", acc=ACC[:, :2], fs=FS), [], "must have shape (N, 3)"),
    ("acc empty", _npz("e.npz", acc=np.zeros((0, 3)), fs=FS), [], "has no samples"),
    ("acc text", _npz("t.npz", acc=np.full((5, 3), "x"), fs=FS), [], "not numbers"),
    ("acc complex", _npz("c.npz", acc=ACC * 1j, fs=FS), [], "complex128 values, not numbers"),
    ("acc all NaN", _npz("n.npz", acc=np.full((9, 3), np.nan), fs=FS), [], "no finite samples"),
    (
        "npz header claims 44.7 GiB",
        _raw_npz("h.npz", {"acc.npy": npy_bytes_claiming((2_000_000_000, 3)), "fs.npy": b""}),
        [],
        "claims shape (2000000000, 3) of float64 (44.7 GiB)",
    ),
    (
        "npz member cut short",
        _raw_npz("c.npz", {"acc.npy": npy_bytes(ACC)[:-100], "fs.npy": npy_bytes(np.float64(FS))}),
        [],
        "truncated or damaged",
    ),
    (
        "t goes back",
        _npz("t.npz", acc=ACC[:3], fs=np.nan, t=np.array([0.0, 1.0, 0.5])),
        [],
        "'t' must be finite and non-decreasing",
    ),
    # units
    (
        "int16 milli-g",
        _npz("m.npz", acc=(ACC * 1000).astype(np.int16), fs=FS),
        [],
        "pass --units mg",
    ),
    ("float m/s2", _npz("m.npz", acc=ACC * 9.80665, fs=FS), [], "pass --units m/s2"),
    ("x 1e9", _npz("x.npz", acc=ACC * 1e9, fs=FS), [], "is not a worn or resting accelerometer's"),
    ("mg declared, g given", _npz("g.npz", acc=ACC, fs=FS), ["--units", "mg"], "pass --units g"),
    ("spike", _npz("s.npz", acc=SPIKE, fs=FS), [], "sample 1000, axis z reads 1e+06"),
    ("gravity removed", _npz("l.npz", acc=ACC - [0, 0, 1], fs=FS), [], "hardly includes gravity"),
    ("integers in g", _npz("i.npz", acc=np.round(ACC).astype(np.int8), fs=FS), [], "integers"),
    # NPY
    ("empty npy", _file("e.npy", b""), ["--fs", "50"], "is empty (0 bytes)"),
    ("junk npy", _file("j.npy", b"garbage" * 20), ["--fs", "50"], "not a readable NumPy array"),
    ("npy without --fs", _npy("n.npy", ACC), [], "pass --fs HZ"),
    ("--fs 0", _npy("n.npy", ACC), ["--fs", "0"], "--fs must be positive"),
    ("--fs -5", _npy("n.npy", ACC), ["--fs", "-5"], "--fs must be positive"),
    ("--fs nan", _npy("n.npy", ACC), ["--fs", "nan"], "--fs must be positive"),
    ("--fs inf", _npy("n.npy", ACC), ["--fs", "inf"], "--fs must be positive"),
    ("--height-m nan", _npy("n.npy", ACC), ["--fs", "50", "--height-m", "nan"], "--height-m"),
    (
        "npy header claims 44.7 GiB",
        _file("h.npy", npy_bytes_claiming((2_000_000_000, 3))),
        ["--fs", "50"],
        "claims shape (2000000000, 3) of float64 (44.7 GiB) but holds only 240 bytes",
    ),
    (
        "object npy",
        _npy("o.npy", np.array([[1, 2, 3]], dtype=object)),
        ["--fs", "50"],
        "holds Python objects",
    ),
    (
        "structured npy",
        _npy("s.npy", np.zeros(4, dtype=[("x", "f8"), ("y", "f8")])),
        ["--fs", "50"],
        "not numbers",
    ),
    ("npy milli-g", _npy("m.npy", (ACC * 1000).astype(np.int16)), ["--fs", "50"], "--units mg"),
    # CSV
    ("empty csv", _file("e.csv", b""), [], "is empty (0 bytes)"),
    ("header only", _file("h.csv", HEADER), [], "has a header but no samples"),
    ("header and blank lines", _file("h.csv", HEADER + "\n\n"), [], "has a header but no samples"),
    (
        "wrong columns",
        _file("w.csv", "t,ax,ay,az\n0,0,0,1\n"),
        [],
        "found t,ax,ay,az, missing time_s,acc_x,acc_y,acc_z",
    ),
    (
        "semicolons",
        _file("s.csv", "time_s;acc_x;acc_y;acc_z\n0;0;0;1\n"),
        [],
        "separated by commas",
    ),
    (
        "text in a column",
        _file("t.csv", "\n".join([*ROWS[:2], "0.02,0,abc,1", *ROWS[3:]]) + "\n"),
        [],
        "line 3: column acc_y has 'abc', not a number",
    ),
    (
        "label column",
        _file("l.csv", "time_s,acc_x,acc_y,acc_z,label\n0,0,0,1,sit\n"),
        [],
        "column label has 'sit'",
    ),
    (
        "empty value",
        _file("v.csv", "\n".join([*ROWS[:2], "0.02,0,,1"]) + "\n"),
        [],
        "line 3: column acc_y has ''",
    ),
    ("NaN", _file("n.csv", "\n".join([*ROWS[:2], "0.02,0,nan,1"]) + "\n"), [], "acc_y is nan"),
    (
        "inf",
        _file("i.csv", "\n".join([ROWS[0], "0,inf,0,1", *ROWS[2:]]) + "\n"),
        [],
        "acc_x is inf",
    ),
    ("inf time", _file("i.csv", "\n".join([*ROWS, "inf,0,0,1"]) + "\n"), [], "time_s is inf"),
    (
        "short row",
        _file("s.csv", "\n".join([*ROWS[:2], "0.02,0,1", *ROWS[3:]]) + "\n"),
        [],
        "line 3 has 3 values but the header has 4",
    ),
    (
        "long row",
        _file("l.csv", "\n".join([*ROWS[:3], "0.04,0,1,0,5"]) + "\n"),
        [],
        "line 4 has 5 values but the header has 4",
    ),
    (
        "time goes back",
        _file("b.csv", "\n".join([ROWS[0], ROWS[2], ROWS[1], ROWS[3]]) + "\n"),
        [],
        "line 3 goes back from 0.02 to 0.0",
    ),
    (
        "duplicate time",
        _file("d.csv", "\n".join([*ROWS[:3], ROWS[2]]) + "\n"),
        [],
        "line 4 repeats 0.02",
    ),
    ("csv milli-g", _file("m.csv", csv_text(ACC * 1000, "%.1f")), [], "pass --units mg"),
    ("csv m/s2", _file("m.csv", csv_text(ACC * 9.81)), [], "pass --units m/s2"),
    ("csv spike", _file("s.csv", csv_text(SPIKE)), [], "line 1002, acc_z reads 1e+06"),
    ("binary csv", _file("b.csv", bytes(range(256)) * 4), [], "not a text CSV file"),
    ("latin-1 header", _file("l.csv", b"time_s,acc_x,acc_y,acc_\xe9\n0,0,0,1\n"), [], "not UTF-8"),
    ("latin-1 value", _file("l.csv", HEADER.encode() + b"0,0,0,\xe9\n"), [], "not a number"),
    ("endless line", _file("e.csv", HEADER + "1," * 100_000), [], "line longer than 64 KiB"),
]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(["analyze", *argv, "--placement", "hip", "--no-progress"])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc: int, out: str, err: str, phrase: str) -> None:
    assert rc == 1, (out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sensorhub: error: "), err
    assert phrase in lines[0], err
    assert "Traceback" not in err
    assert "pickle=True" not in err


@pytest.mark.parametrize(
    ("make", "extra", "phrase"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_file_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Make, extra: list[str], phrase: str
) -> None:
    path = make(tmp_path)
    rc, out, err = run_cli([str(path), *extra], capsys)
    assert_one_line_error(rc, out, err, phrase)


def test_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.csv"
    path.write_text(csv_text(ACC[:10]))
    if os.geteuid() != 0:  # root reads anything: there, pretend the permission is missing
        path.chmod(0)
    else:
        real_open = Path.open

        def deny(self: Path, *args: object, **kw: object) -> object:
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kw)

        monkeypatch.setattr(Path, "open", deny)
    rc, out, err = run_cli([str(path)], capsys)
    assert_one_line_error(rc, out, err, "permission denied")


def test_npz_too_large_for_memory_is_refused_before_loading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A consistent archive whose array would not fit: refused from its header, never read."""
    np.savez_compressed(tmp_path / "big.npz", acc=still(20_000), fs=FS)
    monkeypatch.setattr(readers, "_memory_cap", lambda: 100_000)

    def no_read(*args: object, **kw: object) -> None:
        raise AssertionError("the array was read")

    monkeypatch.setattr(np.lib.format, "read_array", no_read)
    rc, out, err = run_cli([str(tmp_path / "big.npz")], capsys)
    assert_one_line_error(rc, out, err, "save acc as a .npy file and pass --fs")


def test_units_option_reads_milli_g_and_m_s2(tmp_path: Path) -> None:
    """``--units mg`` / ``m/s2`` give the recording in g (int16 milli-g counts included)."""
    acc = still(500)
    counts = np.round(acc * 1000).astype(np.int16)
    np.savez(tmp_path / "mg.npz", acc=counts, fs=FS)
    np.save(tmp_path / "mg.npy", counts)
    np.savez(tmp_path / "ms2.npz", acc=acc * 9.80665, fs=FS)
    (tmp_path / "mg.csv").write_text(csv_text(counts.astype(float), "%.0f"))
    want = counts * 1e-3
    for name, fs in (("mg.npz", None), ("mg.npy", FS), ("mg.csv", None)):
        rec = read_recording(tmp_path / name, fs_hz=fs, units="mg")
        got = np.concatenate([b.acc_g for b in readers.iter_blocks(rec, block_s=3)])
        np.testing.assert_array_equal(got, want)
    rec = read_recording(tmp_path / "ms2.npz", units="m/s2")
    np.testing.assert_allclose(np.asarray(rec.acc_g), acc, rtol=1e-12)


def test_units_option_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.savez(tmp_path / "mg.npz", acc=np.round(still(3000) * 1000).astype(np.int16), fs=FS)
    rc, out, err = run_cli([str(tmp_path / "mg.npz"), "--units", "mg"], capsys)
    assert rc == 0, err
    assert '"steps"' in out


# --------------------------------------------------------------------------- random files


def _cli_on_bytes(name: str, data: bytes, extra: list[str]) -> None:
    """Run the command on a file holding ``data``: exit 0, or 1 with one project error line."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / name
        p.write_bytes(data)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            argv = ["analyze", str(p), "--placement", "wrist", "--no-progress", *extra]
            rc = main([*argv, "--out", str(Path(d) / "o.json")])
        assert rc in (0, 1), err.getvalue()
        if rc == 1:
            lines = err.getvalue().splitlines()
            assert len(lines) == 1
            assert lines[0].startswith("sensorhub: error: ")


FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@FUZZ
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".csv", ".npz", ".npy"]))
def test_random_bytes_give_the_project_error(data: bytes, suffix: str) -> None:
    _cli_on_bytes("r" + suffix, data, ["--fs", "50"] if suffix == ".npy" else [])


_CELL = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "x", "1e999", "-0", " 1 ", "# c", "1,2", '"1"']),
)


@FUZZ
@given(
    rows=st.lists(st.lists(_CELL, min_size=3, max_size=5), max_size=8),
    header=st.sampled_from([HEADER, "time_s,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n", "a\n"]),
)
def test_random_csv_rows_give_the_project_error(rows: list[list[str]], header: str) -> None:
    text = header + "".join(",".join(r) + "\n" for r in rows)
    _cli_on_bytes("r.csv", text.encode(), [])


@FUZZ
@given(
    steps=st.lists(st.floats(1e-4, 1e3), min_size=0, max_size=80),
    acc=st.lists(st.tuples(*[st.floats(-1.5, 1.5)] * 3), min_size=81, max_size=81),
    fs=st.sampled_from([None, "0.5", "100"]),
)
def test_small_odd_recordings_are_analysed_or_refused(
    steps: list[float], acc: list[tuple[float, float, float]], fs: str | None
) -> None:
    """Well-formed but odd CSVs (one sample, long gaps, random values) never crash the
    analysis: it succeeds, or refuses them with the project error."""
    t = np.concatenate([[0.0], np.cumsum(steps)])
    body = "".join(f"{ti!r},{a!r},{b!r},{c!r}\n" for ti, (a, b, c) in zip(t, acc, strict=False))
    _cli_on_bytes("r.csv", (HEADER + body).encode(), [] if fs is None else ["--fs", fs])


_VALID_NPZ = io.BytesIO()
np.savez_compressed(_VALID_NPZ, acc=still(200), fs=FS, gyro=still(200))
_VALID_NPY = npy_bytes(still(200))


@FUZZ
@given(st.data())
def test_damaged_npz_and_npy_give_the_project_error(data: st.DataObject) -> None:
    """Valid files with bytes overwritten or cut: refused with the project error or read."""
    suffix = data.draw(st.sampled_from([".npz", ".npy"]))
    raw = bytearray(_VALID_NPZ.getvalue() if suffix == ".npz" else _VALID_NPY)
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    _cli_on_bytes("r" + suffix, bytes(raw[:cut]), ["--fs", "50"] if suffix == ".npy" else [])
