"""Possible-fall detection: an impact, then a strongly changed orientation and stillness.

DESIGN.md section 6: "an impact followed within ~5 s by a lying or strongly changed orientation
and stillness". Per one-second frame:

1. impact: the frame's largest |a| reaches ``strong_impact_factor * impact_g``, or reaches
   ``impact_g`` (placement dependent, see below) after a free-fall phase (|a| at most
   ``free_fall_g`` in the same or the previous second);
2. orientation: gravity averaged over the 3 s ending 1 s before the impact frame and over a
   post-impact window (3 s starting 2, 3 or 4 s after it) differ by at least
   ``min_orientation_change_deg`` (placement dependent, see below);
3. stillness: the dynamic RMS over that post-impact window stays below ``max_post_rms_g``
   (the wearer lies still within ~5 s of the impact, DESIGN.md section 6; someone winded or
   trying to get up still moves for a few seconds);
4. recorded evidence: that post-impact window lies wholly inside recorded data (frame coverage
   1). A stream that ends, or breaks off, before the window is complete confirms nothing: the
   frame cutter pads segment ends with the last sample, which would otherwise fake stillness
   and a held orientation;
5. post-impact posture: where the body's upright axis is known (learnt from walking or given),
   the post-impact orientation must be far from upright - a trunk inclined more than
   ``LYING_INCLINATION_DEG`` (60 deg, Kangas et al. 2008's "lying" posture criterion; a car or
   chair sitter's trunk stays within ~30 deg) or a thigh more than 45 deg (Skotte et al. 2014:
   not standing). Someone who gets out of a car or up from a chair ends upright and is
   rejected; a pocket phone cannot tell lying from sitting, so for it this only removes
   "ends standing" events. Where the upright axis is unknown, criterion 2 stands alone.

Orientation change: 45 deg for a thigh or pocket device, the inclination at which a thigh is no
longer standing (Skotte et al. 2014; the same limit as criterion 5): a sideways fall can leave
the thigh rotated by less than the trunk's 60 deg. 60 deg at the trunk, wrist and foot (Kangas et
al. 2008, lying).

Jumps and jogging have impacts but keep the orientation and keep moving; stairs too; sitting down
hard changes the thigh's orientation and is still afterwards but rarely reaches the impact level
(and a sitting-down impact is cushioned by the seat). Only one fall is reported per
``refractory_s``.

Impact thresholds: Bourke et al. (2007) found 2.74 g at the thigh and 3.52 g at the trunk as
upper fall thresholds; phones clip at +-2 g per axis, so their |a| rarely exceeds ~2.5 g even in
falls, and resampling to 50 Hz lowers single-sample peaks by up to ~20 %, so the thigh's
literature value cannot be used for a pocket phone. Its level, 1.9 g, is chosen on data by a
fixed rule (the most sensitive level that keeps specificity >= 0.98 on the trials and >= 0.95
with 20 s of stillness appended) and cross-validated leave-one-subject-out on the open pocket
falls (``python -m eval``, eval/loso.py; per-fold figures in eval/RESULTS.md); a thigh clip
shares it. 2.5 g for trunk placements (the research notes' "trunk typically 2.5-3.5 g"), 3.0 g
at the wrist (arm movements alone often exceed 2 g).
Free fall: Bourke et al. (2007) use a lower fall threshold of 0.6 g at the trunk; getting into a
car or sitting down drops |a| less. Orientation change: Kangas et al. (2008) use a posture
change to lying (>= 60 deg from upright).

References
----------
Bourke A.K., O'Brien J.V., Lyons G.M. (2007) Evaluation of a threshold-based tri-axial
accelerometer fall detection algorithm. Gait Posture 26:194-199.
Kangas M. et al. (2008) Comparison of low-complexity fall detection algorithms for body attached
accelerometers. Gait Posture 28:285-291.
Skotte J. et al. (2014) Detection of physical activity types using triaxial accelerometers.
J Phys Act Health 11:76-84 (thigh inclination > 45 deg: not standing).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from sensorhub.model import NS_PER_S, Fall, Placement

#: Impact thresholds (g) per placement (see the module docstring).
IMPACT_G: Final[dict[Placement, float]] = {
    Placement.THIGH: 1.9,
    Placement.POCKET: 1.9,
    Placement.LOWER_BACK: 2.5,
    Placement.HIP: 2.5,
    Placement.CHEST: 2.5,
    Placement.WRIST: 3.0,
    Placement.FOOT: 3.0,
}

#: Smallest orientation change from before to after the impact (deg; see the module docstring).
ORIENTATION_CHANGE_DEG: Final[dict[Placement, float]] = {
    Placement.THIGH: 45.0,
    Placement.POCKET: 45.0,
    Placement.LOWER_BACK: 60.0,
    Placement.HIP: 60.0,
    Placement.CHEST: 60.0,
    Placement.WRIST: 60.0,
    Placement.FOOT: 60.0,
}

#: Post-impact inclination from the learnt upright (deg) that counts as "not upright":
#: 60 deg for the trunk (Kangas et al. 2008, lying), 45 deg for the thigh (Skotte et al. 2014);
#: None: no posture criterion (a wrist or foot has no body posture).
LYING_INCLINATION_DEG: Final[dict[Placement, float | None]] = {
    Placement.THIGH: 45.0,
    Placement.POCKET: 45.0,
    Placement.LOWER_BACK: 60.0,
    Placement.HIP: 60.0,
    Placement.CHEST: 60.0,
    Placement.WRIST: None,
    Placement.FOOT: None,
}

_NCOL = 9  # peak, gx, gy, gz, dyn_rms, peak offset (s), trough, coverage, inclination
_PRE = 2  # frame offset of the pre-impact gravity window centre (frames k-3..k-1)
#: Frame offsets of the post-impact window centres (frames k+2..k+4, one and two seconds
#: later: stillness "within ~5 s")
_POST_OFFSETS = (3, 4, 5)
_POST_LAST = _POST_OFFSETS[-1]


class FallDetector:
    """Streaming possible-fall detector over frame features (see the module docstring).

    Parameters
    ----------
    placement
        Body placement (sets the impact threshold when ``impact_g`` is None).
    impact_g
        Impact threshold on |a| in g; None: :data:`IMPACT_G` for the placement.
    free_fall_g
        An impact of ``impact_g`` counts only after |a| fell to this level.
    strong_impact_factor
        Impacts of this multiple of ``impact_g`` count without a free-fall phase.
    min_orientation_change_deg
        Smallest change of the gravity direction from before to after the impact; None:
        :data:`ORIENTATION_CHANGE_DEG` for the placement.
    max_post_rms_g
        Largest dynamic RMS in the 3 s after the impact (lying still, or nearly).
    refractory_s
        Impacts this soon after a reported fall are part of it.

    :meth:`update` returns the falls whose evidence it completed.
    """

    def __init__(
        self,
        *,
        placement: Placement,
        impact_g: float | None = None,
        free_fall_g: float = 0.6,
        strong_impact_factor: float = 1.25,
        min_orientation_change_deg: float | None = None,
        max_post_rms_g: float = 0.15,
        refractory_s: float = 30.0,
    ) -> None:
        self.placement = placement
        self.impact_g = impact_g
        self.free_fall_g = free_fall_g
        self.strong_impact_factor = strong_impact_factor
        self.min_orientation_change_deg = min_orientation_change_deg
        self.max_post_rms_g = max_post_rms_g
        self.refractory_s = refractory_s
        self._hist_k = np.empty(0, np.int64)
        self._hist = np.empty((0, _NCOL))
        self._done_k: int | None = None
        self._last_fall_ns: int | None = None

    def update(
        self,
        k: NDArray[np.int64],
        peak_g: NDArray[np.float64],
        peak_offset_s: NDArray[np.float64],
        trough_g: NDArray[np.float64],
        gravity_g: NDArray[np.float64],
        dyn_rms_g: NDArray[np.float64],
        *,
        coverage: NDArray[np.float64] | None = None,
        inclination_deg: NDArray[np.float64] | None = None,
        final: bool = False,
    ) -> list[Fall]:
        """Add consecutive frames (``final``: the segment ends, no later frames will come);
        return the falls found.

        Parameters
        ----------
        k, peak_g, peak_offset_s, trough_g, gravity_g, dyn_rms_g
            Frame index and frame features (:class:`~sensorhub.signal.features.FrameFeatures`).
        coverage
            Fraction of real samples per frame (None: all real).
        inclination_deg
            Inclination from the learnt upright axis per frame, NaN where that axis is not
            known (None: unknown everywhere).
        final
            The segment ends; no later frames will come.
        """
        falls: list[Fall] = []
        thr = self.impact_g if self.impact_g is not None else IMPACT_G[self.placement]
        min_change = self.min_orientation_change_deg
        if min_change is None:
            min_change = ORIENTATION_CHANGE_DEG[self.placement]
        m = len(k)
        cov = np.ones(m) if coverage is None else np.asarray(coverage, dtype=np.float64)
        incl = np.full(m, np.nan) if inclination_deg is None else np.asarray(inclination_deg)
        kk = np.concatenate((self._hist_k, k))
        rows = np.concatenate(
            (
                self._hist,
                np.column_stack((peak_g, gravity_g, dyn_rms_g, peak_offset_s, trough_g, cov, incl)),
            )
        )
        n = len(kk)
        start = 0
        if self._done_k is not None:
            start = int(np.searchsorted(kk, self._done_k, side="right"))
        stop = n if final else n - _POST_LAST - 1  # need the post window and its right edge
        cand = np.nonzero(rows[start : max(start, stop), 0] >= thr)[0] + start
        if len(cand):  # cheap necessary conditions first: free fall or strong, then stillness
            prev = np.maximum(cand - 1, 0)
            contiguous = (cand > 0) & (kk[prev] == kk[cand] - 1)
            trough = np.where(contiguous, np.minimum(rows[cand, 6], rows[prev, 6]), rows[cand, 6])
            strong = (rows[cand, 0] >= self.strong_impact_factor * thr) | (
                trough <= self.free_fall_g
            )
            post_rms = np.min(
                [rows[np.minimum(cand + off, n - 1), 4] for off in _POST_OFFSETS], axis=0
            )
            cand = cand[strong & (post_rms <= self.max_post_rms_g)]
        for i in cand.tolist():
            prev_ok = i > 0 and kk[i - 1] == kk[i] - 1
            trough = min(rows[i, 6], rows[i - 1, 6]) if prev_ok else rows[i, 6]
            if rows[i, 0] < self.strong_impact_factor * thr and trough > self.free_fall_g:
                continue
            t_ns = int(kk[i]) * NS_PER_S + int(rows[i, 5] * NS_PER_S)
            if self._last_fall_ns is not None and (
                t_ns - self._last_fall_ns < self.refractory_s * NS_PER_S
            ):
                continue
            # pre-impact gravity: 2 frames earlier, or the segment's first frame
            pre = i
            while pre > 0 and i - pre < _PRE and kk[pre - 1] == kk[pre] - 1:
                pre -= 1
            change, still = -1.0, np.inf
            for off in _POST_OFFSETS:
                j = i + off
                if not self._recorded(kk, rows, j):
                    continue
                if not self._not_upright(float(rows[j, 8])):
                    continue
                g0, g1 = rows[pre, 1:4], rows[j, 1:4]
                norm = float(np.linalg.norm(g0) * np.linalg.norm(g1))
                cos = float(g0 @ g1) / max(norm, 1e-9)
                c = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
                if c >= min_change and rows[j, 4] < still:
                    change, still = c, float(rows[j, 4])
            if change >= min_change and still <= self.max_post_rms_g:
                conf = (
                    min(1.0, rows[i, 0] / (thr + 1.0))
                    + min(1.0, change / 90.0)
                    + max(0.0, 1.0 - still / self.max_post_rms_g)
                ) / 3.0
                falls.append(Fall(t_ns, round(conf, 3)))
                self._last_fall_ns = t_ns
        if stop > start:
            self._done_k = int(kk[stop - 1])
        keep = max(0, n - (_PRE + _POST_LAST + 2))
        self._hist_k, self._hist = kk[keep:], rows[keep:]
        if final:
            self._hist_k, self._hist = np.empty(0, np.int64), np.empty((0, _NCOL))
            self._done_k = None
        return falls

    @staticmethod
    def _recorded(kk: NDArray[np.int64], rows: NDArray[np.float64], j: int) -> bool:
        """Whether the 3-s window centred on row ``j`` (rows j-1..j+1) is wholly recorded."""
        if j - 1 < 0 or j + 1 >= len(kk) or kk[j + 1] - kk[j - 1] != 2:
            return False
        return bool(np.all(rows[j - 1 : j + 2, 7] >= 1.0))

    def _not_upright(self, inclination: float) -> bool:
        """Post-impact posture criterion (module docstring, item 5); True where unknown."""
        limit = LYING_INCLINATION_DEG.get(self.placement)
        if limit is None or not np.isfinite(inclination):
            return True
        return inclination > limit
