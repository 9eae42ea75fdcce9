"""Caregivers are told about open alerts through real channels, on the hub's virtual clock.

A real SQLite database holds the alerts (written as the alert rules would) and the delivery
log; apprise delivers to a real HTTP endpoint on 127.0.0.1 (``json://``) and a real SMTP
server (aiosmtpd, ``mailto://``). Time runs on :class:`VirtualTimeLoop`: ten minutes of
repeats and escalation take a fraction of a second, and a busy machine changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from sensorhub.access import Scope
from sensorhub.ble.clock import ScaledClock
from sensorhub.config import AlertDeliverySettings, CaregiverConfig
from sensorhub.service.notifier import (
    AlertNotifier,
    Channel,
    PlannedSend,
    Recipient,
    message_for,
    plan_sends,
)
from sensorhub.sim.virtual_time import run_virtual
from sensorhub.store import Store, ns_from_utc
from sensorhub.store.alert_delivery import AlertDeliveryStore, AlertToNotify, DeliveryView
from tests.support.alerts import (
    HttpEndpoint,
    SmtpServer,
    acknowledge,
    caregiver_with_share,
    free_port,
    insert_alert,
)

#: 14:00 UTC: daytime for a caregiver whose quiet hours are 22:00-07:00 UTC
START = dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)
BOTH = (Scope.STATUS, Scope.FALLS)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    opened.repository.ensure_wearer("ada", "Ada Lovelace", timezone="UTC")
    return opened


def _caregiver(
    username: str,
    *urls: str,
    order: int = 1,
    quiet_hours: tuple[dt.time, dt.time] | None = None,
) -> CaregiverConfig:
    return CaregiverConfig(username, urls, order, quiet_hours, "UTC")


def _notifier(
    store: Store,
    caregivers: Sequence[CaregiverConfig],
    start: dt.datetime = START,
    **options: float,
) -> AlertNotifier:
    """A notifier on a hub clock at ``start`` (create it inside the loop: it follows its time)."""
    clock = ScaledClock(speed=1.0, start_utc_ns=ns_from_utc(start))
    options = {"poll_s": 5.0, "timeout_s": 5.0, "retry_min_s": 10.0, "retry_max_s": 60.0} | options
    alerts = AlertDeliveryStore(store.engine)
    return AlertNotifier(alerts, caregivers, AlertDeliverySettings(), clock=clock, **options)


@contextlib.asynccontextmanager
async def _running(notifier: AlertNotifier) -> AsyncIterator[AlertNotifier]:
    task = asyncio.create_task(notifier.run())
    try:
        yield notifier
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await notifier.finish()


async def _until(notifier: AlertNotifier, at: dt.datetime) -> None:
    """Let the hub clock run until ``at``."""
    await asyncio.sleep(max(0.0, (at - notifier.now()).total_seconds()))


def _minutes(m: float, start: dt.datetime = START) -> dt.datetime:
    return start + dt.timedelta(minutes=m)


def _deliveries(store: Store, alert_id: uuid.UUID) -> list[DeliveryView]:
    return AlertDeliveryStore(store.engine).deliveries_of(alert_id)


# --------------------------------------------------------------------------- first notice, repeats


def test_a_fall_reaches_the_first_caregiver_at_once_and_again_only_after_the_repeat_time(
    store: Store,
) -> None:
    """Both channels of the caregiver get the first notice in the first poll; the next one
    comes at 5 minutes, not before; the stored log masks both channels."""
    caregiver_with_share(store, "ana", ["ada"], BOTH)
    alert = insert_alert(store, "ada", opened_at=START)

    with HttpEndpoint() as hook, SmtpServer() as smtp:

        async def main() -> tuple[int, int, int, int]:
            async with _running(_notifier(store, [_caregiver("ana", hook.url(), smtp.url())])) as n:
                await _until(n, _minutes(0.1))
                first = len(hook.received), len(smtp.messages)
                await _until(n, _minutes(4.9))
                before_repeat = len(hook.received)
                await _until(n, _minutes(5.1))
                return *first, before_repeat, len(hook.received)

        first_hook, first_mail, before_repeat, after_repeat = run_virtual(main())

    assert (first_hook, first_mail, before_repeat, after_repeat) == (1, 1, 1, 2)
    notice = hook.received[0]
    assert notice.title == "Possible fall: Ada Lovelace"
    assert "Possible fall at 14:02" in notice.body
    assert "check on Ada Lovelace now" in notice.body
    assert f"sensorhub alerts ack {alert}" in notice.body
    assert hook.received[1].title == "Reminder: Possible fall: Ada Lovelace"
    assert "2nd notice" in hook.received[1].body
    sender, recipients, mail = smtp.messages[0]
    assert (sender, recipients) == ("hub@example.org", ["ana@example.org"])
    assert b"Subject: Possible fall: Ada Lovelace" in mail
    rows = _deliveries(store, alert)
    assert [(r.recipient, r.attempt, r.escalation_level, r.result) for r in rows] == [
        ("ana", 1, 0, "delivered"),
        ("ana", 1, 0, "delivered"),
        ("ana", 2, 0, "delivered"),
        ("ana", 2, 0, "delivered"),
    ]
    assert {r.channel for r in rows} == {
        f"json://127.0.0.1:{hook.port}/***",
        f"mailto://127.0.0.1:{smtp.port}/***",
    }
    assert rows[0].at == START
    assert rows[2].at == _minutes(5)


def test_an_unacknowledged_alert_escalates_to_the_next_caregiver_until_acknowledged(
    store: Store,
) -> None:
    """At 10 minutes without acknowledgement the second in order is told too (by e-mail);
    after the acknowledgement nobody is told anything more."""
    caregiver_with_share(store, "ana", ["ada"], BOTH)
    caregiver_with_share(store, "ben", ["ada"], BOTH)
    alert = insert_alert(store, "ada", opened_at=START)

    with HttpEndpoint() as hook, SmtpServer() as smtp:
        caregivers = [_caregiver("ana", hook.url()), _caregiver("ben", smtp.url(), order=2)]

        async def main() -> list[tuple[int, int]]:
            counts = []
            async with _running(_notifier(store, caregivers)) as n:
                for minute in (9.9, 10.1, 12):
                    await _until(n, _minutes(minute))
                    counts.append((len(hook.received), len(smtp.messages)))
                acknowledge(store, alert, at=_minutes(12), by="ben")
                await _until(n, _minutes(40))
                counts.append((len(hook.received), len(smtp.messages)))
            return counts

        counts = run_virtual(main())

    # ana: 0, 5, 10 min; ben from 10 min; nothing after the acknowledgement at 12 min
    assert counts == [(2, 0), (3, 1), (3, 1), (3, 1)]
    bens = [r for r in _deliveries(store, alert) if r.recipient == "ben"]
    assert [(r.attempt, r.escalation_level, r.at) for r in bens] == [(1, 1, _minutes(10))]
    assert b"has not acknowledged it yet" in smtp.messages[0][2]


# --------------------------------------------------------------------------- quiet hours, shares


def test_quiet_hours_hold_back_a_warning_but_never_a_fall(store: Store) -> None:
    """At 06:55 in the caregiver's quiet hours (22:00-07:00) a fall goes out at once; a
    long-inactivity warning waits until 07:00."""
    caregiver_with_share(store, "ana", ["ada"], BOTH)
    early = dt.datetime(2026, 12, 2, 6, 55, tzinfo=dt.UTC)
    insert_alert(store, "ada", opened_at=early)
    warning = insert_alert(
        store,
        "ada",
        kind="long_inactivity",
        severity="warning",
        opened_at=early,
        reason="No movement since 03:40 (more than 3 hours) while the band is worn.",
    )

    with HttpEndpoint() as hook:
        quiet = (dt.time(22), dt.time(7))

        async def main() -> tuple[list[str], list[str]]:
            notifier = _notifier(store, [_caregiver("ana", hook.url(), quiet_hours=quiet)], early)
            async with _running(notifier) as n:
                await _until(n, _minutes(4.9, early))
                during = [r.title for r in hook.received]
                await _until(n, _minutes(5.2, early))
                return during, [r.title for r in hook.received]

        during, after = run_virtual(main())

    assert during == ["Possible fall: Ada Lovelace"]
    assert sorted(after[1:]) == [
        "No movement for a long time: Ada Lovelace",
        "Reminder: Possible fall: Ada Lovelace",
    ]
    assert [r.at for r in _deliveries(store, warning)] == [_minutes(5, early)]


def test_a_caregiver_without_the_needed_share_is_told_nothing(store: Store) -> None:
    """A fall needs the falls scope, other kinds the status scope; no share, nothing at all."""
    caregiver_with_share(store, "cleo", ["ada"], [Scope.STATUS, Scope.ACTIVITY])
    store.accounts.add_user("dan", "caregiver", actor="test")  # an account, no share
    fall = insert_alert(store, "ada", opened_at=START)
    battery = insert_alert(
        store,
        "ada",
        kind="battery_low",
        severity="info",
        opened_at=START,
        reason="The band's battery is at 12 %.",
    )

    with HttpEndpoint() as cleo, HttpEndpoint() as dan:

        async def main() -> None:
            caregivers = [_caregiver("cleo", cleo.url()), _caregiver("dan", dan.url())]
            async with _running(_notifier(store, caregivers, poll_s=15.0)) as n:
                await _until(n, _minutes(20))

        run_virtual(main())

    assert _deliveries(store, fall) == []
    assert [r.title for r in cleo.received] == ["Band battery low: Ada Lovelace"]  # once: info
    assert dan.received == []
    assert [r.recipient for r in _deliveries(store, battery)] == ["cleo"]


# --------------------------------------------------------------------------- failures


def test_a_channel_that_is_down_is_retried_with_backoff_and_every_attempt_is_recorded(
    store: Store,
) -> None:
    """Nothing listens on the hook's port: each try fails fast, is stored with its reason,
    and the next comes after a growing, capped delay; the e-mail channel is not held up."""
    caregiver_with_share(store, "ana", ["ada"], BOTH)
    alert = insert_alert(store, "ada", opened_at=START)
    down = f"json://127.0.0.1:{free_port()}/alerts/s3cret-path"

    with SmtpServer() as smtp:

        async def main() -> None:
            async with _running(_notifier(store, [_caregiver("ana", down, smtp.url())])) as n:
                await _until(n, _minutes(4.5))

        run_virtual(main())

    rows = _deliveries(store, alert)
    failed = [r for r in rows if r.channel.startswith("json://")]
    assert len(smtp.messages) == 1
    assert [r.result for r in rows if r.channel.startswith("mailto://")] == ["delivered"]
    assert len(failed) >= 4
    assert all(r.result.startswith("failed: ") and r.attempt == 1 for r in failed)
    assert all("s3cret" not in r.result and "s3cret" not in r.channel for r in failed)
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(failed)]
    assert all(10.0 <= gap <= 65.0 for gap in gaps), gaps  # 10 s doubling, capped at 60 s


def test_a_hung_channel_is_given_up_after_its_timeout_and_recorded(store: Store) -> None:
    """An endpoint that never answers in time costs one try of ``timeout_s``; the other
    caregiver's channel delivers in the same poll."""
    caregiver_with_share(store, "ana", ["ada"], BOTH)
    caregiver_with_share(store, "ben", ["ada"], BOTH)
    alert = insert_alert(store, "ada", opened_at=START)

    with HttpEndpoint(hang_s=3.0) as hung, HttpEndpoint() as fine:

        async def main() -> None:
            caregivers = [_caregiver("ana", hung.url()), _caregiver("ben", fine.url())]
            notifier = _notifier(store, caregivers, timeout_s=0.3, retry_min_s=600.0)
            async with _running(notifier) as n:
                await _until(n, _minutes(0.5))

        run_virtual(main())

    by_recipient = {r.recipient: r.result for r in _deliveries(store, alert)}
    assert by_recipient == {"ana": "failed: no answer within 0.3 s", "ben": "delivered"}
    assert len(fine.received) == 1


