"""CSV recordings read block by block, so memory stays flat in the file's length.

A CSV recording (DESIGN.md section 4.1) has a header row naming ``time_s,acc_x,acc_y,acc_z``
(any order, more columns allowed) and one row of numbers per sample. :func:`scan_csv` reads the
whole file once, in chunks of :data:`CHUNK_BYTES` of text, to check every row (numbers, finite time
and acceleration, strictly increasing time) and the units, and to learn what the analysis needs
before it starts: the number of samples, whether the time column is regular (then the rate, from
the exact median time step as for an in-memory recording) and the duration. Nothing of the
samples is kept. :meth:`CsvRecording.blocks` then reads the file again for every pass of the
analysis (the calibration and upright pre-scans read only their first hours), with the same
blocks and sample times as :func:`~sensorhub.io.readers.iter_blocks` gives for the recording
loaded whole, so the analysis document does not change.

Memory: the reader holds one analysis block (``block_s`` of samples) plus one chunk; a scan holds
one chunk, the first :data:`~sensorhub.io.units.MEDIAN_ROWS` magnitudes for the units check and
the first 100,000 times (the nominal rate of an irregular file). Every chunk is parsed by
``np.loadtxt``, as the whole file was before, so a good file gives the same numbers.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray

from sensorhub.errors import RecordingError
from sensorhub.io.units import MEDIAN_ROWS, check_units, magnitude, to_g
from sensorhub.model import NS_PER_S, SampleBlock

#: Bytes of text parsed at a time (about 25,000 rows of four columns).
CHUNK_BYTES: Final = 1 << 20

#: Longest line a CSV recording may have.
MAX_LINE: Final = 1 << 16

#: Columns a CSV recording must have, and the optional angular rate.
TIME: Final = "time_s"
ACC: Final = ("acc_x", "acc_y", "acc_z")
GYRO: Final = ("gyro_x", "gyro_y", "gyro_z")

#: Largest tolerated relative jitter of CSV time stamps for a file to count as regular.
REGULAR_JITTER: Final = 0.05

#: An irregular file's nominal rate comes from the time steps among its first this many samples.
NOMINAL_ROWS: Final = 100_000

#: Distinct time steps the exact median keeps count of before it falls back to extra passes.
_DISTINCT_STEPS = 1 << 16

#: Extra passes of that median: histogram bins per pass, steps collected and sorted at the end.
_BINS = 1 << 16
_COLLECT = 1 << 20

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf|infinity)", re.I)

Chunks = Callable[[], Iterable[NDArray[np.float64]]]


@dataclass(frozen=True, slots=True, eq=False)
class CsvRecording:
    """A CSV recording, read from its file block by block (never whole).

    Made by :func:`scan_csv`, which has checked every row. The attributes match
    :class:`~sensorhub.io.readers.Recording` where the analysis uses them.

    Attributes
    ----------
    path
        The file.
    n
        Number of samples.
    fs_hz
        Sampling rate; NaN when irregular (sample times then come from the time column).
    nominal_fs_hz
        ``fs_hz``, or the median rate of an irregular file (over its first 100,000 samples).
    duration_s
        Time from the first to just after the last sample.
    columns
        Column index of time, acc x/y/z and (when present) gyro x/y/z.
    t0
        The first sample's ``time_s``.
    acc_scale
        Factor from the file's units to g (``--units``).
    """

    path: Path
    n: int
    fs_hz: float
    nominal_fs_hz: float
    duration_s: float
    columns: tuple[int, ...]
    t0: float
    acc_scale: float = 1.0

    def __len__(self) -> int:
        return self.n

    @property
    def has_gyro(self) -> bool:
        """Whether the file has ``gyro_x,gyro_y,gyro_z``."""
        return len(self.columns) == 7

    def blocks(self, block_s: float) -> Iterator[SampleBlock]:
        """The recording as consecutive :class:`SampleBlock` s of ``block_s`` (time zero = first
        sample), read from the file; the same blocks as ``iter_blocks`` of the loaded file."""
        fs = self.nominal_fs_hz
        step = max(1, round(block_s * fs))
        buf: list[NDArray[np.float64]] = []
        have = 0
        start = 0
        for chunk in _chunks(self.path, self.columns):
            buf.append(chunk)
            have += len(chunk)
            while have >= step:
                rows = np.concatenate(buf) if len(buf) > 1 else buf[0]
                block = self._block(rows[:step], start)
                buf = [rows[step:].copy()]
                del rows  # not kept alive while the consumer works on the block
                start += step
                have -= step
                yield block
        if have:
            yield self._block(np.concatenate(buf), start)
        if start + have != self.n:
            raise RecordingError(
                f"{self.path} changed while it was read ({self.n} samples, now "
                f"{start + have}): analyse a file that is not being written"
            )

    def _block(self, rows: NDArray[np.float64], i: int) -> SampleBlock:
        acc = np.ascontiguousarray(rows[:, 1:4])
        if self.acc_scale != 1.0:
            acc = acc * self.acc_scale
        gyro = np.ascontiguousarray(rows[:, 4:7]) if self.has_gyro else None
        t_rel = None if not math.isnan(self.fs_hz) else rows[:, 0] - self.t0
        t_ns = block_times_ns(i, i + len(rows), self.fs_hz, t_rel)
        return SampleBlock(t_ns, acc, self.nominal_fs_hz, gyro)

    def _whole(self) -> NDArray[np.float64]:
        return np.concatenate(list(_chunks(self.path, self.columns)))

    @property
    def acc_g(self) -> NDArray[np.float64]:
        """All acceleration (N, 3) in g. Loads the whole file: for small files and tests."""
        return np.ascontiguousarray(self._whole()[:, 1:4]) * self.acc_scale

    @property
    def t_s(self) -> NDArray[np.float64] | None:
        """All sample times (s from the first sample) of an irregular file, else None.

        Loads the whole time column: for small files and tests."""
        if not math.isnan(self.fs_hz):
            return None
        return self._whole()[:, 0] - self.t0

    @property
    def gyro_dps(self) -> NDArray[np.float64] | None:
        """All angular rate (N, 3) in deg/s, or None. Loads the whole file (small files)."""
        return np.ascontiguousarray(self._whole()[:, 4:7]) if self.has_gyro else None


def block_times_ns(
    i: int, j: int, fs_hz: float, t_rel_s: NDArray[np.float64] | None
) -> NDArray[np.int64]:
    """Sample times (int64 ns from the first sample) of samples ``i:j``.

    ``t_rel_s`` are their times in s from the first sample (irregular recordings); regular ones
    (``t_rel_s`` None) are at ``k / fs_hz``, in exact integers when that is whole nanoseconds.
    """
    if t_rel_s is not None:
        return np.round(t_rel_s * NS_PER_S).astype(np.int64)
    dt = NS_PER_S / fs_hz
    if dt == round(dt):
        return np.arange(i, j, dtype=np.int64) * round(dt)
    return np.round(np.arange(i, j) * dt).astype(np.int64)


# --------------------------------------------------------------------------- reading


class _ParseError(Exception):
    """``np.loadtxt`` could not parse a chunk (diagnosed line by line by :func:`_explain`)."""


def _chunks(path: Path, columns: tuple[int, ...] | None) -> Iterator[NDArray[np.float64]]:
    """The data rows (after the header) as float64 arrays of about :data:`CHUNK_BYTES` of text;
    ``columns`` selects and orders columns (None: all). Every value must be a number.

    Parsed by ``np.loadtxt`` as the whole file was before, so good files give the same numbers.
    """
    with path.open("rb") as fh:
        fh.readline(MAX_LINE)
        rest = b""
        while True:
            block = fh.read(CHUNK_BYTES)
            data = rest + block
            if block:  # parse up to the last line end, keep the rest for the next block
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    if len(data) > MAX_LINE:
                        raise RecordingError(
                            f"{path} has a line longer than {MAX_LINE // 1024} KiB: not a CSV "
                            "recording (one short row of numbers per sample)"
                        )
                    rest = data
                    continue
                data, rest = data[:cut], data[cut:]
            if not data:
                return
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
                    arr = np.loadtxt(
                        io.StringIO(data.decode("utf-8")), delimiter=",", ndmin=2, dtype=np.float64
                    )
            except ValueError as e:  # UnicodeDecodeError is one too
                raise _ParseError(e) from e
            if arr.shape[0]:
                yield arr if columns is None else arr[:, list(columns)]
            if not block:
                return


def _header(path: Path) -> list[str]:
    with path.open("rb") as fh:
        raw = fh.readline(MAX_LINE)
    try:
        line = raw.decode("utf-8-sig").rstrip("\r\n")
        if not line.replace("\t", " ").isprintable():
            raise UnicodeError("binary")
    except UnicodeError:
        raise RecordingError(
            f"{path} is not a text CSV file (its first line is not UTF-8 text): a CSV "
            f"recording starts with the header {TIME},{','.join(ACC)}"
        ) from None
    return [c.strip().strip('"').strip().lower() for c in line.split(",")]


def _columns(path: Path, names: list[str]) -> tuple[int, ...]:
    need = [TIME, *ACC]
    missing = [c for c in need if c not in names]
    if missing:
        found = ",".join(names)[:120]
        hint = ""
        if len(names) == 1 and any(s in names[0] for s in (";", "\t")):
            hint = " (columns must be separated by commas)"
        raise RecordingError(
            f"{path}: CSV header must contain {','.join(need)} (acceleration in g; optional "
            f"{','.join(GYRO)} in deg/s); found {found or 'nothing'}, "
            f"missing {','.join(missing)}{hint}"
        )
    twice = sorted({c for c in [*need, *GYRO] if names.count(c) > 1})
    if twice:
        raise RecordingError(f"{path}: CSV header names {', '.join(twice)} more than once")
    cols = [names.index(c) for c in need]
    if all(c in names for c in GYRO):
        cols += [names.index(c) for c in GYRO]
    return tuple(cols)


def _data_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of the data rows, skipping empty and comment lines as the parser."""
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        fh.readline(MAX_LINE)
        no = 1
        while line := fh.readline(MAX_LINE):
            no += 1
            text = line.rstrip("\r\n").split("#", 1)[0]
            if text:
                yield no, text


