"""``sensorhub run``: collect from the devices of a hub config, or from emulated ones.

``sensorhub run --config hub.toml`` collects from real bands through the platform's Bluetooth
stack. ``sensorhub run --simulate SCENARIO --devices N --speed X --faults SPEC --db URL``
runs the very same code (sessions, pipeline, store, nudges) against N emulated wearables on a
virtual radio: only the bleak backend, the host clock (time-compressed) and the time-mapping
thresholds differ. On exit (Ctrl-C, SIGTERM, or the end of the scenario when simulating) it
prints one JSON summary per device: profile, frames, samples, gaps with their bounds,
duplicates, decode errors, reconnects and nudges delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import signal
import sys
from typing import Any

from sensorhub.access import Role, Scope
from sensorhub.ble.clock import SystemClock
from sensorhub.ble.session import BleakBackend
from sensorhub.config import caregiver_from_urls, load_config, simulated_config
from sensorhub.errors import ConfigError
from sensorhub.model import NS_PER_S
from sensorhub.service import (
    Hub,
    build_hub,
    session_summary,
    storage_summary,
    until_stopped,
)
from sensorhub.store import Outbox, Store, outbox_path_for, redact_url

SUMMARY_SCHEMA = "sensorhub.run-summary/1"
#: The account ``--notify`` creates in a simulated run's database (if missing).
SIM_CAREGIVER = "sim-caregiver"
_SIM_SCOPES = frozenset({Scope.STATUS, Scope.FALLS})


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    from sensorhub.sim.faults import FAULT_SPEC_KEYS

    parser = subparsers.add_parser(
        "run",
        help="collect from the bands of a hub config (or from emulated ones)",
        description="Collect motion data from every device in the hub config, run the "
        "detection pipeline, store events and send nudges, until Ctrl-C. With --simulate, run "
        "the same collector against emulated wearables on a virtual radio. On exit, print a "
        "JSON summary per device.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="fault SPEC (--faults), comma-separated, e.g. disconnects=50,corrupt=0.01:\n"
        + "".join(f"  {key:14s} {what}\n" for key, what in FAULT_SPEC_KEYS)
        + "\nexamples:\n"
        "  sensorhub run --config hub.toml\n"
        "  sensorhub run --simulate office-day --devices 8 --speed 60 --db sqlite:///var/sim.db\n"
        "  sensorhub run --simulate gait-check --devices 2 --faults disconnects=5,corrupt=0.01\n"
        "  sensorhub run --simulate fall-test --notify json://127.0.0.1:8080/alerts\n"
        "  sensorhub run --simulate list",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", metavar="HUB.toml", help="hub config (see sensorhub.config)")
    source.add_argument(
        "--simulate",
        metavar="SCENARIO",
        nargs="?",
        const="office-day",
        help="collect from emulated wearables living SCENARIO (default office-day; "
        "'list' names the built-in scenarios)",
    )
    parser.add_argument(
        "--devices", type=int, default=1, metavar="N",
        help="emulated devices (profiles taken in turn: open-imu, polar-h10, ...; default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--profiles", metavar="P1,P2", help="emulated profiles instead of the default rotation"
    )
    parser.add_argument(
        "--speed", type=float, default=60.0,
        help="time compression when simulating: wearer seconds per real second (%(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--faults", default="", metavar="SPEC", help="faults injected into every emulated device"
    )
    parser.add_argument("--db", metavar="URL", help="database URL (overrides the config's)")
    parser.add_argument(
        "--duration", type=float, default=None, metavar="SECONDS",
        help="stop after this many seconds of the wearers' time (default: the whole scenario "
        "when simulating, forever with --config)",
    )  # fmt: skip
    parser.add_argument("--summary", metavar="FILE", help="also write the JSON summary here")
    parser.add_argument(
        "--virtual-clock", action="store_true",
        help="when simulating: run on a virtual clock, as fast as the CPU allows, with the same "
        "timeline on any machine however loaded (--speed then only scales the collector's "
        "timeouts); for tests and trying scenarios quickly",
    )  # fmt: skip
    parser.add_argument(
        "--kill-at", type=float, metavar="MINUTES",
        help="when simulating: fault injection, the hub kills itself with SIGKILL (no clean "
        "shutdown) when the wearers' day reaches MINUTES; try the restart with --resume",
    )  # fmt: skip
    parser.add_argument(
        "--resume", action="store_true",
        help="when simulating: continue the wearers' day where the stored live state ends, "
        "as bands do that went on while the hub was down (to try a restart after a crash)",
    )  # fmt: skip
    parser.add_argument(
        "--outbox", metavar="FILE",
        help="the on-disk outbox records pass through on their way to the database (default: "
        "beside an SQLite database, else under var/); keep it with the database",
    )  # fmt: skip
    parser.add_argument(
        "--notify", action="append", default=[], metavar="APPRISE_URL",
        help=f"when simulating: tell a caregiver ({SIM_CAREGIVER!r}, created in the run's "
        "database with a share of status and falls of every simulated wearer) about alerts "
        "through this apprise URL (repeatable: mailto://, ntfys://, json://...)",
    )  # fmt: skip
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Collect until stopped; print the JSON summary."""
    if args.simulate == "list":
        from sensorhub.sim.scenario import SCENARIOS

        for name, scenario in SCENARIOS.items():
            minutes = scenario.duration_s / 60
            print(f"{name:12s} {minutes:6.1f} min  {scenario.description}")
        return 0
    if args.simulate is not None:
        if args.virtual_clock:
            from sensorhub.sim.virtual_time import run_virtual

            summary = run_virtual(_simulate(args))
        else:
            summary = asyncio.run(_simulate(args))
    else:
        summary = asyncio.run(_collect(args))
    text = json.dumps(summary, indent=2)
    print(text)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as out:
            out.write(text + "\n")
    storage = summary["storage"]
    if storage["not_stored"] or storage["pending_in_outbox"] or storage["refused_by_database"]:
        print(
            f"sensorhub: error: not everything reached the database: "
            f"{storage['pending_in_outbox']} record(s) wait in the outbox {storage['outbox']} "
            f"(written at the next start), {storage['not_stored']} could not be kept, "
            f"{storage['refused_by_database']} were refused (last problem: "
            f"{storage['last_error']})",
            file=sys.stderr,
        )
        return 1
    return 0


