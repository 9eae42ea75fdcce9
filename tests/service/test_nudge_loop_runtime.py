"""The nudge loop in the runtime: a break after a nudge is stored as its response (also across
a restart), the late-day walking nudge, the wearer's own limits, and gait speed for a wearer
whose height is configured."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sensorhub.ble.clock import SystemClock
from sensorhub.ble.session import BleakBackend
from sensorhub.config import DeviceConfig, WearerConfig, parse_config
from sensorhub.model import NS_PER_S, CurrentBout, Placement, Posture, SampleBlock
from sensorhub.service import (
    NudgeDispatcher,
    WearerDevices,
    WearerRuntime,
    WriteOutbox,
    build_hub,
)
from sensorhub.service.hub import Hub as HubParts
from sensorhub.sim.scenario import SCENARIOS, MotionGenerator, Scenario, Segment
from sensorhub.store import LiveRecord, NudgeRecord, Outbox, Store, ns_from_utc
from sensorhub.wearer_settings import WearerSettings
from tests.support.readers import OPERATOR

FS = 50.0
MORNING = int(dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC).timestamp()) * NS_PER_S


def blocks(
    scenario: Scenario,
    t0: int,
    placement: Placement = Placement.CHEST,
    seconds_per_block: float = 20.0,
) -> list[SampleBlock]:
    generator = MotionGenerator(scenario, placement, fs_hz=FS)
    out, index, n = [], 0, int(seconds_per_block * FS)
    while not generator.exhausted:
        acc = generator.next_samples(n)
        t = t0 + ((index + np.arange(len(acc))) * (NS_PER_S / FS)).astype(np.int64)
        out.append(SampleBlock(t, acc, FS))
        index += len(acc)
    return out


def wearer(
    placement: Placement = Placement.CHEST, *, height_cm: float | None = None
) -> WearerDevices:
    band = DeviceConfig("w1", "open-imu", placement, name="band")
    return WearerDevices(
        WearerConfig("w1", "Ada", height_cm=height_cm), (band,), band, None, (band,)
    )


class Runner:
    """One wearer's runtime with the real write path (outbox + database) and dispatcher."""

    def __init__(
        self,
        store: Store,
        outbox_path: Path,
        devices: WearerDevices,
        *,
        resume: LiveRecord | None = None,
        recent: Sequence[NudgeRecord] = (),
        settings: WearerSettings | None = None,
    ) -> None:
        self.writer = WriteOutbox(Outbox(outbox_path), store.repository, min_retry_s=0.05)
        self.dispatcher = NudgeDispatcher(self.writer, timeout_s=1.0)
        self.runtime = WearerRuntime(
            devices, self.writer, self.dispatcher.submit, live_interval_s=0, resume=resume,
            recent_nudges=recent, settings=settings,
        )  # fmt: skip

    async def feed(self, data: Sequence[SampleBlock], *, finish: bool = True) -> None:
        drainer = asyncio.create_task(self.writer.run())
        try:
            for block in data:
                await self.runtime.on_block(block)
                await asyncio.sleep(0)
            if finish:
                await self.runtime.finish()
            await self.dispatcher.finish()
        finally:
            drainer.cancel()
            await asyncio.gather(drainer, return_exceptions=True)
        await self.writer.finish(timeout_s=2.0)
        self.writer.outbox.close()


