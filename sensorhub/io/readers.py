"""Readers for recorded accelerometer files: CSV, NPZ and memory-mapped NPY (DESIGN.md 4.1).

* CSV with a header row: ``time_s,acc_x,acc_y,acc_z`` (g), optionally ``gyro_x,gyro_y,gyro_z``
  (deg/s). Regularly sampled files are recognised from their time column. Read block by block,
  never whole (:mod:`sensorhub.io.csvfile`).
* NPZ with ``acc`` (N, 3, g) and ``fs`` (Hz); irregular sources have ``fs`` = NaN and a ``t``
  array in seconds. Optional ``gyro``. Loaded into memory.
* NPY (N, 3) in g, opened memory-mapped so recordings larger than memory work; needs ``fs_hz``.

Acceleration in milli-g or m/s² is read with ``units`` (``--units``). Every problem with a file
raises :class:`~sensorhub.errors.RecordingError` with one line saying what is wrong and what the
file must contain. Files are never unpickled, and an array header (NPY, or an NPZ member) is
checked against the bytes really there before anything is allocated for it, so a damaged or
hostile header cannot make the reader ask for gigabytes. Implausible units are refused
(:mod:`sensorhub.io.units`).
"""

from __future__ import annotations

import io
import math
import mmap
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, TypeAlias, cast

import numpy as np
from numpy.typing import NDArray

from sensorhub.errors import RecordingError as RecordingError  # also importable from here
from sensorhub.io.csvfile import CsvRecording, block_times_ns, scan_csv
from sensorhub.io.units import MEDIAN_ROWS, check_units, magnitude, to_g
from sensorhub.model import SampleBlock

#: What each format must contain, for error messages.
CONTENTS: Final = {
    ".csv": "a header row time_s,acc_x,acc_y,acc_z and one row of numbers per sample (g)",
    ".npz": "arrays acc (N, 3, in g) and fs (Hz; NaN with a t array in s if irregular)",
    ".npy": "one float array of shape (N, 3) in g (with --fs)",
}

#: Rows of a memory-mapped array looked at per step when its largest value is sought, and per
#: sub-step (converted to float64) when a step may hold it.
_SCAN_ROWS: Final = 1 << 20
_FIND_ROWS: Final = 1 << 16

#: Longest NPY header read (numpy's own limit for headers it parses without trusting them).
_MAX_HEADER: Final = 10_000


@dataclass(frozen=True, slots=True, eq=False)
class Recording:
    """An accelerometer recording held in memory or memory-mapped.

    Attributes
    ----------
    acc_g
        (N, 3) acceleration in g (may be a read-only memory map; then times ``acc_scale``).
    fs_hz
        Sampling rate; NaN when irregular (then ``t_s`` is set).
    t_s
        Sample times in seconds from the first sample, or None for regular recordings.
    gyro_dps
        Optional (N, 3) angular rate in deg/s.
    path
        Where it was read from.
    acc_scale
        Factor that turns ``acc_g`` into g: 1, except for a memory-mapped ``.npy`` in mg or
        m/s² (``--units``), which is converted block by block.
    """

    acc_g: NDArray[np.floating] | NDArray[np.integer]
    fs_hz: float
    t_s: NDArray[np.float64] | None = None
    gyro_dps: NDArray[np.floating] | None = None
    path: Path | None = None
    acc_scale: float = 1.0

    def __len__(self) -> int:
        return int(self.acc_g.shape[0])

    @property
    def nominal_fs_hz(self) -> float:
        """The sampling rate, or the median rate of an irregular recording."""
        if not math.isnan(self.fs_hz):
            return self.fs_hz
        assert self.t_s is not None
        d = np.diff(self.t_s[: min(len(self.t_s), 100_000)])
        d = d[d > 0]
        return float(1.0 / np.median(d)) if len(d) else 1.0

    @property
    def duration_s(self) -> float:
        """Time from the first to just after the last sample."""
        n = len(self)
        if n == 0:
            return 0.0
        if self.t_s is not None:
            return float(self.t_s[-1] - self.t_s[0]) + 1.0 / self.nominal_fs_hz
        return n / self.fs_hz


#: A recording as :func:`read_recording` returns it: in memory / memory-mapped, or a CSV file.
AnyRecording: TypeAlias = Recording | CsvRecording


