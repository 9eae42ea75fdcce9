"""``sensorhub alerts``: list caregiver alerts with their deliveries; acknowledge one.

``sensorhub alerts --db URL [--wearer ID] [--state S] [--json]`` lists alerts, oldest first,
with every delivery attempt; ``--json`` prints a list of objects (``id``, ``wearer_id``,
``kind``, ``severity``, ``state``, ``opened_at``, ``reason``, ``deliveries`` with
``channel``, ``recipient``, ``attempt``, ``result`` and ``at``, and more). ``sensorhub alerts
ack ID`` acknowledges an alert and ``sensorhub alerts cancel ID`` cancels a pending possible
fall (the wearer's "I'm OK"); both are audited as ``cli:<os user>``. The command line is the
hub's operator: it sees every wearer's alerts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
from typing import Any

from sensorhub.store import DB_URL_ENV, DEFAULT_DB_URL, AlertView, Store, database_url
from sensorhub.store.operator import Operator

#: Alert states, for ``--state``.
STATES = ("pending", "open", "acknowledged", "resolved", "cancelled")


def cli_actor() -> str:
    """Who the command line acts as in the audit log: ``cli:<os user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in the environment or the password database
        return "cli:unknown"


def _add_db(parser: argparse.ArgumentParser, *, default: Any) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=default,
        help=f"database URL (default ${DB_URL_ENV}, else {DEFAULT_DB_URL})",
    )


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "alerts",
        help="caregiver alerts: list them with their deliveries, acknowledge one",
        description="List caregiver alerts (possible falls, long inactivity, band not worn, "
        "device offline, battery low, gait changes) with every delivery attempt, oldest "
        "first; or acknowledge one (`ack ID`), or cancel a pending possible fall for the "
        "wearer (`cancel ID`).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  sensorhub alerts --db sqlite:///var/sensorhub.db --state open\n"
        "  sensorhub alerts --db sqlite:///var/sensorhub.db --wearer ada --json\n"
        "  sensorhub alerts ack 1b4e28ba-2fa1-11d2-883f-0016d3cca427 --db sqlite:///var/sensorhub.db",
    )
    _add_db(parser, default=None)
    parser.add_argument("--wearer", metavar="ID", help="only this wearer's alerts")
    parser.add_argument("--state", choices=STATES, help="only alerts in this state")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(run=run, alerts_command=None)
    actions = parser.add_subparsers(dest="alerts_command", metavar="ACTION")
    for name, what in (
        ("ack", "acknowledge an alert (a caregiver is on it)"),
        ("cancel", 'cancel a pending possible fall for the wearer ("I\'m OK")'),
    ):
        action = actions.add_parser(name, help=what, description=what)
        action.add_argument("alert_id", metavar="ID", help="the alert's id (see the list)")
        _add_db(action, default=argparse.SUPPRESS)
        action.add_argument("--json", action="store_true", help="print the alert as JSON")


def _iso(when: dt.datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def alert_json(alert: AlertView) -> dict[str, Any]:
    """The JSON form of an alert (the ``--json`` list's objects)."""
    return {
        "id": str(alert.id),
        "wearer_id": alert.wearer_id,
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "opened_at": _iso(alert.opened_at),
        "cause_at": _iso(alert.opened_device_at),
        "updated_at": _iso(alert.updated_at),
        "cancel_until": _iso(alert.cancel_until_at),
        "acknowledged_at": _iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
        "closed_at": _iso(alert.closed_at),
        "reason": alert.reason,
        "evidence": alert.evidence,
        "deliveries": [
            {
                "channel": d.channel,
                "recipient": d.recipient,
                "attempt": d.attempt,
                "escalation_level": d.escalation_level,
                "result": d.result,
                "at": _iso(d.at),
            }
            for d in alert.deliveries
        ],
    }


def _table(alerts: list[AlertView]) -> str:
    if not alerts:
        return "no alerts"
    lines = []
    for a in alerts:
        lines.append(
            f"{a.id}  {_iso(a.opened_at)}  {a.wearer_id}  {a.kind}  {a.severity}  {a.state}"
        )
        lines.append(f"    {a.reason}")
        if a.acknowledged_by is not None:
            lines.append(f"    acknowledged by {a.acknowledged_by} at {_iso(a.acknowledged_at)}")
        for d in a.deliveries:
            lines.append(
                f"    {_iso(d.at)}  to {d.recipient} via {d.channel} (attempt {d.attempt}): "
                f"{d.result}"
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """List, acknowledge or cancel."""
    url = database_url(args.db)
    if args.alerts_command is None:
        store = Store.open_read_only(url)
        try:
            alerts = store.queries.alerts(Operator(cli_actor()), args.wearer, state=args.state)
        finally:
            store.close()
        print(
            json.dumps([alert_json(a) for a in alerts], indent=2) if args.json else _table(alerts)
        )
        return 0
    Store.open_read_only(url).close()  # a clear error for a database that does not exist
    store = Store.open(url, upgrade=False)
    try:
        if args.alerts_command == "ack":
            alert = store.accounts.acknowledge_alert(args.alert_id, cli_actor())
        else:
            alert = store.accounts.cancel_alert(args.alert_id, cli_actor())
    finally:
        store.close()
    if args.json:
        print(json.dumps(alert_json(alert), indent=2))
    else:
        print(f"alert {alert.id} ({alert.kind} of {alert.wearer_id}) is {alert.state}")
    return 0
