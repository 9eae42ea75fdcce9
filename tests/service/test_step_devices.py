"""Step-only data end to end: emulated step devices -> bleak -> service -> store.

A short time-compressed walk (two walking bouts at 100 and 60 steps/min between sitting and
standing) is collected from an RSC foot pod, an InfiniTime watch, a Thingy:52 and a MetaWear
board, each bound to its own wearer, through :func:`sensorhub.service.build_hub` and
:func:`sensorhub.service.run_sessions`. The stored walking bouts (and, for the foot pod's
wearer, who has no IMU, the stored epoch steps) are judged against the emulators' ground
truth: the heel strikes of the scenario.

Tolerances. Bouts are minute-level (epochs of 60 s aligned to UTC, and the walks start on
minute boundaries). A counter's increment is spread over the interval since its previous
reading, so a few steps of a bout's first and last reading interval land in the neighbouring
(non-walking) minute: InfiniTime reports every 10 s, so up to ~17 steps at 100 steps/min;
the Thingy:52 and the foot pod report every second. Each stored bout must match the truth
steps of its walk within 20 steps and its cadence within 5 steps/min.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from sensorhub.config import simulated_config
from sensorhub.detect.step_counts import RscCadenceTracker, StepCounterTracker
from sensorhub.model import NS_PER_S
from sensorhub.service import build_hub
from sensorhub.sim.backend import VirtualAir
from sensorhub.sim.fleet import SimulatedFleet
from sensorhub.sim.scenario import Scenario, Segment
from sensorhub.sim.virtual_time import run_virtual
from sensorhub.store import Outbox, Store, ns_from_utc
from tests.support.readers import OPERATOR

# ~12 s of CPU on the virtual clock; 50 s beside two CPU burners on a 2-core machine. Only a
# hang should fail it, not a slow machine (the suite's default is 120 s).
pytestmark = pytest.mark.timeout(600)

START_UTC_NS = 1_790_000_040 * NS_PER_S  # on a minute boundary
SPEED = 20.0  # on the virtual clock (run_virtual): no host delay splits a walk at any load
SCENARIO = Scenario(
    "step-devices",
    (
        Segment("sitting", 60),
        Segment("walking", 180, cadence_spm=100),
        Segment("standing", 60),
        Segment("walking", 120, cadence_spm=60),
        Segment("sitting", 60),
    ),
    seed=5,
)
WALKS_S = [(60.0, 240.0, 100.0), (300.0, 420.0, 60.0)]
PROFILES = ["rsc-footpod", "infinitime", "thingy52", "metawear"]
STEP_TOLERANCE = 20
CADENCE_TOLERANCE_SPM = 5.0


async def _collect(store: Store, outbox: Outbox) -> tuple[SimulatedFleet, dict[str, object]]:
    fleet = SimulatedFleet(VirtualAir(), SCENARIO, PROFILES, speed=SPEED, start_utc_ns=START_UTC_NS)
    config = simulated_config([(d.binding, d.settings) for d in fleet.devices], "sqlite://")
    await fleet.start()
    hub = build_hub(
        config,
        store.repository,
        outbox,
        backend=fleet.backend,
        clock=fleet.clock(),
        timing=fleet.timing,
        scan_timeout_s=2.0,
        connect_timeout_s=2.0,
        min_backoff_s=0.01,
        max_backoff_s=0.1,
        stall_timeout_s=1.0,
    )
    task = asyncio.create_task(hub.run())
    try:
        end_s = SCENARIO.duration_s - 5
        await asyncio.sleep(max(end_s - fleet.scenario_elapsed_s(), 0) / SPEED)
        for device in fleet.devices:
            device.emulator.hold_streams()
        await asyncio.sleep(0.5)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await fleet.stop()
    trackers = {r.wearer_id: r.step_tracker for r in hub.runtimes}
    return fleet, trackers  # type: ignore[return-value]


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, SimulatedFleet, dict]:  # type: ignore[type-arg]
    path: Path = tmp_path_factory.mktemp("steps") / "hub.db"
    store = Store.open(f"sqlite:///{path}")
    fleet, trackers = run_virtual(_collect(store, Outbox(path.with_suffix(".outbox"))))
    return store, fleet, trackers


def _truth_steps(fleet: SimulatedFleet, index: int, a_s: float, b_s: float) -> int:
    emulator = fleet.devices[index].emulator
    strikes = emulator.motion(10.0).step_times_s()
    return int(np.count_nonzero((strikes >= a_s) & (strikes < b_s)))


def _walk_bouts(store: Store, wearer: str) -> list[tuple[float, float, int, float, bool]]:
    """Stored gait bouts: (start s, end s, steps, cadence, from the IMU) in scenario s.

    Counter and pod bouts carry no stride time (a step count cannot measure it); bouts of a
    wearer's IMU all have one here.
    """
    events = store.queries.events(OPERATOR, wearer, "gait_bout")
    out = []
    for e in events:
        a = (ns_from_utc(e.start_at) - START_UTC_NS) / NS_PER_S
        b = (ns_from_utc(e.end_at) - START_UTC_NS) / NS_PER_S
        imu = e.data.get("stride_time_s") is not None
        out.append((a, b, int(e.data["steps"]), float(e.data["cadence_spm"]), imu))
    return sorted(out)


def _join_parts(
    bouts: list[tuple[float, float, int, float, bool]],
) -> list[tuple[float, float, int, float, bool]]:
    """Adjoining parts of one walk (an IMU bout and the rest of the counter's bout that the
    IMU did not see) as one: (first start, last end, summed steps, the longer part's cadence,
    whether the first part came from the IMU)."""
    out: list[tuple[float, float, int, float, bool]] = []
    for a, b, steps, cad, imu in bouts:
        if out and a - out[-1][1] <= 3.0:
            pa, pb, ps, pc, pi = out[-1]
            longer = cad if b - a > pb - pa else pc
            out[-1] = (pa, b, ps + steps, longer, pi)
        else:
            out.append((a, b, steps, cad, imu))
    return out


#: Reporting interval of each step source (s): a bout starts or ends within one of it.
REPORT_S = {"rsc-footpod": 1.5, "infinitime": 11.0, "thingy52": 1.5}


#: Where each wearer's bouts come from: a wrist IMU defers to the step source (it sees no arm
#: swing behind a rollator); a pocket IMU wins over the tag's counter (it measures strides).
FROM_IMU = {"rsc-footpod": False, "infinitime": False, "thingy52": True}


@pytest.mark.parametrize(
    ("index", "profile"), [(0, "rsc-footpod"), (1, "infinitime"), (2, "thingy52")]
)
def test_one_stored_bout_per_walk_matching_the_steps_sent(
    collected: tuple,  # type: ignore[type-arg]
    index: int,
    profile: str,
) -> None:
    """One bout per walk, from the source that wins for the wearer (a watch or tag has an IMU
    and a step counter). InfiniTime notifies only when its count changed, every 10 s: after a
    minute of standing its first report spans more than ``max_interval_s`` and is not placed
    (a gap is never filled), so its second bout starts up to 10 s late, short of those steps.
    The IMU's bouts start and end at a detected step."""
    store, fleet, trackers = collected
    wearer = fleet.devices[index].binding.wearer_id
    tracker = trackers[wearer]
    assert isinstance(
        tracker, RscCadenceTracker if profile == "rsc-footpod" else StepCounterTracker
    )
    bouts = _walk_bouts(store, wearer)
    bouts = _join_parts(bouts)
    assert len(bouts) == len(WALKS_S), bouts
    for (a, b, steps, cadence, imu), (wa, wb, wcad) in zip(bouts, WALKS_S, strict=True):
        truth = _truth_steps(fleet, index, wa, wb)
        if wcad >= 100:
            assert imu == FROM_IMU[profile], bouts
        # else: the slow walk may be pieced together from both sources: the emulated pocket
        # IMU does not always confirm all of it, and the watch's counter, reporting every
        # 10 s, starts late after standing; the other source fills in what one missed
        # an IMU bout runs from its first to its last detected step (<= 3 s break rule)
        tolerance_s = 3.0 if imu else REPORT_S[profile]
        assert abs(a - wa) <= tolerance_s, (a, wa)
        assert abs(b - wb) <= tolerance_s, (b, wb)
        assert abs(steps - truth) <= STEP_TOLERANCE, (steps, truth)
        assert abs(cadence - wcad) <= CADENCE_TOLERANCE_SPM, (cadence, wcad)


