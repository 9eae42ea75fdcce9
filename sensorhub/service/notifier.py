"""Telling caregivers about open alerts: who, when, through which channel, and again.

:class:`AlertNotifier` runs in the hub's TaskGroup. Every ``poll_s`` seconds of the hub clock
it reads the open alerts (``alert`` rows another part of the hub writes) and what was already
sent (``alert_delivery`` rows it wrote itself), decides what is due, and sends it through
apprise, each channel in a worker thread with a timeout. It holds no state that matters: after
a restart the delivery rows say what was sent, so nothing is repeated early and nothing lost.

Who gets what
-------------
* **Caregivers** come from the hub config (``[[caregivers]]``), grouped by ``order``. A
  caregiver is told about a wearer's alert only while the wearer shares the scope the alert
  needs with the caregiver's (enabled) account: ``falls`` for ``possible_fall``, ``status``
  for every other kind; checked at every poll, so a revoked share stops the next notice.
* **First notice** to every caregiver of the lowest order at once, on all their channels.
* **Repeats** every ``repeat_min`` (5) until the alert is acknowledged or closed, counted from
  the previous notice to that caregiver. ``info`` alerts (battery low, gait change) are told
  once, to the first order only: they are worth knowing, not worth waking anyone for.
* **Escalation**: ``escalate_after_min`` (10) after the first notice to an order, the next
  order is told as well (and gets repeats of its own); the earlier orders keep getting theirs.
  An order whose every caregiver is in quiet hours is passed over for a non-urgent alert.
* **Quiet hours** (per caregiver, in their time zone, else the wearer's) hold back non-urgent
  alerts, first notices, repeats and retries alike, until they end. A possible fall, and any
  alert of severity ``urgent``, is sent during quiet hours too.
* **Failures** are retried with capped, jittered exponential backoff
  (:func:`~sensorhub.ble.retry.backoff_delay_s`) until the channel takes the message or the
  next repeat is due; every attempt is stored with its result, the channel masked
  (:func:`~sensorhub.channel_urls.mask_channel`).

Never blocking
--------------
Channels run in a small thread pool of their own (not the one the store writes use), and each
call has a timeout in real time, so a hung mail server or web hook costs one pool thread for
at most ``timeout_s`` and never the collector, the pipeline or the other channels; one
channel's deliveries run one at a time, different channels in parallel. On the virtual clock
of the emulation tests a channel's call, like a database write, takes no hub time (see
:mod:`sensorhub.sim.virtual_time`). A database that cannot be read or written is logged (once
a minute at most) and the results that could not be stored are kept and written later.

Wording
-------
Plain words for a phone's lock screen: who, what was seen (the alert's ``reason``), when, what
to do, how to acknowledge. Never a diagnosis: a possible fall is "a possible fall", a gait
change is "worth mentioning to the physiotherapist".
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sensorhub.access import Scope
from sensorhub.ble.clock import Clock
from sensorhub.ble.retry import RateLimitedLog, backoff_delay_s
from sensorhub.config import AlertDeliverySettings, CaregiverConfig
from sensorhub.errors import StorageError
from sensorhub.store import utc_from_ns
from sensorhub.store.alert_delivery import (
    DELIVERED,
    AlertDeliveryStore,
    AlertToNotify,
    DeliveryView,
    delivery_id,
    mask_channel,
)

__all__ = [
    "AlertNotifier",
    "Channel",
    "PlannedSend",
    "Recipient",
    "SendFn",
    "is_urgent",
    "message_for",
    "plan_sends",
    "recipients_of",
    "scope_for_kind",
    "send_with_apprise",
]

_LOGGER = logging.getLogger(__name__)

#: A channel call: (apprise URL, title, body) -> "delivered" or "failed: why". Blocking.
SendFn = Callable[[str, str, str], str]

#: Kinds told also during quiet hours, whatever their severity.
_ALWAYS_URGENT: Final = frozenset({"possible_fall"})
_KIND_TITLES: Final = {
    "possible_fall": "Possible fall",
    "long_inactivity": "No movement for a long time",
    "band_not_worn": "Band not worn",
    "device_offline": "Band not sending data",
    "battery_low": "Band battery low",
    "gait_change": "Change in walking",
}
#: What to do, per kind ({name}: the wearer). Practical steps, never a diagnosis.
_KIND_ADVICE: Final = {
    "possible_fall": (
        "Please check on {name} now: call them or go to them. If they are hurt or cannot get "
        "up, call emergency services."
    ),
    "long_inactivity": "Please check on {name}: give them a call or look in on them.",
    "band_not_worn": "Please check on {name} and remind them to put the band back on.",
    "device_offline": (
        "The band may be out of reach of the hub, switched off or flat. Please check it when "
        "you can."
    ),
    "battery_low": "Please put {name}'s band on its charger when it suits.",
    "gait_change": (
        "Nothing urgent: worth mentioning to {name}'s physiotherapist or doctor at the next visit."
    ),
}
_DEFAULT_ADVICE: Final = "Please check on {name}."
_ORDINALS: Final = {2: "2nd", 3: "3rd"}


def scope_for_kind(kind: str) -> Scope:
    """The scope a caregiver needs to be told about alerts of ``kind``."""
    return Scope.FALLS if kind == "possible_fall" else Scope.STATUS


def is_urgent(alert: AlertToNotify) -> bool:
    """Whether the alert goes out during quiet hours too (a possible fall always does)."""
    return alert.kind in _ALWAYS_URGENT or alert.severity == "urgent"


def _repeats(alert: AlertToNotify) -> bool:
    """Whether the alert is repeated and escalated (all but ``info`` alerts)."""
    return is_urgent(alert) or alert.severity != "info"


# --------------------------------------------------------------------------- recipients


@dataclass(frozen=True)
class Channel:
    """One apprise URL of a caregiver, with the masked label its deliveries are stored under."""

    url: str = field(repr=False)
    label: str


@dataclass(frozen=True)
class Recipient:
    """A caregiver as the notifier sees one."""

    username: str
    order: int
    channels: tuple[Channel, ...]
    quiet_hours: tuple[dt.time, dt.time] | None = None
    timezone: str | None = None

    def in_quiet_hours(self, now: dt.datetime, wearer_timezone: str) -> bool:
        """Whether ``now`` is within the caregiver's quiet hours (their local time)."""
        if self.quiet_hours is None:
            return False
        start, end = self.quiet_hours
        local = now.astimezone(_zone(self.timezone or wearer_timezone)).time()
        if start < end:
            return start <= local < end
        return local >= start or local < end


