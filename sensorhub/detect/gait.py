"""Gait bouts and their metrics, assembled from steps in a stream.

A walking bout is a run of steps with no pause longer than ``max_break_s`` (3 s) holding at least
``min_strides`` strides (4; Mobilise-D walking-bout assembly, Kluge et al. 2021). Per bout:
cadence (60 / the central step time of the bout's steady contacts,
:mod:`sensorhub.detect.cadence`), stride time and its coefficient of variation, step and
stride regularity (trunk autocorrelation, Moe-Nilssen & Helbostad 2004), temporal asymmetry
of alternate steps, and speed by the inverted-pendulum model when the sensor height is known
(Zijlstra & Hof 2003, with the Mobilise-D scaling factor 4.587/4), the vertical harmonic ratio
at trunk placements (Menz et al. 2003) and the share of shuffling steps (inverted-pendulum
step length below :data:`SHUFFLE_STEP_LENGTH_M`). A bout is emitted once no step has followed
for ``max_break_s``, so within a few seconds of device time.

References
----------
Kluge F. et al. (2021) Consensus based framework for digital mobility monitoring. PLoS ONE
16:e0256541 (walking bouts: >= 4 strides, breaks <= 3 s).
Moe-Nilssen R., Helbostad J.L. (2004) J Biomech 37:121-126.
Brajdic A., Harle R. (2013) Walk detection and step counting on unconstrained smartphones.
Proc. UbiComp 2013:225-234.
Zijlstra W., Hof A.L. (2003) Gait Posture 18:1-10.
Hausdorff J.M. (2005) Gait variability: methods, modeling and meaning. J NeuroEng Rehabil 2:19
(stride-time CV).
Menz H.B., Lord S.R., Fitzpatrick R.C. (2003) Gait Posture 18:35-46 (harmonic ratio).
Hollman J.H., McDade E.M., Petersen R.C. (2011) Normative spatiotemporal gait parameters in
older adults. Gait Posture 34:111-118 (step lengths of adults aged 70-90+).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sensorhub.detect.cadence import bout_cadence_spm
from sensorhub.model import NS_PER_S, GaitBout

#: Mobilise-D default step-length scaling factor K of the inverted-pendulum model.
ZIJLSTRA_K = 4.587 / 4.0
#: A step shorter than this (inverted-pendulum step length, m) counts as shuffling. Community-
#: dwelling adults of 70-90+ years step about 0.5-0.65 m at their usual pace (Hollman et al.
#: 2011); 0.40 m is well below that. With a 0.9 m pendulum it is a vertical trunk excursion of
#: about 1.7 cm per step, against the 3-5 cm of normal walking (Zijlstra & Hof 2003). A
#: provisional threshold: it has not been validated against labelled shuffling.
SHUFFLE_STEP_LENGTH_M = 0.40
#: Shortest walk (s, first to last step) whose steps count for a sensor on a limb (thigh,
#: pocket, wrist, foot): the 4-s filter of consumer pedometers (e.g. the Omron HJ-303
#: instruction manual: "It does not display the step count for the first 4 seconds of
#: walking. If you continue walking for more than 4 seconds, the pedometer displays the step
#: count for the first 4 seconds"). A limb sensor moves with every weight shift, a phone also
#: settles in its pocket, and where its rhythm is a stride the other leg's steps are inserted
#: halfway between stride peaks, so three shifts a second apart already look like five evenly
#: spaced steps; walking, even at 40 steps/min, goes on for longer. A trunk sensor barely
#: moves with weight shifts, and its short clinical walks (Mobilise-D bouts of >= 4 strides)
#: must still count, so it has no minimum.
LIMB_MIN_SEQUENCE_S = 4.0


@dataclass(frozen=True, slots=True, eq=False)
class AssembledSteps:
    """What :meth:`GaitBoutAssembler.add` confirmed.

    Attributes
    ----------
    steps_ns
        Steps confirmed by the call (UTC ns, increasing, after those of earlier calls).
    bouts
        Gait bouts the call finished.
    """

    steps_ns: NDArray[np.int64]
    bouts: list[GaitBout]


@dataclass(slots=True)
class _Open:
    steps: list[int] = field(default_factory=list)
    step_reg: list[float] = field(default_factory=list)
    stride_reg: list[float] = field(default_factory=list)
    excursion_m: list[float] = field(default_factory=list)
    harmonic_ratio: list[float] = field(default_factory=list)


class GaitBoutAssembler:
    """Streaming assembly of candidate steps into confirmed steps and gait bouts.

    Candidate steps come from every moving frame. A candidate is confirmed once it belongs to a
    sequence lasting at least ``min_sequence_s``, each step within ``max_sequence_gap_s`` of
    the previous one, whose last ``min_sequence_steps`` steps keep a rhythm: a lone step or
    two, or a few weight shifts from foot to foot while standing, or a phone settling in a
    pocket, are not counted, as in step counters that wait for continuous walking (Brajdic &
    Harle 2013; pedometers such as Omron's count nothing until walking has gone on for 4 s,
    then count those 4 s too). Once confirmed, the sequence's steps all count, so a walk loses
    nothing; walks shorter than ``min_sequence_s`` are not counted at all. Confirmed steps
    with pauses of at most ``max_break_s`` form a bout; bouts of at least ``min_strides``
    strides are reported as :class:`~sensorhub.model.GaitBout`.

    Parameters
    ----------
    max_break_s
        Longest pause between consecutive steps inside a bout (Kluge 2021: 3 s).
    min_strides
        Fewest strides (pairs of steps) in a reported bout (Kluge 2021: 4).
    min_sequence_steps
        Fewest steps in a rhythmic sequence before its steps count.
    min_sequence_s
        Shortest sequence (first to last step, s) before its steps count (0: no minimum;
        :data:`LIMB_MIN_SEQUENCE_S` for sensors on a limb).
    max_sequence_gap_s
        Longest step interval inside a sequence (40 steps/min is 1.5 s per step).
    rhythm_tolerance
        A sequence is confirmed only when its step intervals stay within this fraction of
        their median (healthy and most impaired gait vary by < 10-20 % step to step;
        Hausdorff 2005).
    sensor_height_m
        Height of a trunk sensor above the ground (pendulum length); None: no speed.
    step_length_factor
        K of the inverted-pendulum step length.

    :meth:`add` returns the steps it confirmed and the bouts it finished
    (:class:`AssembledSteps`); :meth:`finish` the bout it closed.
    """

    def __init__(
        self,
        *,
        max_break_s: float = 3.0,
        min_strides: int = 4,
        min_sequence_steps: int = 4,
        min_sequence_s: float = 0.0,
        max_sequence_gap_s: float = 2.0,
        rhythm_tolerance: float = 0.35,
        sensor_height_m: float | None = None,
        step_length_factor: float = ZIJLSTRA_K,
    ) -> None:
        self.max_break_s = max_break_s
        self.min_strides = min_strides
        self.min_sequence_steps = min_sequence_steps
        self.min_sequence_s = min_sequence_s
        self.max_sequence_gap_s = max_sequence_gap_s
        self.rhythm_tolerance = rhythm_tolerance
        self.sensor_height_m = sensor_height_m
        self.step_length_factor = step_length_factor
        self._bouts: list[GaitBout] = []  # bouts finished by the running action
        self._open = _Open()
        self._seq: list[tuple[int, float, float, float, float]] = []
        self._confirmed = False
        self._out: list[int] = []
        self._now_ns: int | None = None

    @property
    def settled_ns_(self) -> int | None:
        """No bout reported later starts before this time (None before the first call): the
        first step of the open bout or of a sequence that may still join one, else the time
        analysed so far."""
        starts = [t for t in (self._now_ns,) if t is not None]
        if self._open.steps:
            starts.append(self._open.steps[0])
        if self._seq:
            starts.append(self._seq[0][0])
        return min(starts) if starts else None

    def add(
        self,
        step_ns: NDArray[np.int64],
        step_reg: NDArray[np.float64],
        stride_reg: NDArray[np.float64],
        excursion_m: NDArray[np.float64],
        now_ns: int,
        *,
        harmonic_ratio: NDArray[np.float64] | None = None,
    ) -> AssembledSteps:
        """Add candidate steps (sorted, after earlier ones) with per-step quality values;
        ``now_ns`` is the device time up to which the stream has been analysed.
        ``harmonic_ratio`` is that of the frame each step was found in (None: unknown).
        Returns the steps confirmed and the bouts finished by this call."""
        self._bouts = []
        self._out = []
        self._now_ns = now_ns if self._now_ns is None else max(self._now_ns, now_ns)
        seq_gap = int(self.max_sequence_gap_s * NS_PER_S)
        hr = np.full(len(step_ns), np.nan) if harmonic_ratio is None else harmonic_ratio
        for item in zip(
            step_ns.tolist(),
            step_reg.tolist(),
            stride_reg.tolist(),
            excursion_m.tolist(),
            hr.tolist(),
            strict=True,
        ):
            t = int(item[0])
            if self._seq and t - self._seq[-1][0] > seq_gap:
                self._seq, self._confirmed = [], False
            self._seq.append((t, item[1], item[2], item[3], item[4]))
            if self._confirmed:
                self._push(self._seq[-1])
            elif len(self._seq) >= self.min_sequence_steps and self._rhythmic():
                self._confirmed = True
                for it in self._lead_in():
                    self._push(it)
        if self._seq and now_ns - self._seq[-1][0] > seq_gap:
            self._seq, self._confirmed = [], False
        brk = int(self.max_break_s * NS_PER_S)
        # an unconfirmed sequence that began within the break may still join the open bout:
        # closing it now would make the bouts depend on how the stream was chunked
        if (
            self._open.steps
            and now_ns - self._open.steps[-1] > brk
            and (not self._seq or self._seq[0][0] - self._open.steps[-1] > brk)
        ):
            self._close()
        steps = np.asarray(self._out, dtype=np.int64)
        self._out = []
        return AssembledSteps(steps, self._take())

    def finish(self) -> list[GaitBout]:
        """Close the open bout (end of stream or a gap); return it if it is long enough."""
        self._bouts = []
        self._seq, self._confirmed = [], False
        self._close()
        return self._take()

    def _take(self) -> list[GaitBout]:
        out, self._bouts = self._bouts, []
        return out

    def _lead_in(self) -> list[tuple[int, float, float, float, float]]:
        """The confirmed sequence without leading steps cut off by a pause: an interval
        longer than two median steps of the rhythmic run holds a missing step or a pause,
        so the steps before it (a weight shift before setting off) are not this walk's."""
        t = [it[0] for it in self._seq]
        d = sorted(b - a for a, b in itertools.pairwise(t[-self.min_sequence_steps :]))
        med = d[len(d) // 2]
        first = 0
        for i in range(len(t) - self.min_sequence_steps, 0, -1):
            if t[i] - t[i - 1] > 2 * med:
                first = i
                break
        return self._seq[first:]

    def _rhythmic(self) -> bool:
        """The sequence has lasted ``min_sequence_s`` (unless it resumes the open bout after a
        pause of at most ``max_break_s``: a walk that lost a step or two is still a walk) and
        its last ``min_sequence_steps`` steps keep a rhythm: every interval within
        ``rhythm_tolerance`` of their median (fidgets and shuffles are irregular; a walk's
        rhythm is judged on its latest steps, since turns and lost contacts make longer
        stretches of real gait irregular)."""
        o = self._open
        resumes = bool(o.steps) and self._seq[0][0] - o.steps[-1] <= self.max_break_s * NS_PER_S
        if not resumes and self._seq[-1][0] - self._seq[0][0] < self.min_sequence_s * NS_PER_S:
            return False
        t = [it[0] for it in self._seq[-self.min_sequence_steps :]]
        d = sorted(b - a for a, b in itertools.pairwise(t))
        k = len(d)
        med = d[k // 2] if k % 2 else 0.5 * (d[k // 2 - 1] + d[k // 2])
        return all(abs(x - med) <= self.rhythm_tolerance * med for x in d)

    def _push(self, item: tuple[int, float, float, float, float]) -> None:
        t = item[0]
        o = self._open
        if o.steps and t - o.steps[-1] > int(self.max_break_s * NS_PER_S):
            self._close()
            o = self._open
        o.steps.append(t)
        o.step_reg.append(item[1])
        o.stride_reg.append(item[2])
        o.excursion_m.append(item[3])
        o.harmonic_ratio.append(item[4])
        self._out.append(t)

    def _close(self) -> None:
        o, self._open = self._open, _Open()
        if len(o.steps) < 2 * self.min_strides + 1:
            return
        bout = bout_metrics(
            np.asarray(o.steps, dtype=np.int64),
            np.asarray(o.step_reg),
            np.asarray(o.stride_reg),
            np.asarray(o.excursion_m),
            sensor_height_m=self.sensor_height_m,
            step_length_factor=self.step_length_factor,
            harmonic_ratio=np.asarray(o.harmonic_ratio),
        )
        self._bouts.append(bout)


def _nanmedian(x: NDArray[np.float64]) -> float | None:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else None


def bout_metrics(
    steps_ns: NDArray[np.int64],
    step_reg: NDArray[np.float64],
    stride_reg: NDArray[np.float64],
    excursion_m: NDArray[np.float64],
    *,
    sensor_height_m: float | None,
    step_length_factor: float = ZIJLSTRA_K,
    harmonic_ratio: NDArray[np.float64] | None = None,
) -> GaitBout:
    """Metrics of one bout from its step times (ns) and per-step quality values.

    The harmonic ratio is the median of the steps' stride values but for the last two steps,
    whose strides end after the bout (None without any); the
    shuffling share is that of the steps with a measured excursion whose inverted-pendulum
    length is below :data:`SHUFFLE_STEP_LENGTH_M` (None without the sensor height or any
    measured step: the placement cannot tell).
    """
    t = steps_ns.astype(np.float64) / NS_PER_S
    st = np.diff(t)
    med = float(np.median(st))
    # plausible steps only: a pause or a missed step must not distort the rhythm (skdh uses
    # max stride = 2 * mean step + 1 s; here steps within 0.5-1.5x the median step)
    good = (st >= 0.5 * med) & (st <= 1.5 * med)
    mean_step = float(np.mean(st[good])) if good.any() else med
    # cadence from the steady contacts (sensorhub.detect.cadence): transitional steps at the
    # bout's ends are dropped, and the interquartile mean of the plausible step times ignores
    # a lost or an extra contact at a turn (the median step when no step time is plausible)
    cadence = bout_cadence_spm(t)
    if cadence is None:
        cadence = 60.0 / med
    stride = t[2:] - t[:-2]
    sgood = good[1:] & good[:-1]
    stride_time = float(np.mean(stride[sgood])) if sgood.any() else None
    cv = (
        float(100.0 * np.std(stride[sgood], ddof=1) / np.mean(stride[sgood]))
        if sgood.sum() >= 3
        else None
    )
    odd, even = st[0::2], st[1::2]
    og, eg = good[0::2], good[1::2]
    asym = None
    if og.sum() >= 2 and eg.sum() >= 2:
        asym = float(100.0 * abs(odd[og].mean() - even[eg].mean()) / mean_step)
    speed = None
    shuffling = None
    if sensor_height_m is not None and sensor_height_m > 0:
        h = excursion_m[np.isfinite(excursion_m)]
        h = h[(h > 0) & (h < 0.5 * sensor_height_m)]
        if len(h):
            lengths = step_length_factor * 2.0 * np.sqrt(2.0 * sensor_height_m * h - h * h)
            speed = float(np.median(lengths)) / mean_step
            shuffling = float(100.0 * np.mean(lengths < SHUFFLE_STEP_LENGTH_M))
    reg1 = _nanmedian(step_reg)
    reg2 = _nanmedian(stride_reg)
    return GaitBout(
        start_ns=int(steps_ns[0]),
        end_ns=int(steps_ns[-1]),
        steps=len(steps_ns),
        cadence_spm=cadence,
        stride_time_s=stride_time,
        stride_time_cv_pct=cv,
        step_regularity=reg1,
        stride_regularity=reg2,
        asymmetry_pct=asym,
        speed_mps=None if speed is None or not math.isfinite(speed) else speed,
        # the last two steps' strides run past the bout's last step (into the stop)
        harmonic_ratio=None if harmonic_ratio is None else _nanmedian(harmonic_ratio[:-2]),
        shuffling_pct=shuffling,
    )
