"""``sensorhub dashboard``: serve the Streamlit dashboard for a database.

The database URL reaches the Streamlit process through its environment
(``$SENSORHUB_DB_URL``), never its command line: every local user can read a command line
(``ps``), only the owner a process's environment. The dashboard opens the database read-only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from importlib.resources import files
from typing import Any

from sensorhub.store import DB_URL_ENV, DEFAULT_DB_URL, database_url


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "dashboard",
        help="serve the web dashboard",
        description="Serve the dashboard for a database, which it opens read-only (a missing "
        "SQLite file is reported, not created). A URL with a password given as --db is "
        f"visible to other local users in `ps`: put it in ${DB_URL_ENV} instead.",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help=f"database URL (default ${DB_URL_ENV}, else {DEFAULT_DB_URL}); a read-only role "
        "is enough on PostgreSQL",
    )
    parser.add_argument("--port", type=int, default=8501, help="HTTP port (default %(default)s)")
    parser.add_argument("--address", default="127.0.0.1", help="listen address")
    parser.set_defaults(run=run)


def dashboard_command(*, port: int, address: str = "127.0.0.1") -> list[str]:
    """The command line that serves the dashboard (used by ``demo`` too).

    It names no database: pass the URL in the child's environment, see
    :func:`dashboard_environment`.
    """
    # Located by name, not imported: the dashboard is a separate process above this layer.
    app = files("dashboard") / "app.py"
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip


def dashboard_environment(db_url: str) -> dict[str, str]:
    """The dashboard process's environment: this process's, with the database URL in it."""
    return {**os.environ, DB_URL_ENV: db_url}


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    print(f"sensorhub dashboard: http://{args.address}:{args.port}/", flush=True)
    return subprocess.call(  # noqa: S603 (our own interpreter and arguments)
        dashboard_command(port=args.port, address=args.address),
        env=dashboard_environment(database_url(args.db)),
    )