def _summary(hub: Hub, outbox: Outbox, **extra: Any) -> dict[str, Any]:
    return {
        "schema": SUMMARY_SCHEMA,
        **extra,
        "storage": storage_summary(hub.writer.stats, outbox),
        "devices": [session_summary(s) for s in hub.sessions],
    }


def _open_outbox(args: argparse.Namespace, db_url: str) -> Outbox:
    return Outbox(args.outbox or outbox_path_for(db_url))


async def _kill_at(fleet: Any, at_s: float, speed: float) -> None:
    """Fault injection: SIGKILL this process when the wearers' day reaches ``at_s``."""
    await asyncio.sleep(max(0.0, at_s - fleet.scenario_elapsed_s()) / speed)
    print(f"sensorhub run: --kill-at {at_s / 60:g}: killing the hub (SIGKILL)", file=sys.stderr)
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _ensure_sim_caregiver(store: Store, wearer_ids: list[str]) -> None:
    """The ``--notify`` caregiver's account, sharing status and falls of every wearer."""
    actor = "sensorhub run --simulate"
    if store.accounts.user(SIM_CAREGIVER) is None:
        store.accounts.add_user(
            SIM_CAREGIVER, Role.CAREGIVER, actor=actor, display_name="Caregiver (--notify)"
        )
    now = dt.datetime.now(dt.UTC)
    shared = {
        s.wearer_id
        for s in store.accounts.shares(active_only=True)
        if s.grantee == SIM_CAREGIVER and s.scopes >= _SIM_SCOPES and s.active_at(now)
    }
    for wearer_id in wearer_ids:
        if wearer_id not in shared:
            store.accounts.grant_share(
                wearer_id, SIM_CAREGIVER, _SIM_SCOPES, actor=actor, basis="simulated run (--notify)"
            )


def _stored_scenario_time(
    store: Store, outbox: Outbox, wearer_ids: list[str], start_utc_ns: int
) -> float:
    """Scenario time (s) of the newest stored live state of the simulated wearers (0: none)."""
    newest = 0
    from_outbox = outbox.live_states()
    for wearer_id in wearer_ids:
        for live in (from_outbox.get(wearer_id), store.repository.live_state(wearer_id)):
            if live is not None:
                newest = max(newest, live.device_time_ns)
    return max(0.0, (newest - start_utc_ns) / NS_PER_S)


async def _collect(args: argparse.Namespace) -> dict[str, Any]:
    config = load_config(args.config)
    if not config.devices:
        raise ConfigError(f"{args.config}: no [[devices]]; add one with `sensorhub devices add`")
    db_url = args.db or config.db_url
    store = Store.open(db_url)
    outbox = _open_outbox(args, db_url)
    try:
        hub = build_hub(
            config, store.repository, outbox, backend=BleakBackend(), clock=SystemClock()
        )
        print(
            f"sensorhub run: collecting from {len(hub.sessions)} device(s); Ctrl-C to stop",
            file=sys.stderr,
        )
        collect = asyncio.create_task(hub.run())
        await until_stopped(collect, args.duration)
        return _summary(hub, outbox, config=str(args.config))
    finally:
        outbox.close()
        store.close()


