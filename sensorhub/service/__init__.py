"""Wiring: device sessions -> wearer runtimes -> outbox -> database, and nudges to the bands.

The hub's runtime, one class per responsibility:

========================  =====================================================================
``roles.WearerDevices``   which of a wearer's devices feeds motion, steps and nudges (one place)
``wearer.WearerRuntime``  one wearer's pipeline, step tracker, walking-bout arbiter, nudge engine
``writer.WriteOutbox``    durable writes: records into the on-disk outbox, drained to the database
``dispatcher.NudgeDispatcher``  delivers decided nudges with a timeout, outside the wearer's lock
``notifier.AlertNotifier``  tells caregivers about open alerts (apprise), repeats, escalates
``hub.Hub``               runs the sessions (each supervised), drainer and health in a TaskGroup
========================  =====================================================================

``build_hub`` builds all of it from a hub config, for real bands, ``run --simulate``, the
demo and the tests alike.
"""

from sensorhub.service.dispatcher import NudgeDispatcher
from sensorhub.service.hub import (
    Hub,
    backend_for,
    build_hub,
    health_counters,
    session_summary,
    storage_summary,
    until_stopped,
)
from sensorhub.service.notifier import AlertNotifier
from sensorhub.service.roles import WearerDevices, assign_roles
from sensorhub.service.wearer import WearerRuntime
from sensorhub.service.writer import WriteOutbox, WriteStats

__all__ = [
    "AlertNotifier",
    "Hub",
    "NudgeDispatcher",
    "WearerDevices",
    "WearerRuntime",
    "WriteOutbox",
    "WriteStats",
    "assign_roles",
    "backend_for",
    "build_hub",
    "health_counters",
    "session_summary",
    "storage_summary",
    "until_stopped",
]
