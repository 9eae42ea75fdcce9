"""Polar PMD notifications -> SampleBlocks (sans-I/O: no bleak, no asyncio here).

Timestamps: a PMD frame carries the device-clock time of its last sample (ns since
2000-01-01, polar-ble-sdk ``PmdTimeStampUtils``); the other samples are spread evenly back to
the previous frame. The device clock of an H10 is often not set, so device time is mapped
to UTC by anchoring it to the host clock at the first frame of a connection. Duplicate and
out-of-order frames are dropped and counted; a jump of more than 1.5 frame periods is a gap,
recorded and never filled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from firmware_protocols.errors import DecodeError
from firmware_protocols.polar_pmd import MeasurementType, decode_pmd_data, sample_times_ns
from sensorhub.model import SampleBlock

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Gap:
    """Missing data between two received samples (device time mapped to UTC)."""

    after_ns: int
    before_ns: int


@dataclass
class StreamCounters:
    """Per-device stream health, shown on the dashboard's devices page."""

    frames: int = 0
    samples: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    decode_errors: int = 0
    gaps: list[Gap] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """Counters as plain numbers (for storage and the JSON summary)."""
        return {
            "frames": self.frames,
            "samples": self.samples,
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "decode_errors": self.decode_errors,
            "gaps": len(self.gaps),
        }


class PolarAccStream:
    """Turns PMD ACC data notifications into :class:`SampleBlock` s.

    Parameters
    ----------
    sample_rate_hz
        The ACC rate requested in the start command.
    counters
        Where stream health is counted (kept across reconnects by the caller).
    """

    def __init__(self, sample_rate_hz: float, counters: StreamCounters | None = None) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.counters = counters if counters is not None else StreamCounters()
        self._offset_ns: int | None = None  # UTC - device time, fixed at the first frame
        self._last_device_ns: int | None = None

    def reset_connection(self) -> None:
        """Forget the time anchor: a new connection may follow a device reboot."""
        self._offset_ns = None
        self._last_device_ns = None

    def feed(self, host_utc_ns: int, payload: bytes) -> SampleBlock | None:
        """Decode one notification; return its samples, or None if it was dropped."""
        try:
            frame = decode_pmd_data(payload)
        except DecodeError as exc:
            self.counters.decode_errors += 1
            _LOGGER.debug("dropping malformed PMD frame (%s): %s", exc, payload.hex())
            return None
        if frame.measurement != MeasurementType.ACC:
            return None
        acc_g = frame.acc_g
        n = acc_g.shape[0]
        if n == 0:
            return None
        device_ns = frame.timestamp_ns
        previous = self._last_device_ns
        if previous is not None and device_ns <= previous:
            if device_ns == previous:
                self.counters.duplicates += 1
            else:
                self.counters.out_of_order += 1
            return None
        if self._offset_ns is None:
            self._offset_ns = host_utc_ns - device_ns
        period_ns = 1e9 / self.sample_rate_hz
        gap_before_ns = 0
        if previous is not None and device_ns - previous > 1.5 * n * period_ns:
            # Lost frames: time the samples from the nominal rate, and record the hole.
            t_device = sample_times_ns(device_ns, n, self.sample_rate_hz)
            gap_before_ns = int(t_device[0] - previous - period_ns)
            self.counters.gaps.append(
                Gap(previous + self._offset_ns, int(t_device[0]) + self._offset_ns)
            )
        else:
            t_device = sample_times_ns(device_ns, n, self.sample_rate_hz, previous)
        self._last_device_ns = device_ns
        self.counters.frames += 1
        self.counters.samples += n
        return SampleBlock(
            t_ns=np.asarray(t_device, dtype=np.int64) + self._offset_ns,
            acc_g=np.asarray(acc_g, dtype=np.float64),
            fs_hz=self.sample_rate_hz,
            gap_before_ns=max(gap_before_ns, 0),
        )
