"""The nudge loop in the store: what came of each nudge, weekly adherence, wearer settings.

**Outcomes.** A nudge gets at most one lasting outcome:

* ``"moved"`` -- the hub saw a break (walking, or a position change held for a minute:
  DESIGN.md section 6) begin within :data:`RESPONSE_WINDOW_S` (10 min) of the nudge;
  ``response_s`` is the time from the nudge to the break's start (device clock). Written by
  the runtime through the outbox.
* ``"done"`` -- the wearer pressed "Done" while the nudge was current (within the window).
* ``"snoozed"`` -- the wearer pressed "Snooze": the hub does not nudge again for the bout
  before ``snoozed_until`` (15 min later by default).

**First response wins** (:func:`apply_response`): ``done`` and ``moved`` are final and are
never replaced, by each other or by a snooze; writing the same response again changes
nothing (the outbox may replay it, a restarted hub may see the same break again). The one
exception is a ``snoozed`` nudge followed by a break or a "Done" within the window: that is
a response after all and replaces the snooze (its ``snoozed_until`` is kept, so the hold
stays). A nudge with no outcome once its window has passed was ignored.

**Adherence** (:func:`adherence`) of a week: nudges sent, responded (done + moved),
snoozed (and never answered otherwise), ignored (the rest, nudges still within their window
included) and the median response time of the responses.
"""

from __future__ import annotations

import datetime as dt
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.orm import Session

from sensorhub.store.models import NudgeRow

__all__ = [
    "ANSWERS",
    "OUTCOMES",
    "RESPONSE_WINDOW_S",
    "NudgeAdherence",
    "adherence",
    "apply_response",
]

#: A break or an answer this long after a nudge counts as its response (the issue's 10 min).
RESPONSE_WINDOW_S: Final = 10 * 60.0
#: Outcomes a nudge can have.
OUTCOMES: Final = frozenset({"done", "moved", "snoozed"})
#: What the wearer can answer on the dashboard.
ANSWERS: Final = frozenset({"done", "snoozed"})
_FINAL: Final = ("done", "moved")


def apply_response(
    session: Session,
    nudge_id: uuid.UUID,
    *,
    outcome: str,
    responded_at: dt.datetime,
    response_s: float,
    snoozed_until: dt.datetime | None = None,
) -> bool:
    """Record what came of a nudge, first response winning (module docstring).

    Returns True if the nudge took this response, False if it keeps an earlier one (or
    does not exist yet: a response written before its nudge is dropped, see the runtime).
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown nudge outcome {outcome!r}: use one of {sorted(OUTCOMES)}")
    values: dict[str, Any] = {
        "outcome": outcome,
        "responded_at": responded_at,
        "response_s": max(0.0, float(response_s)),
    }
    if snoozed_until is not None:
        values["snoozed_until"] = snoozed_until
    open_to: ColumnElement[bool] = NudgeRow.outcome.is_(None)
    if outcome in _FINAL:
        open_to = or_(open_to, NudgeRow.outcome == "snoozed")
    result = session.execute(
        update(NudgeRow).where(and_(NudgeRow.id == nudge_id, open_to)).values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True, slots=True)
class NudgeAdherence:
    """How a wearer answered the nudges of one week ([start, end), UTC)."""

    wearer_id: str
    start: dt.datetime
    end: dt.datetime
    sent: int
    #: done + moved
    responded: int
    done: int
    moved: int
    snoozed: int
    ignored: int
    #: median seconds from nudge to response over the responded ones (None if none)
    median_response_s: float | None

    @property
    def responded_share(self) -> float | None:
        """Responded / sent (None when nothing was sent)."""
        return None if self.sent == 0 else self.responded / self.sent


def adherence(
    wearer_id: str,
    start: dt.datetime,
    end: dt.datetime,
    nudges: Sequence[tuple[str | None, float | None]],
) -> NudgeAdherence:
    """The adherence of ``(outcome, response_s)`` pairs of the nudges sent in [start, end)."""
    done = sum(o == "done" for o, _ in nudges)
    moved = sum(o == "moved" for o, _ in nudges)
    snoozed = sum(o == "snoozed" for o, _ in nudges)
    times = [r for o, r in nudges if o in _FINAL and r is not None]
    return NudgeAdherence(
        wearer_id,
        start,
        end,
        sent=len(nudges),
        responded=done + moved,
        done=done,
        moved=moved,
        snoozed=snoozed,
        ignored=len(nudges) - done - moved - snoozed,
        median_response_s=statistics.median(times) if times else None,
    )
