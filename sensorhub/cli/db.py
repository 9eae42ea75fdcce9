"""``sensorhub db upgrade``: bring a database schema to the newest revision."""

from __future__ import annotations

import argparse
from typing import Any

from sensorhub.store import DB_URL_ENV, DEFAULT_DB_URL, Store, database_url
from sensorhub.store.database import head_revision, schema_revision


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser("db", help="database administration")
    actions = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="migrate the schema to the newest revision")
    upgrade.add_argument(
        "--db",
        metavar="URL",
        help=f"database URL (default ${DB_URL_ENV}, else {DEFAULT_DB_URL})",
    )
    upgrade.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Migrate and report the revision."""
    store = Store.open(database_url(args.db), upgrade=True)
    try:
        print(f"database at revision {schema_revision(store.engine)} (newest: {head_revision()})")
    finally:
        store.close()
    return 0
