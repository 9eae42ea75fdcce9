"""Every supported profile streams through bleak's public API and is decoded correctly."""

from __future__ import annotations

import numpy as np
import pytest
from collector_support import collect

from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.fleet import FLEET_ORDER
from sensorhub.sim.scenario import Scenario, Segment

SCENARIO = Scenario(
    "stand-walk", (Segment("standing", 30), Segment("walking", 60, cadence_spm=110)), seed=9
)


@pytest.mark.parametrize("model", FLEET_ORDER)
async def test_profile_streams_and_decodes(air: VirtualAir, model: str) -> None:
    fleet, [result] = await collect(air, [model], SCENARIO, speed=40.0, until_s=60.0)
    emulator, session = result.device.emulator, result.session
    counters = session.counters
    assert counters.decode_errors == 0
    assert not counters.gaps
    if model == "rsc-footpod":
        sent = emulator.samples("sent")
        assert counters.measurements >= sent > 10
        cadences = [s.cadence_spm for s in result.steps if s.cadence_spm is not None]
        assert 110 in cadences  # walking at 110 steps/min
        assert any(s.heart_rate_bpm for s in result.steps)
        return
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
    # and on the wearer's timeline (UTC of scenario time), within the link's delay
    first_s = (t[0] - fleet.start_utc_ns) / 1e9
    assert first_s == pytest.approx(sent[0].first_time_s, abs=0.05 * fleet.speed)
    assert session.health.battery_pct is not None
