"""``sensorhub wearer delete ID --yes``: erase every row of a wearer (the audit log stays)."""

from __future__ import annotations

import argparse
from typing import Any

from sensorhub.access import AccessError
from sensorhub.cli.care_support import add_db_argument, cli_actor, counts_text, open_store
from sensorhub.store.wearer_data import delete_wearer, wearer_row_counts


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser("wearer", help="a wearer's data as a whole: delete")
    actions = parser.add_subparsers(dest="wearer_command", required=True, metavar="ACTION")
    delete = actions.add_parser(
        "delete",
        help="delete every row of a wearer, their account and shares",
        description="Delete every row of a wearer in one transaction: events, epochs, nudges, "
        "live state, devices, the wearer, their own account and every share of their data. "
        "The audit log keeps its entries and gains one recording the deletion. Without "
        "--yes it only says what would be deleted. Export first if the data is to be kept "
        "(`sensorhub export`).",
    )
    delete.add_argument("wearer_id", metavar="ID", help="the wearer to delete")
    delete.add_argument("--yes", action="store_true", help="really delete")
    add_db_argument(delete)
    delete.set_defaults(run=run_delete)


def run_delete(args: argparse.Namespace) -> int:
    """Delete the wearer (or say what would be deleted)."""
    with open_store(args.db) as store:
        counts = wearer_row_counts(store.engine, args.wearer_id)
        if not counts["wearer"]:
            raise AccessError(
                f"no wearer {args.wearer_id!r} in the database: nothing to delete (check the id)"
            )
        if not args.yes:
            raise AccessError(
                f"this would delete wearer {args.wearer_id} and every row of theirs "
                f"({counts_text(counts)}; the audit log stays): run again with --yes to delete"
            )
        deleted = delete_wearer(store.engine, args.wearer_id, actor=cli_actor())
    print(
        f"deleted wearer {args.wearer_id}: {counts_text(deleted)}; the audit log keeps its entries"
    )
    print(
        f"remove wearer {args.wearer_id} and their devices from the hub config too (and restart "
        "the hub), or the hub will collect their data again"
    )
    return 0
