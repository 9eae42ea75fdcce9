"""``sensorhub share grant|revoke|list``: who sees which scopes of a wearer's data.

A share granted from the command line is an administrator acting on the wearer's documented
behalf: ``--on-behalf`` says on what basis (a signed consent form, ...) and is stored with
the share and in the audit log.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from sensorhub.access import AccessError, Scope, parse_scopes
from sensorhub.cli.care_support import (
    add_db_argument,
    add_json_argument,
    cli_actor,
    iso,
    open_store,
    parse_expiry,
    print_json,
    print_table,
    short_time,
)
from sensorhub.store import ShareView

_SCOPES = ", ".join(s.value for s in Scope)


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "share",
        help="grant, revoke and list who sees which parts of a wearer's data",
        description="Shares: a wearer's consent that an account sees some scopes of their "
        f"data ({_SCOPES}). Every change is recorded in the audit log.",
    )
    actions = parser.add_subparsers(dest="share_command", required=True, metavar="ACTION")

    grant = actions.add_parser(
        "grant",
        help="share scopes of a wearer's data with an account",
        description="Share scopes of a wearer's data with an account, on the wearer's "
        "documented behalf (--on-behalf). An active share of the same wearer with the same "
        "account is replaced. Takes effect on the account's next read.",
    )
    grant.add_argument("--wearer", required=True, metavar="ID", help="the wearer whose data")
    grant.add_argument("--to", required=True, metavar="USERNAME", help="the account to share with")
    grant.add_argument(
        "--scopes", required=True, metavar="LIST", help=f"comma-separated, from: {_SCOPES}"
    )
    grant.add_argument(
        "--expires",
        metavar="DATE",
        help="end of the share: YYYY-MM-DD lasts through that day (it ends at 00:00 UTC the "
        "next day), or an ISO time YYYY-MM-DDTHH:MM[+HH:MM] (UTC without an offset); "
        "default: until revoked",
    )
    grant.add_argument(
        "--on-behalf",
        metavar="BASIS",
        help='required: on what basis you grant it for the wearer, e.g. "signed consent form '
        '2026-11-30" (stored with the share and in the audit log)',
    )
    add_db_argument(grant)
    grant.set_defaults(run=run_grant)

    revoke = actions.add_parser(
        "revoke",
        help="revoke an account's share of a wearer's data",
        description="Revoke every active share of the wearer with the account; the account "
        "sees nothing more of the wearer from its next read on.",
    )
    revoke.add_argument("--wearer", required=True, metavar="ID", help="the wearer whose data")
    revoke.add_argument("--to", required=True, metavar="USERNAME", help="the account")
    add_db_argument(revoke)
    revoke.set_defaults(run=run_revoke)

    listing = actions.add_parser(
        "list", help="list shares (active, expired and revoked), newest first"
    )
    listing.add_argument("--wearer", metavar="ID", help="only this wearer's shares")
    add_json_argument(listing)
    add_db_argument(listing)
    listing.set_defaults(run=run_list)


def run_grant(args: argparse.Namespace) -> int:
    """Grant a share."""
    scopes = parse_scopes(args.scopes)
    expires_at = None if args.expires is None else parse_expiry(args.expires)
    basis = (args.on_behalf or "").strip()
    if not basis:
        raise AccessError(
            "a share granted from the command line is granted on the wearer's behalf: say on "
            'what basis with --on-behalf, e.g. --on-behalf "signed consent form 2026-11-30"'
        )
    if basis.lower() == "wearer":
        raise AccessError(
            "--on-behalf must describe the documented basis (e.g. the consent form), not just "
            "'wearer'"
        )
    with open_store(args.db) as store:
        share = store.accounts.grant_share(
            args.wearer,
            args.to,
            scopes,
            actor=cli_actor(),
            basis=basis,
            expires_at=expires_at,
        )
    until = f" until {short_time(share.expires_at)}" if share.expires_at else " until revoked"
    print(
        f"shared {', '.join(sorted(s.value for s in share.scopes))} of wearer "
        f"{share.wearer_id} with {share.grantee}{until}"
    )
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    """Revoke a share."""
    with open_store(args.db) as store:
        count = store.accounts.revoke_share(args.wearer, args.to, actor=cli_actor())
    print(
        f"revoked {count} share{'s' if count != 1 else ''} of wearer {args.wearer} from {args.to}"
    )
    return 0


def _status(share: ShareView, now: dt.datetime) -> str:
    if share.revoked_at is not None:
        return "revoked"
    return "active" if share.active_at(now) else "expired"


def _share_dict(share: ShareView, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": str(share.id),
        "wearer_id": share.wearer_id,
        "to": share.grantee,
        "to_display_name": share.grantee_display_name,
        "scopes": sorted(s.value for s in share.scopes),
        "status": _status(share, now),
        "granted_at": iso(share.granted_at),
        "granted_by": share.granted_by,
        "basis": share.basis,
        "expires_at": iso(share.expires_at),
        "revoked_at": iso(share.revoked_at),
        "revoked_by": share.revoked_by,
    }


def run_list(args: argparse.Namespace) -> int:
    """List shares."""
    with open_store(args.db) as store:
        shares = store.accounts.shares(args.wearer)
    now = dt.datetime.now(dt.UTC)
    if args.json:
        print_json({"shares": [_share_dict(s, now) for s in shares]})
        return 0
    if not shares:
        print("no shares")
        return 0
    rows = [
        [
            s.wearer_id,
            s.grantee,
            ",".join(sorted(x.value for x in s.scopes)),
            _status(s, now),
            short_time(s.granted_at),
            short_time(s.expires_at),
            s.basis,
        ]
        for s in shares
    ]
    print_table(["wearer", "to", "scopes", "status", "granted", "expires", "basis"], rows)
    return 0
