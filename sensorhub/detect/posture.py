"""Posture and activity per one-second frame, for every placement, independent of mounting.

The device's mounting is unknown, so "upright" is learned from the data: the body's vertical
axis in device coordinates is the direction of gravity while walking (people walk upright). An
exponential average over walking frames keeps it current when a device is re-attached. At the
lower back and hip, where sitting and standing are told apart by the pelvis's tilt from it,
only walks teach it (walking frames in a run of at least ``WALK_RUN_FRAMES``: a second or two
of rhythm while seated is not a walk), and without a configured ``upright_axis`` its first
frames are averaged as they come (1/n), so a few seconds of walking are enough and the first
frame's gravity, only a guess (the wearer may be seated), carries no weight once a walk is
seen. Until the first walk, the reference is the configured ``upright_axis`` or the first
frame's gravity.

Rules per placement (DESIGN.md sections 4.1 and 6):

* trunk (chest, lower back, hip): inclination of gravity from upright > ``lying_inclination_deg``
  and still -> lying; upright and still -> ``stationary`` (chest), or sitting / standing for
  lower back and hip when ``sitting_trunk_inclination_deg`` is set; moving with step
  periodicity -> walking; other movement -> active. Lower back / hip sitting vs standing comes
  first from the postural transition that began the static period (Najafi et al. 2002): the
  mean net vertical pelvis displacement over a run of frames whose windows hold a centred
  transition (:mod:`sensorhub.signal.transitions`) of at least ``transition_displacement_m``
  down is stand-to-sit, up sit-to-stand. A transition counts only between upright postures:
  a window that starts lying holds a lie-to-sit or lie-to-stand, whose 60-90 deg turn of the
  trunk defeats the vertical integration; and only once the device is seen worn (a still frame
  within ``UPRIGHT_MAX_DEG`` of upright, or a walk): before that, a device being clipped on
  moves like a transition. A rest (lying still for ``LYING_MIN_FRAMES`` s) hands on sitting:
  getting up from lying leaves the wearer seated until a sit-to-stand raises the pelvis. A walk
  (``WALK_RUN_FRAMES`` walking frames in a row that keep the trunk's orientation) clears the
  state: a walk may end in sitting or standing. Stilled again within ``SAME_POSTURE_DEG`` of
  the orientation held before the walk, the wearer is taken to hold the same posture (a walk
  from sitting needs a sit-to-stand first, so a "walk" without one was a seated fidget; after
  standing, the wearer stands again; the orientation held is taken from frames whose whole
  window is quiet, not from a frame next to the walk). Otherwise, and while no transition is
  known, the pelvic tilt decides (Endo et al. 2012: the pelvis rotates posteriorly by ~18 deg
  from standing to sitting). A pelvis tilted beyond ``STANDING_MAX_DEG`` for
  ``SEATED_MIN_FRAMES`` s is seated whatever came before (a "rise" detected before it was a
  shift on the seat), and stays seated until a transition, a walk or a rest: no one stands
  with the pelvis tilted that far, and no one stands up without a rise. Before any upright is
  learnt or given (a band put on at the desk, no walk yet) the tilt means nothing and a still
  pelvis with no transition known is ``stationary``; a posture read that way is not carried
  over the first walk.
* thigh, pocket: thigh inclination from upright > ``sitting_thigh_inclination_deg`` -> sitting,
  else standing (Acti4); walking / active as above. Lying cannot be told from sitting by a thigh
  sensor alone and is reported as sitting (both are sedentary).
* wrist: stationary, active or walking only.

References
----------
Skotte J. et al. (2014) Detection of physical activity types using triaxial accelerometers.
J Phys Act Health 11:76-84 (Acti4: thigh inclination 45 deg sitting / standing, SD 0.1 g).
van Hees V.T. et al. (2015) A novel, open access method to assess sleep duration using a
wrist-worn accelerometer. PLoS ONE 10:e0142533 (angle-based posture from gravity).
Lyden K. et al. (2016) The activPAL accurately classifies activity intensity categories in healthy
adults. Med Sci Sports Exerc 49:1022-1028 (thigh posture as the sitting/standing reference).
Najafi B. et al. (2002) Measurement of stand-sit and sit-stand transitions using a miniature
gyroscope and its application in fall risk evaluation in the elderly. IEEE Trans Biomed Eng
49:843-851 (the transition sets the posture of the static period that follows).
Adamowicz L. et al. (2020) Assessment of sit-to-stand transfers during daily life using an
accelerometer on the lower back. Sensors 20:6618 (vertical displacement and speed thresholds).
Endo K. et al. (2012) Sagittal lumbar and pelvic alignment in the standing and sitting
positions. J Orthop Sci 17:682-686 (pelvic tilt +18.3 deg, sacral slope -18.7 deg from standing
to sitting, 50 healthy adults).
Perry J. (1992) Gait Analysis: Normal and Pathological Function. Slack, Thorofare NJ (pelvic
tilt ~4 deg and obliquity ~8 deg of range within a stride).
Hildebrand M. et al. (2014) Age group comparability of raw accelerometer output from wrist- and
hip-worn monitors. Med Sci Sports Exerc 46:1816-1824 (sedentary below ~45 mg at the wrist).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from sensorhub.model import Placement, Posture
from sensorhub.signal.features import FrameFeatures

#: Integer codes used for posture arrays (index into this tuple).
POSTURES: Final[tuple[Posture, ...]] = tuple(Posture)
CODE: Final[dict[Posture, int]] = {p: i for i, p in enumerate(POSTURES)}
STATIC_CODES: Final[frozenset[int]] = frozenset(CODE[p] for p in POSTURES if p.is_static)

#: Consecutive walking frames (s) that count as a walk and clear the transition state (about
#: 4 strides; Mobilise-D walking bouts have >= 4 strides).
WALK_RUN_FRAMES: Final = 4

#: Fastest turn of the trunk's gravity direction (deg per 1-s frame) in a walk that clears
#: the sit/stand state: the pelvis tilts by ~4 deg and rolls by ~8 deg within a stride (Perry
#: 1992) and the 3-s gravity average turns less; sitting up from lying turns it by 20-45 deg/s.
MAX_WALK_TURN_DEG_S: Final = 10.0

#: Still lying frames in a row that make a rest (s); a stoop to the floor or the handling of
#: the device before it is put on lasts a few seconds at most.
LYING_MIN_FRAMES: Final = 5

#: Largest trunk inclination (deg) of a still frame that shows the device worn by an upright
#: wearer (a reclined sitter rarely exceeds 45 deg).
UPRIGHT_MAX_DEG: Final = 45.0

#: Largest turn (deg) of the still trunk from the posture held before a walk for the wearer to
#: count as still in that posture (sitting and standing differ by ~18 deg of pelvic tilt,
#: Endo et al. 2012; shifting on a seat or in a stance moves it by a few degrees).
SAME_POSTURE_DEG: Final = 5.0

#: Largest pelvis/trunk inclination (deg) from the walking-learnt upright of a still wearer who
#: stands: standing keeps the pelvis close to its walking orientation (pelvic tilt moves by
#: ~4 deg within a stride, Perry 1992; the trunk leans forward a little more when walking),
#: while sitting tilts it posteriorly by 18.3 deg on average (Endo et al. 2012). A still pelvis
#: tilted more than this is seated even when a "sit-to-stand" was detected before it
#: (shifting on a seat can look like one).
STANDING_MAX_DEG: Final = 25.0

#: Still frames in a row tilted beyond ``STANDING_MAX_DEG`` that show a seated wearer: longer
#: than a sit-to-stand or stand-to-sit (1-3 s, Najafi et al. 2002) or a stoop.
SEATED_MIN_FRAMES: Final = 5

#: Frames between a frame and the start of its transition window (the pipeline's context).
WINDOW_LEAD_FRAMES: Final = 3

#: Walking frames a thigh's "upright" must have learnt from before the guard of
#: ``upright_relearn_frames`` applies (ten seconds of walking: a first walk to the desk).
MIN_TAUGHT_FRAMES: Final = 10

TRUNK: Final = frozenset({Placement.CHEST, Placement.LOWER_BACK, Placement.HIP})
PELVIS: Final = frozenset({Placement.LOWER_BACK, Placement.HIP})
THIGH: Final = frozenset({Placement.THIGH, Placement.POCKET})


@dataclass(frozen=True, slots=True, eq=False)
class PostureFrames:
    """Postures of the frames given to :meth:`PostureClassifier.classify`.

    Attributes
    ----------
    postures
        Posture codes (indices into :data:`POSTURES`), one per frame (a fresh array).
    inclination_deg
        Inclination of gravity from the upright reference per frame.
    reference_known
        Per frame: whether its upright reference came from walking (this frame or earlier)
        or from a given ``upright_axis``, rather than from the first frame's gravity.
    """

    postures: NDArray[np.int8]
    inclination_deg: NDArray[np.float64]
    reference_known: NDArray[np.bool_]


#: The orientation of a posture not to be carried over a walk (matches no gravity direction).
_NOWHERE: Final = np.zeros(3)


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.asarray(v / np.maximum(n, 1e-9), dtype=np.float64)


class PostureClassifier:
    """Streaming per-frame posture/activity classifier (see the module docstring).

    Parameters
    ----------
    placement
        Body placement of the device.
    lying_inclination_deg
        Trunk inclination from upright above which a still trunk is lying (60 deg: the
        research notes' "lying > 60 deg"; a reclined sitter rarely exceeds 45 deg).
    sitting_trunk_inclination_deg
        Lower back / hip: a still trunk tilted more than this from its walking orientation is
        sitting, less is standing. None reports ``stationary`` instead.
    sitting_thigh_inclination_deg
        Thigh / pocket: inclination above which the thigh is horizontal enough to be sitting
        (Skotte 2014: 45 deg).
    active_rms_g
        Dynamic RMS (over 3 s) above which a non-walking frame is ``active`` rather than static.
        None picks the placement default: 0.1 g wrist (the wrist moves while typing; sedentary
        ENMO < 45-50 mg, Hildebrand 2014), 0.06 g otherwise (Acti4 uses SD < 0.1 g per axis).
    walking_min_rms_g
        Minimum dynamic RMS for walking: quiet standing sways below 0.03 g, while the slowest
        walkers of the Mobilise-D examples move the trunk by more than 0.07 g.
    walking_min_periodicity
        Minimum autocorrelation peak at a step or stride lag for walking (Moe-Nilssen 2004
        report step regularity 0.5-0.9 in walking; random movement stays below 0.4).
    upright_adapt_frames
        Time constant, in walking frames, of the exponential average that learns "upright".
    upright_relearn_frames
        Thigh and pocket: once "upright" has been learnt from ``MIN_TAUGHT_FRAMES`` walking
        frames (or is given), a walking frame whose thigh would read as sitting (further than
        ``sitting_thigh_inclination_deg`` from upright) does not teach it: a bouncing leg or
        a fidget while seated is called walking at times, and a seated thigh is horizontal
        (a walking thigh swings between about 10 deg of extension and 25-30 deg of flexion,
        Perry 1992). Only this many such walking frames in a row (a minute of uninterrupted
        walking, which DESIGN.md section 6 counts as a real break) mean the device was put
        back on turned, and "upright" is learnt afresh from them.
    upright_axis
        Prior for the body's vertical axis in device coordinates (None: first frame).
    transition_displacement_m
        Smallest mean net vertical displacement of the pelvis taken as a sit-to-stand or
        stand-to-sit transition (Adamowicz et al. 2020: 0.125 m; the pelvis moves by about
        the standing hip height minus the seat height, 0.3-0.5 m).
    transition_speed_m_s
        ... with a vertical speed of at least this (Adamowicz et al. 2020: 0.2 m/s).
    resume_posture
        Lower back / hip: the sitting or standing posture a restarted hub knew its wearer in
        (the bout in progress). Until a transition, a walk or a rest says otherwise, the
        wearer is still in it: nobody changes between sitting and standing without a
        transition, and the pelvic-tilt fallback cannot tell a seated pelvis from the
        orientation the restarted classifier first sees.

    Attributes
    ----------
    upright_ref_
        Current upright reference (unit vector, device axes), or None before the first frame.
    walking_frames_
        Number of walking frames seen (the reference learns from those in walks of at least
        ``WALK_RUN_FRAMES`` frames).

    :meth:`classify` returns the frames' postures (:class:`PostureFrames`).
    """

    def __init__(
        self,
        *,
        placement: Placement,
        lying_inclination_deg: float = 60.0,
        sitting_trunk_inclination_deg: float | None = None,
        sitting_thigh_inclination_deg: float = 45.0,
        active_rms_g: float | None = None,
        walking_min_rms_g: float = 0.05,
        walking_min_periodicity: float = 0.3,
        upright_adapt_frames: float = 60.0,
        upright_relearn_frames: int = 60,
        upright_axis: tuple[float, float, float] | None = None,
        transition_displacement_m: float = 0.125,
        transition_speed_m_s: float = 0.2,
        resume_posture: Posture | None = None,
    ) -> None:
        self.placement = placement
        self.lying_inclination_deg = lying_inclination_deg
        self.sitting_trunk_inclination_deg = sitting_trunk_inclination_deg
        self.sitting_thigh_inclination_deg = sitting_thigh_inclination_deg
        self.active_rms_g = active_rms_g
        self.walking_min_rms_g = walking_min_rms_g
        self.walking_min_periodicity = walking_min_periodicity
        self.upright_adapt_frames = upright_adapt_frames
        self.upright_relearn_frames = upright_relearn_frames
        self.upright_axis = upright_axis
        self.transition_displacement_m = transition_displacement_m
        self.transition_speed_m_s = transition_speed_m_s
        self._sts_state = -1  # posture code set by the last transition; -1: none known
        if resume_posture in (Posture.SITTING, Posture.STANDING):
            self._sts_state = CODE[resume_posture]
        self._run_sum = 0.0  # displacement sum and frame count of the open transition run
        self._run_n = 0
        self._incl_hist = np.full(WINDOW_LEAD_FRAMES, np.nan)
        self._upright_seen = self._sts_state >= 0  # a resumed wearer was seen wearing it
        self._lying_run = 0
        self._prev_g = np.full(3, np.nan)
        self._mem_state = -1  # posture held before the last walk, and its orientation
        self._mem_g: NDArray[np.float64] | None = None
        self._held = -1  # posture of the last still upright frame, and its orientation
        self._held_g: NDArray[np.float64] | None = None
        self._walk_run = 0
        self._tilted_run = 0  # still upright frames in a row tilted beyond STANDING_MAX_DEG
        self.upright_ref_: NDArray[np.float64] | None = None
        self.walking_frames_ = 0
        self._ema: NDArray[np.float64] | None = None  # EMA of walking gravity (unnormalised)
        # thigh guard: walking frames that taught "upright", consecutive walking frames that
        # read as sitting, and whether the previous call ended on a walking frame
        self._taught = MIN_TAUGHT_FRAMES if upright_axis is not None else 0
        self._off_run = 0
        self._last_frame_walking = False
        self._walk_trail = 0  # walking frames in a row at the end of the last call

    def classify(
        self,
        features: FrameFeatures,
        *,
        vertical_displacement_m: NDArray[np.float64] | None = None,
        vertical_speed_m_s: NDArray[np.float64] | None = None,
        steps_visible: bool = True,
    ) -> PostureFrames:
        """Classify consecutive frames; state (the upright reference) carries to the next call.

        Parameters
        ----------
        features
            Frame features.
        vertical_displacement_m, vertical_speed_m_s
            Per frame, the net vertical displacement (NaN: no centred transition) and peak
            vertical speed across the frame's window
            (:func:`sensorhub.signal.transitions.vertical_displacement`); None: no transition
            evidence, the pelvic tilt alone decides.
        steps_visible
            False when the input rate is too low to see steps: no frame is walking.

        Returns
        -------
        PostureFrames
            The frames' posture codes, inclinations and whether their reference is known.
        """
        n = len(features)
        if n == 0:
            return PostureFrames(np.empty(0, dtype=np.int8), np.empty(0), np.empty(0, dtype=bool))
        active_thr = self.active_rms_g
        if active_thr is None:
            active_thr = 0.1 if self.placement == Placement.WRIST else 0.06
        g_unit = _unit(features.gravity_g)
        if self.upright_ref_ is None:
            prior = self.upright_axis
            self.upright_ref_ = _unit(np.asarray(prior, float)) if prior else g_unit[0].copy()
        # the frame itself must move too: the 3-s window of a still second next to a walk
        # inherits the walk's movement
        moving = (features.dyn_rms_g >= self.walking_min_rms_g) & (
            features.frame_sd_g >= 0.5 * self.walking_min_rms_g
        )
        walking = moving & (features.periodicity >= self.walking_min_periodicity)
        if not steps_visible:  # too few samples per second to see steps
            walking[:] = False
        known_before = self.upright_axis is not None or self.walking_frames_ > 0
        self.walking_frames_ += int(walking.sum())
        # lower back / hip: only walks teach, averaged from the first walk (module docstring);
        # other placements learn from every walking frame with the plain average
        teach = self._in_walks(walking) if self.placement in PELVIS else walking
        reference_known = known_before | (np.cumsum(walking) > 0)
        # the tilt is judged against a learnt (or given) upright, not the first frame's guess
        tilt_trusted = (self.upright_axis is not None or self._taught > 0) | (np.cumsum(teach) > 0)
        ref = self._references(g_unit, teach)
        cos = np.clip((g_unit * ref).sum(axis=1), -1.0, 1.0)
        incl = np.degrees(np.arccos(cos))
        active = (
            ~walking
            & (features.dyn_rms_g >= active_thr)
            & (features.frame_sd_g >= 0.5 * self.walking_min_rms_g)
        )
        still = ~walking & ~active
        out = np.full(n, CODE[Posture.ACTIVE], dtype=np.int8)
        out[walking] = CODE[Posture.WALKING]
        if self.placement in TRUNK:
            lying = incl > self.lying_inclination_deg
            thr = self.sitting_trunk_inclination_deg
            if thr is None or self.placement == Placement.CHEST:
                out[still] = CODE[Posture.STATIONARY]
            else:
                tilt = np.where(incl > thr, CODE[Posture.SITTING], CODE[Posture.STANDING])
                if vertical_displacement_m is not None and vertical_speed_m_s is not None:
                    state = self._transition_state(
                        walking & ~lying,
                        lying & ~walking,
                        still,
                        still & (features.dyn_rms_g < self.walking_min_rms_g),
                        tilt_trusted,
                        incl,
                        g_unit,
                        tilt,
                        vertical_displacement_m,
                        vertical_speed_m_s,
                    )
                    tilt = state
                out[still] = tilt[still].astype(np.int8)
            out[~walking & lying] = CODE[Posture.LYING]
            # a walking-like rhythm while lying (e.g. rolling over) is not walking
            out[walking & lying] = CODE[Posture.LYING]
        elif self.placement in THIGH:
            sitting = incl > self.sitting_thigh_inclination_deg
            out[still & sitting] = CODE[Posture.SITTING]
            out[still & ~sitting] = CODE[Posture.STANDING]
        else:
            out[still] = CODE[Posture.STATIONARY]
        out[features.coverage <= 0] = CODE[Posture.UNKNOWN]
        return PostureFrames(out, incl, reference_known)

    def _transition_state(
        self,
        walking: NDArray[np.bool_],
        lying: NDArray[np.bool_],
        still: NDArray[np.bool_],
        quiet: NDArray[np.bool_],
        trusted: NDArray[np.bool_],
        incl: NDArray[np.float64],
        g_unit: NDArray[np.float64],
        tilt: NDArray[np.int64],
        disp: NDArray[np.float64],
        speed: NDArray[np.float64],
    ) -> NDArray[np.int64]:
        """Per frame, sitting or standing: from the transitions, else from the pelvic tilt."""
        n = len(walking)
        turn = self._turn_rate(g_unit)
        # the inclination where each frame's window starts (WINDOW_LEAD_FRAMES earlier)
        hist = np.concatenate((self._incl_hist, incl))
        start_incl = hist[:n]
        self._incl_hist = hist[n:].copy()
        cand = np.isfinite(disp) & (speed >= self.transition_speed_m_s)
        # a window that starts lying holds a lie-to-sit or lie-to-stand: the trunk turns by up
        # to 90 deg and the vertical integration is meaningless (a rest hands on "sitting")
        ok = (cand & ~lying & (start_incl <= self.lying_inclination_deg)).tolist()
        # A walk clears the state: WALK_RUN_FRAMES walking frames in a row (about 4 strides,
        # Mobilise-D's shortest walking bout) that keep the trunk's orientation and hold no
        # sit/stand-like displacement (rhythmic frames that turn the trunk fast or hold a
        # centred transition are the transition itself, e.g. sitting up from lying).
        walk_like = (walking & (turn <= MAX_WALK_TURN_DEG_S) & ~cand).tolist()
        rest_like = (lying & still).tolist()
        upright = (still & (incl <= UPRIGHT_MAX_DEG)).tolist()
        # the posture held: still frames whose whole window is quiet (a frame next to a walk
        # is still itself but its gravity mixes in the walk's orientation)
        held_l = (quiet & ~lying).tolist()
        tilt_l = tilt.tolist()
        trusted_l = trusted.tolist()
        incl_l = incl.tolist()
        sitting = CODE[Posture.SITTING]
        d_l = np.nan_to_num(disp).tolist()
        # cosine of the largest turn from the posture held before a walk that still counts as
        # that posture
        same_cos = float(np.cos(np.radians(SAME_POSTURE_DEG)))
        out = np.empty(n, dtype=np.int64)
        wrun, lrun, seen = self._walk_run, self._lying_run, self._upright_seen
        trun = self._tilted_run
        s_, c_ = self._run_sum, self._run_n
        state, mem, mem_g = self._sts_state, self._mem_state, self._mem_g
        held, held_g = self._held, self._held_g
        for i in range(n):
            wrun = wrun + 1 if walk_like[i] else 0
            lrun = lrun + 1 if rest_like[i] else 0
            seen = seen or upright[i] or wrun >= WALK_RUN_FRAMES
            ev = -2  # no event
            if wrun >= WALK_RUN_FRAMES:
                if held_g is not None:
                    mem, mem_g = held, held_g
                ev = -1
            elif lrun >= LYING_MIN_FRAMES:
                # Getting up from a rest leaves the wearer sitting (on the bed's edge) until
                # the pelvis rises: one cannot stand up without a sit-to-stand-like rise. Only
                # after the device was seen worn (before it, it may lie on a table).
                ev = CODE[Posture.SITTING] if seen else -1
                mem = -1
            # a run of consecutive frames holding the same centred transition votes as one;
            # only once the device is seen worn (a device being clipped on moves like one)
            if ok[i] and seen:
                s_, c_ = s_ + d_l[i], c_ + 1
                mean = s_ / c_
                if mean <= -self.transition_displacement_m:
                    ev, mem = CODE[Posture.SITTING], -1
                elif mean >= self.transition_displacement_m:
                    ev, mem = CODE[Posture.STANDING], -1
            else:
                s_, c_ = 0.0, 0
            if ev != -2:
                state = ev
                held_g = None
            trun = trun + 1 if held_l[i] and trusted_l[i] and incl_l[i] > STANDING_MAX_DEG else 0
            if trun >= SEATED_MIN_FRAMES:
                # no one stands with the pelvis tilted this far for this long, and no one
                # stands up without a rise: seated until a transition, a walk or a rest
                state = sitting
            known = True  # the posture comes from evidence, not from an untaught tilt
            if state >= 0:
                out[i] = state
            elif mem >= 0 and mem_g is not None and float(g_unit[i] @ mem_g) >= same_cos:
                # back in the orientation held before a walk: a walk from sitting needs a
                # sit-to-stand first, so without one the "walk" was a seated fidget (and after
                # standing, the wearer stands again)
                out[i] = mem
            elif trusted_l[i]:
                out[i] = tilt_l[i]
            else:
                # no upright learnt or given yet: the tilt from the first frame's guess cannot
                # tell sitting from standing
                out[i] = CODE[Posture.STATIONARY]
                known = False
            if held_l[i]:
                # a posture read against the first frame's guess is not carried over a walk
                held, held_g = (int(out[i]), g_unit[i]) if known else (-1, _NOWHERE)
        self._walk_run, self._lying_run, self._upright_seen = wrun, lrun, seen
        self._tilted_run = trun
        self._run_sum, self._run_n = s_, c_
        self._sts_state, self._mem_state, self._held = state, mem, held
        # copies: views would keep the whole batch alive
        self._mem_g = None if mem_g is None else mem_g.copy()
        self._held_g = None if held_g is None else held_g.copy()
        return out

    def _turn_rate(self, g_unit: NDArray[np.float64]) -> NDArray[np.float64]:
        """Angle (deg) between each frame's gravity direction and the previous frame's."""
        prev = np.concatenate((self._prev_g[None, :], g_unit[:-1]))
        self._prev_g = g_unit[-1].copy()
        cos = np.clip((prev * g_unit).sum(axis=1), -1.0, 1.0)
        return np.asarray(np.nan_to_num(np.degrees(np.arccos(cos)), nan=0.0), dtype=np.float64)

    def _in_walks(self, walking: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Walking frames that end a run of at least ``WALK_RUN_FRAMES`` walking frames (a
        walk, not a second or two of rhythm on a seat): only they teach "upright"."""
        n = len(walking)
        # length of the walking run ending at each frame, continuing the previous call's
        starts = np.maximum.accumulate(np.where(~walking, np.arange(n), -1))
        run = np.arange(n) - starts
        run[starts < 0] += self._walk_trail  # no break yet: the run goes back into the last call
        run[~walking] = 0
        self._walk_trail = int(run[-1])
        return np.asarray(run >= WALK_RUN_FRAMES, dtype=bool)

    def _references(
        self, g_unit: NDArray[np.float64], walking: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """Upright reference per frame: EMA of gravity over the walking frames, forward-filled;
        for a thigh or pocket device with the guard described under ``upright_relearn_frames``
        (a loop: each frame is tested against the reference so far, so the result does not
        depend on how the stream is chunked)."""
        idx = np.nonzero(walking)[0]
        assert self.upright_ref_ is not None
        n = len(g_unit)
        if len(idx) == 0:
            self._last_frame_walking = False
            return np.broadcast_to(self.upright_ref_, (n, 3))
        alpha = 1.0 / max(self.upright_adapt_frames, 1.0)
        # the guard: only a thigh that reads as sitting is kept from teaching (cos < -1: never)
        cos_sit = (
            float(np.cos(np.radians(self.sitting_thigh_inclination_deg)))
            if self.placement in THIGH
            else -2.0
        )
        follows = np.empty(len(idx), dtype=bool)  # continues a run of walking frames
        follows[0] = idx[0] == 0 and self._last_frame_walking
        follows[1:] = np.diff(idx) == 1
        self._last_frame_walking = bool(walking[-1])
        # y = alpha * g + (1 - alpha) * y_prev, from the reference so far
        # (plain floats: this loop runs once per walking frame)
        y0 = self.upright_ref_ if self._ema is None else self._ema
        yx, yy, yz = (float(v) for v in y0)
        rx, ry, rz = (float(v) for v in self.upright_ref_)
        out: list[tuple[float, float, float]] = []
        follows_l = follows.tolist()
        prior = self.upright_axis is not None or self.placement not in PELVIS
        for j, (gx, gy, gz) in enumerate(g_unit[idx].tolist()):
            if self._taught >= MIN_TAUGHT_FRAMES and gx * rx + gy * ry + gz * rz < cos_sit:
                self._off_run = self._off_run + 1 if follows_l[j] else 1
                if self._off_run < self.upright_relearn_frames:
                    out.append((rx, ry, rz))
                    continue
                yx, yy, yz = gx, gy, gz  # put back on turned: learn afresh
            self._off_run = 0
            # without a given axis the first frame's gravity is a guess, not evidence: the
            # first walking frames are averaged as they come (1/n), then exponentially
            a = alpha if prior or self._taught * alpha >= 1.0 else 1.0 / (self._taught + 1)
            b = 1.0 - a
            yx, yy, yz = a * gx + b * yx, a * gy + b * yy, a * gz + b * yz
            self._taught += 1
            norm = math.sqrt(yx * yx + yy * yy + yz * yz) or 1e-9
            rx, ry, rz = yx / norm, yy / norm, yz / norm
            out.append((rx, ry, rz))
        refs = np.array(out, dtype=np.float64)
        self._ema = np.array([yx, yy, yz])
        ref_now = np.array([rx, ry, rz])
        pos = np.searchsorted(idx, np.arange(n), side="right") - 1
        ref = np.where(pos[:, None] >= 0, refs[np.maximum(pos, 0)], self.upright_ref_)
        self.upright_ref_ = ref_now.copy()
        return np.asarray(ref, dtype=np.float64)
