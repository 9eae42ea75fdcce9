"""Device roles: one place decides which device feeds motion, steps and nudges."""

from __future__ import annotations

from sensorhub.ble.session import BleakBackend
from sensorhub.config import parse_config
from sensorhub.model import Placement
from sensorhub.service import assign_roles, backend_for

CONFIG = """
[[wearers]]
id = "ada"
name = "Ada"

[[wearers]]
id = "bo"
name = "Bo"

[[devices]]
wearer = "ada"
profile = "infinitime"
name = "InfiniTime 01"
placement = "wrist"

[[devices]]
wearer = "ada"
profile = "open-imu"
name = "OpenIMU 0001"

[[devices]]
wearer = "ada"
profile = "rsc-footpod"
name = "FootPod 01"

[[devices]]
wearer = "bo"
profile = "rsc-footpod"
name = "FootPod 02"
"""


def test_each_device_gets_its_roles_in_one_place() -> None:
    ada, bo = assign_roles(parse_config(CONFIG))
    # the first motion device feeds the pipeline: the wrist band here, not the hip IMU
    assert ada.motion is not None
    assert ada.motion.name == "InfiniTime 01"
    assert ada.placement == Placement.WRIST
    # the foot pod counts steps before the band's counter (it sees steps behind a rollator)
    assert ada.steps is not None
    assert ada.steps.name == "FootPod 01"
    assert ada.steps_yield_cadence
    # a wrist sees no arm swing behind a rollator: the foot pod's walking bouts win
    assert ada.preferred_bouts == "steps"
    # the band that can buzz is tried first
    assert ada.nudge[0].name == "InfiniTime 01"
    assert {d.name for d in ada.nudge} == {d.name for d in ada.devices}
    # a wearer with a foot pod only: no pipeline, steps from the pod
    assert bo.motion is None
    assert bo.steps is not None
    assert bo.preferred_bouts == "steps"


def test_a_device_pinned_to_an_adapter_gets_bluez_adapter_arguments() -> None:
    base = BleakBackend(scanner_kwargs={"x": 1}, client_kwargs={"y": 2})
    assert backend_for(base, None) is base
    pinned = backend_for(base, "hci1")
    assert pinned.scanner_kwargs == {"x": 1, "bluez": {"adapter": "hci1"}}
    assert pinned.client_kwargs == {"y": 2, "bluez": {"adapter": "hci1"}}
