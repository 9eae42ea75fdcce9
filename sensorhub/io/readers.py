"""Readers for recorded accelerometer files: CSV, NPZ and memory-mapped NPY (DESIGN.md 4.1).

* CSV with a header row: ``time_s,acc_x,acc_y,acc_z`` (g), optionally ``gyro_x,gyro_y,gyro_z``
  (deg/s). Regularly sampled files are recognised from their time column.
* NPZ with ``acc`` (N, 3, g) and ``fs`` (Hz); irregular sources have ``fs`` = NaN and a ``t``
  array in seconds. Optional ``gyro``.
* NPY (N, 3) in g, opened memory-mapped so recordings larger than memory work; needs ``fs_hz``.

Every problem with a file raises :class:`RecordingError` saying what is wrong and how to fix it.
"""

from __future__ import annotations

import math
import mmap
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sensorhub.errors import SensorhubError
from sensorhub.model import NS_PER_S, SampleBlock

#: Largest tolerated relative jitter of CSV time stamps for a file to count as regular.
_REGULAR_JITTER = 0.05


class RecordingError(SensorhubError, ValueError):
    """A recording file cannot be read (missing, wrong format, wrong shape, bad values)."""


@dataclass(frozen=True, slots=True, eq=False)
class Recording:
    """An accelerometer recording held in memory or memory-mapped.

    Attributes
    ----------
    acc_g
        (N, 3) acceleration in g (may be a read-only memory map).
    fs_hz
        Sampling rate; NaN when irregular (then ``t_s`` is set).
    t_s
        Sample times in seconds from the first sample, or None for regular recordings.
    gyro_dps
        Optional (N, 3) angular rate in deg/s.
    path
        Where it was read from.
    """

    acc_g: NDArray[np.floating]
    fs_hz: float
    t_s: NDArray[np.float64] | None = None
    gyro_dps: NDArray[np.floating] | None = None
    path: Path | None = None

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


def _check_acc(acc: NDArray[np.floating], path: Path, what: str = "acc") -> None:
    if acc.ndim != 2 or acc.shape[1] != 3:
        raise RecordingError(f"{path}: '{what}' must have shape (N, 3), got {acc.shape}")
    if len(acc) == 0:
        raise RecordingError(f"{path}: the recording has no samples")


def _check_fs(fs: float, path: Path) -> None:
    if not (math.isfinite(fs) and fs > 0):
        raise RecordingError(f"{path}: sampling rate must be a positive number, got {fs}")


def read_recording(path: str | Path, *, fs_hz: float | None = None) -> Recording:
    """Open a recording by extension (.csv, .npz, .npy); ``fs_hz`` overrides/supplies the rate."""
    p = Path(path)
    if not p.is_file():
        raise RecordingError(f"{p}: no such file")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return _read_csv(p, fs_hz)
    if suffix == ".npz":
        return _read_npz(p, fs_hz)
    if suffix == ".npy":
        return _read_npy(p, fs_hz)
    raise RecordingError(
        f"{p}: unknown recording format '{suffix}' (expected .csv, .npz or .npy; "
        "see DESIGN.md section 4.1)"
    )


