"""One walk, one bout: gait bouts of a wearer's IMU and of its step source, merged.

A wearer may have an IMU (analysed by the pipeline) and a step source (a foot pod's cadence or
a band's step counter, :mod:`sensorhub.detect.step_counts`) that both see the same walk. Storing
both would count the walk twice in the walking minutes and the bout list. So one source is
*primary*: its bouts are released at once. Bouts of the other (*secondary*) source are held
until the primary has *settled* past their end (each source says up to when no later bout of
it can start: its open bout or the epoch it is still filling begins there), then the parts of
them that no primary bout covers are released: walks the primary missed still count, and so
does the rest of a walk the primary saw only in part (its steps in proportion to its
duration, at the bout's cadence); parts shorter than ``min_part_s`` are dropped.

Which source is primary is the caller's choice; sensorhub makes the step source primary for a
wrist IMU (a wrist sees no arm swing when its wearer pushes a rollator, and a band's own step
counter or a foot pod counts those steps; DESIGN.md section 6) and the IMU primary elsewhere (a
trunk or thigh IMU measures stride time, regularity and asymmetry, which a count cannot).

If the primary stops delivering data (its device is off or out of range), held bouts are
released once the secondary has settled ``stall_s`` past their end.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, Self

from sensorhub.model import NS_PER_S, GaitBout

Source = Literal["imu", "steps"]


class GaitBoutArbiter:
    """Merges two streams of gait bouts into one (see the module docstring).

    Parameters
    ----------
    primary
        The source whose bouts win when both saw the same walk.
    min_part_s
        Shortest uncovered part of a secondary bout that is released (4 strides at 60
        steps/min, the shortest walking bout of Kluge et al. 2021 at a slow cadence).
    stall_s
        A held bout is released unjudged when the secondary has settled this far (s) past its
        end and the primary has not reached it (primary offline).
    history_s
        How long primary bouts are remembered for the overlap test.

    Attributes
    ----------
    bouts_
        Bouts released by the last call, in release order.
    """

    def __init__(
        self,
        primary: Source,
        *,
        min_part_s: float = 8.0,
        stall_s: float = 300.0,
        history_s: float = 3600.0,
    ) -> None:
        self.primary: Source = primary
        self.stall_s = stall_s
        self.min_part_s = min_part_s
        self.history_s = history_s
        self.bouts_: list[GaitBout] = []
        self._primary_bouts: list[tuple[int, int]] = []
        self._held: list[GaitBout] = []
        self._until: dict[Source, int | None] = {"imu": None, "steps": None}

    def add(self, source: Source, bouts: list[GaitBout], settled_ns: int | None) -> Self:
        """Fold in the bouts a source completed; ``settled_ns``: no bout the source reports
        later starts before this device time (None: unknown yet)."""
        self.bouts_ = []
        if settled_ns is not None:
            prev = self._until[source]
            self._until[source] = settled_ns if prev is None else max(prev, settled_ns)
        if source == self.primary:
            self.bouts_.extend(bouts)
            self._primary_bouts.extend((b.start_ns, b.end_ns) for b in bouts)
        else:
            self._held.extend(bouts)
        self._judge(final=False)
        return self

    def finish(self) -> Self:
        """End of the stream: judge every held bout against the primary bouts known."""
        self.bouts_ = []
        self._judge(final=True)
        return self

    def _judge(self, *, final: bool) -> None:
        primary_until = self._until[self.primary]
        secondary_until = self._until["steps" if self.primary == "imu" else "imu"]
        stall = int(self.stall_s * NS_PER_S)
        keep: list[GaitBout] = []
        for b in self._held:
            settled = primary_until is not None and primary_until >= b.end_ns
            stalled = (
                secondary_until is not None
                and secondary_until >= b.end_ns + stall
                and (primary_until is None or primary_until < b.end_ns)
            )
            if not (final or settled or stalled):
                keep.append(b)
                continue
            self.bouts_.extend(self._uncovered(b))
        self._held = keep
        # forget primary bouts too old to overlap anything still to come
        newest = max((u for u in self._until.values() if u is not None), default=None)
        if newest is not None:
            horizon = newest - int(self.history_s * NS_PER_S)
            oldest_held = min((b.start_ns for b in self._held), default=horizon)
            cut = min(horizon, oldest_held)
            self._primary_bouts = [(s, e) for s, e in self._primary_bouts if e >= cut]

    def _uncovered(self, b: GaitBout) -> list[GaitBout]:
        """The parts of ``b`` outside every primary bout (``b`` itself if none overlaps)."""
        cover = sorted((s, e) for s, e in self._primary_bouts if s < b.end_ns and b.start_ns < e)
        if not cover:
            return [b]
        parts: list[tuple[int, int]] = []
        t = b.start_ns
        for s, e in cover:
            if s > t:
                parts.append((t, s))
            t = max(t, e)
        if t < b.end_ns:
            parts.append((t, b.end_ns))
        span = max(b.end_ns - b.start_ns, 1)
        min_ns = int(self.min_part_s * NS_PER_S)
        return [
            replace(b, start_ns=s, end_ns=e, steps=round(b.steps * (e - s) / span))
            for s, e in parts
            if e - s >= min_ns
        ]