async def _simulate(args: argparse.Namespace) -> dict[str, Any]:
    from sensorhub.sim.backend import VirtualAir
    from sensorhub.sim.faults import FaultSpec
    from sensorhub.sim.fleet import FLEET_ORDER, SimulatedFleet
    from sensorhub.sim.scenario import get_scenario

    try:
        scenario = get_scenario(args.simulate)
        faults = FaultSpec.parse(args.faults)
    except (KeyError, ValueError) as exc:
        raise ConfigError(str(exc.args[0])) from None
    if args.devices < 1 or not args.speed > 0:
        raise ConfigError("--devices must be at least 1 and --speed positive")
    profiles = (
        [p.strip() for p in args.profiles.split(",") if p.strip()]
        if args.profiles
        else [FLEET_ORDER[i % len(FLEET_ORDER)] for i in range(args.devices)]
    )
    db_url = args.db or "sqlite:///var/simulation.db"
    today = dt.datetime.now(dt.UTC).date()
    start_utc_ns = (
        int(dt.datetime(today.year, today.month, today.day, 8, tzinfo=dt.UTC).timestamp())
        * NS_PER_S
    )
    store = Store.open(db_url)
    outbox = _open_outbox(args, db_url)
    wearer_ids = [f"sim-wearer-{i + 1}" for i in range(len(profiles))]
    start_at_s = (
        _stored_scenario_time(store, outbox, wearer_ids, start_utc_ns) if args.resume else 0.0
    )
    air = VirtualAir()
    try:
        fleet = SimulatedFleet(
            air,
            scenario,
            profiles,
            speed=args.speed,
            start_utc_ns=start_utc_ns,
            faults=faults,
            start_at_s=start_at_s,
        )
    except ValueError as exc:
        outbox.close()
        store.close()
        raise ConfigError(str(exc)) from None
    config = simulated_config([(d.binding, d.settings) for d in fleet.devices], db_url)
    if args.notify:
        try:
            caregiver = caregiver_from_urls(SIM_CAREGIVER, args.notify, option="--notify")
        except ConfigError:
            outbox.close()
            store.close()
            raise
        config = dataclasses.replace(config, caregivers=(caregiver,))
    if start_at_s:
        print(
            f"sensorhub run: continuing the simulated day at {start_at_s / 60:.1f} min, where "
            "the stored live state ends",
            file=sys.stderr,
        )
    try:
        async with fleet:
            hub = build_hub(
                config,
                store.repository,
                outbox,
                backend=fleet.backend,
                clock=fleet.clock(),
                timing=fleet.timing,
                connect_timeout_s=5.0,
                min_backoff_s=0.02,
                max_backoff_s=1.0,
                stall_timeout_s=2.0,
            )
            if args.notify:
                _ensure_sim_caregiver(store, [w.id for w in config.wearers])
            duration_s = args.duration if args.duration is not None else scenario.duration_s
            print(
                f"sensorhub run: {len(profiles)} emulated device(s) ({', '.join(profiles)}), "
                f"scenario {scenario.name!r} at {args.speed:g}x ({duration_s / args.speed:.0f} s); "
                f"faults: {faults or 'none'}; database {redact_url(db_url)}",
                file=sys.stderr,
            )
            collect = asyncio.create_task(hub.run())
            if args.kill_at is not None:
                crash = asyncio.create_task(_kill_at(fleet, args.kill_at * 60, args.speed))
                collect.add_done_callback(lambda _task: crash.cancel())

            async def drain() -> None:
                # Stop the emulators first, so that every frame they logged as sent is in
                # the collector's hands before it stops.
                for device in fleet.devices:
                    device.emulator.hold_streams()
                await asyncio.sleep(0.5)

            await until_stopped(
                collect, (duration_s - fleet.scenario_elapsed_s()) / args.speed, drain
            )
        sent = {
            d.binding.label: {
                "frames_sent": len(d.emulator.frames("sent")),
                "samples_sent": d.emulator.samples("sent"),
                "frames_lost": len(d.emulator.frames("lost")),
                "frames_corrupted": len(d.emulator.frames("corrupted")),
                "faults": [f"{e.kind}@{e.scenario_time_s:.1f}s" for e in d.emulator.events],
            }
            for d in fleet.devices
        }
        summary = _summary(
            hub, outbox, scenario=scenario.name, speed=args.speed, faults=str(faults)
        )
        for device_summary in summary["devices"]:
            device_summary["emulator"] = sent[device_summary["device"]]
        return summary
    finally:
        outbox.close()
        store.close()
