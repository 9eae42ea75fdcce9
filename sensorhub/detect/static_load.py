"""Static-load tracker: a streaming state machine over posture runs (DESIGN.md section 6).

A static bout (sitting, standing or ``stationary``) ends with a real break (DESIGN.md
section 6): ``min_break_s`` (60 s) in a row in which the wearer is not in the bout's posture (a
change of position held, walking, lying down, sustained activity). Shorter interruptions (a
few steps, a short stand, a fidget) keep the bout only while their *total* inside the bout
stays below ``min_break_s``: four walks of 20 s within two minutes of "sitting" are a minute of
walking, and so a break, though none of them was one on its own. Moving in place (``active``:
shifting on the seat, reaching) is neither a change of position nor walking, so it does not
count towards that total; but the bout must stay mostly in its own posture: once all its
interruptions, moving in place included, add up to as much as its own posture, it ends. A bout
ends where the interruption that completed the break began (its reported end is when the
break *began*, not when it was confirmed). Returns to the bout's posture shorter than
``max_return_s`` inside an interruption belong to it (classification flicker). So a reported
bout holds less than ``min_break_s`` of walking and other postures in total, and its posture is
the majority of its frames.

``stationary`` (still and upright, sitting or standing not known) is compatible with sitting
and standing: a ``stationary`` bout whose wearer is then seen sitting (or standing) goes on as
a sitting (standing) bout from its start, and ``stationary`` frames inside a sitting or
standing bout are part of it. A hip or lower-back wearer is ``stationary`` until a first walk
teaches which way is up (a band put on at the desk), so the bout does not split when it does.

A data gap longer than ``max_gap_s`` ends the bout at the last evidence before the gap; across
a shorter one the tracker goes on as if the data had not stopped (the posture before the gap
held through it, so a gap inside an interruption counts towards the break). A tracker can
also start inside a bout left open by an earlier one (``resume``: the hub restarted); the
silence since the bout's last evidence is then a gap like any other, and the interruptions the
bout held so far (``CurrentBout.interrupted_s``) still count.

The machine works on runs of equal labels and evaluates every condition at an analytically
computed time (interruption start + what is left of the break length, run start +
``max_return_s``), so its output does not depend on how the frames were batched.

References
----------
Healy G.N. et al. (2008) Breaks in sedentary time: beneficial associations with metabolic risk.
Diabetes Care 31:661-666 (breaks in sedentary time).
Migueles J.H. et al. (2019) GGIR: a research community-driven open source R package.
J Meas Phys Behav 2:188-196 (bouts terminated by interruptions > 1 min, ``g.getbout``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sensorhub.detect.posture import CODE, POSTURES, STATIC_CODES
from sensorhub.model import NS_PER_S, CurrentBout, Posture, StaticBout

_ACTIVE = CODE[Posture.ACTIVE]
_STATIONARY = CODE[Posture.STATIONARY]
_SEATED_OR_STANDING = frozenset({CODE[Posture.SITTING], CODE[Posture.STANDING]})


class StaticLoadTracker:
    """Streaming static-bout tracker (see the module docstring).

    Parameters
    ----------
    min_break_s
        A break must last this long to end a bout (DESIGN.md section 6: 1 min).
    max_return_s
        Returns to the bout posture shorter than this do not interrupt a break.
    max_gap_s
        Data gaps longer than this end the bout.
    min_bout_s
        Finished bouts with less than this of their own posture (their length minus the
        interruptions inside) are not reported; at least ``min_break_s``, so that a reported
        bout is mostly its own posture.
    resume
        A bout still open when an earlier tracker stopped (e.g. the hub restarted; its
        ``last_ns`` is the last evidence folded into it, ``interrupted_s`` the interruptions
        it held). The tracker starts inside it, as if the bout's posture had held until
        ``last_ns``: tell it the silence since then with :meth:`gap`, and the bout goes on or
        ends exactly as it would across a gap of that length in one stream (same start, so
        the same event id). None: start afresh.

    Every action method returns the bouts it finished (in time order).
    """

    def __init__(
        self,
        *,
        min_break_s: float = 60.0,
        max_return_s: float = 3.0,
        max_gap_s: float = 300.0,
        min_bout_s: float = 60.0,
        resume: CurrentBout | None = None,
    ) -> None:
        self.min_break_s = min_break_s
        self.max_return_s = max_return_s
        self.max_gap_s = max_gap_s
        self.min_bout_s = min_bout_s
        self.resume = resume
        # ongoing run
        self._run_label: int | None = None
        self._run_start = 0
        self._run_end = 0
        # bout state
        self._bout_label: int | None = None
        self._bout_start = 0
        self._bout_last = 0
        self._brk_start: int | None = None
        self._interrupted = 0  # ns of finished interruptions inside the bout
        self._moved = 0  # ns of those spent moving in place (active)
        self._cur_active = 0  # ns of finished active runs in the current interruption
        self._closed: list[StaticBout] = []  # bouts finished by the running action
        if resume is not None:
            label = CODE[resume.posture]
            if label not in STATIC_CODES:
                raise ValueError(
                    f"a resumed bout must be static (sitting, standing or stationary), "
                    f"got {resume.posture.value!r}"
                )
            # the bout's posture ran until its last evidence, with no break begun
            self._run_label, self._run_start, self._run_end = label, resume.start_ns, resume.last_ns
            self._bout_label, self._bout_start, self._bout_last = (
                label,
                resume.start_ns,
                resume.last_ns,
            )
            self._interrupted = round(resume.interrupted_s * NS_PER_S)
            self._moved = round(resume.active_s * NS_PER_S)

    @property
    def current_bout(self) -> CurrentBout | None:
        """The live bout (None when not in a static bout)."""
        if self._bout_label is None:
            return None
        return CurrentBout(
            self._bout_start,
            POSTURES[self._bout_label],
            self._bout_last,
            self._interrupted / NS_PER_S,
            self._moved / NS_PER_S,
        )

    def update(
        self, start_ns: NDArray[np.int64], end_ns: NDArray[np.int64], labels: NDArray[np.int8]
    ) -> list[StaticBout]:
        """Fold consecutive frames (start/end times and posture codes) into the state; return
        the bouts they finished."""
        self._closed = []
        n = len(labels)
        if n == 0:
            return self._take()
        change = np.nonzero(labels[1:] != labels[:-1])[0] + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [n]))
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            lab = int(labels[s])
            t0, t1 = int(start_ns[s]), int(end_ns[e - 1])
            if self._run_label == lab:
                self._run_end = t1
            else:
                if self._run_label == _ACTIVE and self._brk_start is not None:
                    # a short gap after the run carries its label (see the module docstring)
                    self._cur_active += t0 - self._run_start
                self._run_label, self._run_start, self._run_end = lab, t0, t1
            self._advance()
        return self._take()

    def gap(self, last_sample_ns: int, gap_ns: int) -> list[StaticBout]:
        """Tell the tracker about missing data (``gap_ns`` after ``last_sample_ns``); a gap
        longer than ``max_gap_s`` ends the bout at its last evidence. Returns that bout."""
        self._closed = []
        if gap_ns > self.max_gap_s * NS_PER_S:
            self._close(
                min(self._bout_last, last_sample_ns) if self._brk_start is None else self._brk_start
            )
            self._run_label = None
        return self._take()

    def end_at(self, end_ns: int) -> list[StaticBout]:
        """End the bout at ``end_ns`` at the latest (e.g. the device was taken off then);
        return it if it is long enough to report."""
        self._closed = []
        if self._bout_label is not None:
            end = end_ns if self._brk_start is None else min(end_ns, self._brk_start)
            end = min(end, self._bout_last)
            if end > self._bout_start:
                self._close(end)
            self._bout_label = None
            self._reset_interruptions()
        self._run_label = None
        return self._take()

    def finish(self, last_sample_ns: int) -> list[StaticBout]:
        """End of stream: close the open bout at its last evidence; return it."""
        return self.gap(last_sample_ns, int(self.max_gap_s * NS_PER_S) + 1)

    # -- internals ---------------------------------------------------------------------------
    def _take(self) -> list[StaticBout]:
        out, self._closed = self._closed, []
        return out

    def _close(self, end_ns: int) -> None:
        own_ns = end_ns - self._bout_start - self._interrupted  # time in the bout's posture
        if (
            self._bout_label is not None
            and own_ns >= self.min_bout_s * NS_PER_S
            and own_ns > self._interrupted
        ):
            self._closed.append(StaticBout(self._bout_start, end_ns, POSTURES[self._bout_label]))
        self._bout_label = None
        self._reset_interruptions()

    def _start(self, label: int, start_ns: int, last_ns: int) -> None:
        self._bout_label, self._bout_start, self._bout_last = label, start_ns, last_ns
        self._reset_interruptions()

    def _reset_interruptions(self) -> None:
        self._brk_start = None
        self._interrupted = self._moved = self._cur_active = 0

    def _is_break(self, until: int, active: int) -> bool:
        """Whether the interruption up to ``until``, ``active`` ns of it moving in place,
        completes a break (see the module docstring)."""
        assert self._brk_start is not None
        length = until - self._brk_start
        away = (self._interrupted - self._moved) + (length - active)
        own = self._brk_start - self._bout_start - self._interrupted
        limit = self.min_break_s * NS_PER_S
        return length >= limit or away >= limit or self._interrupted + length >= own

    def _advance(self) -> None:
        lab = self._run_label
        assert lab is not None
        s, e = self._run_start, self._run_end
        if self._bout_label is None:
            if lab in STATIC_CODES:
                self._start(lab, s, e)
            return
        refines = self._bout_label == _STATIONARY and lab in _SEATED_OR_STANDING
        if (
            lab == self._bout_label
            or refines
            or (lab == _STATIONARY and self._bout_label in _SEATED_OR_STANDING)
        ):
            if self._brk_start is None:
                self._bout_last = e
                if refines:
                    self._bout_label = lab
            elif self._is_break(s, self._cur_active):
                # a short gap inside the interruption made it a break
                self._close(self._brk_start)
                self._start(lab, s, e)
            elif e - s >= self.max_return_s * NS_PER_S:
                # back for good: the interruption (a fidget) ended where this run began
                self._interrupted += s - self._brk_start
                self._moved += self._cur_active
                self._brk_start, self._cur_active = None, 0
                self._bout_last = e
                if refines:
                    self._bout_label = lab
            return
        if self._brk_start is None:
            self._brk_start = s
        if self._is_break(e, self._cur_active + (e - s if lab == _ACTIVE else 0)):
            self._close(self._brk_start)
            if lab in STATIC_CODES:
                self._start(lab, s, e)
