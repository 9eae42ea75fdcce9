"""Hub config parsing time against the number of devices (issue 9: 6,000 devices took 54 s).

Parses generated configs of 1,000 and 6,000 devices (one wearer per 10 devices), takes the
best of three runs of each and reports the seconds and their ratio. Linear parsing gives a
ratio near 6, the quadratic parsing it replaced near 36; ``pass`` is a ratio under 12. The
test suite checks linearity without a clock (tests/config/test_config_validation.py).
"""

from __future__ import annotations

import time

from sensorhub.config import parse_config

SIZES = (1_000, 6_000)
MAX_RATIO = 12.0
#: The best of a few runs: other work on the machine only ever adds time.
REPEATS = 3


def many_devices_config(devices: int, devices_per_wearer: int = 10) -> str:
    """Hub config text with ``devices`` open-imu devices, ``devices_per_wearer`` per wearer."""
    parts = ['[hub]\ndb = "sqlite:///var/hub.db"\n']
    for i in range(devices):
        if i % devices_per_wearer == 0:
            parts.append(f'[[wearers]]\nid = "w{i // devices_per_wearer}"\n')
        mac = ":".join(f"{byte:02X}" for byte in (0xC0, 0x11, 0, i >> 16, (i >> 8) & 255, i & 255))
        parts.append(
            f'[[devices]]\nwearer = "w{i // devices_per_wearer}"\nprofile = "open-imu"\n'
            f'address = "{mac}"\nrate_hz = 50\n'
        )
    return "\n".join(parts)


def main() -> dict[str, object]:
    """Time the parse of each size, print one line each, return the figures."""
    seconds: dict[int, float] = {}
    for size in SIZES:
        text = many_devices_config(size)
        runs = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            config = parse_config(text)
            runs.append(time.perf_counter() - started)
            assert len(config.devices) == size
        seconds[size] = min(runs)
        print(f"   {size:6d} devices: {seconds[size]:.3f} s")
    ratio = seconds[SIZES[1]] / seconds[SIZES[0]]
    print(f"   ratio {ratio:.1f} for {SIZES[1] // SIZES[0]}x the devices (pass: < {MAX_RATIO:g})")
    return {"seconds": seconds, "ratio": ratio, "pass": ratio < MAX_RATIO}
