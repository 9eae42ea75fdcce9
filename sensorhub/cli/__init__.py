"""The ``sensorhub`` command line: one entry point, one module per subcommand.

Each subcommand module exposes ``add_parser(subparsers)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from sensorhub.errors import SensorhubError

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS = (
    "demo",
    "dashboard",
    "scan",
    "run",
    "analyze",
    "decode",
    "devices",
    "devices_add",
    "db",
    "users",
    "share",
    "audit",
    "export",
    "wearer",
    "alerts",
)


def _modules() -> list[ModuleType]:
    return [importlib.import_module(f"sensorhub.cli.{name}") for name in SUBCOMMANDS]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (every subcommand registered)."""
    parser = argparse.ArgumentParser(
        prog="sensorhub",
        description="Wearable-sensor monitor for static loading, gait and falls.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _modules():
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.run(args))
    except SensorhubError as exc:
        print(f"sensorhub: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
