"""Checks of the lower-back reference itself, so that misses can be told from reference limits.

Two figures, reported next to (never instead of) the scored ones:

* **Cadence of the reference's own contacts.** The reference initial contacts of each bout go
  through sensorhub's bout cadence (:func:`sensorhub.detect.gait.bout_metrics`) and are compared
  with the reference bout cadence. If perfect contacts do not reproduce the reference cadence,
  the difference is a difference of definition (the INDIP reference derives cadence from its
  own per-second values, with contacts lost in turns), which no contact detector can remove.
* **Detections in reference gaps.** The INDIP reference drops contacts it could not resolve
  (mostly in turns), so a bout's reference contacts have gaps longer than 1.5 of its median
  step time. Unmatched detections inside such gaps are counted, with the trunk's turning angle
  over the gap (gyroscope about the gravity axis), and F1 is also given without them. This is a
  diagnostic of the reference; the scored F1 counts every detection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from eval.recordings import truth_and_output
from sensorhub.detect.cadence import bout_cadence_spm
from sensorhub.detect.gait import bout_metrics
from sensorhub.model import NS_PER_S

#: A reference step interval this many times the bout's median step time holds a lost contact.
GAP_FACTOR = 1.5
#: Turning angle (deg) over a gap above which the gap counts as a turn.
TURN_DEG = 30.0


def _match(ref: NDArray[np.float64], det: NDArray[np.float64], tol: float) -> set[int]:
    """Indices of ``det`` matched one-to-one to ``ref`` (closest pairs first), as score.py."""
    pairs = sorted(
        (abs(float(a) - float(b)), i, j)
        for i, a in enumerate(ref)
        for j, b in enumerate(det)
        if abs(a - b) <= tol
    )
    used_r: set[int] = set()
    used_d: set[int] = set()
    for _, i, j in pairs:
        if i not in used_r and j not in used_d:
            used_r.add(i)
            used_d.add(j)
    return used_d


def _turn_deg(npz: Path, s: float, e: float) -> float | None:
    z = np.load(npz)
    if "gyro" not in z.files:
        return None
    fs = float(z["fs"])
    i, j = int(s * fs), int(e * fs) + 1
    acc, gyro = z["acc"][i:j].astype(float), z["gyro"][i:j].astype(float)
    g = acc.mean(axis=0)
    g /= np.linalg.norm(g)
    return float(abs(np.sum(gyro @ g) / fs))


def _detected_cadence(doc: dict[str, Any], s: float, e: float) -> float | None:
    """Cadence of the detected bout overlapping [s, e] the most (score.py's matching)."""
    best, overlap = None, 0.0
    for b in doc.get("gait_bouts") or []:
        o = min(e, float(b["end_s"])) - max(s, float(b["start_s"]))
        if o > overlap:
            best, overlap = b, o
    if best is None or best.get("cadence_spm") is None:
        return None
    return float(best["cadence_spm"])


def reference_checks(truth_dir: Path, out_dir: Path, tol: float = 0.25) -> dict[str, Any]:
    """The figures described in the module docstring, for a dataset with IC and bout truth."""
    cad_err: list[float] = []
    complete_err: list[float] = []
    inside_err: list[float] = []
    tp = fp = fn = fp_gap = 0
    turns: list[float] = []
    for tr, doc in truth_and_output(truth_dir, out_dir):
        bouts = tr.get("gait_bouts") or []
        if "initial_contacts_s" not in tr or not bouts:
            continue
        for b in bouts:
            ic = np.asarray([x for x in b.get("ic_s") or [] if x is not None], float)
            ic = ic[np.isfinite(ic)]
            if len(ic) >= 3 and b.get("cadence_spm") is not None:
                ns = np.round(ic * NS_PER_S).astype(np.int64)
                nan = np.full(len(ns), np.nan)
                m = bout_metrics(ns, nan, nan, nan, sensor_height_m=None)
                cad_err.append(abs(m.cadence_spm - float(b["cadence_spm"])))
                complete = bool(np.all(np.diff(ic) <= GAP_FACTOR * np.median(np.diff(ic))))
                det_cad = _detected_cadence(doc, float(b["start_s"]), float(b["end_s"]))
                if complete and det_cad is not None:
                    complete_err.append(abs(det_cad - float(b["cadence_spm"])))
                    det = np.asarray(doc["steps"]["times_s"], float)
                    inside = det[(det >= b["start_s"] - tol) & (det <= b["end_s"] + tol)]
                    cad_inside = bout_cadence_spm(inside)
                    if cad_inside is not None:
                        inside_err.append(abs(cad_inside - float(b["cadence_spm"])))
        ref = np.asarray(tr["initial_contacts_s"], float)
        det = np.asarray(doc["steps"]["times_s"], float)
        det = det[[any(b["start_s"] - tol <= t <= b["end_s"] + tol for b in bouts) for t in det]]
        matched = _match(ref, det, tol)
        tp += len(matched)
        fn += len(ref) - len(matched)
        for j, t in enumerate(det):
            if j in matched:
                continue
            fp += 1
            k = int(np.searchsorted(ref, t))
            if not 0 < k < len(ref):
                continue
            b = next(b for b in bouts if b["start_s"] - tol <= t <= b["end_s"] + tol)
            ic = np.asarray([x for x in b.get("ic_s") or [] if x is not None], float)
            ic = ic[np.isfinite(ic)]
            if len(ic) < 3:
                continue
            if ref[k] - ref[k - 1] > GAP_FACTOR * float(np.median(np.diff(ic))):
                fp_gap += 1
                npz = truth_dir / f"{tr['recording']}.npz"
                turn = _turn_deg(npz, float(ref[k - 1]), float(ref[k]))
                if turn is not None:
                    turns.append(turn)
    out: dict[str, Any] = {}
    if cad_err:
        out["ref_ic_cadence_mae_spm"] = float(np.mean(cad_err))
    if complete_err:
        out["cadence_mae_complete_reference_spm"] = float(np.mean(complete_err))
        out["cadence_bouts_complete_reference"] = len(complete_err)
    if inside_err:
        out["cadence_mae_inside_complete_reference_spm"] = float(np.mean(inside_err))
    if tp + fp + fn:
        out["ic_fp_in_reference_gaps"] = fp_gap
        out["ic_fp_total"] = fp
        out["ic_f1_without_gap_detections"] = 2 * tp / (2 * tp + (fp - fp_gap) + fn)
        if turns:
            out["reference_gaps_turning_share"] = float(np.mean(np.asarray(turns) > TURN_DEG))
    return out
