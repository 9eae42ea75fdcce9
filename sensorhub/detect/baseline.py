"""Personal gait baselines and trend flags (DESIGN.md section 6).

Daily values come from the day's walking bouts (medians over bouts, weighted by steps) on days
with at least ``min_wear_h`` hours of wear. The baseline is the median and SD of the daily
values over the ``baseline_days`` before the recent window, and needs at least
``min_baseline_days`` valid days before any flag. Flags compare the last ``recent_days``:

* cadence: the recent median is >= 10 % below the baseline median;
* stride-time variability: CV > 3 % and > baseline + 2 SD on >= 3 of the recent days;
* asymmetry: > 10 % on >= 3 of the recent days;
* speed: the recent median is >= 0.1 m/s below the baseline median.

The wording a user sees is the nudge engine's; flags only say what changed.

References
----------
Hausdorff J.M. (2005) Gait variability. J NeuroEng Rehabil 2:19 (stride-time CV above ~3 %).
Studenski S. et al. (2011) Gait speed and survival in older adults. JAMA 305:50-58 (a change of
0.1 m/s is clinically meaningful).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np

from sensorhub.model import NS_PER_S, EpochSummary, GaitBout


@dataclass(frozen=True, slots=True)
class DailyGait:
    """One day's gait summary (None where no bout measured it)."""

    day: dt.date
    wear_h: float
    steps: int
    cadence_spm: float | None
    stride_time_cv_pct: float | None
    asymmetry_pct: float | None
    speed_mps: float | None


@dataclass(frozen=True, slots=True)
class GaitFlag:
    """A change against the wearer's own baseline."""

    kind: str  # cadence_drop, stride_cv_high, asymmetry_high, speed_drop
    recent: float
    baseline: float | None
    detail: str


def _day(t_ns: int, utc_offset_s: int) -> dt.date:
    return dt.datetime.fromtimestamp(t_ns / NS_PER_S + utc_offset_s, tz=dt.UTC).date()


def _wmedian(values: list[float], weights: list[int]) -> float | None:
    if not values:
        return None
    order = np.argsort(values)
    v = np.asarray(values)[order]
    w = np.asarray(weights, dtype=float)[order]
    c = np.cumsum(w)
    return float(v[int(np.searchsorted(c, 0.5 * c[-1]))])


def daily_gait(
    bouts: Sequence[GaitBout], epochs: Sequence[EpochSummary], *, utc_offset_s: int = 0
) -> list[DailyGait]:
    """Summarise bouts and epochs per local day (``utc_offset_s``: the wearer's time zone)."""
    wear: dict[dt.date, float] = {}
    steps: dict[dt.date, int] = {}
    for e in epochs:
        d = _day(e.start_ns, utc_offset_s)
        if e.worn:
            wear[d] = wear.get(d, 0.0) + e.duration_s / 3600.0
        steps[d] = steps.get(d, 0) + e.steps
    per: dict[dt.date, dict[str, tuple[list[float], list[int]]]] = {}
    for b in bouts:
        d = _day(b.start_ns, utc_offset_s)
        slot = per.setdefault(d, {})
        for name in ("cadence_spm", "stride_time_cv_pct", "asymmetry_pct", "speed_mps"):
            v = getattr(b, name)
            if v is not None and np.isfinite(v):
                vals, ws = slot.setdefault(name, ([], []))
                vals.append(float(v))
                ws.append(b.steps)
    out = []
    for d in sorted(set(wear) | set(per)):
        slot = per.get(d, {})

        def med(name: str, slot: dict[str, tuple[list[float], list[int]]] = slot) -> float | None:
            vals, ws = slot.get(name, ([], []))
            return _wmedian(vals, ws)

        out.append(
            DailyGait(
                d,
                wear.get(d, 0.0),
                steps.get(d, 0),
                med("cadence_spm"),
                med("stride_time_cv_pct"),
                med("asymmetry_pct"),
                med("speed_mps"),
            )
        )
    return out


