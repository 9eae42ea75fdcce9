"""Walking from step-only devices: cumulative step counters and RSC foot-pod cadence.

Some wearables report no usable acceleration for gait, only steps: a watch's or a pocket
tag's cumulative step counter (InfiniTime, Thingy:52 pedometer, MetaWear step counter) or a
foot pod's instantaneous cadence (Bluetooth SIG Running Speed and Cadence, RSC). DESIGN.md
section 6: "a foot pod (RSC) counts steps behind a rollator"; the detection engine "works
from step-only devices too (step counts, RSC cadence) with the metrics they allow".

Both trackers turn their input into *placed intervals*: a number of steps spread uniformly
over a span of UTC time. A shared epoch grid sums them into per-epoch step counts
(:class:`~sensorhub.model.EpochSummary`, 60 s by default, aligned to UTC) and joins
consecutive walking epochs into :class:`~sensorhub.model.GaitBout` s.

Rules (the thresholds are parameters, with these defaults):

* An epoch is *walking* when at least half of it is covered by data and its cadence is
  >= 40 steps/min: DESIGN.md section 6 detects walking down to 40 steps/min, the lower end
  of slow, assisted walking in older adults (Tudor-Locke et al. 2018, Br J Sports Med
  52:776, cadence bands; Del Din et al. 2016 free-living bouts).
* A bout is a run of consecutive walking epochs (minute-level cadence bouts as in
  Tudor-Locke et al. 2018). Its metrics are the ones a step count allows: ``steps``,
  ``cadence_spm``, the duration (``end_ns - start_ns``) and, for a foot pod that reports
  speed, ``speed_mps``. Everything else (stride-time variability, regularity, asymmetry)
  stays None.
* Brisk walking is cadence >= 100 steps/min for >= 1 min (DESIGN.md section 6; the
  moderate-intensity threshold of Tudor-Locke et al. 2018): the trackers count brisk
  epochs in ``brisk_s_``.
* **Gaps are never filled.** Steps that a counter reports across an interval longer than
  ``max_interval_s`` (a dropped link, a device that was off) are real but of unknown
  timing: they are counted in ``unplaced_steps_`` and placed in no epoch or bout. A
  cadence sample after such a gap describes no interval at all.
* Counters: a repeated or earlier timestamp is a duplicate (dropped, counted); a decrease
  that is plausible as a wrap-around of the ``counter_bits``-bit counter is a wrap; any
  other decrease is a reboot or reset (e.g. InfiniTime's "steps today" at midnight): the
  new value counts the steps since the reset. An increment faster than ``max_rate_spm``
  (300 steps/min, above sprinting cadences; Mann et al. 1986, Am J Sports Med 14:501) is
  not plausible: it is not placed (``unplaced_steps_``) and the counter is re-anchored.

Streaming equals batch: samples are folded one at a time in order, so feeding a stream in
any chunking gives the same epochs and bouts (a property test proves it). Results of each
call are in the trailing-underscore attributes; ``final=True`` closes the open epoch and bout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sensorhub.model import NS_PER_S, EpochSummary, GaitBout, Posture

__all__ = [
    "BoutDistance",
    "RscCadenceTracker",
    "StepCounterTracker",
]

#: Lowest walking cadence (DESIGN.md section 6).
MIN_WALKING_CADENCE_SPM: Final = 40.0
#: Brisk walking cadence (DESIGN.md section 6; Tudor-Locke et al. 2018).
BRISK_CADENCE_SPM: Final = 100.0


@dataclass(frozen=True, slots=True)
class BoutDistance:
    """Distance walked in a bout, where the device gives speed (GaitBout has no field for it).

    Attributes
    ----------
    start_ns
        Start of the bout (the ``GaitBout.start_ns`` it belongs to).
    distance_m
        Integral of the reported speed over the bout's covered time.
    """

    start_ns: int
    distance_m: float


@dataclass(slots=True)
class _Epoch:
    index: int
    steps: float = 0.0
    covered_s: float = 0.0
    first_ns: int = 0
    last_ns: int = 0
    speed_m: float = 0.0  # integral of speed over the intervals that report one
    speed_s: float = 0.0


@dataclass(slots=True)
class _Bout:
    start_ns: int
    end_ns: int
    steps: int = 0
    covered_s: float = 0.0
    speed_m: float = 0.0
    speed_s: float = 0.0
    last_index: int = 0


@dataclass(slots=True)
class _Grid:
    """Epoch accumulator and bout builder shared by both trackers."""

    epoch_ns: int
    min_cadence_spm: float
    brisk_cadence_spm: float
    min_coverage: float
    current: _Epoch | None = None
    placed: float = 0.0  # cumulative steps placed (float), telescoped into epoch integers
    placed_at_epoch_start: float = 0.0
    bout: _Bout | None = None
    epochs: list[EpochSummary] = field(default_factory=list)
    bouts: list[GaitBout] = field(default_factory=list)
    distances: list[BoutDistance] = field(default_factory=list)
    brisk_s: float = 0.0

    def place(self, t0_ns: int, t1_ns: int, steps: float, speed_mps: float | None) -> None:
        """Spread ``steps`` uniformly over (t0, t1] and fold them into the epochs."""
        span = t1_ns - t0_ns
        if span <= 0:
            return
        first = t0_ns // self.epoch_ns
        last = (t1_ns - 1) // self.epoch_ns
        for index in range(first, last + 1):
            a = max(t0_ns, index * self.epoch_ns)
            b = min(t1_ns, (index + 1) * self.epoch_ns)
            epoch = self._epoch(index)
            share = (b - a) / span
            seconds = (b - a) / NS_PER_S
            epoch.steps += steps * share
            self.placed += steps * share
            if epoch.covered_s == 0.0:
                epoch.first_ns = a
            epoch.covered_s += seconds
            epoch.last_ns = b
            if speed_mps is not None:
                epoch.speed_m += speed_mps * seconds
                epoch.speed_s += seconds

    def advance(self, t_ns: int) -> None:
        """Close the open epoch if it ends at or before ``t_ns``."""
        if self.current is not None and (self.current.index + 1) * self.epoch_ns <= t_ns:
            self._close_epoch()

    def gap(self, t_ns: int) -> None:
        """Data is missing up to ``t_ns``: close what ended and break the bout."""
        self.advance(t_ns)
        self._close_bout()

    def finish(self) -> None:
        """End of the stream: close the open epoch and bout."""
        if self.current is not None:
            self._close_epoch()
        self._close_bout()

    def take(self) -> tuple[list[EpochSummary], list[GaitBout], list[BoutDistance]]:
        out = (self.epochs, self.bouts, self.distances)
        self.epochs, self.bouts, self.distances = [], [], []
        return out

    def _epoch(self, index: int) -> _Epoch:
        if self.current is not None and self.current.index != index:
            self._close_epoch()
        if self.current is None:
            self.current = _Epoch(index)
        return self.current

    def _close_epoch(self) -> None:
        epoch = self.current
        assert epoch is not None
        self.current = None
        steps = _round(self.placed) - _round(self.placed_at_epoch_start)
        self.placed_at_epoch_start = self.placed
        epoch_s = self.epoch_ns / NS_PER_S
        cadence = epoch.steps * 60.0 / epoch.covered_s if epoch.covered_s > 0 else 0.0
        walking = epoch.covered_s >= self.min_coverage * epoch_s and cadence >= self.min_cadence_spm
        self.epochs.append(
            EpochSummary(
                start_ns=epoch.index * self.epoch_ns,
                duration_s=epoch_s,
                posture=Posture.WALKING if walking else Posture.UNKNOWN,
                enmo_mg=math.nan,  # no acceleration: not measured
                steps=steps,
                posture_seconds={str(Posture.WALKING): epoch.covered_s} if walking else {},
            )
        )
        if not walking:
            self._close_bout()
            return
        if cadence >= self.brisk_cadence_spm:
            self.brisk_s += epoch.covered_s
        bout = self.bout
        if bout is not None and bout.last_index != epoch.index - 1:
            self._close_bout()
            bout = None
        if bout is None:
            bout = self.bout = _Bout(epoch.first_ns, epoch.last_ns)
        bout.end_ns = epoch.last_ns
        bout.steps += steps
        bout.covered_s += epoch.covered_s
        bout.speed_m += epoch.speed_m
        bout.speed_s += epoch.speed_s
        bout.last_index = epoch.index

    def _close_bout(self) -> None:
        bout, self.bout = self.bout, None
        if bout is None or bout.covered_s <= 0:
            return
        speed = bout.speed_m / bout.speed_s if bout.speed_s > 0 else None
        self.bouts.append(
            GaitBout(
                start_ns=bout.start_ns,
                end_ns=bout.end_ns,
                steps=bout.steps,
                cadence_spm=bout.steps * 60.0 / bout.covered_s,
                speed_mps=speed,
            )
        )
        if speed is not None:
            self.distances.append(BoutDistance(bout.start_ns, bout.speed_m))


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def _times(t_ns: ArrayLike) -> NDArray[np.int64]:
    t = np.asarray(t_ns, dtype=np.int64)
    if t.ndim != 1:
        raise ValueError(f"t_ns must be one-dimensional, got shape {t.shape}")
    return t


class _TrackerBase:
    epochs_: list[EpochSummary]
    bouts_: list[GaitBout]
    distances_: list[BoutDistance]

    def __init__(
        self,
        *,
        epoch_s: float,
        max_interval_s: float,
        min_cadence_spm: float,
        brisk_cadence_spm: float,
        min_coverage: float,
    ) -> None:
        if not epoch_s > 0 or not max_interval_s > 0:
            raise ValueError("epoch_s and max_interval_s must be positive")
        if not 0 <= min_coverage <= 1:
            raise ValueError(f"min_coverage must be in [0, 1], got {min_coverage}")
        self.epoch_s = epoch_s
        self.max_interval_s = max_interval_s
        self.min_cadence_spm = min_cadence_spm
        self.brisk_cadence_spm = brisk_cadence_spm
        self.min_coverage = min_coverage
        self._grid = _Grid(
            round(epoch_s * NS_PER_S), min_cadence_spm, brisk_cadence_spm, min_coverage
        )
        self._max_interval_ns = round(max_interval_s * NS_PER_S)
        self._last_t: int | None = None
        self.epochs_ = []
        self.bouts_ = []
        self.distances_ = []
        #: Samples dropped because their time was not after the previous one.
        self.duplicates_ = 0
        #: Intervals longer than ``max_interval_s`` (nothing placed across them).
        self.gaps_ = 0

    @property
    def settled_ns_(self) -> int | None:
        """No bout reported later starts before this time (None before any data): the start
        of the open bout or of the epoch still being filled, else the latest sample."""
        g = self._grid
        if g.bout is not None:
            return g.bout.start_ns
        if g.current is not None:
            return g.current.index * g.epoch_ns
        return self._last_t

    @property
    def brisk_s_(self) -> float:
        """Seconds of brisk walking epochs so far (cadence >= ``brisk_cadence_spm``)."""
        return self._grid.brisk_s

    def _collect(self, final: bool) -> None:
        if final:
            self._grid.finish()
        self.epochs_, self.bouts_, self.distances_ = self._grid.take()


class StepCounterTracker(_TrackerBase):
    """Step increments, epoch step counts and walking bouts from a cumulative step counter.

    Parameters
    ----------
    counter_bits
        Width of the device's counter (32 for InfiniTime and Thingy:52, 16 for MetaWear):
        it wraps to 0 after ``2**counter_bits - 1``.
    epoch_s
        Epoch length in seconds (60 s: the store's epoch and minute-level cadence bouts).
    max_interval_s
        Longest interval between two readings over which an increment is spread uniformly
        (s). Steps reported across a longer interval are not placed in time.
    max_rate_spm
        Fastest plausible stepping (steps/min); faster increments are not placed.
    slack_steps
        Steps allowed on top of ``max_rate_spm`` for counter quantisation on short intervals.
    min_cadence_spm
        Cadence (steps/min) from which an epoch counts as walking (DESIGN.md section 6: 40).
    brisk_cadence_spm
        Cadence (steps/min) of brisk walking (DESIGN.md section 6: 100).
    min_coverage
        Fraction of an epoch that data must cover for it to count as walking.

    Attributes
    ----------
    epochs_
        Epochs closed by the last call, with their integer step counts.
    bouts_
        Walking bouts closed by the last call.
    distances_
        Always empty: a counter gives no speed.
    total_steps_
        Steps placed in time so far.
    unplaced_steps_
        Steps reported across gaps, resets or implausibly fast increments (not placed).
    wraps_, resets_, duplicates_, gaps_
        How many counter wrap-arounds, resets/reboots, duplicate readings and gaps were seen.
    """

    def __init__(
        self,
        *,
        counter_bits: int = 32,
        epoch_s: float = 60.0,
        max_interval_s: float = 60.0,
        max_rate_spm: float = 300.0,
        slack_steps: int = 2,
        min_cadence_spm: float = MIN_WALKING_CADENCE_SPM,
        brisk_cadence_spm: float = BRISK_CADENCE_SPM,
        min_coverage: float = 0.5,
    ) -> None:
        super().__init__(
            epoch_s=epoch_s,
            max_interval_s=max_interval_s,
            min_cadence_spm=min_cadence_spm,
            brisk_cadence_spm=brisk_cadence_spm,
            min_coverage=min_coverage,
        )
        if not 1 <= counter_bits <= 64:
            raise ValueError(f"counter_bits must be 1..64, got {counter_bits}")
        self.counter_bits = counter_bits
        self.max_rate_spm = max_rate_spm
        self.slack_steps = slack_steps
        self._modulus = 1 << counter_bits
        self._last_count: int | None = None
        self.total_steps_ = 0
        self.unplaced_steps_ = 0
        self.wraps_ = 0
        self.resets_ = 0

    def update(
        self, t_ns: ArrayLike, steps_total: ArrayLike, *, final: bool = False
    ) -> StepCounterTracker:
        """Fold in counter readings (UTC ns, cumulative counts) in time order.

        Parameters
        ----------
        t_ns
            Reading times, int64 ns since the Unix epoch (UTC).
        steps_total
            The counter's values at those times.
        final
            Close the open epoch and bout (end of the stream).

        Returns
        -------
        StepCounterTracker
            ``self``, with ``epochs_`` and ``bouts_`` holding what this call closed.
        """
        times = _times(t_ns)
        counts = np.asarray(steps_total, dtype=np.int64)
        if counts.shape != times.shape:
            raise ValueError(f"t_ns {times.shape} and steps_total {counts.shape} differ")
        for t, c in zip(times.tolist(), counts.tolist(), strict=True):
            self._one(t, c % self._modulus)
        self._collect(final)
        return self

    def _one(self, t: int, count: int) -> None:
        last_t, last_count = self._last_t, self._last_count
        if last_t is None or last_count is None:
            self._last_t, self._last_count = t, count  # baseline: earlier steps are not ours
            return
        if t <= last_t:
            self.duplicates_ += 1
            return
        self._last_t, self._last_count = t, count
        dt = t - last_t
        limit = self.max_rate_spm * dt / (60 * NS_PER_S) + self.slack_steps
        if count >= last_count:
            delta = count - last_count
        elif count + self._modulus - last_count <= limit:
            delta = count + self._modulus - last_count
            self.wraps_ += 1
        else:
            delta = count  # a reboot or reset: the new value counts since the reset
            self.resets_ += 1
        grid = self._grid
        if dt > self._max_interval_ns:
            self.gaps_ += 1
            self.unplaced_steps_ += delta
            grid.gap(t)
            return
        if delta > limit:
            self.unplaced_steps_ += delta
            grid.gap(t)
            return
        grid.place(last_t, t, float(delta), None)
        self.total_steps_ += delta
        grid.advance(t)


class RscCadenceTracker(_TrackerBase):
    """Walking bouts, epoch steps, speed and distance from RSC foot-pod measurements.

    Each measurement's cadence (and speed) is taken to describe the interval since the
    previous measurement (a pod computes them over its most recent strides, Bluetooth SIG
    Running Speed and Cadence Profile 1.0); steps there are ``cadence * dt / 60``.

    Parameters
    ----------
    epoch_s
        Epoch length in seconds (60 s).
    max_interval_s
        Longest interval a measurement may describe (s); a pod notifies about once a second,
        so a longer silence is a gap and nothing is placed across it.
    min_cadence_spm, brisk_cadence_spm, min_coverage
        As for :class:`StepCounterTracker`.

    Attributes
    ----------
    epochs_, bouts_
        Epochs and walking bouts closed by the last call; bouts carry ``speed_mps`` when the
        pod reports speed (a speed of 0 while stepping >= ``min_cadence_spm`` means the pod
        does not measure speed and is ignored).
    distances_
        Distance of each bout with a speed (``GaitBout`` has no distance field).
    total_steps_
        Steps placed so far (float: integrated cadence).
    invalid_
        Measurements with a negative or non-finite cadence (ignored).
    duplicates_, gaps_
        Duplicate measurements and gaps seen.
    """

    def __init__(
        self,
        *,
        epoch_s: float = 60.0,
        max_interval_s: float = 5.0,
        min_cadence_spm: float = MIN_WALKING_CADENCE_SPM,
        brisk_cadence_spm: float = BRISK_CADENCE_SPM,
        min_coverage: float = 0.5,
    ) -> None:
        super().__init__(
            epoch_s=epoch_s,
            max_interval_s=max_interval_s,
            min_cadence_spm=min_cadence_spm,
            brisk_cadence_spm=brisk_cadence_spm,
            min_coverage=min_coverage,
        )
        self.total_steps_ = 0.0
        self.invalid_ = 0

    def update(
        self,
        t_ns: ArrayLike,
        cadence_spm: ArrayLike,
        speed_mps: ArrayLike | None = None,
        stride_length_m: ArrayLike | None = None,
        *,
        final: bool = False,
    ) -> RscCadenceTracker:
        """Fold in RSC measurements in time order.

        Parameters
        ----------
        t_ns
            Measurement times, int64 ns since the Unix epoch (UTC).
        cadence_spm
            Instantaneous cadence (steps/min).
        speed_mps
            Instantaneous speed (m/s); NaN or None where not reported.
        stride_length_m
            Stride length (m, two steps); gives the speed (cadence / 120 x stride) where the
            speed is not reported.
        final
            Close the open epoch and bout (end of the stream).

        Returns
        -------
        RscCadenceTracker
            ``self``, with ``epochs_``, ``bouts_`` and ``distances_`` of this call.
        """
        times = _times(t_ns)
        n = times.shape[0]
        cadence = np.asarray(cadence_spm, dtype=np.float64)
        speed = _optional(speed_mps, n)
        stride = _optional(stride_length_m, n)
        if cadence.shape != times.shape:
            raise ValueError(f"t_ns {times.shape} and cadence_spm {cadence.shape} differ")
        derived = cadence / 120.0 * stride
        speed = np.where(np.isfinite(speed), speed, derived)
        for t, c, v in zip(times.tolist(), cadence.tolist(), speed.tolist(), strict=True):
            self._one(t, c, v)
        self._collect(final)
        return self

    def _one(self, t: int, cadence: float, speed: float) -> None:
        if not (math.isfinite(cadence) and cadence >= 0):
            self.invalid_ += 1
            return
        last_t = self._last_t
        if last_t is not None and t <= last_t:
            self.duplicates_ += 1
            return
        self._last_t = t
        if last_t is None:
            return
        grid = self._grid
        if t - last_t > self._max_interval_ns:
            self.gaps_ += 1
            grid.gap(t)
            return
        steps = cadence * (t - last_t) / (60 * NS_PER_S)
        known = math.isfinite(speed) and speed >= 0
        if known and speed == 0 and cadence >= self.min_cadence_spm:
            known = False  # the pod does not measure speed
        grid.place(last_t, t, steps, speed if known else None)
        self.total_steps_ += steps
        grid.advance(t)


def _optional(values: ArrayLike | None, n: int) -> NDArray[np.float64]:
    if values is None:
        return np.full(n, np.nan)
    out = np.asarray(values, dtype=np.float64)
    if out.shape != (n,):
        raise ValueError(f"expected shape ({n},), got {out.shape}")
    return out
