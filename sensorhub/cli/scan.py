"""``sensorhub scan``: supported wearables nearby (profile, name, address, RSSI).

Listens for advertisements for a few seconds and recognises each device with the device
registry (:func:`firmware_protocols.profiles.match_profile`): by advertised name, service
UUIDs or manufacturer data. ``--simulate N`` scans N emulated wearables on a virtual radio
instead (the same scanner code, through bleak's ``backend=`` hook). Bind a device to a wearer
with ``sensorhub devices add``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from bleak import BleakScanner
from bleak.exc import BleakError

from firmware_protocols.profiles import match_profile
from sensorhub.ble.session import BleakBackend
from sensorhub.errors import DeviceError


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "scan",
        help="list supported wearables nearby (profile, name, address, RSSI)",
        description="Scan for Bluetooth LE advertisements and list the devices sensorhub "
        "supports, strongest signal first. Bind one to a wearer with "
        "`sensorhub devices add --config hub.toml --wearer ID --profile P --address A`.",
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to listen (%(default)s)"
    )
    parser.add_argument("--all", action="store_true", help="also list unsupported devices")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--simulate", type=int, metavar="N", default=None,
        help="scan N emulated wearables on a virtual radio instead of the real one",
    )  # fmt: skip
    parser.set_defaults(run=run)


async def scan(
    backend: BleakBackend, timeout_s: float, *, include_unknown: bool
) -> list[dict[str, Any]]:
    """Advertising devices, recognised by the registry, strongest first."""
    try:
        found = await BleakScanner.discover(
            timeout=timeout_s, return_adv=True, **backend.scanner_kwargs
        )
    except (BleakError, OSError) as exc:
        raise DeviceError(
            f"cannot scan: {exc}; check that Bluetooth is on and that this user may use it "
            "(on Linux: BlueZ running, user in the 'bluetooth' group)"
        ) from exc
    rows = []
    for device, advertisement in found.values():
        name = advertisement.local_name or device.name
        profile = match_profile(name, advertisement.service_uuids, advertisement.manufacturer_data)
        if profile is None and not include_unknown:
            continue
        rows.append(
            {
                "profile": profile.model if profile else None,
                "name": name,
                "address": device.address,
                "rssi_dbm": advertisement.rssi,
                "placement": profile.default_placement if profile else None,
            }
        )
    rows.sort(key=lambda r: -int(r["rssi_dbm"] if r["rssi_dbm"] is not None else -999))
    return rows


async def _simulated(count: int, timeout_s: float, include_unknown: bool) -> list[dict[str, Any]]:
    from sensorhub.sim.backend import VirtualAir
    from sensorhub.sim.fleet import FLEET_ORDER, SimulatedFleet
    from sensorhub.sim.scenario import get_scenario

    profiles = [FLEET_ORDER[i % len(FLEET_ORDER)] for i in range(count)]
    async with SimulatedFleet(
        VirtualAir(), get_scenario("office-day"), profiles, speed=1.0, start_utc_ns=time.time_ns()
    ) as fleet:
        return await scan(fleet.backend, timeout_s, include_unknown=include_unknown)


def run(args: argparse.Namespace) -> int:
    """Scan and print what was found."""
    if args.simulate is not None:
        rows = asyncio.run(_simulated(args.simulate, min(args.timeout, 2.0), args.all))
    else:
        rows = asyncio.run(scan(BleakBackend(), args.timeout, include_unknown=args.all))
    if args.json:
        print(json.dumps({"devices": rows}, indent=2))
        return 0
    if not rows:
        print("no supported device found; is it charged, awake and not connected to a phone?")
        return 0
    print(f"{'profile':20s} {'name':24s} {'address':40s} {'RSSI':>5s}")
    for r in rows:
        rssi = "" if r["rssi_dbm"] is None else str(r["rssi_dbm"])
        print(f"{r['profile'] or '-':20s} {r['name'] or '-':24s} {r['address']:40s} {rssi:>5s}")
    return 0
