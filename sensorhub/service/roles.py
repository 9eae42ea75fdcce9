"""Which of a wearer's devices does what: the one place that decides it.

A wearer may wear several devices (a wrist band that can buzz, a hip clip for gait, a foot
pod behind a rollator). Each device gets roles:

* **motion** (at most one): the first device in the hub config whose profile streams
  accelerations. Its blocks feed the wearer's detection pipeline and set its placement. Other
  IMUs of the wearer are not subscribed to motion at all (their data would be decoded and
  thrown away): they still report battery, steps and take nudges.
* **steps** (at most one): a foot pod first (it counts steps behind a rollator, where a wrist
  sees no arm swing), else the first device with a step counter. One only, so that a walk
  seen by two step devices is not counted twice.
* **nudge** (any number, best first): devices whose profile declares a way to nudge, in file
  order, then the others (a device may still offer Immediate Alert when it connects, as the
  demo's strap does); the first that delivers wins.
* **walking bouts**: with both an IMU and a step source, one bout per walk is kept: the step
  source's for a wrist IMU (no arm swing behind a rollator), the IMU's elsewhere.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from firmware_protocols.profiles import get_profile
from sensorhub.config import DeviceConfig, HubConfig, WearerConfig
from sensorhub.model import Placement

__all__ = ["WearerDevices", "assign_roles"]


@dataclass(frozen=True)
class WearerDevices:
    """A wearer's devices and the role of each."""

    wearer: WearerConfig
    devices: tuple[DeviceConfig, ...]
    motion: DeviceConfig | None
    steps: DeviceConfig | None
    nudge: tuple[DeviceConfig, ...]

    @property
    def placement(self) -> Placement:
        """Placement of the motion device (a wearer without one is treated as wrist)."""
        return Placement(self.motion.placement) if self.motion else Placement.WRIST

    @property
    def steps_yield_cadence(self) -> bool:
        """True when the step source reports cadence (a foot pod), not a step counter."""
        return self.steps is not None and yields_cadence(self.steps.profile)

    @property
    def preferred_bouts(self) -> Literal["imu", "steps"]:
        """Whose walking bouts win when two sources see the same walk: "imu" or "steps"."""
        if self.motion is None:
            return "steps"
        if self.steps is not None and self.placement == Placement.WRIST:
            return "steps"
        return "imu"


def yields_cadence(profile: str) -> bool:
    """True if the profile reports cadence (a Running Speed and Cadence foot pod)."""
    return "cadence" in get_profile(profile).yields


def _counts_steps(profile: str) -> bool:
    return "steps" in get_profile(profile).yields


def assign_roles(config: HubConfig) -> list[WearerDevices]:
    """Every wearer of ``config`` with its devices' roles (one pass over the devices)."""
    by_wearer: dict[str, list[DeviceConfig]] = defaultdict(list)
    for device in config.devices:
        by_wearer[device.wearer].append(device)
    out = []
    for wearer in config.wearers:
        devices = tuple(by_wearer.get(wearer.id, ()))
        motion = next((d for d in devices if d.streams_motion), None)
        pods = [d for d in devices if yields_cadence(d.profile)]
        counters = [d for d in devices if _counts_steps(d.profile)]
        steps = next(iter(pods + counters), None)
        declared = [d for d in devices if get_profile(d.profile).nudge is not None]
        nudge = tuple(declared + [d for d in devices if d not in declared])
        out.append(WearerDevices(wearer, devices, motion, steps, nudge))
    return out