def read_recording(
    path: str | Path, *, fs_hz: float | None = None, units: str = "g"
) -> AnyRecording:
    """Open a recording by extension (.csv, .npz, .npy).

    Parameters
    ----------
    path
        The file.
    fs_hz
        Sampling rate (Hz) that overrides the file's, or supplies it for ``.npy``.
    units
        Units of the acceleration in the file: ``g`` (default), ``mg`` or ``m/s2``.

    Returns
    -------
    AnyRecording
        A :class:`Recording` (NPZ, NPY) or a :class:`CsvRecording` (read block by block).

    Raises
    ------
    RecordingError
        One line: what is wrong with the file and what it must contain.
    """
    p = Path(path)
    scale = to_g(units)
    suffix = _check_file(p)
    if fs_hz is not None:
        _check_fs(fs_hz, f"{p}: --fs")
    if suffix == ".csv":
        return scan_csv(p, fs_hz, units)
    if suffix == ".npz":
        return _read_npz(p, fs_hz, units, scale)
    return _read_npy(p, fs_hz, units, scale)


def _check_file(p: Path) -> str:
    """The lower-case suffix of a regular, readable, non-empty file of a known format."""
    try:
        st = p.stat()
        if stat.S_ISDIR(st.st_mode):
            raise RecordingError(f"{p} is a directory: give one recording file (.csv, .npz, .npy)")
        suffix = p.suffix.lower()
        if suffix not in CONTENTS:
            raise RecordingError(
                f"{p}: unknown recording format '{suffix}' (expected .csv, .npz or .npy; "
                "see DESIGN.md section 4.1)"
            )
        if not stat.S_ISREG(st.st_mode):
            raise RecordingError(f"{p} is not a regular file: give a {suffix} file on disk")
        with p.open("rb") as fh:
            fh.read(1)
    except FileNotFoundError:
        raise RecordingError(f"{p}: no such file") from None
    except PermissionError:
        raise RecordingError(
            f"{p}: permission denied, the file cannot be read (check the permissions of the "
            "file and its folders)"
        ) from None
    except OSError as e:
        raise RecordingError(f"{p}: cannot be read ({e.strerror or e})") from None
    if st.st_size == 0:
        raise RecordingError(f"{p} is empty (0 bytes): it must hold {CONTENTS[suffix]}")
    return suffix


def _check_fs(fs: float, what: str) -> None:
    if not (math.isfinite(fs) and fs > 0):
        raise RecordingError(f"{what}: sampling rate must be a positive number of Hz, got {fs}")


def _check_acc(shape: tuple[int, ...], where: str) -> None:
    if len(shape) != 2 or shape[1] != 3:
        raise RecordingError(f"{where} must have shape (N, 3), got {shape}")
    if shape[0] == 0:
        raise RecordingError(f"{where} has no samples")


def _size(nbytes: int) -> str:
    if nbytes < 1024:
        return f"{nbytes} bytes"
    x = float(nbytes)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        x /= 1024
        if x < 1024 or unit == "TiB":
            break
    return f"{x:.1f} {unit}"


def _cause(e: BaseException) -> str:
    """The first line of an exception's message (numpy's advice to unpickle left out)."""
    lines = str(e).strip().splitlines()
    first = lines[0] if lines else type(e).__name__
    return type(e).__name__ if "pickle" in first else first[:160]


