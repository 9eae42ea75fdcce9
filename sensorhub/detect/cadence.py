"""Cadence of a walking bout from the contacts it can trust.

Contacts detected from a single trunk sensor are lost in turns and occasionally doubled (a
second oscillation within one step), and a bout assembled from them often begins with a weight
shift before setting off and ends with a shuffle after stopping, each seconds away from the
walk. The cadence uses only what is steady:

1. **the bout's ends are trimmed to its rhythm.** The first and the last steps of a walk are
   transitional (gait initiation reaches the steady state within the first one or two steps,
   Brenière & Do 1986; termination slows the last ones). While the first (last) step time lies
   outside ``trim_range`` times the bout's median step time (0.5-1.5: a lost contact doubles a
   step, an extra one halves it, while healthy and most impaired gait vary by less than 10 %
   from step to step, Hausdorff 2005), the first (last) contact is dropped. The steps
   themselves still count; only the cadence ignores them. A reference bout of the Mobilise-D
   kind likewise begins and ends with the contacts of its first and last complete strides
   (Kluge et al. 2021).
2. **the cadence is 60 over the central step time**: the interquartile mean of the remaining
   plausible step times (1/3-1.5 s, 40-180 steps/min, DESIGN.md section 6 and Mobilise-D's
   cadence range). A lost or an extra contact in a turn is one long or one short step time,
   which the interquartile mean drops, as a median would; unlike a median it is not quantised
   to the sampling interval (at 50 Hz a median step time moves in 20-ms steps, 7 steps/min at
   140 steps/min). Every step weighs the same, as in a reference cadence from the mean stride
   time (120 / mean stride time).

References
----------
Brenière Y., Do M.C. (1986) When and how does steady state gait movement induced from upright
posture begin? J Biomech 19:1035-1040.
Hausdorff J.M. (2005) Gait variability: methods, modeling and meaning. J NeuroEng Rehabil 2:19.
Kluge F. et al. (2021) Consensus based framework for digital mobility monitoring. PLoS ONE
16:e0256541.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sensorhub.signal.features import MAX_STEP_PERIOD_S, MIN_STEP_PERIOD_S

__all__ = ["TRIM_RANGE", "bout_cadence_spm", "central_step_time_s", "steady_contacts"]

#: End steps outside this range times the bout's median step time are transitional.
TRIM_RANGE = (0.5, 1.5)


def steady_contacts(
    contacts_s: NDArray[np.float64], *, trim_range: tuple[float, float] = TRIM_RANGE
) -> NDArray[np.float64]:
    """The bout's contacts without transitional steps at its ends (module docstring, item 1).

    Parameters
    ----------
    contacts_s
        Sorted contact times of one bout (s).
    trim_range
        End steps whose time lies outside this range times the median step time are dropped.

    Returns
    -------
    numpy.ndarray
        The contacts from the first to the last steady step (all of them when no step is
        steady or there are fewer than three).
    """
    t = np.asarray(contacts_s, dtype=np.float64)
    if len(t) < 3:
        return t
    step = np.diff(t)
    med = float(np.median(step))
    ok = (step >= trim_range[0] * med) & (step <= trim_range[1] * med)
    if not ok.any():
        return t
    first = int(np.argmax(ok))
    last = len(ok) - 1 - int(np.argmax(ok[::-1]))
    return t[first : last + 2]


def central_step_time_s(step_s: NDArray[np.float64]) -> float | None:
    """Interquartile mean of the plausible step times (module docstring, item 2); None if
    no step time is plausible."""
    x = np.sort(step_s[(step_s >= MIN_STEP_PERIOD_S) & (step_s <= MAX_STEP_PERIOD_S)])
    if len(x) == 0:
        return None
    q = len(x) // 4
    return float(np.mean(x[q : len(x) - q]))


def bout_cadence_spm(
    contacts_s: NDArray[np.float64], *, trim_range: tuple[float, float] = TRIM_RANGE
) -> float | None:
    """A bout's cadence (steps/min) from its steady contacts (module docstring); None when
    no step time is plausible.

    Parameters
    ----------
    contacts_s
        Sorted contact times of one bout (s).
    trim_range
        As for :func:`steady_contacts`.
    """
    step = np.diff(steady_contacts(contacts_s, trim_range=trim_range))
    central = central_step_time_s(step)
    return None if central is None else 60.0 / central
