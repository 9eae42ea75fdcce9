"""The nudge result and the strings the store keeps for it (sensorhub.ble.drivers)."""

from __future__ import annotations

import pytest

from sensorhub.ble.drivers import NudgeDelivery, NudgeOutcome


@pytest.mark.parametrize(
    ("delivery", "stored", "reached"),
    [
        (NudgeDelivery(NudgeOutcome.ACKNOWLEDGED), "acknowledged", True),
        (NudgeDelivery(NudgeOutcome.WRITTEN), "written-unacknowledged", True),
        (NudgeDelivery.failed("timed out after 5 s"), "failed: timed out after 5 s", False),
        (NudgeDelivery.failed(""), "failed: unknown error", False),
        (NudgeDelivery(NudgeOutcome.DASHBOARD_ONLY), "dashboard-only", False),
    ],
)
def test_stored_strings(delivery: NudgeDelivery, stored: str, reached: bool) -> None:
    """Each outcome has one stored form; only acknowledged and written reached the device."""
    assert delivery.stored == str(delivery) == stored
    assert delivery.reached_device is reached


def test_a_long_failure_fits_the_column() -> None:
    """The store's delivery column holds 200 characters."""
    assert len(NudgeDelivery.failed("x" * 500).stored) == 200
