"""``sensorhub demo``: an emulated wearer, the whole pipeline and the dashboard on one machine."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from sensorhub.demo import run_demo


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="run an emulated wearer through collector, pipeline, store, nudges and dashboard",
        description="Starts an emulated Polar H10 on a virtual BLE radio living a scripted, "
        "time-compressed day, the real collector (bleak), detection pipeline, SQLite store and "
        "nudge engine, and the dashboard. Ctrl-C stops everything cleanly.",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="time compression: wearer seconds per real second (default %(default)s)",
    )
    parser.add_argument("--port", type=int, default=8501, help="dashboard port (%(default)s)")
    parser.add_argument(
        "--db",
        type=Path,
        default=Path("var/demo.db"),
        help="SQLite file of this run (default %(default)s); an existing one is refused "
        "unless --fresh",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="delete an existing --db (and its -wal, -shm) and start over",
    )
    parser.add_argument("--scenario", default="demo-day", help="scripted day (%(default)s)")
    parser.add_argument(
        "--exit-after", type=float, default=None, metavar="SECONDS",
        help="stop by itself after this many real seconds (for scripted checks)",
    )  # fmt: skip
    parser.add_argument("--no-dashboard", action="store_true", help="do not serve the dashboard")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C."""
    if not args.speed > 0:
        raise SystemExit("sensorhub demo: --speed must be positive")
    return asyncio.run(
        run_demo(
            say=lambda line: print(line, flush=True),
            db_path=args.db,
            speed=args.speed,
            port=args.port,
            scenario_name=args.scenario,
            exit_after_s=args.exit_after,
            with_dashboard=not args.no_dashboard,
            fresh=args.fresh,
        )
    )
