"""Seeding a wearer's data for the care-circle tests: every kind of row a wearer can have."""

from __future__ import annotations

from dataclasses import dataclass

from sensorhub.model import (
    NS_PER_S,
    CurrentBout,
    EpochSummary,
    Event,
    Fall,
    GaitBout,
    NonWear,
    Posture,
    PostureSegment,
    StaticBout,
)
from sensorhub.store import DeviceRecord, LiveRecord, NudgeRecord, Repository, WearerRecords
from sensorhub.store.records import Record

T0 = 1_790_000_000 * NS_PER_S  # 2026-09-21T14:13:20Z

#: Every stored event kind, as the query layer names them.
EVENT_KINDS = ("static_bout", "posture", "gait_bout", "fall", "nonwear")


@dataclass(frozen=True, slots=True)
class Amounts:
    """How many rows of each kind to give a wearer (0: none)."""

    static_bouts: int = 1
    postures: int = 1
    gait_bouts: int = 1
    falls: int = 1
    nonwear: int = 1
    epochs: int = 3
    nudges: int = 1
    devices: int = 1
    live: bool = True


def seed_wearer(repository: Repository, wearer_id: str, amounts: Amounts = Amounts()) -> None:
    """Store ``amounts`` of every kind of row for ``wearer_id`` (the wearer must exist)."""
    minute = 60 * NS_PER_S
    events: list[Event] = []
    for i in range(amounts.static_bouts):
        events.append(StaticBout(T0 + i * minute, T0 + i * minute + 30 * NS_PER_S, Posture.SITTING))
    for i in range(amounts.postures):
        events.append(PostureSegment(T0 + i * minute, T0 + (i + 1) * minute, Posture.STANDING))
    for i in range(amounts.gait_bouts):
        events.append(GaitBout(T0 + i * minute, T0 + i * minute + 20 * NS_PER_S, 30, 105.0))
    for i in range(amounts.falls):
        events.append(Fall(T0 + i * minute + 5 * NS_PER_S, 0.9))
    for i in range(amounts.nonwear):
        events.append(NonWear(T0 + i * minute + 7 * NS_PER_S, T0 + i * minute + 9 * NS_PER_S))
    epochs = tuple(
        EpochSummary(T0 + i * minute, 60.0, Posture.SITTING, 4.5, steps=i)
        for i in range(amounts.epochs)
    )
    records: list[Record] = [WearerRecords(wearer_id, tuple(events), epochs)]
    records += [
        NudgeRecord(
            wearer_id=wearer_id,
            sent_ns=T0 + (i + 1) * minute,
            reason="sitting too long",
            bout_start_ns=T0,
            bout_duration_s=60.0 * (i + 1),
            level=1,
            message="time to stand up",
            channel="vibration",
            delivery="acknowledged",
        )
        for i in range(amounts.nudges)
    ]
    records += [
        DeviceRecord(
            f"{wearer_id}-dev{i}", wearer_id, "polar-h10", f"{wearer_id} band {i}", "chest", 80
        )
        for i in range(amounts.devices)
    ]
    if amounts.live:
        bout = CurrentBout(T0, Posture.SITTING, T0 + 120 * NS_PER_S)
        records.append(LiveRecord(wearer_id, Posture.SITTING, bout, T0 + 120 * NS_PER_S))
    repository.write(records)


__all__ = ["EVENT_KINDS", "T0", "Amounts", "seed_wearer"]
