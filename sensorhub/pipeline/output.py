"""What a :class:`~sensorhub.pipeline.Pipeline` call returns: events, epochs, steps, live state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sensorhub.model import CurrentBout, EpochSummary, Event, Posture

__all__ = ["LiveState", "PipelineOutput"]


@dataclass(frozen=True, slots=True)
class LiveState:
    """The wearer's state after a call: what the nudge engine and the dashboard need.

    Attributes
    ----------
    posture
        Posture of the latest analysed frame (lags the data by ``context_s``).
    bout
        The static bout in progress (None when not in one).
    worn
        False while confirmed non-wear (``min_nonwear_s`` without movement) goes on.
    still_since_ns
        Device time since which the device has not moved at all (below the sensor-noise
        level of :class:`~sensorhub.detect.wear.WearDetector`); None while it moves.
    gait_settled_ns
        No gait bout reported later starts before this device time (None before any
        analysis); lets bouts of another source of the same walks be judged.
    device_time_ns
        Time of the latest sample folded in (None before any).
    nonwear_since_ns
        Start of the confirmed non-wear going on (None while worn).
    """

    posture: Posture
    bout: CurrentBout | None
    worn: bool
    still_since_ns: int | None
    gait_settled_ns: int | None
    device_time_ns: int | None
    nonwear_since_ns: int | None = None


@dataclass(frozen=True, slots=True, eq=False)
class PipelineOutput:
    """Everything one :meth:`~sensorhub.pipeline.Pipeline.feed` or
    :meth:`~sensorhub.pipeline.Pipeline.flush` call produced (nothing is kept for later).

    Attributes
    ----------
    events
        Events whose evidence this call completed, in the order the stages emitted them.
    epochs
        Epoch summaries this call finished, in time order.
    steps_ns
        Initial contacts (UTC ns) this call confirmed, increasing (read-only array).
    live
        The live state after this call.
    """

    events: tuple[Event, ...]
    epochs: tuple[EpochSummary, ...]
    steps_ns: NDArray[np.int64]
    live: LiveState
