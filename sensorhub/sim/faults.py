"""Fault injection for emulated wearables: a spec users type, a plan emulators follow.

A :class:`FaultSpec` is parsed from a short text (``sensorhub run --faults SPEC``)::

    disconnects=50,corrupt=0.01,loss=0.001,refuse=3,skew_ppm=80,jump_s=30,reboot=1

Every key is optional (see :data:`FAULT_SPEC_HELP`). A :class:`FaultPlan` turns it into the
concrete events of one emulator over one run, reproducibly from a seed: when the links drop,
when the device reboots, when its clock jumps, and a random stream deciding which frames are
lost or corrupted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Final

import numpy as np

__all__ = ["FAULT_SPEC_HELP", "FAULT_SPEC_KEYS", "FaultPlan", "FaultSpec"]

#: The keys of a fault spec and what each injects (shown in ``sensorhub run --help``).
FAULT_SPEC_KEYS: Final = (
    ("disconnects=N", "links dropped by the device while streaming, spread over the run"),
    ("refuse=N", "the first N connection attempts are refused"),
    ("loss=P", "probability that a data notification is lost"),
    ("corrupt=P", "probability that a notification arrives mangled (cannot be decoded)"),
    ("skew_ppm=X", "the device clock runs X ppm fast (negative: slow)"),
    ("jump_s=S", "the device clock is set forward by S seconds half-way through"),
    ("reboot=N", "the device reboots N times: links drop, clock and counters restart"),
)

#: What ``--faults`` accepts, as one paragraph.
FAULT_SPEC_HELP: Final = (
    "comma-separated key=value faults for every emulated device: "
    + "; ".join(f"{key} ({what})" for key, what in FAULT_SPEC_KEYS)
    + "; e.g. disconnects=50,corrupt=0.01"
)


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Faults to inject into an emulated device.

    Attributes
    ----------
    disconnects
        Links dropped from the device's side, spread evenly (with jitter) over the run.
    refuse
        Connection attempts refused at the start (the link drops right after connecting).
    loss
        Probability that a data notification is never sent.
    corrupt
        Probability that a data notification is sent mangled (undecodable).
    skew_ppm
        Device clock rate error in parts per million (positive: runs fast).
    jump_s
        A step of the device clock by this many seconds, half-way through the run.
    reboot
        Device reboots during the run (links drop, clock and sequence counters restart).
    """

    disconnects: int = 0
    refuse: int = 0
    loss: float = 0.0
    corrupt: float = 0.0
    skew_ppm: float = 0.0
    jump_s: float = 0.0
    reboot: int = 0

    def __post_init__(self) -> None:
        if min(self.disconnects, self.refuse, self.reboot) < 0:
            raise ValueError("disconnects, refuse and reboot are counts and cannot be negative")
        if not (0.0 <= self.loss <= 1.0 and 0.0 <= self.corrupt <= 1.0):
            raise ValueError("loss and corrupt are probabilities between 0 and 1")
        if self.loss + self.corrupt > 1.0:
            raise ValueError("loss + corrupt cannot exceed 1")
        if not (math.isfinite(self.skew_ppm) and abs(self.skew_ppm) <= 10_000):
            raise ValueError("skew_ppm must be within +-10000")
        if not math.isfinite(self.jump_s):
            raise ValueError("jump_s must be a finite number of seconds")

    @property
    def any(self) -> bool:
        """True if some fault is injected."""
        return self != FaultSpec()

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Parse ``"disconnects=50,corrupt=0.01"``; an empty text means no faults.

        Raises
        ------
        ValueError
            Naming the bad item and listing what is accepted.
        """
        kinds = {f.name: f.type for f in fields(cls)}
        values: dict[str, int | float] = {}
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            key, sep, raw = item.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or key not in kinds:
                raise ValueError(
                    f"bad fault {item!r}: use key=value with keys {', '.join(kinds)} "
                    f"(e.g. disconnects=50,corrupt=0.01)"
                )
            try:
                values[key] = int(raw) if kinds[key] in (int, "int") else float(raw)
            except ValueError:
                raise ValueError(f"bad value in fault {item!r}: {key} takes a number") from None
        return cls(**values)  # type: ignore[arg-type]

    def __str__(self) -> str:
        default = FaultSpec()
        return ",".join(
            f"{f.name}={getattr(self, f.name)}"
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        )


@dataclass
class FaultPlan:
    """The concrete faults of one emulator over one run.

    Attributes
    ----------
    spec
        What was asked for.
    disconnect_at_s, reboot_at_s
        Scenario times of the link drops and reboots, ascending.
    jump_at_s
        Scenario time of the clock step (None: no step).
    rng
        Decides per notification whether it is lost or corrupted.
    """

    spec: FaultSpec
    disconnect_at_s: list[float]
    reboot_at_s: list[float]
    jump_at_s: float | None
    rng: np.random.Generator

    @classmethod
    def build(cls, spec: FaultSpec | None, duration_s: float, seed: int) -> FaultPlan:
        """Spread the spec's events over ``duration_s`` of scenario time (5 % to 95 %)."""
        spec = spec or FaultSpec()
        rng = np.random.default_rng([seed, 0xFA017])

        def spread(count: int) -> list[float]:
            if count == 0:
                return []
            slots = (np.arange(count) + rng.uniform(0.2, 0.8, count)) / count
            return sorted(float(x) for x in duration_s * (0.05 + 0.9 * slots))

        return cls(
            spec=spec,
            disconnect_at_s=spread(spec.disconnects),
            reboot_at_s=spread(spec.reboot),
            jump_at_s=duration_s / 2 if spec.jump_s else None,
            rng=rng,
        )

    def frame_fate(self) -> str:
        """``"sent"``, ``"lost"`` or ``"corrupted"`` for the next data notification."""
        spec = self.spec
        if spec.loss == 0.0 and spec.corrupt == 0.0:
            return "sent"
        draw = float(self.rng.random())
        if draw < spec.loss:
            return "lost"
        if draw < spec.loss + spec.corrupt:
            return "corrupted"
        return "sent"
