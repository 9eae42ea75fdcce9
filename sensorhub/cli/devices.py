"""``sensorhub devices [--json]``: the supported device profiles and their characteristics."""

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