def recipients_of(caregivers: Iterable[CaregiverConfig]) -> list[Recipient]:
    """The caregivers of a hub config, each channel labelled by its masked URL.

    Two channels of one caregiver that mask alike (two addresses at one mail host) are told
    apart by `` (2)``, `` (3)`` in file order, so each keeps its own delivery history.
    """
    out = []
    for caregiver in caregivers:
        labels: dict[str, int] = {}
        channels = []
        for url in caregiver.notify:
            masked = mask_channel(url)
            labels[masked] = labels.get(masked, 0) + 1
            label = masked if labels[masked] == 1 else f"{masked} ({labels[masked]})"
            channels.append(Channel(url, label))
        out.append(
            Recipient(
                caregiver.username,
                caregiver.order,
                tuple(channels),
                caregiver.quiet_hours,
                caregiver.timezone,
            )
        )
    return out


# --------------------------------------------------------------------------- deciding


@dataclass(frozen=True)
class PlannedSend:
    """One message due now: notice ``attempt`` of an alert to one caregiver's channel."""

    alert: AlertToNotify
    recipient: Recipient
    channel: Channel
    #: 1 for the first notice, 2 for the first repeat, ...
    attempt: int
    #: 0 for the first order told, 1 after one escalation, ...
    escalation_level: int

    @property
    def key(self) -> tuple[uuid.UUID, str, str]:
        """Which channel of which caregiver for which alert (one delivery at a time each)."""
        return (self.alert.id, self.recipient.username, self.channel.label)


