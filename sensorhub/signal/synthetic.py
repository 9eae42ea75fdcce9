"""Synthetic accelerometer signals with known answers (for tests, demos and benchmarks).

A *script* is a sequence of ``(activity, duration_s)`` pairs. Activities: ``sitting``,
``standing``, ``lying``, ``walking`` (upright walking at ``cadence_spm``), ``fidget`` (irregular
movement of the current posture, e.g. reaching or shifting in the chair) and ``still`` (a device
lying on a table). Signals are built in a body frame (x up, y left, z forward), tilted per
posture and placement, then rotated by an arbitrary mounting rotation, so detectors are tested
for orientation independence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sensorhub.model import NS_PER_S, Placement

#: Default start time of synthetic streams: 2024-03-04 08:00:00 UTC.
DEFAULT_START_NS = 1_709_539_200 * NS_PER_S


@dataclass(frozen=True, slots=True, eq=False)
class Synthetic:
    """A synthetic recording.

    Attributes
    ----------
    t_ns
        Sample times (UTC ns).
    acc_g
        Acceleration in g, device axes, shape (N, 3).
    segments
        ``(activity, start_ns, end_ns)`` for each script step.
    fs_hz
        Sampling rate.
    """

    t_ns: NDArray[np.int64]
    acc_g: NDArray[np.float64]
    segments: list[tuple[str, int, int]]
    fs_hz: float


def _rot(axis: NDArray[np.float64], angle_rad: float) -> NDArray[np.float64]:
    a = axis / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    out: NDArray[np.float64] = np.eye(3) + np.sin(angle_rad) * k + (1 - np.cos(angle_rad)) * (k @ k)
    return out


def random_rotation(rng: np.random.Generator) -> NDArray[np.float64]:
    """A uniformly random rotation matrix."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _gravity(activity: str, placement: Placement) -> NDArray[np.float64]:
    """Unit gravity reading in the body frame of the segment carrying the device."""
    up = np.array([1.0, 0.0, 0.0])
    pitch_back = np.array([0.0, 1.0, 0.0])  # rotation about the left axis
    thigh = placement in (Placement.THIGH, Placement.POCKET)
    if activity == "lying":
        return np.array([0.0, 0.0, 1.0])  # supine: the front faces up
    if activity == "sitting":
        if thigh:
            return np.array([0.0, 0.0, 1.0])  # thigh horizontal, its front facing up
        tilt = {Placement.CHEST: 10.0, Placement.WRIST: 50.0}.get(placement, 25.0)
        tilted: NDArray[np.float64] = _rot(pitch_back, np.radians(tilt)) @ up
        return tilted
    if activity == "still":
        return np.array([0.0, 0.0, 1.0])
    upright: NDArray[np.float64] = _rot(pitch_back, np.radians(-3.0)) @ up  # nearly upright
    return upright


def make_signal(
    script: Sequence[tuple[str, float]],
    *,
    placement: Placement = Placement.LOWER_BACK,
    fs_hz: float = 50.0,
    cadence_spm: float = 105.0,
    start_ns: int = DEFAULT_START_NS,
    rotation: NDArray[np.float64] | None = None,
    seed: int = 0,
) -> Synthetic:
    """Build a synthetic recording from a script (see the module docstring).

    Parameters
    ----------
    script
        ``(activity, duration_s)`` steps.
    placement
        Placement to imitate (sets the tilts and the walking waveform).
    fs_hz
        Sampling rate.
    cadence_spm
        Step rate of ``walking``.
    start_ns
        Time of the first sample.
    rotation
        Device mounting rotation (body -> device); None picks a random one from ``seed``.
    seed
        Random seed for noise, fidgets and the rotation.
    """
    rng = np.random.default_rng(seed)
    rot = random_rotation(rng) if rotation is None else rotation
    parts: list[NDArray[np.float64]] = []
    segments: list[tuple[str, int, int]] = []
    n_done = 0
    base_posture = "standing"
    for activity, dur in script:
        n = round(dur * fs_hz)
        t = (n_done + np.arange(n)) / fs_hz
        if activity in ("sitting", "standing", "lying"):
            base_posture = activity
        g = _gravity(
            "standing"
            if activity == "walking"
            else base_posture
            if activity == "fidget"
            else activity,
            placement,
        )
        acc = np.tile(g, (n, 1))
        if activity == "walking":
            f = cadence_spm / 60.0
            ph = rng.uniform(0, 2 * np.pi)
            w = 2 * np.pi * f * t + ph
            amp = 0.5 if placement in (Placement.THIGH, Placement.POCKET, Placement.WRIST) else 0.25
            acc[:, 0] += amp * np.sin(w) + 0.4 * amp * np.sin(2 * w + 0.5)
            acc[:, 2] += 0.6 * amp * np.sin(w + 1.2)
            acc[:, 1] += 0.4 * amp * np.sin(0.5 * w + 0.3)
            if placement in (Placement.WRIST, Placement.THIGH, Placement.POCKET):
                acc[:, 2] += amp * np.sin(0.5 * w + 0.7)  # limb swing at stride frequency
        elif activity == "fidget":
            # irregular reaching / shifting: smoothed noise bursts, no rhythm
            k = max(1, round(0.4 * fs_hz))
            noise = rng.normal(0, 1.0, size=(n + k, 3))
            kern = np.hanning(k)
            sm = np.stack(
                [np.convolve(noise[:, i], kern / kern.sum(), "same") for i in range(3)], 1
            )
            acc += 0.25 * sm[:n] / max(float(sm.std()), 1e-9) * 0.5
        if activity != "still":
            acc[:, 0] += 0.004 * np.sin(2 * np.pi * 0.25 * t)  # breathing / sway
        acc += rng.normal(0, 0.003 if activity == "still" else 0.006, size=acc.shape)
        parts.append(acc)
        start = start_ns + round(n_done * NS_PER_S / fs_hz)
        n_done += n
        segments.append((activity, start, start_ns + round(n_done * NS_PER_S / fs_hz)))
    body = np.concatenate(parts) if parts else np.empty((0, 3))
    t_ns = start_ns + np.round(np.arange(n_done) * (NS_PER_S / fs_hz)).astype(np.int64)
    return Synthetic(t_ns, body @ rot.T, segments, fs_hz)
