"""Emulated wearables on a real BLE stack (bumble), reachable through bleak's ``backend=`` hook.

The simulation package serves the demo and the tests; production code never imports it
(an import-linter contract keeps that true). Its parts:

``backend``
    :class:`~sensorhub.sim.backend.VirtualAir` (an in-process radio) and the bleak backends
    :class:`~sensorhub.sim.backend.BumbleScanner` and
    :class:`~sensorhub.sim.backend.BumbleClient`.
``scenario``
    Scripted, time-compressible motion scenarios and a generator of body-worn accelerations.
``polar_h10``
    An emulated Polar H10 chest strap speaking Polar PMD over GATT.
"""
