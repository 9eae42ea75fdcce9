"""The demo: an emulated wearer, the real collector, pipeline, store, nudges and dashboard.

Everything the demo runs is production code, except the wearable: an emulated Polar H10 on
bumble's virtual radio, reached through bleak's public API with ``backend=`` (the same path
the end-to-end tests drive). The wearer's day is scripted and time-compressed: at speed 60,
one real second is one minute of the wearer's day.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from sensorhub.access import Role, Scope
from sensorhub.ble.clock import ScaledClock
from sensorhub.ble.session import BleakBackend, DeviceSession
from sensorhub.config import DeviceConfig, HubConfig, WearerConfig
from sensorhub.errors import ConfigError
from sensorhub.model import NS_PER_S, Placement
from sensorhub.nudge import NudgeSettings
from sensorhub.private_files import create_private_file
from sensorhub.service import Hub, WearerRuntime, build_hub, until_stopped
from sensorhub.sim.backend import BumbleClient, BumbleScanner, VirtualAir
from sensorhub.sim.polar_h10 import EmulatedPolarH10
from sensorhub.sim.scenario import SCENARIOS, Scenario
from sensorhub.store import Outbox, Store, outbox_path_for

_LOGGER = logging.getLogger(__name__)

DEMO_WEARER_ID = "demo-ada"
DEMO_WEARER_NAME = "Ada (demo wearer)"
DEMO_BAND_NAME = "Polar H10 DEMO0001"
DEMO_TIMEZONE = "UTC"
#: A second resident of the demo's care home, whose data is not shared with the caregiver.
OTHER_WEARER_ID = "demo-bea"
OTHER_WEARER_NAME = "Bea (demo wearer, not shared)"
#: The demo's accounts: (role, username, display name).
DEMO_ACCOUNTS = (
    ("wearer", "ada", "Ada"),
    ("caregiver", "carer", "Chris (Ada's carer)"),
    ("admin", "admin", "Hub administrator"),
)
#: What Ada shares with her carer in the demo.
DEMO_SHARE_SCOPES = frozenset(
    {Scope.STATUS, Scope.ACTIVITY, Scope.GAIT, Scope.FALLS, Scope.DEVICES}
)


def demo_day_start_ns(today: dt.date | None = None, *, hour: int = 8, minute: int = 30) -> int:
    """08:30 (wearer's time zone) today: where the scripted day begins."""
    day = today or dt.datetime.now(dt.UTC).date()
    start = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)
    return int(start.timestamp()) * NS_PER_S


@dataclass
class EmulatedWearer:
    """A running emulated wearer and the hub that follows it."""

    air: VirtualAir
    band: EmulatedPolarH10
    hub: Hub

    @property
    def session(self) -> DeviceSession:
        """The collector's session of the band."""
        return self.hub.sessions[0]

    @property
    def runtime(self) -> WearerRuntime:
        """The wearer's runtime (pipeline, nudges)."""
        return self.hub.runtimes[0]


def demo_config(
    db_url: str, *, acc_rate_hz: int = 50, nudges: NudgeSettings | None = None
) -> HubConfig:
    """The demo's hub config: one wearer with a chest strap."""
    wearer = WearerConfig(
        DEMO_WEARER_ID, DEMO_WEARER_NAME, DEMO_TIMEZONE, nudges or NudgeSettings()
    )
    strap = DeviceConfig(
        DEMO_WEARER_ID, "polar-h10", Placement.CHEST, name=DEMO_BAND_NAME, rate_hz=acc_rate_hz
    )
    return HubConfig(db_url, (wearer,), (strap,), "<demo>")


@contextlib.asynccontextmanager
async def emulated_wearer(
    store: Store,
    scenario: Scenario,
    *,
    speed: float,
    start_utc_ns: int,
    outbox: Outbox,
    acc_rate_hz: int = 50,
    nudge_settings: NudgeSettings | None = None,
) -> AsyncIterator[EmulatedWearer]:
    """Start an emulated H10 wearer and the hub that follows it (not yet running).

    The hub is built by :func:`~sensorhub.service.build_hub`, exactly as for real bands;
    the caller runs ``wearer.hub.run()``. On exit the band is switched off.
    """
    air = VirtualAir()
    band = EmulatedPolarH10(
        air, scenario=scenario, name=DEMO_BAND_NAME, speed=speed, device_start_utc_ns=start_utc_ns
    )
    await band.start()
    try:
        hub = build_hub(
            demo_config(str(store.engine.url), acc_rate_hz=acc_rate_hz, nudges=nudge_settings),
            store.repository,
            outbox,
            backend=BleakBackend(
                scanner_kwargs={"backend": BumbleScanner, "air": air},
                client_kwargs={"backend": BumbleClient, "air": air},
            ),
            # The host clock runs at the emulation's speed and shows the wearer's day: aligned
            # with the band's scenario clock, as a real hub's clock is with real time.
            clock=ScaledClock(
                speed=speed,
                start_utc_ns=start_utc_ns + round(band.scenario_elapsed_s() * NS_PER_S),
            ),
        )
        yield EmulatedWearer(air, band, hub)
    finally:
        await band.stop()