def _line_of_row(path: Path, row: int) -> tuple[int, str]:
    for k, (no, text) in enumerate(_data_lines(path)):
        if k == row:
            return no, text
    return -1, ""


def _explain(path: Path, names: list[str], error: BaseException) -> RecordingError:
    """A :class:`RecordingError` naming the first line the parser could not read."""
    ncols = len(names)
    for no, text in _data_lines(path):
        fields = text.split(",")
        if len(fields) != ncols:
            return RecordingError(
                f"{path}: line {no} has {len(fields)} values but the header has {ncols} columns"
            )
        for name, value in zip(names, fields, strict=True):
            v = value.strip()
            if not _NUMBER.fullmatch(v):
                return RecordingError(
                    f"{path}: unreadable CSV value on line {no}: column {name or '(unnamed)'} "
                    f"has {v[:40]!r}, not a number (every column must be numeric)"
                )
    msg = " ".join(str(error).split())[:200]
    return RecordingError(f"{path}: unreadable CSV ({msg}); check the file around that row")


def _not_finite(
    path: Path, row: int, names: list[str], column: str, value: float
) -> RecordingError:
    """The error for a NaN or inf in time or acceleration (or a row too short for them)."""
    no, text = _line_of_row(path, row)
    fields = text.split(",")
    if len(fields) != len(names):
        return RecordingError(
            f"{path}: line {no} has {len(fields)} values but the header has {len(names)} columns"
        )
    return RecordingError(
        f"{path}: line {no}: {column} is {value}; time_s and acc_x,acc_y,acc_z must be finite "
        "numbers on every row (drop or fill the rows with NaN, inf or missing values)"
    )