def _read_npy(p: Path, fs_hz: float | None) -> Recording:
    if fs_hz is None:
        raise RecordingError(f"{p}: a .npy recording carries no sampling rate; pass --fs HZ")
    _check_fs(fs_hz, p)
    try:
        acc = np.load(p, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as e:
        raise RecordingError(f"{p}: not a readable .npy array ({e})") from e
    _check_acc(acc, p)
    if not np.issubdtype(acc.dtype, np.floating):
        raise RecordingError(f"{p}: expected float acceleration in g, got dtype {acc.dtype}")
    return Recording(acc, float(fs_hz), path=p)


def _read_npz(p: Path, fs_hz: float | None) -> Recording:
    try:
        z = np.load(p, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise RecordingError(f"{p}: not a readable .npz archive ({e})") from e
    with z:
        if "acc" not in z.files:
            raise RecordingError(f"{p}: no 'acc' array (found: {', '.join(z.files) or 'none'})")
        acc = np.asarray(z["acc"])
        _check_acc(acc, p)
        fs = float(z["fs"]) if "fs" in z.files else float("nan")
        if fs_hz is not None:
            fs = float(fs_hz)
        t = np.asarray(z["t"], dtype=np.float64) if "t" in z.files else None
        gyro = np.asarray(z["gyro"]) if "gyro" in z.files else None
    if math.isnan(fs):
        if t is None:
            raise RecordingError(f"{p}: 'fs' is missing or NaN and there is no 't' array")
        if t.shape != (len(acc),):
            raise RecordingError(f"{p}: 't' has shape {t.shape}, expected ({len(acc)},)")
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
            raise RecordingError(f"{p}: 't' must be finite and non-decreasing")
    else:
        _check_fs(fs, p)
        t = None
    if gyro is not None and gyro.shape != acc.shape:
        gyro = None
    return Recording(acc, fs, t, gyro, p)


def _read_csv(p: Path, fs_hz: float | None) -> Recording:
    with p.open("r", encoding="utf-8", errors="replace") as fh:
        header = fh.readline().strip().lower()
    cols = [c.strip() for c in header.split(",")]
    need = ["time_s", "acc_x", "acc_y", "acc_z"]
    missing = [c for c in need if c not in cols]
    if missing:
        raise RecordingError(
            f"{p}: CSV header must contain {','.join(need)} (missing {', '.join(missing)}); "
            f"found '{header[:120]}'"
        )
    try:
        data = np.loadtxt(p, delimiter=",", skiprows=1, ndmin=2)
    except ValueError as e:
        raise RecordingError(f"{p}: unreadable CSV value ({e})") from e
    if data.shape[1] != len(cols):
        raise RecordingError(f"{p}: rows have {data.shape[1]} values, header has {len(cols)}")
    if len(data) == 0:
        raise RecordingError(f"{p}: the recording has no samples")
    t = data[:, cols.index("time_s")]
    acc = data[:, [cols.index(c) for c in need[1:]]]
    gyro = None
    if all(c in cols for c in ("gyro_x", "gyro_y", "gyro_z")):
        gyro = data[:, [cols.index(c) for c in ("gyro_x", "gyro_y", "gyro_z")]]
    if not np.all(np.isfinite(acc)) or not np.all(np.isfinite(t)):
        raise RecordingError(f"{p}: non-numeric or infinite values in time or acceleration")
    if np.any(np.diff(t) < 0):
        raise RecordingError(f"{p}: time_s must be non-decreasing")
    t = t - t[0]
    if fs_hz is not None:
        _check_fs(fs_hz, p)
        return Recording(acc, float(fs_hz), None, gyro, p)
    d = np.diff(t)
    if len(d) and np.median(d) > 0:
        med = float(np.median(d))
        if np.all(np.abs(d - med) <= _REGULAR_JITTER * med):
            return Recording(acc, round(1.0 / med, 6), None, gyro, p)
    return Recording(acc, float("nan"), t, gyro, p)


def iter_blocks(rec: Recording, *, block_s: float = 600.0) -> Iterator[SampleBlock]:
    """The recording as consecutive :class:`SampleBlock` s (time zero = first sample)."""
    n = len(rec)
    fs = rec.nominal_fs_hz
    step = max(1, round(block_s * fs))
    dt = NS_PER_S / rec.fs_hz if rec.t_s is None else math.nan
    for i in range(0, n, step):
        j = min(n, i + step)
        acc = np.asarray(rec.acc_g[i:j], dtype=np.float64)
        if rec.t_s is not None:
            t_ns = np.round((rec.t_s[i:j] - rec.t_s[0]) * NS_PER_S).astype(np.int64)
        elif dt == round(dt):  # whole nanoseconds per sample: exact integer times
            t_ns = np.arange(i, j, dtype=np.int64) * round(dt)
        else:
            t_ns = np.round(np.arange(i, j) * dt).astype(np.int64)
        gyro = None if rec.gyro_dps is None else np.asarray(rec.gyro_dps[i:j], dtype=np.float64)
        if not np.all(np.isfinite(acc)):
            bad = ~np.all(np.isfinite(acc), axis=1)
            acc, t_ns = acc[~bad], t_ns[~bad]
            gyro = None if gyro is None else gyro[~bad]
            if len(t_ns) == 0:
                continue
        _release_pages(rec.acc_g)
        yield SampleBlock(t_ns, acc, fs, gyro)


def _release_pages(arr: NDArray[np.floating]) -> None:
    """Let the OS drop the already-read pages of a memory map (keeps resident memory flat)."""
    mm = getattr(arr, "_mmap", None)
    if isinstance(mm, mmap.mmap) and hasattr(mm, "madvise"):
        mm.madvise(mmap.MADV_DONTNEED)