def _wait_for_dashboard(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}_stcore/health", timeout=1) as response:  # noqa: S310 (our own localhost URL)
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _fresh_database(db_path: Path, *, fresh: bool) -> str:
    # A fresh database per demo run: the demo shows only what this run's pipeline wrote. An
    # existing one is deleted only when asked to: --db may name a database that matters.
    files = [
        Path(f"{db_path}{suffix}")
        for suffix in ("", "-wal", "-shm", ".outbox", ".outbox-wal", ".outbox-shm")
    ]
    if any(f.exists() for f in files):
        if not fresh:
            raise ConfigError(
                f"{db_path} exists: pass --fresh to start over, or choose another --db"
            )
        for f in files:
            f.unlink(missing_ok=True)
    return f"sqlite:///{db_path}"


def create_demo_accounts(store: Store) -> list[tuple[str, str, str]]:
    """The demo's care circle: Ada's own account, her carer (with a share) and an admin.

    Returns (role, username, password) per account; the passwords are random per run. A
    second wearer, Bea, is stored without a share, so the carer can be seen not to see her.
    """
    store.repository.ensure_wearer(DEMO_WEARER_ID, DEMO_WEARER_NAME, timezone=DEMO_TIMEZONE)
    store.repository.ensure_wearer(OTHER_WEARER_ID, OTHER_WEARER_NAME, timezone=DEMO_TIMEZONE)
    logins = []
    for role, username, name in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        store.accounts.add_user(
            username,
            Role(role),
            actor="demo",
            display_name=name,
            password=password,
            wearer_id=DEMO_WEARER_ID if role == "wearer" else None,
        )
        logins.append((role, username, password))
    store.accounts.grant_share(
        DEMO_WEARER_ID, "carer", DEMO_SHARE_SCOPES, actor="ada", basis="wearer"
    )
    return logins


def _start_dashboard(db_url: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    from sensorhub.cli.dashboard import dashboard_command, dashboard_environment

    create_private_file(log_path)
    with log_path.open("wb") as log:
        return subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            dashboard_command(port=port),
            env=dashboard_environment(db_url),  # not on its command line: see dashboard.py
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C goes to the demo, which stops it in order
        )


def _stop_dashboard(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


async def run_demo(
    *,
    say: Callable[[str], None],
    db_path: Path,
    speed: float,
    port: int,
    scenario_name: str = "demo-day",
    exit_after_s: float | None = None,
    with_dashboard: bool = True,
    fresh: bool = False,
) -> int:
    """Run the demo until Ctrl-C (or ``exit_after_s``); returns the exit status.

    Raises
    ------
    ConfigError
        If ``db_path`` exists and ``fresh`` is not set (nothing is deleted then).
    """
    if scenario_name not in SCENARIOS:
        raise SystemExit(f"unknown scenario {scenario_name!r}; known: {', '.join(SCENARIOS)}")
    db_url = _fresh_database(db_path, fresh=fresh)
    store = Store.open(db_url)
    outbox = Outbox(outbox_path_for(db_url))
    dashboard: subprocess.Popen[bytes] | None = None
    try:
        logins = create_demo_accounts(store)
        log_path = db_path.parent / "dashboard.log"
        if with_dashboard:
            dashboard = _start_dashboard(db_url, port, log_path)
        async with emulated_wearer(
            store,
            SCENARIOS[scenario_name],
            speed=speed,
            start_utc_ns=demo_day_start_ns(),
            outbox=outbox,
        ) as wearer:
            if dashboard is not None:
                url = f"http://127.0.0.1:{port}/"
                ready = await asyncio.to_thread(_wait_for_dashboard, url, dashboard, 60)
                if not ready:
                    say(f"sensorhub demo: the dashboard did not start; see {log_path}")
                    return 1
                say(f"sensorhub demo: dashboard at {url}  (Ctrl-C to stop)")
                for role, username, password in logins:
                    say(f"login as {role}: {username} / {password}")
            say(
                f"sensorhub demo: {DEMO_BAND_NAME} emulated, scenario {scenario_name!r} at "
                f"{speed:g}x (1 s = {speed / 60:g} min of the wearer's day); database {db_path}"
            )
            collect = asyncio.create_task(wearer.hub.run())
            await until_stopped(collect, exit_after_s)
        return 0
    finally:
        outbox.close()
        store.close()
        if dashboard is not None:
            _stop_dashboard(dashboard)
        say("sensorhub demo: stopped; database closed")