# --------------------------------------------------------------------------- scanning


@dataclass(slots=True)
class _StepMedian:
    """Exact median of a stream of non-negative float64 time steps, in bounded memory.

    Counts distinct values (a clean time column has a handful); past :data:`_DISTINCT_STEPS`
    of them it keeps only the count, minimum and maximum, and :meth:`median` narrows the range
    down with extra passes (histograms of the values' bit patterns, which sort as the values do)
    until the middle ones can be collected. Same value as ``np.median`` of all steps.
    """

    n: int = 0
    lo: float = math.inf
    hi: float = -math.inf
    values: NDArray[np.float64] | None = field(default_factory=lambda: np.empty(0))
    counts: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))

    def add(self, d: NDArray[np.float64]) -> None:
        if len(d) == 0:
            return
        self.n += len(d)
        self.lo = min(self.lo, float(d.min()))
        self.hi = max(self.hi, float(d.max()))
        if self.values is None:
            return
        v, c = np.unique(d, return_counts=True)
        allv = np.concatenate([self.values, v])
        u, inv = np.unique(allv, return_inverse=True)
        cnt = np.zeros(len(u), np.int64)
        np.add.at(cnt, inv, np.concatenate([self.counts, c]))
        if len(u) > _DISTINCT_STEPS:
            self.values = None
            self.counts = np.empty(0, np.int64)
        else:
            self.values, self.counts = u, cnt

    def median(self, again: Chunks) -> float:
        """``np.median`` of everything added; ``again()`` must give the same steps again."""
        k1, k2 = (self.n - 1) // 2, self.n // 2
        if self.values is not None:
            cum = np.cumsum(self.counts)
            a = float(self.values[np.searchsorted(cum, k1, side="right")])
            b = float(self.values[np.searchsorted(cum, k2, side="right")])
        else:
            a = _select(again, k1, self.lo, self.hi)
            b = a if k2 == k1 else _select(again, k2, self.lo, self.hi)
        return a if k1 == k2 else float(np.mean(np.array([a, b])))


