"""A fleet of emulated wearables and the bindings, backend and clock to collect from them.

``sensorhub run --simulate`` and the BLE collector tests (tests/ble) build a
:class:`SimulatedFleet`: one emulator per requested profile on one
:class:`~sensorhub.sim.backend.VirtualAir`, each with a unique name, its profile's default
placement, the same scenario (each its own seed) and the same fault spec. The collector then
runs exactly as for real devices; only the :class:`~sensorhub.ble.session.BleakBackend` (the
bumble backend bound to the air), the host clock (a :class:`~sensorhub.ble.clock.ScaledClock`
at the emulation's speed, aligned with the wearers' day) and the timing thresholds (scaled by
the speed) differ.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from firmware_protocols.polar_pmd import POLAR_EPOCH_UNIX_NS
from firmware_protocols.profiles import get_profile
from sensorhub.ble.clock import ScaledClock
from sensorhub.ble.drivers import StreamSettings
from sensorhub.ble.session import BleakBackend, DeviceBinding
from sensorhub.ble.streams import StreamTiming
from sensorhub.model import NS_PER_S
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.base import EmulatedWearable
from sensorhub.sim.faults import FaultSpec
from sensorhub.sim.polar_h10 import EmulatedPolarH10
from sensorhub.sim.scenario import Scenario
from sensorhub.sim.wearables import EMULATORS

__all__ = ["DEFAULT_SIM_RATES_HZ", "FLEET_ORDER", "FleetDevice", "SimulatedFleet"]

#: Sample rates the fleet streams at by default: modest, so that many devices fit the
#: virtual radio's ~25 000 samples/s (InfiniTime and Thingy:52 send one sample per
#: notification, the foot pod one measurement per second).
DEFAULT_SIM_RATES_HZ: Final[Mapping[str, float]] = MappingProxyType(
    {
        "polar-h10": 50.0,
        "polar-verity-sense": 52.0,
        "open-imu": 50.0,
        "infinitime": 10.0,
        "thingy52": 10.0,
        "metawear": 25.0,
        "rsc-footpod": 1.0,
    }
)

#: Profiles in the order ``--devices N`` takes them (cycling).
FLEET_ORDER: Final = (
    "open-imu",
    "polar-h10",
    "polar-verity-sense",
    "metawear",
    "infinitime",
    "thingy52",
    "rsc-footpod",
)

_NAME_STEMS: Final = {
    "polar-h10": "Polar H10 5E{:06X}",
    "polar-verity-sense": "Polar Sense 5E{:06X}",
    "open-imu": "OpenIMU {:04d}",
    "infinitime": "InfiniTime {:02d}",
    "thingy52": "Thingy {:02d}",
    "metawear": "MetaWear {:02d}",
    "rsc-footpod": "FootPod {:02d}",
}


@dataclass
class FleetDevice:
    """One emulator and how the collector is told about it."""

    emulator: EmulatedWearable
    binding: DeviceBinding
    settings: StreamSettings


class SimulatedFleet:
    """Emulated wearables for a time-compressed collection run (an async context manager).

    Parameters
    ----------
    air
        The virtual radio.
    scenario
        What every wearer does.
    profiles
        One profile model per device (e.g. ``["open-imu", "polar-h10"]``).
    speed
        Scenario seconds per real second.
    start_utc_ns
        UTC at which the wearers' day starts (scenario time 0).
    faults
        Faults injected into every device.
    fault_window_s
        Scenario time over which planned faults are spread (default: the scenario).
    rates_hz
        Sample rate per profile (default :data:`DEFAULT_SIM_RATES_HZ`).
    wearer_prefix
        Device ``i`` is bound to wearer ``f"{wearer_prefix}{i + 1}"``.
    start_at_s
        Scenario time at which the emulators power on (a restarted hub continuing the day).
    """

    def __init__(
        self,
        air: VirtualAir,
        scenario: Scenario,
        profiles: Sequence[str],
        *,
        speed: float,
        start_utc_ns: int,
        faults: FaultSpec | None = None,
        fault_window_s: float | None = None,
        rates_hz: Mapping[str, float] | None = None,
        wearer_prefix: str = "sim-wearer-",
        start_at_s: float = 0.0,
    ) -> None:
        self.air = air
        self.scenario = scenario
        self.speed = speed
        self.start_utc_ns = start_utc_ns
        self.devices: list[FleetDevice] = []
        rates = {**DEFAULT_SIM_RATES_HZ, **(rates_hz or {})}
        for i, model in enumerate(profiles):
            cls = EMULATORS.get(model)
            if cls is None:
                raise ValueError(
                    f"no emulator for profile {model!r}; emulated: {', '.join(EMULATORS)}"
                )
            profile = get_profile(model)
            name = _NAME_STEMS[model].format(i + 1)
            rate = rates[model]
            kwargs: dict[str, Any] = {
                "scenario": scenario,
                "name": name,
                "speed": speed,
                "faults": faults,
                "fault_window_s": fault_window_s,
                "seed": scenario.seed + 7919 * i,
                "start_at_s": start_at_s,
            }
            if issubclass(cls, EmulatedPolarH10):
                kwargs["acc_rate_hz"] = round(rate)
                kwargs["device_start_utc_ns"] = start_utc_ns
            emulator = cls(air, **kwargs)
            binding = DeviceBinding(
                f"{wearer_prefix}{i + 1}", model, profile.default_placement, name=name
            )
            self.devices.append(FleetDevice(emulator, binding, StreamSettings(rate)))

    @property
    def backend(self) -> BleakBackend:
        """bleak keyword arguments that reach this fleet's air."""
        return BleakBackend(
            scanner_kwargs={"backend": self.air.scanner_backend},
            client_kwargs={"backend": self.air.client_backend},
        )

    @property
    def timing(self) -> StreamTiming:
        """Time-mapping thresholds scaled to the emulation's speed."""
        return StreamTiming().scaled(self.speed)

    def clock(self) -> ScaledClock:
        """A host clock at the emulation's speed showing the wearers' day."""
        elapsed_s = self.devices[0].emulator.scenario_elapsed_s() if self.devices else 0.0
        return ScaledClock(
            speed=self.speed, start_utc_ns=self.start_utc_ns + round(elapsed_s * NS_PER_S)
        )

    def scenario_elapsed_s(self) -> float:
        """Scenario time of the fleet (all emulators start together)."""
        return self.devices[0].emulator.scenario_elapsed_s() if self.devices else 0.0

    async def start(self) -> None:
        """Power every emulator on."""
        for device in self.devices:
            await device.emulator.start()

    async def stop(self) -> None:
        """Switch every emulator off."""
        for device in self.devices:
            with contextlib.suppress(Exception):
                await device.emulator.stop()

    async def __aenter__(self) -> SimulatedFleet:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def pmd_epoch_offset_ns() -> int:
    """Unix ns of the PMD clock's zero (for tests that compare device times)."""
    return POLAR_EPOCH_UNIX_NS