def plan_sends(
    alert: AlertToNotify,
    recipients: Sequence[Recipient],
    history: Sequence[DeliveryView],
    now: dt.datetime,
    settings: AlertDeliverySettings,
    retry_due: Callable[[tuple[uuid.UUID, str, str], int, DeliveryView], bool],
) -> list[PlannedSend]:
    """What is due for one alert now, from what was sent before (pure).

    Parameters
    ----------
    recipients
        The caregivers who may be told (already filtered by share).
    history
        Every stored attempt for the alert.
    retry_due
        Whether a failed channel may be tried again: ``(key, attempt, last_try) -> bool``.
    """
    urgent = is_urgent(alert)
    repeats = _repeats(alert)
    repeat = dt.timedelta(minutes=settings.repeat_min)
    escalate = dt.timedelta(minutes=settings.escalate_after_min)
    by_user: dict[str, list[DeliveryView]] = {}
    for row in history:
        by_user.setdefault(row.recipient, []).append(row)
    orders = sorted({r.order for r in recipients})

    def members(order: int) -> list[Recipient]:
        return [r for r in recipients if r.order == order]

    def started(order: int) -> dt.datetime | None:
        times = [row.at for r in members(order) for row in by_user.get(r.username, [])]
        return min(times, default=None)

    def quiet(r: Recipient) -> bool:
        return not urgent and r.in_quiet_hours(now, alert.wearer_timezone)

    due: list[PlannedSend] = []
    for level, order in enumerate(orders):
        if level > 0 and started(order) is None:
            if not repeats:
                break
            before = orders[level - 1]
            before_start = started(before)
            if before_start is None:
                if not all(quiet(r) for r in members(before)):
                    break  # the order before has not been told yet
            elif now < before_start + escalate:
                break
        for recipient in members(order):
            if not quiet(recipient):
                due.extend(
                    _due_for(alert, recipient, level, by_user.get(recipient.username, []),
                             now, repeat if repeats else None, retry_due)
                )  # fmt: skip
    return due


def _due_for(
    alert: AlertToNotify,
    recipient: Recipient,
    level: int,
    rows: list[DeliveryView],
    now: dt.datetime,
    repeat: dt.timedelta | None,
    retry_due: Callable[[tuple[uuid.UUID, str, str], int, DeliveryView], bool],
) -> list[PlannedSend]:
    notice = max((row.attempt for row in rows), default=0)
    if notice == 0:
        return [PlannedSend(alert, recipient, c, 1, level) for c in recipient.channels]
    first_at = min(row.at for row in rows if row.attempt == notice)
    if repeat is not None and now >= first_at + repeat:
        return [PlannedSend(alert, recipient, c, notice + 1, level) for c in recipient.channels]
    out = []
    for channel in recipient.channels:
        tries = [r for r in rows if r.attempt == notice and r.channel == channel.label]
        if any(t.delivered for t in tries):
            continue
        key = (alert.id, recipient.username, channel.label)
        if not tries or retry_due(key, notice, tries[-1]):
            out.append(PlannedSend(alert, recipient, channel, notice, level))
    return out


# --------------------------------------------------------------------------- wording


def _zone(name: str) -> ZoneInfo:
    """The time zone called ``name``; UTC if the stored name is not one (never raises)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def _when(at: dt.datetime, timezone: str) -> str:
    local = at.astimezone(_zone(timezone))
    return f"{local:%H:%M} ({local:%a %d %b}, {local.tzname()})"


def message_for(send: PlannedSend, *, first_told_at: dt.datetime | None = None) -> tuple[str, str]:
    """Title and body of one notice, in plain words (what happened, what to do, how to ack)."""
    alert, recipient = send.alert, send.recipient
    name = alert.wearer_name
    tz = recipient.timezone or alert.wearer_timezone
    title = f"{_KIND_TITLES.get(alert.kind, 'Alert')}: {name}"
    if send.attempt > 1:
        title = f"Reminder: {title}"
    advice = _KIND_ADVICE.get(alert.kind, _DEFAULT_ADVICE).format(name=name)
    lines = [alert.reason.strip() or title, f"Since {_when(alert.opened_at, tz)}.", advice]
    if send.attempt > 1 and first_told_at is not None:
        nth = _ORDINALS.get(send.attempt, f"{send.attempt}th")
        lines.append(
            f"This is the {nth} notice: nobody has acknowledged it since you were first told "
            f"at {_when(first_told_at, tz)}."
        )
    elif send.escalation_level > 0:
        lines.append(
            "You are told because the first person to be told has not acknowledged it yet."
        )
    lines.append(
        f"Once it is seen to, acknowledge it on the dashboard's alert page or with "
        f"`sensorhub alerts ack {alert.id}`."
    )
    return title, "\n".join(lines)


# --------------------------------------------------------------------------- sending


def _secrets_of(url: str) -> list[str]:
    """Parts of an apprise URL that must not appear in a stored reason (longest first)."""
    _scheme, _sep, rest = url.partition("://")
    split = re.search(r"[/?#]", rest)
    netloc, after = (rest[: split.start()], rest[split.start() :]) if split else (rest, "")
    userinfo, _at, host_port = netloc.rpartition("@")
    parts = set(userinfo.split(":"))
    shown = re.sub(r"^[a-z][a-z0-9+.-]*://(\*\*\*@)?", "", mask_channel(url)).split("/")[0]
    if shown.startswith("***"):  # a token in the host's place
        parts.update(host_port.split(":"))
    path, _q, query = after.partition("?")
    query, _h, fragment = query.partition("#")
    parts.update(path.split("/"))
    parts.update(pair.partition("=")[2] for pair in re.split(r"[&;]", query))
    parts.add(fragment)
    parts.update({unquote(p) for p in parts})
    return sorted((p for p in parts if len(p) >= 3 and not p.isdigit()), key=len, reverse=True)


class _ScrubSecrets(logging.Filter):
    """Blanks the channels' secrets out of apprise's own log lines (and the per-call logs
    apprise hands back), whatever its plugins choose to log."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, url: str) -> None:
        self.secrets.update(_secrets_of(url))

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in sorted(self.secrets, key=len, reverse=True):
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


