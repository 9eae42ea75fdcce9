"""``sensorhub analyze`` on a 10-million-row CSV: memory stays flat in the file's length.

Issue 9 target: a 10 M-row CSV (27.8 h at 100 Hz) analysed within 300 MB peak RSS. The CSV is
tiled from the real 100 Hz recordings in ../shared/datasets (as ``bench_analyze`` tiles its
.npy), written with 6 decimals into a temp dir, and analysed by the command line itself in a
child process that reports its own peak RSS (``VmHWM``; ``ru_maxrss`` would carry this
process's peak, see ``bench_analyze``). The CSV is read block by block: once to check it, again
for the calibration pre-scan (its first 24 h), for the upright pre-scan and for the analysis.
``SENSORHUB_BENCH_CSV_ROWS`` changes the length.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.bench_analyze import FS, _sources

HERE = Path(__file__).resolve().parent
ROWS = int(os.environ.get("SENSORHUB_BENCH_CSV_ROWS", "10000000"))
TARGET_MB = 300.0

_CHILD = r"""
import sys
from sensorhub.cli import main
rc = main(sys.argv[1:])
with open("/proc/self/status", encoding="ascii") as fh:
    for line in fh:
        if line.startswith("VmHWM:"):
            print("VmHWM", int(line.split()[1]), file=sys.stderr)
sys.exit(rc)
"""


def build(path: Path, n: int) -> None:
    """Write an ``n``-row CSV at 100 Hz tiled from real recordings (6 decimals)."""
    src = np.concatenate(_sources()).astype(np.float64)
    with path.open("w") as fh:
        fh.write("time_s,acc_x,acc_y,acc_z\n")
        for i in range(0, n, 100_000):
            j = min(n, i + 100_000)
            rows = np.column_stack([np.arange(i, j) / FS, src[np.arange(i, j) % len(src)]])
            fh.write("".join(f"{t:.6f},{x:.6f},{y:.6f},{z:.6f}\n" for t, x, y, z in rows.tolist()))


def run(path: Path, out: Path) -> dict[str, Any]:
    """Analyse ``path`` with ``sensorhub analyze`` in a child; wall, CPU and peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    argv = ["analyze", str(path), "--placement", "pocket", "--no-progress", "--out", str(out)]
    r = subprocess.run(
        [sys.executable, "-c", _CHILD, *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE.parent,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr else "failed"}
    hwm = [line.split()[1] for line in r.stderr.splitlines() if line.startswith("VmHWM")]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": int(hwm[-1]) / 1024.0}


def main() -> dict[str, Any]:
    """Build the CSV, analyse it once, report rows/s and peak memory."""
    with tempfile.TemporaryDirectory(prefix="sensorhub-bench-csv-") as tmp:
        path = Path(tmp) / "day.csv"
        t0 = time.perf_counter()
        build(path, ROWS)
        size_mb = path.stat().st_size / 2**20
        print(f"   built {ROWS:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - t0:.1f} s")
        res = run(path, Path(tmp) / "out.json")
    if "error" in res:
        print(f"   sensorhub analyze failed: {res['error']}")
        return {**res, "rows": ROWS, "pass": False}
    rate = ROWS / res["wall_s"]
    print(
        f"   sensorhub analyze: {res['wall_s']:.1f} s wall, {res['cpu_s']:.1f} s CPU, "
        f"{rate / 1e6:.2f} M rows/s, peak RSS {res['peak_rss_mb']:.0f} MB "
        f"(target <= {TARGET_MB:.0f} MB)"
    )
    return {
        **res,
        "rows": ROWS,
        "csv_mb": size_mb,
        "rows_per_s": rate,
        "pass": res["peak_rss_mb"] <= TARGET_MB,
    }


if __name__ == "__main__":
    print(main())