def _memory_cap() -> int:
    """Most bytes one array may take when loaded into memory: half the machine's memory."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 1 << 62


Header = tuple[tuple[int, ...], np.dtype[np.generic], int]


def _npy_header(fh: IO[bytes], where: str) -> Header:
    """(shape, dtype, header length) of the NPY stream ``fh``, read without the data.

    The header is read into memory first (refused when it says it is longer than
    :data:`_MAX_HEADER`) and parsed there, so numpy never reads from the file itself.
    """
    try:
        magic = fh.read(8)
        if len(magic) < 8 or not magic.startswith(b"\x93NUMPY") or magic[6] not in (1, 2, 3):
            raise ValueError("no NumPy array header")
        width = 2 if magic[6] == 1 else 4
        length = int.from_bytes(fh.read(width).ljust(width, b"\xff"), "little")
        if length > _MAX_HEADER:
            raise ValueError(f"a header of {length} bytes")
        buf = io.BytesIO(magic + length.to_bytes(width, "little") + fh.read(length))
        np.lib.format.read_magic(buf)
        if width == 2:
            shape, _, dtype = np.lib.format.read_array_header_1_0(buf)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(buf)
    except Exception as e:  # parsing an untrusted header fails in many ways (tokenize, ast, ...)
        raise RecordingError(
            f"{where} is not a readable NumPy array ({_cause(e)}): it must be {CONTENTS['.npy']}"
        ) from None
    if any(int(s) < 0 for s in shape):
        raise RecordingError(f"{where} has a damaged header (shape {shape})")
    return shape, dtype, 8 + width + length


def _check_dtype(dtype: np.dtype[np.generic], where: str, kinds: str = "fiu") -> None:
    if dtype.hasobject:
        raise RecordingError(
            f"{where} holds Python objects (pickled data), not numbers: sensorhub never "
            "unpickles files; save it as a float array"
        )
    if dtype.kind not in kinds:
        raise RecordingError(f"{where} holds {dtype} values, not numbers: save it as floats")


def _check_claim(shape: tuple[int, ...], dtype: np.dtype[np.generic], room: int, where: str) -> int:
    """Refuse a header claiming more data than the ``room`` bytes there; the claimed bytes."""
    claimed = math.prod(shape) * dtype.itemsize
    if claimed > room:
        raise RecordingError(
            f"{where} claims shape {shape} of {dtype} ({_size(claimed)}) but holds only "
            f"{_size(max(room, 0))}: the file is truncated or damaged"
        )
    return claimed


def _read_npy(p: Path, fs_hz: float | None, units: str, scale: float) -> Recording:
    if fs_hz is None:
        raise RecordingError(f"{p}: a .npy recording carries no sampling rate; pass --fs HZ")
    where = f"{p}"
    with p.open("rb") as fh:
        shape, dtype, offset = _npy_header(fh, where)
    _check_dtype(dtype, f"{where} (acceleration)")
    _check_acc(shape, where)
    _check_claim(shape, dtype, p.stat().st_size - offset, where)
    try:
        acc = np.load(p, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as e:
        raise RecordingError(f"{p}: not a readable .npy array ({_cause(e)})") from None
    _check_units(acc, where, units)
    return Recording(acc, float(fs_hz), path=p, acc_scale=scale)


def _read_npz(p: Path, fs_hz: float | None, units: str, scale: float) -> Recording:
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as e:
        raise RecordingError(
            f"{p}: not a readable .npz archive ({_cause(e)}): it must hold {CONTENTS['.npz']}"
        ) from None
    with zf:
        infos = zf.infolist()
        members = {i.filename[:-4]: i for i in infos if i.filename.endswith(".npy")}
        if "acc" not in members:
            found = ", ".join(i.filename.removesuffix(".npy") for i in infos)[:120]
            raise RecordingError(
                f"{p}: no 'acc' array (found: {found or 'none'}); an .npz recording holds "
                f"{CONTENTS['.npz']}"
            )
        acc = _member(zf, members["acc"], f"{p}: 'acc'")
        _check_acc(acc.shape, f"{p}: 'acc'")
        fs = math.nan
        if "fs" in members:
            fs = _scalar(_member(zf, members["fs"], f"{p}: 'fs'", cap=1024), f"{p}: 'fs'")
        t = _member(zf, members["t"], f"{p}: 't'") if "t" in members else None
        gyro = _member(zf, members["gyro"], f"{p}: 'gyro'") if "gyro" in members else None
    if fs_hz is not None:
        fs = float(fs_hz)
    if math.isnan(fs):
        if t is None:
            raise RecordingError(
                f"{p}: 'fs' is missing or NaN and there is no 't' array: store the sampling "
                "rate in fs, or the sample times in seconds in t"
            )
        if t.shape != (len(acc),):
            raise RecordingError(f"{p}: 't' has shape {t.shape}, expected ({len(acc)},)")
        t = t.astype(np.float64)
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
            raise RecordingError(f"{p}: 't' must be finite and non-decreasing")
    else:
        _check_fs(fs, f"{p}: 'fs'")
        t = None
    _check_units(acc, f"{p}: 'acc'", units)
    if scale != 1.0:
        acc = acc.astype(np.float64) * scale
    gyro_dps: NDArray[np.floating] | None = None
    if gyro is not None and gyro.shape == acc.shape:  # integer deg/s: as floats
        gyro_dps = cast("NDArray[np.floating]", gyro if gyro.dtype.kind == "f" else gyro * 1.0)
    return Recording(acc, fs, t, gyro_dps, p)


def _member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, cap: int | None = None
) -> NDArray[np.floating] | NDArray[np.integer]:
    """An NPZ member's array, refused before any allocation if its header claims more than the
    archive declares for it (or than ``cap`` bytes, or than half the machine's memory)."""
    try:
        with zf.open(info) as fh:
            shape, dtype, offset = _npy_header(fh, where)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as e:
        raise RecordingError(f"{where} cannot be read from the archive ({_cause(e)})") from None
    _check_dtype(dtype, where)
    claimed = _check_claim(shape, dtype, info.file_size - offset, where)
    if cap is not None and claimed > cap:
        raise RecordingError(f"{where} is {_size(claimed)}, expected a single number")
    if claimed > _memory_cap():
        raise RecordingError(
            f"{where} needs {_size(claimed)} of memory, more than half of this machine's: "
            "save acc as a .npy file and pass --fs to read it memory-mapped"
        )
    try:
        with zf.open(info) as fh:
            arr = np.lib.format.read_array(fh, allow_pickle=False)
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        EOFError,
        RuntimeError,
        NotImplementedError,
        zlib.error,
    ) as e:
        raise RecordingError(f"{where} is damaged ({_cause(e)})") from None
    return arr


