"""FaultSpec parsing and the reproducible plan emulators follow."""

from __future__ import annotations

import pytest

from sensorhub.sim.faults import FaultPlan, FaultSpec


def test_the_documented_example_parses_and_prints_back() -> None:
    spec = FaultSpec.parse(
        "disconnects=50,corrupt=0.01,loss=0.001,refuse=3,skew_ppm=80,jump_s=30,reboot=1"
    )
    assert spec == FaultSpec(50, 3, 0.001, 0.01, 80.0, 30.0, 1)
    assert FaultSpec.parse(str(spec)) == spec
    assert FaultSpec.parse("") == FaultSpec()
    assert not FaultSpec().any


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("disconects=5", "bad fault 'disconects=5': use key=value with keys disconnects"),
        ("corrupt=lots", "bad value in fault 'corrupt=lots': corrupt takes a number"),
        ("loss=0.7,corrupt=0.5", "loss \\+ corrupt cannot exceed 1"),
        ("reboot=-1", "cannot be negative"),
    ],
)
def test_bad_specs_say_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FaultSpec.parse(text)


def test_plans_are_reproducible_and_spread_inside_the_run() -> None:
    spec = FaultSpec(disconnects=50, reboot=2, jump_s=30, loss=0.1)
    a, b = FaultPlan.build(spec, 1000.0, seed=4), FaultPlan.build(spec, 1000.0, seed=4)
    assert a.disconnect_at_s == b.disconnect_at_s
    assert len(a.disconnect_at_s) == 50
    assert a.disconnect_at_s[0] >= 50
    assert a.disconnect_at_s[-1] <= 950
    assert a.jump_at_s == 500.0
    fates = [a.frame_fate() for _ in range(5000)]
    assert 0.08 < fates.count("lost") / 5000 < 0.12
