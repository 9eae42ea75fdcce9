"""``sensorhub audit [--wearer ID] [--since DATE] [--json]``: the audit log, oldest first."""

from __future__ import annotations

import argparse
from typing import Any

from sensorhub.cli.care_support import (
    add_db_argument,
    add_json_argument,
    iso,
    open_store,
    parse_since,
    print_json,
    print_table,
    short_time,
)


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "audit",
        help="show the audit log: logins, views, exports, shares, account changes",
        description="The append-only audit log, oldest first: who did what to whose data, "
        "and when. Entries about a wearer stay after the wearer's data is deleted.",
    )
    parser.add_argument("--wearer", metavar="ID", help="only entries about this wearer")
    parser.add_argument(
        "--since",
        metavar="DATE",
        help="only entries at or after DATE: YYYY-MM-DD (00:00 UTC) or an ISO time",
    )
    add_json_argument(parser)
    add_db_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the audit log."""
    since = None if args.since is None else parse_since(args.since)
    with open_store(args.db) as store:
        entries = list(reversed(store.accounts.audit(wearer_id=args.wearer, since=since)))
    if args.json:
        print_json(
            {
                "entries": [
                    {
                        "id": e.id,
                        "at": iso(e.at),
                        "actor": e.actor,
                        "action": e.action,
                        "wearer_id": e.wearer_id,
                        "detail": e.detail,
                    }
                    for e in entries
                ]
            }
        )
        return 0
    if not entries:
        print("no audit entries")
        return 0
    rows = [[short_time(e.at), e.actor, e.action, e.wearer_id or "-", e.detail] for e in entries]
    print_table(["at", "actor", "action", "wearer", "detail"], rows)
    return 0