_SCRUB = _ScrubSecrets()
logging.getLogger("apprise").addFilter(_SCRUB)


def _scrubbed(text: str, url: str) -> str:
    for secret in _secrets_of(url):
        text = text.replace(secret, "***")
    return " ".join(text.split())


def send_with_apprise(url: str, title: str, body: str) -> str:
    """Send one message through one apprise URL (blocking); ``"delivered"`` or ``"failed: why"``.

    The reason is the last warning apprise gave for this call, with every part of the URL
    but its host blanked out.
    """
    import apprise  # heavy: imported by the first delivery, in its thread

    notifier = apprise.Apprise()
    if not notifier.add(url):
        return "failed: apprise cannot use this URL (check it in the hub config)"
    result: Any = notifier.notify(title=title, body=body)
    if bool(result):
        return DELIVERED
    reasons = [
        str(getattr(entry, "message", entry))
        for service in (result if isinstance(result, Iterable) else ())
        for entry in (service.logs() if hasattr(service, "logs") else ())
        if getattr(entry, "level", "WARNING") in {"WARNING", "ERROR", "CRITICAL"}
    ]
    why = _scrubbed(reasons[-1], url) if reasons else "the service did not take the message"
    return f"failed: {why}"


def _send_with_deadline(send: SendFn, url: str, title: str, body: str, timeout_s: float) -> str:
    """``send`` in a thread of its own, given up after ``timeout_s`` of real time.

    A hung call cannot be stopped; its (daemon) thread ends when the socket's own timeout
    does. The caller's thread is free again after ``timeout_s`` whatever happens.
    """
    outcome: list[str] = []

    def work() -> None:
        try:
            outcome.append(send(url, title, body))
        except Exception as exc:  # a bug or an unexpected error of a plugin: one failed try
            _LOGGER.warning("alert channel %s raised %s", mask_channel(url), type(exc).__name__)
            outcome.append(f"failed: {type(exc).__name__}: {_scrubbed(str(exc), url)}")

    worker = threading.Thread(target=work, name=f"alert {mask_channel(url)}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive() or not outcome:
        return f"failed: no answer within {timeout_s:g} s"
    return outcome[0]


# --------------------------------------------------------------------------- the worker


class AlertNotifier:
    """Delivers open alerts to caregivers, repeats and escalates them (see the module doc).

    Parameters
    ----------
    store
        The database the alerts and deliveries are in.
    caregivers
        Who may be told, from the hub config.
    settings
        Repeat and escalation times.
    clock
        The hub clock (``now`` and the pace of polls: a time-compressed clock polls as often
        in its own seconds).
    poll_s
        Seconds of hub time between two looks at the alerts (1 s: most of the latency from
        an alert opening to a caregiver's phone; three small indexed reads each).
    timeout_s
        Longest real wait for one channel's call.
    retry_min_s, retry_max_s
        Backoff of a failed channel, seconds of hub time (jittered, doubling, capped).
    send
        How a message leaves (default :func:`send_with_apprise`).
    """

    def __init__(
        self,
        store: AlertDeliveryStore,
        caregivers: Sequence[CaregiverConfig],
        settings: AlertDeliverySettings,
        *,
        clock: Clock,
        poll_s: float = 1.0,
        timeout_s: float = 20.0,
        retry_min_s: float = 10.0,
        retry_max_s: float = 120.0,
        send: SendFn = send_with_apprise,
        rng: random.Random | None = None,
        max_threads: int = 4,
    ) -> None:
        self._store = store
        self.recipients = recipients_of(caregivers)
        for recipient in self.recipients:
            for channel in recipient.channels:
                _SCRUB.add(channel.url)
        self.settings = settings
        self._clock = clock
        self._poll_s = poll_s
        self._timeout_s = timeout_s
        self._retry = (retry_min_s, retry_max_s)
        self._send = send
        self._rng = rng or random.Random()
        self._executor = ThreadPoolExecutor(max_threads, thread_name_prefix="alert-channel")
        self._in_flight: dict[tuple[uuid.UUID, str, str], asyncio.Task[None]] = {}
        #: attempts made by this run, by alert (merged with the stored ones; kept until stored)
        self._made: dict[uuid.UUID, dict[uuid.UUID, DeliveryView]] = {}
        self._unstored: list[DeliveryView] = []
        self._next_try: dict[tuple[uuid.UUID, str, str, int], dt.datetime] = {}
        self._db_log = RateLimitedLog(_LOGGER, interval_s=60.0, summary_level=logging.ERROR)
        self._warned_accounts = False
        self.sent = 0
        self.failed = 0

    # -- time

    def now(self) -> dt.datetime:
        """The hub clock's UTC time."""
        return utc_from_ns(self._clock.utc_from_monotonic(self._clock.monotonic_ns()))

    @property
    def _speed(self) -> float:
        """Hub seconds per loop second (a time-compressed simulation runs faster)."""
        speed = getattr(self._clock, "speed", 1.0)
        return float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0

    # -- running

    async def run(self) -> None:
        """Poll and deliver until cancelled; never raises anything else."""
        while True:
            try:
                await self.poll_once()
            except Exception:  # a bug here must not end collection (the TaskGroup)
                _LOGGER.exception("the alert notifier failed; trying again at the next poll")
            await asyncio.sleep(self._poll_s / self._speed)

    async def finish(self, timeout_s: float = 10.0) -> None:
        """Wait for deliveries in flight (at most ``timeout_s``), store what is unstored."""
        pending = [t for t in self._in_flight.values() if not t.done()]
        if pending:
            _done, late = await asyncio.wait(pending, timeout=timeout_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        with contextlib.suppress(StorageError):
            await self._store_unstored()
        self._executor.shutdown(wait=False, cancel_futures=True)

    @property
    def in_flight(self) -> int:
        """Deliveries not finished yet."""
        return sum(not t.done() for t in self._in_flight.values())

    async def poll_once(self) -> list[PlannedSend]:
        """Look at the open alerts once and start what is due; returns what was started."""
        now = self.now()
        try:
            await self._store_unstored()
            alerts = await asyncio.to_thread(self._store.alerts_to_notify, now)
            stored = await asyncio.to_thread(
                self._store.deliveries_of_alerts, [a.id for a in alerts]
            )
            allowed = await asyncio.to_thread(self._allowed, alerts, now)
        except StorageError as exc:
            self._db_log.log(time.monotonic(), logging.WARNING, "alerts cannot be read (%s)", exc)
            return []
        self._db_log.reset()
        open_ids = {a.id for a in alerts}
        for gone in set(self._made) - open_ids:  # acknowledged or closed: forget it
            if not any(d.alert_id == gone for d in self._unstored):
                del self._made[gone]
        for key in [k for k in self._next_try if k[0] not in open_ids]:
            del self._next_try[key]
        started = []
        for alert in alerts:
            history = self._history(alert.id, stored.get(alert.id, []))
            recipients = [r for r in self.recipients if r.username in allowed[alert.id]]
            for send in plan_sends(alert, recipients, history, now, self.settings, self._retry_due):
                if send.key in self._in_flight:
                    continue
                first = min(
                    (h.at for h in history
                     if h.recipient == send.recipient.username and h.attempt == 1),
                    default=None,
                )  # fmt: skip
                task = asyncio.create_task(
                    self._deliver(send, now, first), name=f"alert {send.recipient.username}"
                )
                self._in_flight[send.key] = task
                task.add_done_callback(functools.partial(self._landed, send.key))
                started.append(send)
        return started

    def _landed(self, key: tuple[uuid.UUID, str, str], _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(key, None)

    def _allowed(
        self, alerts: Sequence[AlertToNotify], now: dt.datetime
    ) -> dict[uuid.UUID, frozenset[str]]:
        """Per alert, the caregivers whose account may be told (blocking: a thread runs it)."""
        usernames = [r.username for r in self.recipients]
        if not self._warned_accounts:
            self._warned_accounts = True
            missing = sorted(set(usernames) - self._store.known_usernames(usernames))
            for username in missing:
                _LOGGER.warning(
                    "caregiver %s in the hub config has no account: they get no alerts until "
                    "one exists (`sensorhub users add --username %s --role caregiver`) and the "
                    "wearer shares with it",
                    username,
                    username,
                )
        cache: dict[tuple[str, Scope], frozenset[str]] = {}
        out = {}
        for alert in alerts:
            need = (alert.wearer_id, scope_for_kind(alert.kind))
            if need not in cache:
                cache[need] = self._store.recipients_sharing(need[0], usernames, need[1], now)
            out[alert.id] = cache[need]
        return out

    def _history(self, alert_id: uuid.UUID, stored: list[DeliveryView]) -> list[DeliveryView]:
        rows = {delivery_id(d.alert_id, d.recipient, d.channel, d.attempt, d.at): d for d in stored}
        rows.update(self._made.get(alert_id, {}))
        return sorted(rows.values(), key=lambda d: d.at)

    def _retry_due(self, key: tuple[uuid.UUID, str, str], attempt: int, last: DeliveryView) -> bool:
        due = self._next_try.get((*key, attempt))
        if due is None:  # not tried by this run (a restart): wait the shortest backoff
            due = last.at + dt.timedelta(seconds=self._retry[0])
        return self.now() >= due

    async def _deliver(self, send: PlannedSend, at: dt.datetime, first: dt.datetime | None) -> None:
        try:
            title, body = message_for(send, first_told_at=first)
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(
                self._executor,
                _send_with_deadline,
                self._send,
                send.channel.url,
                title,
                body,
                self._timeout_s,
            )
        except Exception as exc:  # e.g. the pool was shut down: one failed try, logged
            _LOGGER.exception("delivering an alert to %s failed", send.recipient.username)
            result = f"failed: internal error ({type(exc).__name__}, see the log)"
        view = DeliveryView(
            send.alert.id,
            at,
            send.recipient.username,
            send.channel.label,
            send.attempt,
            send.escalation_level,
            result,
        )
        row_id = delivery_id(view.alert_id, view.recipient, view.channel, view.attempt, view.at)
        self._made.setdefault(view.alert_id, {})[row_id] = view
        key = (*send.key, send.attempt)
        if view.delivered:
            self.sent += 1
            self._next_try.pop(key, None)
            _LOGGER.info(
                "alert %s (%s of %s) told to %s through %s (notice %d)",
                send.alert.id, send.alert.kind, send.alert.wearer_id,
                send.recipient.username, send.channel.label, send.attempt,
            )  # fmt: skip
        else:
            self.failed += 1
            failures = sum(
                1 for d in self._made[view.alert_id].values()
                if (d.recipient, d.channel, d.attempt, d.delivered)
                == (view.recipient, view.channel, view.attempt, False)
            )  # fmt: skip
            delay_s = backoff_delay_s(
                failures - 1, min_s=self._retry[0], max_s=self._retry[1], rng=self._rng
            )
            self._next_try[key] = self.now() + dt.timedelta(seconds=delay_s)
            _LOGGER.warning(
                "alert %s to %s through %s: %s (trying again in %.0f s)",
                send.alert.id, send.recipient.username, send.channel.label, result, delay_s,
            )  # fmt: skip
        self._unstored.append(view)
        with contextlib.suppress(StorageError):
            await self._store_unstored()

    async def _store_unstored(self) -> None:
        """Write the attempts not stored yet (in one transaction); keep them on failure."""
        if not self._unstored:
            return
        batch, self._unstored = self._unstored, []
        try:
            await asyncio.to_thread(self._store.record_deliveries, batch)
        except StorageError as exc:
            self._unstored = batch + self._unstored
            self._db_log.log(
                time.monotonic(),
                logging.WARNING,
                "%d alert delivery result(s) cannot be stored yet (%s); kept to retry",
                len(self._unstored),
                exc,
            )
            raise
