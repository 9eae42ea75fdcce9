"""``sensorhub export --wearer ID --format csv|parquet --out DIR``: every row of a wearer."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sensorhub.cli.care_support import add_db_argument, cli_actor, counts_text, open_store
from sensorhub.store.wearer_data import EXPORT_FORMATS, export_wearer


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "export",
        help="export every row of a wearer's data (CSV or Parquet), audited",
        description="Write every row of a wearer's data to DIR, one file per table: wearer, "
        "events (static bouts, postures, gait bouts, falls, non-wear), epochs, nudges, "
        "live_state, devices and shares. Files are created with mode 0600 and never "
        "overwritten. The export is recorded in the audit log.",
    )
    parser.add_argument("--wearer", required=True, metavar="ID", help="the wearer to export")
    parser.add_argument(
        "--format",
        required=True,
        dest="fmt",
        metavar="|".join(EXPORT_FORMATS),
        help="file format",
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="folder to write (created 0700)"
    )
    add_db_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Export the wearer's data and print the row counts."""
    with open_store(args.db) as store:
        counts = export_wearer(store.engine, args.wearer, args.out, fmt=args.fmt, actor=cli_actor())
    print(f"exported wearer {args.wearer} to {args.out} ({args.fmt}): {counts_text(counts)}")
    return 0