def _open(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    store.repository.ensure_wearer("w1", "Ada")
    return store


def test_a_walk_within_ten_minutes_of_a_nudge_is_stored_as_its_response(tmp_path: Path) -> None:
    """e2e-short: sitting from the start, the 30-min nudge, a walk at minute 35."""
    store = _open(tmp_path)
    data = blocks(SCENARIOS["e2e-short"], MORNING)
    asyncio.run(Runner(store, tmp_path / "outbox", wearer()).feed(data))
    [nudge] = store.queries.nudges(OPERATOR, "w1")
    [sitting, *_] = store.queries.events(OPERATOR, "w1", "static_bout")
    store.close()
    assert nudge.outcome == "moved"
    assert nudge.response_s is not None
    # the break began when the walk did: 35 min after the scenario's start
    assert nudge.response_s == (sitting.end_at - nudge.sent_at).total_seconds()
    assert abs((ns_from_utc(sitting.end_at) - MORNING) / NS_PER_S - 35 * 60) < 20
    assert 4 * 60 < nudge.response_s < 6 * 60


def test_a_response_after_a_restart_is_still_recorded(tmp_path: Path) -> None:
    """The hub is killed at minute 33 (after the nudge, before the walk) and restarts 20 s
    later: the walk at minute 35 is still the nudge's response, stored once."""
    store = _open(tmp_path)
    data = blocks(SCENARIOS["e2e-short"], MORNING)
    kill = 99  # blocks of 20 s
    asyncio.run(Runner(store, tmp_path / "outbox", wearer()).feed(data[:kill], finish=False))
    live = store.repository.live_state("w1")
    assert live is not None
    recent = store.repository.nudges_since("w1", live.device_time_ns - 3600 * NS_PER_S)
    [before] = store.queries.nudges(OPERATOR, "w1")
    assert before.outcome is None
    second = Runner(store, tmp_path / "outbox", wearer(), resume=live, recent=recent)
    asyncio.run(second.feed(data[kill + 1 :]))
    [after] = store.queries.nudges(OPERATOR, "w1")
    store.close()
    assert after.id == before.id
    assert after.outcome == "moved"
    assert after.response_s is not None
    assert 4 * 60 < after.response_s < 6 * 60


def test_late_in_the_day_a_wearer_behind_the_walking_goal_gets_one_walking_nudge(
    tmp_path: Path,
) -> None:
    """At 17:05 with no walking yet today: one walking nudge (not repeated), and the
    wearer's own 20-min sitting limit nudges at 20 min, not at 30."""
    store = _open(tmp_path)
    evening = int(dt.datetime(2026, 11, 23, 17, 5, tzinfo=dt.UTC).timestamp()) * NS_PER_S
    scenario = Scenario("sit-25", (Segment("sitting", 25 * 60),), seed=3)
    own = WearerSettings(sitting_limit_min=20)
    runner = Runner(store, tmp_path / "outbox", wearer(), settings=own)
    asyncio.run(runner.feed(blocks(scenario, evening)))
    nudges = store.queries.nudges(OPERATOR, "w1")
    store.close()
    # a chest sensor cannot tell sitting from standing: "stationary", with the sitting limit
    assert [n.reason for n in nudges] == ["walking_goal", "static_load_stationary"]
    walking, sitting = nudges
    assert (ns_from_utc(walking.sent_at) - evening) / NS_PER_S < 60
    assert "0 of your 20 minutes" in walking.message
    assert 20 * 60 <= sitting.bout_duration_s < 21 * 60


def test_a_configured_height_gives_gait_speed_and_the_shuffling_share(tmp_path: Path) -> None:
    """A lower-back sensor: with ``height_cm`` in the hub config the stored walking bouts
    carry a speed and a shuffling share; without it they carry neither."""
    config = parse_config(
        '[[wearers]]\nid = "w1"\nheight_cm = 172\n\n'
        '[[devices]]\nwearer = "w1"\nprofile = "open-imu"\nname = "band"\n'
        'placement = "lower_back"\n'
    )
    scenario = Scenario(
        "walk", (Segment("standing", 20), Segment("walking", 100, cadence_spm=108)), seed=5
    )
    data = blocks(scenario, MORNING, Placement.LOWER_BACK, seconds_per_block=10.0)
    speeds = {}
    for given in (True, False):
        path = tmp_path / str(given)
        path.mkdir()
        store = _open(path)
        settings = config.wearer_settings("w1") if given else WearerSettings()
        devices = wearer(Placement.LOWER_BACK)
        asyncio.run(Runner(store, path / "outbox", devices, settings=settings).feed(data))
        bouts = store.queries.events(OPERATOR, "w1", "gait_bout")
        store.close()
        assert bouts
        speeds[given] = [(b.data["speed_mps"], b.data["shuffling_pct"]) for b in bouts]
    assert config.wearer_settings("w1").height_cm == 172
    assert all(0.5 < speed < 2.0 and share is not None for speed, share in speeds[True])
    assert all(speed is None and share is None for speed, share in speeds[False])


def test_the_hub_applies_stored_settings_and_a_snooze_to_the_running_engine(
    tmp_path: Path,
) -> None:
    store = _open(tmp_path)
    runner = Runner(store, tmp_path / "outbox", wearer())
    runtime = runner.runtime
    seen: dict[str, dt.datetime] = {}
    stored = (
        WearerSettings(sitting_limit_min=12, quiet_start_hour=22).to_json(),
        dt.datetime.now(dt.UTC),
    )
    HubParts.follow_wearer(runtime, stored, [(MORNING, MORNING + 3600 * NS_PER_S)], seen=seen)
    store.close()
    assert runtime.nudges.settings.sitting_limit_s == 12 * 60
    assert runtime.nudges.settings.quiet_start_hour == 22
    bout = CurrentBout(MORNING, Posture.SITTING, MORNING + 40 * 60 * NS_PER_S)
    held = runtime.nudges.update(now_ns=bout.last_ns, bout=bout, posture=Posture.SITTING)
    assert held is None  # snoozed until an hour after the bout's start
    later = CurrentBout(MORNING, Posture.SITTING, MORNING + 61 * 60 * NS_PER_S)
    assert runtime.nudges.update(now_ns=later.last_ns, bout=later, posture=Posture.SITTING)


HUB_TOML = """
[[wearers]]
id = "w1"
name = "Ada"
height_cm = 165

[wearers.nudges]
sitting_limit_min = {limit}

[[devices]]
wearer = "w1"
profile = "open-imu"
name = "band"
placement = "hip"
"""


def test_the_hub_stores_settings_from_its_config_once_and_runs_on_the_stored_ones(
    tmp_path: Path,
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")

    def start(limit: int) -> WearerRuntime:
        outbox = Outbox(tmp_path / "outbox")
        config = parse_config(HUB_TOML.format(limit=limit))
        hub = build_hub(
            config, store.repository, outbox, backend=BleakBackend(), clock=SystemClock()
        )
        outbox.close()
        [runtime] = hub.runtimes
        return runtime

    first = start(25)
    stored = store.repository.wearer_settings("w1")
    assert stored is not None
    assert stored[0]["sitting_limit_min"] == 25
    assert stored[0]["height_cm"] == 165
    assert stored[0]["sensor_placement"] == "hip"
    assert first.nudges.settings.sitting_limit_s == 25 * 60
    assert first.pipeline.settings.height_m == 1.65
    # the wearer changes their limit; a restart with another config value keeps theirs
    changed = dataclasses.replace(WearerSettings.from_json(stored[0]), sitting_limit_min=35)
    store.accounts.save_wearer_settings("w1", changed, actor="w1")
    second = start(40)
    store.close()
    assert second.nudges.settings.sitting_limit_s == 35 * 60
    assert second.settings.height_cm == 165