def _keys(d: NDArray[np.float64]) -> NDArray[np.int64]:
    return np.abs(d).view(np.int64)  # non-negative floats sort as their bit patterns


def _select(again: Chunks, k: int, lo: float, hi: float) -> float:
    """The value of rank ``k`` among the steps in ``again()`` (all in [lo, hi]).

    Each pass counts the steps in :data:`_BINS` bins of their key range and keeps the bin that
    holds rank ``k``, so the range shrinks by that factor a pass (at most four passes for
    float64 keys) until its steps are few enough to collect and sort, or one bin is one value.
    """
    klo, khi = int(_keys(np.array([lo]))[0]), int(_keys(np.array([hi]))[0])
    below, inside = 0, None  # steps with key < klo; with key in [klo, khi] (None: unknown)
    while True:
        if inside is not None and inside <= _COLLECT:
            got = np.sort(np.concatenate([k_[(k_ >= klo) & (k_ <= khi)] for k_ in _keys_of(again)]))
            return float(got[k - below : k - below + 1].view(np.float64)[0])
        width = -(-(khi - klo + 1) // _BINS)
        hist = np.zeros(_BINS, np.int64)
        for keys in _keys_of(again):
            keys = keys[(keys >= klo) & (keys <= khi)]
            hist += np.bincount((keys - klo) // width, minlength=_BINS)
        b = int(np.searchsorted(below + np.cumsum(hist), k, "right"))
        if width == 1:  # every bin is one value
            return float(np.array([klo + b], np.int64).view(np.float64)[0])
        below += int(hist[:b].sum())
        inside = int(hist[b])
        klo, khi = klo + b * width, min(khi, klo + (b + 1) * width - 1)


def _keys_of(again: Chunks) -> Iterator[NDArray[np.int64]]:
    for d in again():
        yield _keys(d)


def _steps(path: Path, time_col: int, t0: float) -> Iterator[NDArray[np.float64]]:
    """The time steps of the file (of ``time_s - t0``), chunk by chunk, for extra passes."""
    prev: float | None = None
    for chunk in _chunks(path, (time_col,)):
        t = chunk[:, 0] - t0
        if prev is not None:
            yield np.diff(np.concatenate([[prev], t]))
        else:
            yield np.diff(t)
        if len(t):
            prev = float(t[-1])


def scan_csv(path: Path, fs_hz: float | None = None, units: str = "g") -> CsvRecording:
    """Check a CSV recording row by row and learn its length, rate and duration.

    Parameters
    ----------
    path
        The file (it exists and can be read).
    fs_hz
        Sampling rate to use instead of the time column's (``--fs``), already checked.
    units
        Units of the acceleration columns (``--units``): ``g``, ``mg`` or ``m/s2``.

    Returns
    -------
    CsvRecording
        To read block by block.

    Raises
    ------
    RecordingError
        With the line and column of the first problem.
    """
    names = _header(path)
    cols = _columns(path, names)
    n = 0
    t0 = prev_raw = math.nan
    prev_rel = math.nan
    first_t: list[NDArray[np.float64]] = []
    mags: list[NDArray[np.float64]] = []
    n_mag = 0
    max_abs, max_row, max_axis = 0.0, -1, 0
    steps = _StepMedian()
    try:
        for chunk in _chunks(path, None):
            if chunk.shape[1] != len(names):
                no, _ = _line_of_row(path, n)
                raise RecordingError(
                    f"{path}: line {no} has {chunk.shape[1]} values but the header has "
                    f"{len(names)} columns"
                )
            tacc = chunk[:, list(cols[:4])]
            t, acc = tacc[:, 0], tacc[:, 1:]
            finite = np.isfinite(tacc)
            if not finite.all():
                r, c = divmod(int(np.argmin(finite)), 4)
                name = (TIME, *ACC)[c]
                raise _not_finite(path, n + r, names, name, float(tacc[r, c]))
            if n == 0:
                t0 = prev_raw = float(t[0])
            raw = np.concatenate([[prev_raw], t])
            back = np.diff(raw) <= 0
            back[0] = back[0] and n > 0
            if back.any():
                r = n + int(np.argmax(back))
                no, _ = _line_of_row(path, r)
                was, now = float(raw[r - n]), float(raw[r - n + 1])
                what = f"repeats {now}" if now == was else f"goes back from {was} to {now}"
                raise RecordingError(
                    f"{path}: time_s must be non-decreasing and never repeat: line {no} "
                    f"{what} (sort the rows by time and drop duplicate rows)"
                )
            rel = t - t0
            if fs_hz is None:
                d = np.diff(np.concatenate([[prev_rel], rel])) if n else np.diff(rel)
                steps.add(d)
            if n < NOMINAL_ROWS:
                first_t.append(rel[: NOMINAL_ROWS - n])
            if n_mag < MEDIAN_ROWS:
                mags.append(magnitude(acc[: MEDIAN_ROWS - n_mag]))
                n_mag += len(mags[-1])
            a = np.abs(acc)
            k = int(np.argmax(a))
            if a.flat[k] > max_abs:
                max_abs, max_row, max_axis = float(a.flat[k]), n + k // 3, k % 3
            prev_raw, prev_rel = float(t[-1]), float(rel[-1])
            n += len(chunk)
    except _ParseError as e:
        raise _explain(path, names, e.__cause__ or e) from None
    if n == 0:
        raise RecordingError(
            f"{path} has a header but no samples: add one row of numbers per sample"
        )
    max_at = f"line {_line_of_row(path, max_row)[0]}, {ACC[max_axis]}" if max_row >= 0 else ""
    check_units(str(path), units, float(np.median(np.concatenate(mags))), max_abs, max_at)
    duration_rel = prev_rel
    first = np.concatenate(first_t)
    fs, nominal = _rate(path, fs_hz, steps, first, cols[0], t0)
    duration = n / fs if not math.isnan(fs) else duration_rel + 1.0 / nominal
    return CsvRecording(path, n, fs, nominal, duration, cols, t0, to_g(units))


def _rate(
    path: Path,
    fs_hz: float | None,
    steps: _StepMedian,
    first: NDArray[np.float64],
    time_col: int,
    t0: float,
) -> tuple[float, float]:
    """(fs_hz, nominal_fs_hz): ``fs_hz`` if given, else the time column's regular rate, else NaN
    and the median rate of the first samples (as :class:`~sensorhub.io.readers.Recording`)."""
    if fs_hz is not None:
        return fs_hz, fs_hz
    # regular when every step is within REGULAR_JITTER of the median step; that needs the median
    # only when the extreme steps could both be that close to one value
    if steps.n and steps.hi * (1 - REGULAR_JITTER) <= steps.lo * (1 + REGULAR_JITTER) * 1.000001:
        med = steps.median(lambda: _steps(path, time_col, t0))
        if med > 0 and all(abs(x - med) <= REGULAR_JITTER * med for x in (steps.lo, steps.hi)):
            fs = round(1.0 / med, 6)
            return fs, fs
    d = np.diff(first)
    d = d[d > 0]
    return math.nan, float(1.0 / np.median(d)) if len(d) else 1.0
