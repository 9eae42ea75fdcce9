"""``sensorhub devices add``: bind a device to a wearer in the hub config.

``sensorhub devices add --config hub.toml --wearer ID --profile MODEL (--name N | --address A)
[--placement P] [--rate-hz R] [--range-g G]`` appends a ``[[devices]]`` table (and the wearer,
if new) to the hub config (see :mod:`sensorhub.config`), leaving the rest of the file as it
is. This module extends the ``devices`` subcommand (which lists the supported profiles) with
the ``add`` action, so that the listing stays free of the collector's imports.
"""

from __future__ import annotations

import argparse
from typing import Any

from firmware_protocols.profiles import get_profile
from sensorhub.config import DeviceConfig, append_device
from sensorhub.errors import ConfigError


def add_parser(subparsers: Any) -> None:
    """Add the ``add`` action to the already registered ``devices`` subcommand."""
    devices = subparsers.choices["devices"]
    actions = devices.add_subparsers(dest="action", metavar="ACTION")
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
    add.add_argument("--adapter", help='Bluetooth adapter to use, e.g. "hci1" (default: system)')
    add.add_argument("--db", help="database URL for a new config file")
    add.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Bind a device to a wearer in the hub config."""
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
        args.adapter,
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
