"""``sensorhub analyze RECORDING``: offline analysis of one recording (DESIGN.md section 4.1)."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from sensorhub.errors import RecordingError
from sensorhub.io.analysis import analyze_recording
from sensorhub.io.readers import read_recording
from sensorhub.io.units import TO_G
from sensorhub.model import Placement
from sensorhub.pipeline import PipelineSettings

PLACEMENTS = ("wrist", "lower_back", "hip", "thigh", "chest", "pocket")

#: Recordings with more samples than this show a progress bar on stderr.
PROGRESS_MIN_SAMPLES = 2_000_000


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    p = subparsers.add_parser(
        "analyze",
        help="analyse a recorded file (CSV, NPZ, NPY): postures, static bouts, steps, gait, falls",
        description=(
            "Analyse one accelerometer recording and print the sensorhub.analysis/1 JSON "
            "document. RECORDING is a CSV (header time_s,acc_x,acc_y,acc_z in g, optional "
            "gyro_x,gyro_y,gyro_z in deg/s), an NPZ (acc (N,3) g, fs; irregular: fs=NaN and t "
            "in s) or a memory-mapped NPY (N,3) with --fs. Acceleration in milli-g or m/s^2: "
            "--units. A file that cannot be analysed is refused with one line saying why."
        ),
    )
    p.add_argument("recording", type=Path, metavar="RECORDING")
    p.add_argument("--placement", required=True, choices=PLACEMENTS, help="where it was worn")
    p.add_argument("--fs", type=float, default=None, metavar="HZ", help="sampling rate")
    p.add_argument(
        "--units",
        choices=tuple(TO_G),
        default="g",
        help="units of the acceleration in the file (default g; m/s2 uses 9.80665 m/s^2 per g)",
    )
    p.add_argument("--height-m", type=float, default=None, metavar="M", help="wearer's height")
    p.add_argument(
        "--sensor-height-m",
        type=float,
        default=None,
        metavar="M",
        help="sensor height above the ground (walking speed)",
    )
    p.add_argument("--out", type=Path, default=None, metavar="FILE.json", help="write here")
    p.add_argument("--format", choices=("json", "table"), default="json")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument(
        "--no-calibration",
        action="store_true",
        help="do not autocalibrate the accelerometer from its still periods (van Hees 2014)",
    )
    p.set_defaults(run=run)


class _Bar:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.t0 = time.monotonic()
        self.last = -1

    def __call__(self, frac: float) -> None:
        pct = int(frac * 100)
        if pct == self.last:
            return
        self.last = pct
        n = pct // 4
        el = time.monotonic() - self.t0
        eta = el / frac - el if frac > 0 else 0.0
        self.stream.write(f"\ranalysing [{'#' * n}{'.' * (25 - n)}] {pct:3d}%  eta {eta:5.0f} s")
        if pct >= 100:
            self.stream.write("\n")
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    """Analyse and print (or write) the result."""
    for name in ("fs", "height_m", "sensor_height_m"):
        v = getattr(args, name)
        if v is not None and not (v > 0 and math.isfinite(v)):
            raise RecordingError(
                f"--{name.replace('_', '-')} must be positive (a finite number), got {v}"
            )
    rec = read_recording(args.recording, fs_hz=args.fs, units=args.units)
    settings = PipelineSettings(height_m=args.height_m, sensor_height_m=args.sensor_height_m)
    bar = None
    if not args.no_progress and len(rec) >= PROGRESS_MIN_SAMPLES:
        bar = _Bar(sys.stderr)
    doc = analyze_recording(
        rec,
        Placement(args.placement),
        settings=settings,
        progress=bar,
        calibrate=not args.no_calibration,
    )
    text = json.dumps(doc, indent=1) + "\n" if args.format == "json" else format_table(doc)
    if args.out is not None:
        try:
            args.out.write_text(text)
        except OSError as e:
            raise RecordingError(f"cannot write {args.out}: {e}") from e
    else:
        sys.stdout.write(text)
    return 0


def _num(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


#: Gait-bout columns of the table: (JSON key, header, width, format).
GAIT_COLUMNS = (
    ("steps", "steps", 6, "d"),
    ("cadence_spm", "cadence", 8, ".1f"),
    ("stride_time_s", "stride_s", 9, ".2f"),
    ("stride_time_cv_pct", "CV%", 6, ".1f"),
    ("step_regularity", "step_reg", 9, ".2f"),
    ("stride_regularity", "strd_reg", 9, ".2f"),
    ("asymmetry_pct", "asym%", 6, ".1f"),
    ("harmonic_ratio", "HR", 5, ".2f"),
    ("shuffling_pct", "shuffle%", 9, ".1f"),
    ("speed_mps", "speed", 6, ".2f"),
)


def format_table(doc: dict[str, Any]) -> str:
    """A short human-readable summary of an analysis document: the summary, the static
    bouts, and every gait bout with the metrics the JSON has (regularity, asymmetry,
    harmonic ratio, shuffling; speed only when the height or sensor height was given)."""
    s = doc["summary"]
    static = doc["static_bouts"]
    lines = [
        f"recording: {doc['duration_s']:.1f} s, placement {doc['placement']}",
        f"steps: {doc['steps']['count']}",
        f"sedentary: {s['sedentary_s'] / 60:.1f} min (in sedentary bouts: "
        f"{s['sedentary_in_bouts_s'] / 60:.1f} min)   walking: {s['walking_s'] / 60:.1f} min",
        f"longest static bout: {s['longest_static_bout_s'] / 60:.1f} min   breaks: {s['breaks']}",
        "",
        f"{'static bout':<14}{'start_s':>10}{'end_s':>10}{'minutes':>9}",
    ]
    for b in static:
        lines.append(
            f"{b['posture']:<14}{b['start_s']:>10.1f}{b['end_s']:>10.1f}"
            f"{(b['end_s'] - b['start_s']) / 60:>9.1f}"
        )
    header = f"{'gait bout':<10}{'start_s':>9}{'end_s':>9}"
    header += "".join(f"{h:>{w}}" for _, h, w, _ in GAIT_COLUMNS)
    lines += ["", header]
    for g in doc["gait_bouts"]:
        row = f"{'':<10}{g['start_s']:>9.1f}{g['end_s']:>9.1f}"
        row += "".join(f"{_num(g.get(k), f):>{w}}" for k, _, w, f in GAIT_COLUMNS)
        lines.append(row)
    for f in doc["falls"]:
        lines.append(f"possible fall at {f['time_s']:.1f} s (confidence {f['confidence']:.2f})")
    for w in doc["nonwear"]:
        lines.append(f"not worn {w['start_s']:.1f} - {w['end_s']:.1f} s")
    cal = doc.get("calibration") or {}
    if cal.get("applied"):
        lines.append(
            f"calibration: offset {cal['offset_g']} g, scale {cal['scale']}, error "
            f"{cal['error_before_mg']} -> {cal['error_after_mg']} mg"
        )
    elif cal:
        lines.append(f"calibration: not applied ({cal.get('reason')})")
    return "\n".join(lines) + "\n"
