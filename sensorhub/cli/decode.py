"""``sensorhub decode --device MODEL --char NAME HEX``: decode one payload to JSON.

The field tool for debugging a band (DESIGN.md section 4.2): prints the decoded packet with
values in physical units. Bytes that are not a valid packet, an unknown device or
characteristic give a one-line error on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from firmware_protocols.errors import DecodeError
from firmware_protocols.jsonview import dumps, to_jsonable
from firmware_protocols.profiles import PROFILES, get_profile

EXIT_INVALID = 2


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "decode",
        help="decode one BLE payload to JSON",
        description="Decode a characteristic value of a supported device and print it as JSON "
        "with physical units. `sensorhub devices` lists models and characteristic names.",
    )
    parser.add_argument(
        "--device",
        required=True,
        metavar="MODEL",
        help=f"device model ({', '.join(p.model for p in PROFILES)})",
    )
    parser.add_argument("--char", required=True, metavar="NAME", help="characteristic name")
    parser.add_argument(
        "--factor",
        type=float,
        default=None,
        help="Polar PMD data: FACTOR of the stream (from the start response)",
    )
    parser.add_argument(
        "--range-g",
        type=int,
        default=None,
        help="MetaWear acc-data: configured range in g (default 8)",
    )
    parser.add_argument(
        "hex",
        nargs="+",
        metavar="HEX",
        help="payload as hex; spaces, ':' and '-' between bytes are allowed",
    )
    parser.set_defaults(run=run)


def _fail(message: str) -> int:
    print(f"sensorhub decode: {message}", file=sys.stderr)
    return EXIT_INVALID


def parse_hex(parts: list[str]) -> bytes:
    """Join the HEX arguments and parse them (``ValueError`` on anything that is not hex)."""
    text = "".join(parts).strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    for sep in (" ", ":", "-", "_"):
        text = text.replace(sep, "")
    if len(text) % 2:
        raise ValueError(f"odd number of hex digits ({len(text)})")
    return bytes.fromhex(text)


def run(args: argparse.Namespace) -> int:
    """Decode and print; returns the exit status."""
    try:
        profile = get_profile(args.device)
    except KeyError as exc:
        return _fail(str(exc.args[0]))
    char = profile.characteristics.get(args.char)
    if char is None:
        known = ", ".join(profile.characteristics)
        return _fail(f"{profile.model} has no characteristic {args.char!r}; known: {known}")
    if char.decode is None:
        return _fail(f"{profile.model} {args.char} is write-only and has no decoder")
    try:
        payload = parse_hex(args.hex)
    except ValueError as exc:
        return _fail(f"HEX is not valid hex: {exc}")
    context: dict[str, Any] = {}
    for option, key in (("factor", "factor"), ("range_g", "range_g")):
        value = getattr(args, option, None)
        if value is None:
            continue
        if key not in char.context:
            return _fail(f"--{option.replace('_', '-')} does not apply to {args.char}")
        context[key] = value
    try:
        packet = char.decode(payload, **context)
    except DecodeError as exc:
        return _fail(f"invalid {args.char} packet ({len(payload)} bytes): {exc}")
    except ValueError as exc:  # a context option out of range, e.g. --range-g 3
        return _fail(str(exc))
    document = {
        "device": profile.model,
        "characteristic": args.char,
        "uuid": char.uuid,
        "bytes": len(payload),
        "packet": to_jsonable(packet),
    }
    print(dumps(document))
    return 0
