"""Emulated wearables on a real BLE stack (bumble), reachable through bleak's ``backend=`` hook.

The simulation package serves the demo, ``sensorhub run --simulate``, ``sensorhub scan
--simulate`` and the tests; production code never imports it (an import-linter contract keeps
that true). Its parts:

``backend``
    :class:`~sensorhub.sim.backend.VirtualAir` (an in-process radio) and the bleak backends
    :class:`~sensorhub.sim.backend.BumbleScanner` and
    :class:`~sensorhub.sim.backend.BumbleClient`.
``scenario``
    Scripted, time-compressible motion scenarios and a generator of body-worn accelerations
    for every placement (chest, lower back, hip, thigh, pocket, wrist, foot).
``base``
    :class:`~sensorhub.sim.base.EmulatedWearable`, the common base of every emulator:
    lifecycle, scenario and device clocks, paced streams, fault injection, ground truth.
``faults``
    :class:`~sensorhub.sim.faults.FaultSpec` (``disconnects=50,corrupt=0.01,...``) and the
    per-emulator :class:`~sensorhub.sim.faults.FaultPlan`.
``polar_h10``
    Emulated Polar H10 and Verity Sense speaking Polar PMD over GATT.
``wearables``
    Emulated open-IMU band, InfiniTime watch, Thingy:52, MetaWear and RSC foot pod with heart
    rate; :data:`~sensorhub.sim.wearables.EMULATORS` maps profile models to them.
``fleet``
    :class:`~sensorhub.sim.fleet.SimulatedFleet`: N emulators plus the bindings, backend,
    clock and timing the collector needs to collect from them.
``virtual_time``
    :class:`~sensorhub.sim.virtual_time.VirtualTimeLoop`, an event loop whose clock moves only
    when every task waits for a timer: emulation on it gives the same timeline on any machine,
    however loaded (the tests run on it).
"""
