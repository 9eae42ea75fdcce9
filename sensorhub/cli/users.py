"""``sensorhub users add|list|disable|reset-password``: dashboard accounts.

Passwords come from standard input only (``--password-stdin``): a command line is visible to
every local user (``ps``), standard input is not. They are never echoed, logged or audited.
"""

from __future__ import annotations

import argparse
from typing import Any

from sensorhub.access import AccessError, Role, parse_role
from sensorhub.cli.care_support import (
    add_db_argument,
    add_json_argument,
    cli_actor,
    iso,
    open_store,
    print_json,
    print_table,
    read_password,
    short_time,
)
from sensorhub.store import UserView

_ROLES = ", ".join(r.value for r in Role)


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "users",
        help="dashboard accounts: add, list, disable, reset a password",
        description="Accounts of the people who log in to the dashboard (care circle). Every "
        "change is recorded in the audit log as cli:<your user name>.",
    )
    actions = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    add = actions.add_parser(
        "add",
        help="add an account",
        description="Add an account. The password is read from standard input, one line "
        "(e.g. `printf '%%s\\n' \"$PW\" | sensorhub users add ... --password-stdin`), or "
        "prompted for without echo on a terminal; at least 10 characters.",
    )
    add.add_argument("--username", required=True, help="login name (letters, digits, . _ @ + -)")
    add.add_argument("--role", required=True, metavar="ROLE", help=f"one of {_ROLES}")
    add.add_argument(
        "--wearer", metavar="ID", help="for a wearer account: the wearer id this person is"
    )
    add.add_argument("--display-name", metavar="NAME", help="name shown (default: the username)")
    password = add.add_mutually_exclusive_group()
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    password.add_argument(
        "--no-password",
        action="store_true",
        help="no local password: the account logs in through the site's identity provider only",
    )
    add_db_argument(add)
    add.set_defaults(run=run_add)

    listing = actions.add_parser("list", help="list the accounts")
    add_json_argument(listing)
    add_db_argument(listing)
    listing.set_defaults(run=run_list)

    disable = actions.add_parser(
        "disable",
        help="disable an account",
        description="Disable an account: it cannot log in, and its open sessions see nothing "
        "more from their next read on. Its shares stay recorded.",
    )
    disable.add_argument("username", metavar="USERNAME")
    add_db_argument(disable)
    disable.set_defaults(run=run_disable)

    reset = actions.add_parser(
        "reset-password",
        help="set a new password (and lift a lockout)",
        description="Set a new password, read from standard input (one line), and lift a "
        "lockout after failed logins.",
    )
    reset.add_argument("username", metavar="USERNAME")
    reset.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add_db_argument(reset)
    reset.set_defaults(run=run_reset_password)


def run_add(args: argparse.Namespace) -> int:
    """Add an account."""
    role = parse_role(args.role)  # before reading a password: a typo fails fast
    password: str | None = None
    if args.password_stdin:
        password = read_password()
    elif not args.no_password:
        raise AccessError(
            "a local account needs a password: pipe it to --password-stdin (or give "
            "--no-password for an account that logs in through the identity provider only)"
        )
    with open_store(args.db) as store:
        user = store.accounts.add_user(
            args.username,
            role,
            actor=cli_actor(),
            display_name=args.display_name,
            password=password,
            wearer_id=args.wearer,
        )
    wearer = f" (wearer {user.wearer_id})" if user.wearer_id else ""
    login = "" if password is not None else "; no password: logs in through the identity provider"
    print(f"added {user.role} account {user.username}{wearer}{login}")
    return 0


def _user_dict(user: UserView) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "wearer_id": user.wearer_id,
        "disabled": user.disabled,
        "created_at": iso(user.created_at),
        "last_login_at": iso(user.last_login_at),
        "locked_until": iso(user.locked_until),
    }


def run_list(args: argparse.Namespace) -> int:
    """List the accounts."""
    with open_store(args.db) as store:
        users = store.accounts.users()
    if args.json:
        print_json({"users": [_user_dict(u) for u in users]})
        return 0
    if not users:
        print("no accounts yet: add one with `sensorhub users add`")
        return 0
    rows = [
        [
            u.username,
            u.role.value,
            u.wearer_id or "-",
            u.display_name,
            "disabled" if u.disabled else "enabled",
            short_time(u.last_login_at),
        ]
        for u in users
    ]
    print_table(["username", "role", "wearer", "display name", "state", "last login"], rows)
    return 0


def run_disable(args: argparse.Namespace) -> int:
    """Disable an account."""
    with open_store(args.db) as store:
        store.accounts.disable_user(args.username, actor=cli_actor())
    print(f"disabled account {args.username}")
    return 0


def run_reset_password(args: argparse.Namespace) -> int:
    """Set a new password."""
    if not args.password_stdin:
        raise AccessError("give the new password on standard input with --password-stdin")
    with open_store(args.db) as store:
        if store.accounts.user(args.username) is None:  # before asking for a password
            raise AccessError(f"no account {args.username!r}: see `sensorhub users list`")
        password = read_password("New password: ")
        store.accounts.reset_password(args.username, password, actor=cli_actor())
    print(f"new password set for {args.username}")
    return 0
