"""Caregiver alerts: kinds, states, per-wearer settings and the rules that raise them (pure).

Nothing here does I/O or runs a clock: :class:`AlertRules` is fed with the pipeline's output
and the devices' health and returns alert transitions, which the hub stores through its
outbox (``sensorhub.service``) and a notifier delivers.
"""

from sensorhub.alerts.kinds import (
    FINAL_STATES,
    SEVERITY,
    Alert,
    AlertKind,
    AlertState,
    Severity,
    alert_id,
    moves_forward,
    state_rank,
)
from sensorhub.alerts.rules import AlertRules, DeviceStatus, Observation
from sensorhub.alerts.settings import AlertSettings

__all__ = [
    "FINAL_STATES",
    "SEVERITY",
    "Alert",
    "AlertKind",
    "AlertRules",
    "AlertSettings",
    "AlertState",
    "DeviceStatus",
    "Observation",
    "Severity",
    "alert_id",
    "moves_forward",
    "state_rank",
]
