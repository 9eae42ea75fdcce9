"""A small care home in a real database: wearers with data, accounts and shares.

Used by the dashboard's page tests and the browser tests. Names are distinctive so a test
can search a page for them: a name that must not be seen is never a substring of another.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sensorhub.access import Role, Scope
from sensorhub.model import (
    NS_PER_S,
    CurrentBout,
    Fall,
    GaitBout,
    Posture,
    PostureSegment,
    StaticBout,
)
from sensorhub.store import DeviceRecord, NudgeRecord, Store, ns_from_utc

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class CareHome:
    """Ids and names of what :func:`seed_care_home` stored."""

    shared_wearer: str = "ada"
    shared_name: str = "Ada Lovelace"
    unshared_wearer: str = "bea"
    unshared_name: str = "Beatrix Unshared"
    twin_a: str = "maria-1"
    twin_b: str = "maria-2"
    twin_name: str = "Maria Silva"
    shared_message: str = "Ada nudge: time to stand up"
    unshared_message: str = "Beatrix nudge: a walk would help"


def _data(store: Store, wearer: str, message: str, now_ns: int) -> None:
    start = now_ns - 3600 * NS_PER_S
    store.repository.save_events(
        wearer,
        [
            PostureSegment(start, start + 1800 * NS_PER_S, Posture.SITTING),
            StaticBout(start, start + 1800 * NS_PER_S, Posture.SITTING),
            GaitBout(
                start + 1800 * NS_PER_S, start + 1860 * NS_PER_S, steps=100, cadence_spm=100.0
            ),
            Fall(start + 1900 * NS_PER_S, confidence=0.9),
        ],
    )
    store.repository.save_live_state(
        wearer,
        posture=Posture.SITTING,
        bout=CurrentBout(start_ns=now_ns - 600 * NS_PER_S, posture=Posture.SITTING, last_ns=now_ns),
        device_time_ns=now_ns,
    )
    store.repository.save_nudge(
        NudgeRecord(
            wearer,
            now_ns - 60 * NS_PER_S,
            "static_load",
            start,
            1800.0,
            1,
            message,
            "band",
            "acknowledged",
            exercise_id=None,
        )
    )
    address = "AA:BB:CC:00:00:" + f"{sum(map(ord, wearer)) % 256:02X}"
    device = DeviceRecord(address, wearer, "polar-h10", f"Band of {wearer}", "chest", 80, now_ns)
    store.repository.upsert_device(device)


def _day_safe_now() -> dt.datetime:
    """Now, or just before midnight when today (UTC) is younger than the seeded hour of data:
    the pages count "today" on the device clock, and the seed must not straddle midnight."""
    now = dt.datetime.now(dt.UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return now if now - midnight > dt.timedelta(minutes=75) else midnight - dt.timedelta(seconds=1)


def seed_care_home(store: Store, *, now: dt.datetime | None = None) -> CareHome:
    """Wearers ada (shared with carer), bea (shared with no one), two Marias; accounts.

    Accounts: ``ada`` (wearer, password), ``carer`` (caregiver: status and activity of ada,
    password), ``physio`` (clinician: gait of maria-1, no password), ``admin`` (password).
    """
    home = CareHome()
    now_ns = ns_from_utc(now or _day_safe_now())
    for wid, name, message in (
        (home.shared_wearer, home.shared_name, home.shared_message),
        (home.unshared_wearer, home.unshared_name, home.unshared_message),
        (home.twin_a, home.twin_name, "Maria one nudge"),
        (home.twin_b, home.twin_name, "Maria two nudge"),
    ):
        store.repository.ensure_wearer(wid, name)
        _data(store, wid, message, now_ns)
    accounts = store.accounts
    accounts.add_user("ada", Role.WEARER, actor="test", password=PASSWORD, wearer_id="ada")
    accounts.add_user("carer", Role.CAREGIVER, actor="test", password=PASSWORD)
    accounts.add_user("physio", Role.CLINICIAN, actor="test")
    accounts.add_user("admin", Role.ADMIN, actor="test", password=PASSWORD)
    accounts.grant_share("ada", "carer", {Scope.STATUS, Scope.ACTIVITY}, actor="ada")
    accounts.grant_share(
        home.twin_a, "physio", {Scope.GAIT}, actor="admin", basis="signed consent form"
    )
    return home