# --------------------------------------------------------------------------- restarts


def test_a_restarted_notifier_neither_repeats_nor_loses_a_notice(store: Store) -> None:
    """The delivery log is the memory: a hub restarted at 3 minutes sends nothing until the
    repeat is due at 5 minutes, and then exactly one notice."""
    caregiver_with_share(store, "ana", ["ada"], BOTH)
    alert = insert_alert(store, "ada", opened_at=START)
    with HttpEndpoint() as hook:
        caregivers = [_caregiver("ana", hook.url())]

        async def first_run() -> None:
            async with _running(_notifier(store, caregivers)) as n:
                await _until(n, _minutes(2))

        async def second_run() -> int:
            async with _running(_notifier(store, caregivers, _minutes(3))) as n:
                await _until(n, _minutes(4.9, START))
                before = len(hook.received)
                await _until(n, _minutes(5.5, START))
            return before

        run_virtual(first_run())
        assert len(hook.received) == 1
        before_repeat = run_virtual(second_run())

    assert before_repeat == 1
    assert len(hook.received) == 2
    assert [r.attempt for r in _deliveries(store, alert)] == [1, 2]


# --------------------------------------------------------------------------- deciding and wording


def _alert(kind: str = "long_inactivity", severity: str = "warning") -> AlertToNotify:
    return AlertToNotify(
        uuid.uuid4(), "ada", "Ada Lovelace", "UTC", kind, severity, "No movement since 10:40.",
        START, START, START,
    )  # fmt: skip


