"""Notifications -> SampleBlocks and step/cadence data, for every profile (sans-I/O).

This module has no bleak and no asyncio: a session hands it ``(host UTC ns, bytes)`` pairs in
arrival order and gets back what to forward. Three parts:

* **Frame decoders** (one per streamed characteristic, built by
  :mod:`sensorhub.ble.drivers` with the settings the device accepted) turn bytes into an
  :class:`ImuFrame` (samples, device times if the device sends them, a sequence counter if
  it has one) or a :class:`StepData` (steps, cadence, speed). A malformed frame raises
  :class:`~firmware_protocols.errors.DecodeError` inside the decoder and is counted here.
* :class:`ImuStream` keeps one device's sample timeline: duplicates and out-of-order frames
  are dropped and counted, lost frames become a recorded :class:`Gap` (never filled), clock
  steps and reboots are re-anchored, and device time goes to UTC through a
  :class:`~sensorhub.ble.timesync.DeviceClockMapper` (offset and drift).
* :class:`StreamCounters` and :class:`Gap`: stream health for the store and the summary.

Timelines. Times are kept on a *stitched device clock*: the device's own clock plus a
correction that changes only at a clock step or reboot, so the mapper sees one continuous
clock per device for its whole life. Devices that stamp nothing (Thingy:52 raw motion,
MetaWear, InfiniTime raw motion, RSC) count samples at the nominal rate; each new connection
is placed from host arrival time, so their gap bounds across reconnects are only as exact as
the link latency, and a notification lost inside a connection cannot be seen at all.

Continuity rules for stamped frames, in order:

1. With a sequence counter (open IMU profile, unless ``RESYNC``): same sequence = duplicate;
   behind = out of order; ``k`` ahead = ``k - 1`` frames lost.
2. Device time at or before the previous frame: duplicate (equal), out of order (a little
   earlier), or a backward clock step / reboot (earlier by more than the step threshold).
3. Device time far ahead of the host's arrival time: a forward clock step.
4. Otherwise a first sample later than expected by more than half a frame is a gap.

A clock step or reboot is re-anchored: the frame follows the previous one when the sequence
counter (or the host's arrival time, within ``host_jitter_s``) says nothing was lost, else a
gap is recorded up to where the host's arrival time puts it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray

from firmware_protocols.errors import DecodeError
from sensorhub.ble.timesync import DEFAULT_STEP_THRESHOLD_S, DeviceClockMapper
from sensorhub.model import NS_PER_S, SampleBlock

__all__ = [
    "FrameDecoder",
    "Gap",
    "ImuFrame",
    "ImuStream",
    "StepData",
    "StreamCounters",
    "StreamTiming",
]

_LOGGER = logging.getLogger(__name__)

#: A malformed frame is logged at WARNING for the first few, then at DEBUG.
_LOUD_DECODE_ERRORS: Final = 5


@dataclass(frozen=True, slots=True)
class Gap:
    """Missing data between two received samples (never filled).

    Attributes
    ----------
    after_ns
        UTC of the last sample received before the gap.
    before_ns
        UTC of the first sample received after it.
    after_device_ns, before_device_ns
        The same two samples on the device's (stitched) clock: exact for devices that stamp
        their samples, whatever the UTC mapping's uncertainty (the link's delay).
    """

    after_ns: int
    before_ns: int
    after_device_ns: int | None = None
    before_device_ns: int | None = None

    @property
    def duration_s(self) -> float:
        """Length of the hole between the two samples."""
        return (self.before_ns - self.after_ns) / NS_PER_S


@dataclass
class StreamCounters:
    """Per-device stream health, shown on the dashboard's devices page.

    ``handler_errors`` counts decoded blocks or measurements whose handler raised (the stream
    went on without them); ``overflow`` counts notifications dropped because the session's
    queue was full (a slow handler), each one a recorded gap in the motion stream.
    """

    frames: int = 0
    samples: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    decode_errors: int = 0
    clock_steps: int = 0
    measurements: int = 0
    handler_errors: int = 0
    overflow: int = 0
    gaps: list[Gap] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """Counters as plain numbers (for storage and the JSON summary)."""
        return {
            "frames": self.frames,
            "samples": self.samples,
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "decode_errors": self.decode_errors,
            "clock_steps": self.clock_steps,
            "measurements": self.measurements,
            "handler_errors": self.handler_errors,
            "overflow": self.overflow,
            "gaps": len(self.gaps),
        }


@dataclass(frozen=True, slots=True, eq=False)
class ImuFrame:
    """One decoded motion notification.

    Attributes
    ----------
    acc_g
        float64 (N, 3).
    gyro_dps
        float64 (N, 3) or None.
    fs_hz
        Nominal sample rate of the stream.
    device_last_ns
        Device clock of the last sample, ns; None when the device stamps nothing.
    device_first_ns
        Device clock of the first sample when the device states it (open IMU); None to
        spread the samples back from the last one.
    sequence, sequence_modulo
        Packet counter and where it wraps; None when the device has none or it cannot be
        trusted for this packet (``RESYNC``).
    """

    acc_g: NDArray[np.float64]
    fs_hz: float
    gyro_dps: NDArray[np.float64] | None = None
    device_last_ns: int | None = None
    device_first_ns: int | None = None
    sequence: int | None = None
    sequence_modulo: int = 1 << 16

    def __len__(self) -> int:
        return int(self.acc_g.shape[0])


@dataclass(frozen=True, slots=True)
class StepData:
    """Step, cadence, speed or heart-rate data (RSC foot pod, InfiniTime, Thingy:52 pedometer).

    ``t_ns`` is UTC (host arrival, as these devices stamp nothing); absent fields are None.
    """

    t_ns: int
    steps_total: int | None = None
    cadence_spm: float | None = None
    speed_mps: float | None = None
    stride_length_m: float | None = None
    distance_m: float | None = None
    heart_rate_bpm: int | None = None


#: bytes -> decoded frame; raises DecodeError for malformed bytes. A StepData's t_ns is
#: filled in by the stream (pass 0).
FrameDecoder = Callable[[bytes], "ImuFrame | StepData | None"]


@dataclass(frozen=True, slots=True)
class StreamTiming:
    """Thresholds of the time mapping, in seconds of (possibly emulated) host time.

    Parameters
    ----------
    step_threshold_s
        Device clock ahead of the host by more than this (or back by more) is a clock step.
    host_jitter_s
        Largest link and scheduling delay: when only host arrival can tell whether samples
        were lost, a shortfall under this is not a gap.
    """

    step_threshold_s: float = DEFAULT_STEP_THRESHOLD_S
    host_jitter_s: float = 1.0

    def scaled(self, speed: float) -> StreamTiming:
        """The same real-time thresholds when host time runs ``speed`` times faster."""
        return StreamTiming(
            max(self.step_threshold_s, 0.25 * speed), max(self.host_jitter_s, 0.1 * speed)
        )


class ImuStream:
    """One device's motion timeline: continuity, gaps, clock mapping -> :class:`SampleBlock`.

    Parameters
    ----------
    counters
        Where stream health is counted (kept across reconnects).
    timing
        Step and jitter thresholds.
    mapper
        Device clock -> UTC (a fresh :class:`DeviceClockMapper` by default).
    """

    def __init__(
        self,
        counters: StreamCounters | None = None,
        *,
        timing: StreamTiming | None = None,
        mapper: DeviceClockMapper | None = None,
    ) -> None:
        self.counters = counters if counters is not None else StreamCounters()
        self.timing = timing or StreamTiming()
        self.mapper = mapper or DeviceClockMapper(step_threshold_s=self.timing.step_threshold_s)
        self._correction_ns = 0  # stitched = raw device time + correction
        self._last_ns: int | None = None  # stitched device time of the last sample forwarded
        self._last_sequence: int | None = None
        self._host_index = 0  # samples so far in this connection (unstamped devices)
        self._new_connection = True
        self._last_utc_ns: int | None = None
        # unstamped streams: size of the last frame, and a frame lost to a decode error
        self._host_frame: tuple[int, float] | None = None
        self._host_samples_lost = False

    def reset_connection(self) -> None:
        """A new connection begins: unstamped devices restart counting, sequences restart."""
        self._new_connection = True
        self._last_sequence = None
        self._host_index = 0
        self._host_frame = None
        self._host_samples_lost = False

    def decode_error(
        self, exc: DecodeError, payload: bytes, label: str, *, motion: bool = False
    ) -> None:
        """Count and log a malformed frame (never raises).

        For a motion frame of a device that stamps nothing (``motion``), the samples it
        carried are lost: the sample count moves on by the size of the previous frame, so
        later samples keep their place in time, and the next frame records the gap.
        """
        self.counters.decode_errors += 1
        if motion and self._host_frame is not None:
            n, period = self._host_frame
            self._host_index += round(n * period)
            self._host_samples_lost = True
        level = (
            logging.WARNING if self.counters.decode_errors <= _LOUD_DECODE_ERRORS else logging.DEBUG
        )
        _LOGGER.log(level, "%s: dropping malformed frame (%s): %s", label, exc, payload.hex())

    def frames_lost(self, count: int) -> None:
        """``count`` motion frames were lost before the next one (dropped, not malformed).

        The next frame then records a gap: for a device that stamps nothing, the sample count
        moves on by ``count`` frames of the previous frame's size, so later samples keep their
        place in time instead of closing the hole.
        """
        if count <= 0 or self._last_ns is None:
            return  # nothing before the loss to mark a gap after
        if self._host_frame is not None:
            n, period = self._host_frame
            self._host_index += round(count * n * period)
        self._host_samples_lost = True

    # ---------------------------------------------------------------------- feed

    def feed(self, host_utc_ns: int, frame: ImuFrame) -> SampleBlock | None:
        """Place one frame on the timeline; return its samples, or None if it was dropped."""
        n = len(frame)
        if n == 0:
            return None
        period = NS_PER_S / frame.fs_hz
        lost_frames = self._sequence_verdict(frame)
        if lost_frames is not None and lost_frames < 0:
            return None  # duplicate or out of order, counted
        first_new = self._new_connection
        self._new_connection = False
        if frame.device_last_ns is None:
            raw_last = self._host_index + round((n - 1) * period)
            self._host_index += round(n * period)
            self._host_frame = (n, period)
            if first_new or self._last_ns is None:
                self._reanchor(host_utc_ns, raw_last, n, period, known_contiguous=False)
        else:
            raw_last = frame.device_last_ns
            stitched_last = raw_last + self._correction_ns
            previous = self._last_ns
            if previous is None:
                self._reanchor(host_utc_ns, raw_last, n, period, known_contiguous=False)
            elif lost_frames == 0 and abs(
                stitched_last - (n - 1) * period - (previous + period)
            ) > max(0.5 * n * period, 1.5 * period):
                # the counter says contiguous, the clock disagrees: a clock step
                self.counters.clock_steps += 1
                self._reanchor(host_utc_ns, raw_last, n, period, known_contiguous=True)
            elif stitched_last <= previous:
                if (
                    previous - stitched_last <= self.mapper.step_threshold_ns
                    and lost_frames is None
                ):
                    if stitched_last == previous:
                        self.counters.duplicates += 1
                    else:
                        self.counters.out_of_order += 1
                    return None
                self.counters.clock_steps += 1  # set back, or a reboot
                self._reanchor(host_utc_ns, raw_last, n, period, known_contiguous=False)
            elif self.mapper.is_forward_step(stitched_last, host_utc_ns):
                self.counters.clock_steps += 1
                self._reanchor(host_utc_ns, raw_last, n, period, known_contiguous=lost_frames == 0)
        return self._emit(host_utc_ns, frame, raw_last, period, lost_frames)

    def _sequence_verdict(self, frame: ImuFrame) -> int | None:
        """Frames lost before this one by the counter (negative: drop it), or None."""
        sequence = frame.sequence
        if sequence is None:
            self._last_sequence = None
            return None
        previous, self._last_sequence = self._last_sequence, sequence
        if previous is None:
            return None
        delta = (sequence - previous) % frame.sequence_modulo
        if delta == 0:
            self.counters.duplicates += 1
            self._last_sequence = previous
            return -1
        if delta > frame.sequence_modulo // 2:
            self.counters.out_of_order += 1
            self._last_sequence = previous
            return -1
        return delta - 1

    def _reanchor(
        self, host_utc_ns: int, raw_last: int, n: int, period: float, *, known_contiguous: bool
    ) -> None:
        """Choose the correction that places this frame on the stitched clock.

        The first sample follows the previous one when nothing was lost (by the counter, or
        by host arrival within the jitter); otherwise it goes where the host's arrival puts
        it and the hole is recorded as a gap.
        """
        raw_first = raw_last - round((n - 1) * period)
        previous = self._last_ns
        if previous is None and not self.mapper.anchored:
            # very first frame: anchor device time to its arrival
            self._correction_ns = 0
            self.mapper.anchor(raw_last, host_utc_ns)
            return
        estimate_first = self.mapper.to_device(host_utc_ns) - round((n - 1) * period)
        if previous is None:
            stitched_first = estimate_first
        else:
            expected_first = previous + round(period)
            jitter_ns = self.timing.host_jitter_s * NS_PER_S
            if known_contiguous or estimate_first - expected_first <= max(
                jitter_ns, 1.5 * n * period
            ):
                stitched_first = expected_first
            else:
                stitched_first = estimate_first
        self._correction_ns = stitched_first - raw_first

    def _emit(
        self,
        host_utc_ns: int,
        frame: ImuFrame,
        raw_last: int,
        period: float,
        lost_frames: int | None,
    ) -> SampleBlock:
        n = len(frame)
        stitched_last = raw_last + self._correction_ns
        previous = self._last_ns
        if frame.device_first_ns is not None:
            first = frame.device_first_ns + self._correction_ns
            t_device = first + np.rint(np.arange(n) * ((stitched_last - first) / max(n - 1, 1)))
            t_device = t_device.astype(np.int64)
        else:
            t_device = stitched_last - np.rint((n - 1 - np.arange(n)) * period).astype(np.int64)
        gap_before_ns = 0
        if previous is not None:
            expected_first = previous + period
            shortfall = int(t_device[0]) - expected_first
            is_gap = (
                (lost_frames is not None and lost_frames > 0)
                or self._host_samples_lost
                or shortfall > max(0.5 * n * period, 1.5 * period)
            )
            self._host_samples_lost = False
            if is_gap:
                after = self.mapper.to_utc(previous)
                before = self.mapper.to_utc(int(t_device[0]))
                self.counters.gaps.append(Gap(after, before, previous, int(t_device[0])))
                gap_before_ns = max(before - after - round(period), 0)
            elif frame.device_first_ns is None and frame.device_last_ns is not None:
                # contiguous stamped frame: spread the samples from the previous one (PMD)
                t_device = previous + np.rint(
                    np.arange(1, n + 1) * ((stitched_last - previous) / n)
                ).astype(np.int64)
        if not self.mapper.is_forward_step(stitched_last, host_utc_ns):
            self.mapper.observe(stitched_last, host_utc_ns)
        self._last_ns = int(t_device[-1])
        self.counters.frames += 1
        self.counters.samples += n
        t_utc = self.mapper.to_utc_array(t_device)
        if self._last_utc_ns is not None and t_utc[0] <= self._last_utc_ns:
            # the running minimum moved the mapping earlier: keep UTC strictly increasing
            t_utc = t_utc + (self._last_utc_ns + 1 - int(t_utc[0]))
        self._last_utc_ns = int(t_utc[-1])
        return SampleBlock(
            t_ns=t_utc,
            acc_g=np.asarray(frame.acc_g, dtype=np.float64),
            fs_hz=frame.fs_hz,
            gyro_dps=None if frame.gyro_dps is None else np.asarray(frame.gyro_dps, np.float64),
            gap_before_ns=gap_before_ns,
        )
