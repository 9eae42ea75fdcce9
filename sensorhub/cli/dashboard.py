"""``sensorhub dashboard``: serve the Streamlit dashboard for a database."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib.resources import files
from typing import Any

from sensorhub.store import DEFAULT_DB_URL


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser("dashboard", help="serve the web dashboard")
    parser.add_argument("--db", default=DEFAULT_DB_URL, help="database URL (default %(default)s)")
    parser.add_argument("--port", type=int, default=8501, help="HTTP port (default %(default)s)")
    parser.add_argument("--address", default="127.0.0.1", help="listen address")
    parser.set_defaults(run=run)


def dashboard_command(db_url: str, *, port: int, address: str = "127.0.0.1") -> list[str]:
    """The command line that serves the dashboard (used by ``demo`` too)."""
    # Located by name, not imported: the dashboard is a separate process above this layer.
    app = files("dashboard") / "app.py"
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
        "--", "--db", db_url,
    ]  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    print(f"sensorhub dashboard: http://{args.address}:{args.port}/", flush=True)
    return subprocess.call(  # noqa: S603 (our own interpreter and arguments)
        dashboard_command(args.db, port=args.port, address=args.address)
    )
