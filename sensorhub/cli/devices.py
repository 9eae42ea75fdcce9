"""``sensorhub devices [--json]``: the supported device profiles and their characteristics.

``sensorhub devices add --config hub.toml --wearer ID --profile MODEL (--name N | --address A)
[--placement P]`` binds a device to a wearer in the hub config (see :mod:`sensorhub.config`).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from firmware_protocols.profiles import PROFILES, DeviceProfile


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "devices",
        help="list supported devices, their data, placement and nudges",
        description="List the supported device profiles: how each is recognised, what it "
        "yields, its default placement, how it can be nudged and its characteristic names "
        "(for `sensorhub decode`).",
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="machine-readable output")
    out.add_argument(
        "--markdown", action="store_true", help="the device table for the README (Markdown)"
    )
    parser.set_defaults(run=run)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="bind a device to a wearer in the hub config",
        description="Append a [[devices]] table (and the wearer, if new) to the hub config; "
        "the rest of the file is kept as it is. Find names and addresses with `sensorhub scan`.",
    )
    add.add_argument("--config", required=True, metavar="HUB.toml", help="hub config to write")
    add.add_argument("--wearer", required=True, help="wearer id (created if new)")
    add.add_argument("--wearer-name", help="display name of a new wearer")
    add.add_argument("--timezone", default="UTC", help="time zone of a new wearer (%(default)s)")
    add.add_argument("--profile", required=True, help="device model (see `sensorhub devices`)")
    which = add.add_mutually_exclusive_group(required=True)
    which.add_argument("--name", help="advertised name")
    which.add_argument("--address", help="Bluetooth address (as `sensorhub scan` prints it)")
    add.add_argument("--placement", help="where it is worn (default: the profile's)")
    add.add_argument("--rate-hz", type=float, help="sample rate to ask for")
    add.add_argument("--range-g", type=int, help="accelerometer range to ask for")
    add.add_argument("--db", help="database URL for a new config file")
    add.set_defaults(run=run_add)


def profile_dict(p: DeviceProfile) -> dict[str, Any]:
    """A profile as a JSON-ready dict."""
    return {
        "model": p.model,
        "title": p.title,
        "match": {
            "name_prefixes": list(p.name_prefixes),
            "service_uuids": list(p.service_uuids),
            "manufacturer_ids": [f"0x{c:04x}" for c in p.manufacturer_ids],
        },
        "yields": list(p.yields),
        "default_placement": p.default_placement,
        "nudge": p.nudge,
        "nudge_methods": list(p.nudge_methods),
        "stream": p.stream,
        "sample_rates_hz": list(p.sample_rates_hz),
        "acc_ranges_g": list(p.acc_ranges_g),
        "characteristics": {
            name: {
                "uuid": c.uuid,
                "properties": list(c.properties),
                "decode": c.decode is not None,
                "encode": c.encode is not None,
                "description": c.description,
            }
            for name, c in p.characteristics.items()
        },
        "notes": p.notes,
    }


def markdown_table() -> str:
    """The README device table: model, device, yields, placement, nudge."""
    lines = [
        "| model | device | yields | default placement | nudge |",
        "|---|---|---|---|---|",
    ]
    for p in PROFILES:
        if p.nudge:
            nudge = " or ".join(p.nudge_methods)
        elif p.nudge_methods:
            nudge = f"{' or '.join(p.nudge_methods)}, if the device has it"
        else:
            nudge = "none"
        lines.append(
            f"| `{p.model}` | {p.title} | {', '.join(p.yields)} | {p.default_placement} | {nudge} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the registry."""
    if args.json:
        print(json.dumps({"devices": [profile_dict(p) for p in PROFILES]}, indent=2))
        return 0
    if getattr(args, "markdown", False):
        print(markdown_table())
        return 0
    for p in PROFILES:
        print(f"{p.model}  -  {p.title}")
        print(f"  yields:     {', '.join(p.yields)}")
        print(f"  placement:  {p.default_placement}")
        if p.nudge is None and p.nudge_methods:
            print(f"  nudge:      {' or '.join(p.nudge_methods)}, if the device has it")
        else:
            print(f"  nudge:      {' or '.join(p.nudge_methods) or 'none'}")
        match = [*(f"name {n!r}*" for n in p.name_prefixes), *p.service_uuids]
        match += [f"manufacturer 0x{c:04x}" for c in p.manufacturer_ids]
        print(f"  matched by: {'; '.join(match)}")
        print(f"  chars:      {', '.join(p.characteristics)}")
        print()
    return 0


def run_add(args: argparse.Namespace) -> int:
    """Bind a device to a wearer in the hub config."""
    from firmware_protocols.profiles import get_profile
    from sensorhub.config import DeviceConfig, append_device
    from sensorhub.errors import ConfigError

    try:
        profile = get_profile(args.profile)
    except KeyError as exc:
        raise ConfigError(f"--profile: {exc.args[0]}") from None
    device = DeviceConfig(
        args.wearer,
        profile.model,
        args.placement or profile.default_placement,
        args.name,
        args.address,
        args.rate_hz,
        args.range_g,
    )
    config = append_device(
        args.config,
        device,
        wearer_name=args.wearer_name,
        timezone=args.timezone,
        db_url=args.db,
    )
    print(
        f"{args.config}: {device.name or device.address} ({profile.model}, {device.placement}) "
        f"bound to {device.wearer}; {len(config.devices)} device(s) in the config"
    )
    return 0