class GaitTrendFlagger:
    """Flags gait changes against a personal baseline (see the module docstring).

    Parameters
    ----------
    baseline_days, min_baseline_days, recent_days
        Baseline window, valid days it needs, and the recent window (days).
    min_wear_h
        Days with less wear are not used.
    cadence_drop_pct, stride_cv_pct, stride_cv_sd, asymmetry_pct, speed_drop_mps
        Thresholds (DESIGN.md section 6).
    min_flag_days
        Recent days that must exceed a per-day threshold (CV, asymmetry).

    Attributes
    ----------
    flags_
        Flags of the last evaluation.
    baseline_valid_days_
        Valid days in the baseline window.
    """

    def __init__(
        self,
        *,
        baseline_days: int = 28,
        min_baseline_days: int = 7,
        recent_days: int = 7,
        min_wear_h: float = 10.0,
        cadence_drop_pct: float = 10.0,
        stride_cv_pct: float = 3.0,
        stride_cv_sd: float = 2.0,
        asymmetry_pct: float = 10.0,
        speed_drop_mps: float = 0.1,
        min_flag_days: int = 3,
    ) -> None:
        self.baseline_days = baseline_days
        self.min_baseline_days = min_baseline_days
        self.recent_days = recent_days
        self.min_wear_h = min_wear_h
        self.cadence_drop_pct = cadence_drop_pct
        self.stride_cv_pct = stride_cv_pct
        self.stride_cv_sd = stride_cv_sd
        self.asymmetry_pct = asymmetry_pct
        self.speed_drop_mps = speed_drop_mps
        self.min_flag_days = min_flag_days
        self.flags_: list[GaitFlag] = []
        self.baseline_valid_days_ = 0

    def evaluate(self, days: Sequence[DailyGait], *, today: dt.date) -> Self:
        """Evaluate the days up to and including ``today``."""
        self.flags_ = []
        recent_from = today - dt.timedelta(days=self.recent_days - 1)
        base_from = recent_from - dt.timedelta(days=self.baseline_days)
        valid = [d for d in days if d.wear_h >= self.min_wear_h and d.day <= today]
        base = [d for d in valid if base_from <= d.day < recent_from]
        recent = [d for d in valid if d.day >= recent_from]
        self.baseline_valid_days_ = len(base)
        if len(base) < self.min_baseline_days or not recent:
            return self

        def vals(ds: list[DailyGait], name: str) -> np.ndarray:
            v = [getattr(d, name) for d in ds]
            return np.asarray([x for x in v if x is not None], dtype=float)

        bc, rc = vals(base, "cadence_spm"), vals(recent, "cadence_spm")
        if len(bc) and len(rc):
            b, r = float(np.median(bc)), float(np.median(rc))
            if r <= b * (1 - self.cadence_drop_pct / 100.0):
                self.flags_.append(
                    GaitFlag("cadence_drop", r, b, f"cadence {r:.0f} vs {b:.0f} steps/min")
                )
        bcv, rcv = vals(base, "stride_time_cv_pct"), vals(recent, "stride_time_cv_pct")
        if len(bcv) >= 2 and len(rcv):
            limit = max(
                self.stride_cv_pct, float(np.median(bcv) + self.stride_cv_sd * np.std(bcv, ddof=1))
            )
            n_high = int((rcv > limit).sum())
            if n_high >= self.min_flag_days:
                self.flags_.append(
                    GaitFlag(
                        "stride_cv_high",
                        float(np.median(rcv)),
                        float(np.median(bcv)),
                        f"stride-time CV above {limit:.1f} % on {n_high} days",
                    )
                )
        ra = vals(recent, "asymmetry_pct")
        n_asym = int((ra > self.asymmetry_pct).sum())
        if n_asym >= self.min_flag_days:
            self.flags_.append(
                GaitFlag(
                    "asymmetry_high",
                    float(np.median(ra)),
                    None,
                    f"asymmetry above {self.asymmetry_pct:.0f} % on {n_asym} days",
                )
            )
        bs, rs = vals(base, "speed_mps"), vals(recent, "speed_mps")
        if len(bs) and len(rs):
            b, r = float(np.median(bs)), float(np.median(rs))
            if b - r >= self.speed_drop_mps:
                self.flags_.append(GaitFlag("speed_drop", r, b, f"speed {r:.2f} vs {b:.2f} m/s"))
        return self