def test_an_order_whose_caregivers_are_all_in_quiet_hours_is_passed_over_for_a_warning() -> None:
    """At 23:00 the family (quiet 22:00-07:00) waits; the night desk (order 2) is told now."""
    night = dt.datetime(2026, 12, 2, 23, 0, tzinfo=dt.UTC)
    family = Recipient("ana", 1, (Channel("json://a.example/x", "json://a.example/***"),),
                       (dt.time(22), dt.time(7)), "UTC")  # fmt: skip
    desk = Recipient("desk", 2, (Channel("json://b.example/y", "json://b.example/***"),))
    settings = AlertDeliverySettings()

    def plan(alert: AlertToNotify) -> list[tuple[str, int]]:
        sends = plan_sends(alert, [family, desk], [], night, settings, lambda *_: True)
        return [(s.recipient.username, s.escalation_level) for s in sends]

    assert plan(_alert()) == [("desk", 1)]
    assert plan(_alert("possible_fall", "urgent")) == [("ana", 0)]  # a fall: family first
    assert plan(_alert("battery_low", "info")) == []  # info: first order only, and it waits


@pytest.mark.parametrize(
    "kind",
    ["possible_fall", "long_inactivity", "band_not_worn", "device_offline", "battery_low",
     "gait_change", "something_new"],
)  # fmt: skip
def test_every_kind_is_worded_plainly_with_what_to_do_and_how_to_acknowledge(kind: str) -> None:
    alert = _alert(kind)
    recipient = Recipient("ana", 1, (Channel("json://a.example/x", "json://a.example/***"),))
    title, body = message_for(PlannedSend(alert, recipient, recipient.channels[0], 1, 0))
    assert title.endswith(": Ada Lovelace")
    assert "Please" in body or "Nothing urgent" in body
    assert f"sensorhub alerts ack {alert.id}" in body
    assert "Since 14:00" in body
    for diagnosis in ("diagnos", "you have", "has a ", "suffer", "disease"):
        assert diagnosis not in body.lower()
