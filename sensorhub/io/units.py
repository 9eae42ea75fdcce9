"""Units of recorded acceleration and the plausibility checks that catch wrong ones.

A recording in the wrong units is read without complaint by a reader that only checks shapes,
and a still recording in milli-g then "walks" hundreds of steps. Two checks catch this before
the analysis starts:

* **The median magnitude** (over the first :data:`MEDIAN_ROWS` samples). Every worn or resting
  accelerometer measures gravity, so the median of ``|a|`` is close to 1 g: 0.38 to 1.29 g
  over the 512 recordings in the shared datasets (the lowest is a 20-s jumping trial, the
  highest an older adult's chest).
  :data:`MEDIAN_G_RANGE` (0.2 to 3 g) is wide around that, so no real recording in g falls
  outside, while the same recordings in m/s² (median about 9.8) or milli-g (about 1000) do;
  the error then names the units that fit (``--units mg``).
* **The largest value.** No body-worn accelerometer measures beyond ±200 g
  (:data:`MAX_ABS_G`): activity monitors and consumer IMUs have full-scale ranges of ±2 to
  ±16 g (Axivity AX3, ActiGraph GT9X: ±16 g; GENEActiv: ±8 g), and the high-g parts used in
  impact research top out at ±200 g (Analog Devices ADXL372 and ADXL377). A larger value is a
  damaged value, a missing-value code (-9999) or wrong units. ±16 g is not the limit, because a
  recording from a ±32 g or ±200 g part is valid data.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from sensorhub.errors import RecordingError

Units = Literal["g", "mg", "m/s2"]

#: Accepted ``--units``, with the factor that turns a value in those units into g.
#: m/s² uses standard gravity, 9.80665 m/s² (3rd CGPM, 1901), as the shared datasets do.
TO_G: Final[dict[str, float]] = {"g": 1.0, "mg": 1e-3, "m/s2": 1.0 / 9.80665}

#: Plausible median acceleration magnitude of a recording, in g (see the module docstring).
MEDIAN_G_RANGE: Final = (0.2, 3.0)

#: Largest plausible value of one axis, in g (see the module docstring).
MAX_ABS_G: Final = 200.0

#: The median magnitude is taken over the first this many (finite) samples: 17 min at 100 Hz,
#: the same for every format. Small on purpose: large temporary arrays make glibc keep freed
#: memory for the rest of the run (its mmap threshold grows to the largest one freed).
MEDIAN_ROWS: Final = 100_000


def magnitude(acc: NDArray[np.float64]) -> NDArray[np.float64]:
    """``|a|`` per row; inf (not an overflow warning) for absurdly large values."""
    with np.errstate(over="ignore"):
        return np.asarray(np.sqrt(np.einsum("ij,ij->i", acc, acc)), dtype=np.float64)


def to_g(units: str) -> float:
    """The factor from ``units`` to g; a :class:`RecordingError` for an unknown unit."""
    try:
        return TO_G[units]
    except KeyError:
        raise RecordingError(
            f"unknown acceleration units {units!r}: use one of {', '.join(TO_G)}"
        ) from None


def check_units(
    where: str,
    units: str,
    median_mag: float,
    max_abs: float,
    max_at: str,
    *,
    integer_dtype: str | None = None,
) -> None:
    """Refuse acceleration that is implausible in ``units``, saying which units would fit.

    Parameters
    ----------
    where
        The file, for the message.
    units
        The units the values are declared in (``--units``).
    median_mag
        Median of ``|a|`` over the first :data:`MEDIAN_ROWS` finite samples, in ``units``.
    max_abs
        Largest absolute value of any axis over the recording, in ``units``.
    max_at
        Where that value is ("line 12, acc_x" or "sample 12"), for the message.
    integer_dtype
        The array's integer dtype, if it holds integers (None for floats and CSV text).

    Raises
    ------
    RecordingError
        With one line: what looks wrong and the option or conversion that fixes it.
    """
    lo, hi = MEDIAN_G_RANGE
    med_g = median_mag * to_g(units)
    if not lo <= med_g <= hi:
        fits = [u for u, f in TO_G.items() if u != units and lo <= median_mag * f <= hi]
        if fits:
            raise RecordingError(
                f"{where}: values look like {fits[0]}, not {units} (median magnitude "
                f"{median_mag:.4g}; gravity alone is 1 g): pass --units {fits[0]}"
            )
        if med_g < lo:
            raise RecordingError(
                f"{where}: the acceleration hardly includes gravity (median magnitude "
                f"{med_g:.3g} g, a worn or resting sensor reads about 1 g): sensorhub needs the "
                "raw accelerometer including gravity, in g, mg or m/s2 (not 'linear "
                "acceleration')"
            )
        raise RecordingError(
            f"{where}: median acceleration magnitude {median_mag:.4g} {units} ({med_g:.3g} g) "
            "is not a worn or resting accelerometer's (about 1 g, gravity): convert the "
            "values to g, mg or m/s2 (raw counts: divide by the sensor's counts per g)"
        )
    if integer_dtype is not None and units == "g":
        raise RecordingError(
            f"{where}: 'acc' holds integers ({integer_dtype}) but acceleration in g needs "
            "fractions: store float g, or pass --units mg if the integers are milli-g"
        )
    max_g = max_abs * to_g(units)
    if not max_g <= MAX_ABS_G:
        raise RecordingError(
            f"{where}: {max_at} reads {max_abs:.4g} {units} ({max_g:.3g} g), beyond the "
            f"±{MAX_ABS_G:.0f} g any body-worn accelerometer measures: a damaged value, a "
            "missing-value code or wrong units; fix or drop that sample"
        )
