"""Known-answer tests of a bout's cadence from contacts with losses, extras and transients."""

from __future__ import annotations

import numpy as np
import pytest

from sensorhub.detect.cadence import bout_cadence_spm, steady_contacts
from sensorhub.detect.gait import bout_metrics
from sensorhub.model import NS_PER_S


def _walk(cadence: float, n: int, seed: int) -> np.ndarray:
    """Contacts of a steady walk: step times with 3 % jitter (Hausdorff 2005)."""
    rng = np.random.default_rng(seed)
    step = 60.0 / cadence * (1.0 + rng.normal(0.0, 0.03, n - 1))
    return np.concatenate(([0.0], np.cumsum(step)))


@pytest.mark.parametrize("cadence", [60.0, 95.0, 120.0])
def test_lost_and_extra_contacts_do_not_move_the_cadence(cadence: float) -> None:
    t = _walk(cadence, 40, int(cadence))
    lost = np.delete(t, [7, 19, 31])  # three contacts lost in turns
    extra = np.sort(np.concatenate((lost, [t[12] + 0.18, t[25] + 0.2])))  # two doubled
    assert bout_cadence_spm(extra) == pytest.approx(cadence, abs=1.0)


def test_a_weight_shift_before_setting_off_and_a_shuffle_after_stopping_are_trimmed() -> None:
    walk = 3.0 + _walk(100.0, 20, 1)
    contacts = np.concatenate(([0.9, 1.9], walk, [walk[-1] + 1.3]))
    assert steady_contacts(contacts)[0] == walk[0]
    assert steady_contacts(contacts)[-1] == walk[-1]
    nan = np.full(len(contacts), np.nan)
    bout = bout_metrics((contacts * NS_PER_S).astype(np.int64), nan, nan, nan, sensor_height_m=None)
    assert bout.cadence_spm == pytest.approx(100.0, abs=1.0)
    assert bout.steps == len(contacts)  # the trimmed steps still count