def _scalar(arr: NDArray[np.generic], where: str) -> float:
    if arr.size != 1 or arr.dtype.kind not in "fiu":
        raise RecordingError(
            f"{where} must be one number (the sampling rate in Hz; NaN if irregular), got "
            f"shape {arr.shape} of {arr.dtype}"
        )
    return float(arr.reshape(-1)[0])


def _check_units(acc: NDArray[np.floating] | NDArray[np.integer], where: str, units: str) -> None:
    """:func:`~sensorhub.io.units.check_units` on an array (its first rows for the median)."""
    head = np.asarray(acc[:MEDIAN_ROWS], dtype=np.float64)
    if not np.isfinite(head).all():
        head = head[np.isfinite(head).all(axis=1)]
    _release_pages(acc)
    if len(head) == 0:
        raise RecordingError(
            f"{where} has no finite samples among its first {min(len(acc), MEDIAN_ROWS):,} "
            "(all NaN or inf)"
        )
    median = float(np.median(magnitude(head)))
    value, row, axis = _largest(acc)
    integer = str(acc.dtype) if acc.dtype.kind in "iu" else None
    check_units(
        where, units, median, value, f"sample {row}, axis {'xyz'[axis]}", integer_dtype=integer
    )


def _largest(acc: NDArray[np.floating] | NDArray[np.integer]) -> tuple[float, int, int]:
    """(value, row, axis) of the largest finite absolute value, a step at a time.

    A step's maximum and minimum, in the array's own dtype and without a temporary array, show
    whether it can hold a larger value; only then (or with NaN or inf in it) is it searched, in
    float64 sub-steps small enough not to leave freed memory behind.
    """
    best = (0.0, 0, 0)
    for i in range(0, len(acc), _SCAN_ROWS):
        part = acc[i : i + _SCAN_ROWS]
        hi, lo = float(part.max()), float(part.min())
        if not (math.isfinite(hi) and math.isfinite(lo) and max(hi, -lo) <= best[0]):
            for j in range(0, len(part), _FIND_ROWS):
                a = np.abs(np.asarray(part[j : j + _FIND_ROWS], dtype=np.float64))
                a[~np.isfinite(a)] = 0.0
                k = int(np.argmax(a))
                if a.flat[k] > best[0]:
                    best = (float(a.flat[k]), i + j + k // 3, k % 3)
        _release_pages(acc)  # a memory map's pages read so far: keep resident memory flat
    return best


def iter_blocks(rec: AnyRecording, *, block_s: float = 600.0) -> Iterator[SampleBlock]:
    """The recording as consecutive :class:`SampleBlock` s (time zero = first sample)."""
    if isinstance(rec, CsvRecording):
        yield from rec.blocks(block_s)
        return
    n = len(rec)
    fs = rec.nominal_fs_hz
    step = max(1, round(block_s * fs))
    for i in range(0, n, step):
        j = min(n, i + step)
        acc = np.asarray(rec.acc_g[i:j], dtype=np.float64)
        if rec.acc_scale != 1.0:
            acc = acc * rec.acc_scale
        t_rel = None if rec.t_s is None else rec.t_s[i:j] - rec.t_s[0]
        t_ns = block_times_ns(i, j, rec.fs_hz, t_rel)
        gyro = None if rec.gyro_dps is None else np.asarray(rec.gyro_dps[i:j], dtype=np.float64)
        if not np.all(np.isfinite(acc)):
            bad = ~np.all(np.isfinite(acc), axis=1)
            acc, t_ns = acc[~bad], t_ns[~bad]
            gyro = None if gyro is None else gyro[~bad]
            if len(t_ns) == 0:
                continue
        _release_pages(rec.acc_g)
        yield SampleBlock(t_ns, acc, fs, gyro)


def _release_pages(arr: NDArray[np.generic]) -> None:
    """Let the OS drop the already-read pages of a memory map (keeps resident memory flat)."""
    mm = getattr(arr, "_mmap", None)
    if isinstance(mm, mmap.mmap) and hasattr(mm, "madvise"):
        mm.madvise(mmap.MADV_DONTNEED)
