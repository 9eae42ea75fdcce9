"""``sensorhub dashboard``: serve the Streamlit dashboard for a database, behind a login.

The database URL reaches the Streamlit process through its environment
(``$SENSORHUB_DB_URL``), never its command line: every local user can read a command line
(``ps``), only the owner a process's environment. The dashboard reads health data read-only
and only for the logged-in account.

Serving safely: it listens on 127.0.0.1 unless told otherwise; it refuses another address in
desk mode (``--login-as``, no login form); the WebSocket that carries the data accepts only
the Host names it is served under (Streamlit's ``server.allowedHosts``: no DNS rebinding);
errors show a short message, the details go to the log (``client.showErrorDetails=none``);
``--tls-cert``/``--tls-key`` serve HTTPS (or put a reverse proxy in front: README).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import subprocess
import sys
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

from sensorhub.errors import ConfigError
from sensorhub.store import DB_URL_ENV, DEFAULT_DB_URL, database_url

#: Environment variables the dashboard process reads (see dashboard/auth.py).
IDLE_LOGOUT_ENV = "SENSORHUB_IDLE_LOGOUT_MIN"
DESK_LOGIN_ENV = "SENSORHUB_DASHBOARD_LOGIN_AS"
#: Host names every dashboard answers to on its own machine.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "dashboard",
        help="serve the web dashboard (login required)",
        description="Serve the dashboard for a database. Everyone logs in (accounts: "
        "`sensorhub users add`); each sees only the wearers and parts shared with them. The "
        "database is read-only for health data (a missing SQLite file is reported, not "
        f"created). A URL with a password given as --db is visible to other local users in "
        f"`ps`: put it in ${DB_URL_ENV} instead.",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help=f"database URL (default ${DB_URL_ENV}, else {DEFAULT_DB_URL})",
    )
    parser.add_argument("--port", type=int, default=8501, help="HTTP port (default %(default)s)")
    parser.add_argument(
        "--address",
        default="127.0.0.1",
        help="listen address (default %(default)s: this computer only); another address "
        "needs the login (not --login-as) and should use --tls-cert/--tls-key or a proxy",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name people use to reach the dashboard (repeatable), e.g. "
        "hub.carehome.example; localhost and the listen address are always allowed",
    )
    parser.add_argument("--tls-cert", type=Path, metavar="FILE", help="serve HTTPS: certificate")
    parser.add_argument("--tls-key", type=Path, metavar="FILE", help="serve HTTPS: private key")
    parser.add_argument(
        "--idle-logout",
        type=float,
        default=15.0,
        metavar="MIN",
        help="log a session out after this many minutes without activity (default %(default)s)",
    )
    parser.add_argument(
        "--login-as",
        metavar="USERNAME",
        help="desk mode: no login form, the dashboard shows what this account may see; only "
        "on 127.0.0.1, for a hub on its wearer's own desk",
    )
    parser.set_defaults(run=run)


def is_loopback(address: str) -> bool:
    """Whether ``address`` is reachable from this computer only."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def check_serving(
    *,
    address: str,
    login_as: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    idle_logout_min: float = 15.0,
) -> None:
    """Refuse an unsafe or broken serving setup before anything starts.

    Raises
    ------
    ConfigError
        Desk mode on a non-loopback address, half a TLS pair, an unreadable TLS file, or an
        idle time outside 1-720 minutes.
    """
    if login_as and not is_loopback(address):
        raise ConfigError(
            f"--login-as serves without a login, so only on this computer; --address {address} "
            "would open every wearer's data to the network: drop --login-as (everyone logs in)"
        )
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError("--tls-cert and --tls-key go together: give both, or neither")
    for flag, path in (("--tls-cert", tls_cert), ("--tls-key", tls_key)):
        if path is not None and not path.is_file():
            raise ConfigError(f"{flag} {path}: no such file")
    if not 1.0 <= idle_logout_min <= 720.0:
        raise ConfigError("--idle-logout must be between 1 and 720 minutes")


def dashboard_command(
    *,
    port: int,
    address: str = "127.0.0.1",
    allowed_hosts: Sequence[str] = (),
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> list[str]:
    """The command line that serves the dashboard (used by ``demo`` too).

    It names no database: pass the URL in the child's environment, see
    :func:`dashboard_environment`.
    """
    # Located by name, not imported: the dashboard is a separate process above this layer.
    app = files("dashboard") / "app.py"
    hosts = dict.fromkeys([*LOCAL_HOSTS, address, *allowed_hosts])
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
        "--client.showErrorDetails", "none",
        "--server.enableXsrfProtection", "true",
    ]  # fmt: skip
    for host in hosts:
        if host not in {"0.0.0.0", "::"}:  # noqa: S104 (names, not a bind)
            command += ["--server.allowedHosts", host]
    if tls_cert is not None and tls_key is not None:
        command += ["--server.sslCertFile", str(tls_cert), "--server.sslKeyFile", str(tls_key)]
    return command


def dashboard_environment(
    db_url: str, *, idle_logout_min: float = 15.0, login_as: str | None = None
) -> dict[str, str]:
    """The dashboard process's environment: this process's, with the database URL in it."""
    env = {**os.environ, DB_URL_ENV: db_url, IDLE_LOGOUT_ENV: f"{idle_logout_min:g}"}
    env.pop(DESK_LOGIN_ENV, None)
    if login_as:
        env[DESK_LOGIN_ENV] = login_as
    return env


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    check_serving(
        address=args.address,
        login_as=args.login_as,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        idle_logout_min=args.idle_logout,
    )
    scheme = "https" if args.tls_cert else "http"
    host = f"[{args.address}]" if ":" in args.address else args.address
    print(f"sensorhub dashboard: {scheme}://{host}:{args.port}/", flush=True)
    return subprocess.call(  # noqa: S603 (our own interpreter and arguments)
        dashboard_command(
            port=args.port,
            address=args.address,
            allowed_hosts=args.allowed_host,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
        ),
        env=dashboard_environment(
            database_url(args.db), idle_logout_min=args.idle_logout, login_as=args.login_as
        ),
    )
