"""Alerts in a real database, and real places for apprise to deliver them to.

* :func:`insert_alert` writes an ``alert`` row as the alert rules would (the notifier's
  interface is the tables, not the rules' code); :func:`acknowledge` marks one acknowledged.
* :class:`HttpEndpoint` is a real HTTP server on 127.0.0.1 (``http.server`` in a thread),
  reached through apprise's ``json://`` URL; it records each message with the time it arrived
  and can be told to answer 503, or to hang.
* :class:`SmtpServer` is a real SMTP server (aiosmtpd) for apprise's ``mailto://``.
* :func:`caregiver_with_share` creates an account and the wearer's share with it.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import update
from sqlalchemy.orm import Session

from sensorhub.access import Role, Scope
from sensorhub.store import Store
from sensorhub.store.models import AlertRow


def insert_alert(
    store: Store,
    wearer_id: str,
    *,
    kind: str = "possible_fall",
    severity: str = "urgent",
    state: str = "open",
    opened_at: dt.datetime,
    reason: str = "Possible fall at 14:02: Ada has not got up since.",
    alert_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Write one ``alert`` row (the wearer must exist); returns its id."""
    alert_id = alert_id or uuid.uuid4()
    with Session(store.engine) as session, session.begin():
        session.add(
            AlertRow(
                id=alert_id,
                wearer_id=wearer_id,
                kind=kind,
                severity=severity,
                state=state,
                reason=reason,
                evidence={},
                opened_at=opened_at,
                opened_device_at=opened_at,
                updated_at=opened_at,
            )
        )
    return alert_id


def acknowledge(store: Store, alert_id: uuid.UUID, *, at: dt.datetime, by: str) -> None:
    """Mark an alert acknowledged, as the dashboard or ``sensorhub alerts ack`` would."""
    with Session(store.engine) as session, session.begin():
        session.execute(
            update(AlertRow)
            .where(AlertRow.id == alert_id)
            .values(state="acknowledged", acknowledged_at=at, acknowledged_by=by, updated_at=at)
        )


def caregiver_with_share(
    store: Store, username: str, wearer_ids: Iterable[str], scopes: Iterable[Scope]
) -> None:
    """A caregiver account (no password: nobody logs in here) sharing ``scopes`` of wearers."""
    if store.accounts.user(username) is None:
        store.accounts.add_user(username, Role.CAREGIVER, actor="test")
    scopes = list(scopes)
    for wearer_id in wearer_ids:
        store.accounts.grant_share(wearer_id, username, scopes, actor="test", basis="test")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (a channel that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Received:
    """One message an endpoint got."""

    path: str
    title: str
    body: str
    monotonic_s: float


@dataclass
class HttpEndpoint:
    """A web hook on 127.0.0.1 that records what apprise's ``json://`` posts to it.

    ``status`` is what it answers (200; 503 for a failing service); ``hang_s`` makes it wait
    that long before answering.
    """

    status: int = 200
    hang_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    _server: ThreadingHTTPServer | None = None
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def __enter__(self) -> HttpEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                payload: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
                with endpoint._arrived:
                    endpoint.attempts += 1
                if endpoint.hang_s:
                    time.sleep(endpoint.hang_s)
                status = endpoint.status
                if status == 200:
                    with endpoint._arrived:
                        endpoint.received.append(
                            Received(
                                self.path,
                                str(payload.get("title", "")),
                                str(payload.get("message", "")),
                                arrived,
                            )
                        )
                        endpoint._arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        """The port it listens on."""
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str = "alerts/ana-7f3c") -> str:
        """The apprise URL of this endpoint (a path that stands in for a secret)."""
        return f"json://127.0.0.1:{self.port}/{path}"

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[Received]:
        """Block until ``count`` messages arrived (real time); returns them all."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout_s)
            return list(self.received)


class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.port = free_port()
        server = self

        class Handler:
            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
                server.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def url(self, to: str = "ana@example.org") -> str:
        """apprise's ``mailto://`` URL for this server (plain SMTP, no login)."""
        return f"mailto://127.0.0.1:{self.port}?mode=insecure&from=hub@example.org&to={to}"