def test_foot_pod_wearer_epoch_steps_and_speed(collected: tuple) -> None:  # type: ignore[type-arg]
    store, fleet, _ = collected
    wearer = fleet.devices[0].binding.wearer_id
    since = dt.datetime.fromtimestamp(START_UTC_NS / NS_PER_S, dt.UTC)
    epochs = store.queries.epochs(
        OPERATOR, wearer, since=since, until=since + dt.timedelta(hours=1)
    )
    stored = sum(e.steps for e in epochs)
    truth = _truth_steps(fleet, 0, 0.0, SCENARIO.duration_s)
    assert abs(stored - truth) <= STEP_TOLERANCE, (stored, truth)
    walking = [e for e in epochs if e.posture == "walking"]
    assert len(walking) == 5
    bouts = store.queries.events(OPERATOR, wearer, "gait_bout")
    # the pod's speed: cadence / 120 x its 1.3 m stride
    assert [round(b.data["speed_mps"], 2) for b in bouts] == [
        pytest.approx(1.08, abs=0.02),
        pytest.approx(0.65, abs=0.02),
    ]


def test_wearers_with_an_imu_keep_the_imus_epochs(collected: tuple) -> None:  # type: ignore[type-arg]
    store, fleet, _trackers = collected
    for index in (1, 2):
        wearer = fleet.devices[index].binding.wearer_id
        since = dt.datetime.fromtimestamp(START_UTC_NS / NS_PER_S, dt.UTC)
        epochs = store.queries.epochs(
            OPERATOR, wearer, since=since, until=since + dt.timedelta(hours=1)
        )
        assert epochs, "the IMU pipeline writes epochs"
        assert all(e.enmo_mg > 0 for e in epochs if e.worn), "no step-only epoch overwrote them"


def test_metawear_sends_no_step_counter(collected: tuple) -> None:  # type: ignore[type-arg]
    """The MetaWear emulator streams acceleration only: its steps come from the IMU."""
    _store, fleet, trackers = collected
    tracker = trackers[fleet.devices[3].binding.wearer_id]
    assert isinstance(tracker, StepCounterTracker)
    assert tracker.total_steps_ == 0
