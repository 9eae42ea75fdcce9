"""Every supported profile streams through bleak's public API and is decoded correctly.

One fleet with one emulator per profile streams together; each test judges one device
against the emulator's own log of what it sent.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from sensorhub.model import NS_PER_S
from sensorhub.sim.base import TruthFrame
from sensorhub.sim.fleet import FLEET_ORDER
from sensorhub.sim.scenario import Scenario, Segment
from tests.support.collector import START_UTC_NS, Collected, run_collect

SPEED = 25.0
SCENARIO = Scenario(
    "stand-walk", (Segment("standing", 30), Segment("walking", 60, cadence_spm=110)), seed=9
)


def _sample_times_s(frame: TruthFrame) -> NDArray[np.float64]:
    """Scenario times of a frame's samples."""
    index = frame.first_sample_index + np.arange(frame.n_samples)
    return np.asarray(index / frame.sample_rate_hz, dtype=np.float64)


@pytest.fixture(scope="module")
def fleet_run() -> dict[str, Collected]:
    results = run_collect(FLEET_ORDER, SCENARIO, speed=SPEED, until_s=80.0)
    return {r.device.binding.profile: r for r in results}


@pytest.mark.parametrize("model", [m for m in FLEET_ORDER if m != "rsc-footpod"])
def test_imu_profile_streams_and_decodes(fleet_run: dict[str, Collected], model: str) -> None:
    result = fleet_run[model]
    emulator, session = result.device.emulator, result.session
    counters = session.counters
    assert counters.decode_errors == 0
    assert not counters.gaps
    # every sample the device sent arrived, and nothing else
    assert result.samples == emulator.samples("sent") > 100
    # the values are what the wearer's motion generator produced (quantised by the codec)
    sent = emulator.frames("sent")
    truth = np.concatenate([emulator.acc_truth_g(f) for f in sent])
    received = np.concatenate([b.acc_g for b in result.blocks])
    np.testing.assert_allclose(received, truth, atol=2.5e-3)
    # every sample lies at its time on the wearer's timeline (UTC of scenario time). The run
    # is on a virtual clock, where the link has no delay whatever the machine's load: the
    # device clock -> UTC mapping must then be exact, but for the ns roundings of the clocks
    # (x SPEED); a sample placed a period (20-100 ms) or a frame off fails. The mapping under
    # real link delays is tested in tests/ble/test_timesync.py.
    t = np.concatenate([b.t_ns for b in result.blocks])
    assert np.all(np.diff(t) > 0)
    scenario_s = np.concatenate([_sample_times_s(f) for f in sent])
    np.testing.assert_allclose((t - START_UTC_NS) / NS_PER_S, scenario_s, rtol=0, atol=1e-6)
    assert session.health.battery_pct is not None
    assert session.health.rssi_dbm is not None


def test_foot_pod_streams_cadence_speed_and_heart_rate(fleet_run: dict[str, Collected]) -> None:
    result = fleet_run["rsc-footpod"]
    counters = result.session.counters
    assert counters.decode_errors == 0
    assert counters.measurements >= result.device.emulator.samples("sent") > 10
    cadences = {s.cadence_spm for s in result.steps if s.cadence_spm is not None}
    assert {0.0, 110.0} <= cadences  # standing, then walking at 110 steps/min
    walking = [s for s in result.steps if s.cadence_spm == 110.0]
    assert walking[-1].speed_mps == pytest.approx(110 / 120 * 1.3, abs=0.01)
    assert any(s.heart_rate_bpm for s in result.steps)


def test_step_counters_count_the_scenarios_steps(fleet_run: dict[str, Collected]) -> None:
    for model in ("infinitime", "thingy52"):
        steps = [s.steps_total for s in fleet_run[model].steps if s.steps_total is not None]
        # ~110 steps/min for 50 s of walking by the end of the run
        assert 70 <= max(steps) <= 125, (model, max(steps))


def test_nudges_use_what_the_device_offers(fleet_run: dict[str, Collected]) -> None:
    methods = {m: r.session.nudge_method for m, r in fleet_run.items()}
    assert methods["infinitime"] == "alert-notification"
    assert methods["open-imu"] == "immediate-alert"
    assert methods["polar-h10"] == "immediate-alert"  # the emulated strap has a motor sink
    assert methods["metawear"] is None  # dashboard-only
    assert methods["rsc-footpod"] is None
