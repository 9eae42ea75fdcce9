"""Every supported profile streams through bleak's public API and is decoded correctly.

One fleet with one emulator per profile streams together; each test judges one device
against the emulator's own log of what it sent.
"""

from __future__ import annotations

import numpy as np
import pytest
from collector_support import START_UTC_NS, Collected, run_collect

from sensorhub.sim.fleet import FLEET_ORDER
from sensorhub.sim.scenario import Scenario, Segment

SPEED = 25.0
SCENARIO = Scenario(
    "stand-walk", (Segment("standing", 30), Segment("walking", 60, cadence_spm=110)), seed=9
)


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
    # times are strictly increasing, spaced at the sample period
    t = np.concatenate([b.t_ns for b in result.blocks])
    assert np.all(np.diff(t) > 0)
    period_ns = 1e9 / sent[0].sample_rate_hz
    assert np.median(np.diff(t)) == pytest.approx(period_ns, rel=0.02)
    # and on the wearer's timeline (UTC of scenario time), late by no more than the link's
    # delay: here up to 0.1 s of real time (7 emulators and the collector share one event
    # loop on a shared machine), i.e. SPEED times more of the wearer's time. Devices that
    # stamp their samples are exact on their own clock; see test_faults for gap bounds.
    last_s = (t[-1] - START_UTC_NS) / 1e9
    assert 0 <= last_s - sent[-1].last_time_s <= 0.1 * SPEED
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
