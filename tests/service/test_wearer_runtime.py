"""WearerRuntime and the write path: what the pipeline finds reaches the store exactly once,
across database outages, a shutdown with the database down, and a restart mid-bout."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import psycopg
import pytest

from sensorhub.ble.drivers import NudgeDelivery, NudgeOutcome
from sensorhub.config import DeviceConfig, WearerConfig
from sensorhub.model import NS_PER_S, Event, Placement, Posture, SampleBlock
from sensorhub.pipeline import Pipeline
from sensorhub.service import NudgeDispatcher, WearerDevices, WearerRuntime, WriteOutbox
from sensorhub.service.dispatcher import NudgeTarget
from sensorhub.sim.scenario import SCENARIOS, MotionGenerator
from sensorhub.store import LiveRecord, NudgeRecord, Outbox, Store
from sensorhub.store import ns_from_utc as utc_ns
from tests.support.readers import OPERATOR

T0 = 1_795_422_600 * NS_PER_S  # 2026-11-23 08:30 UTC
FS = 50.0


def blocks(seconds_per_block: float = 20.0, scenario: str = "e2e-short") -> list[SampleBlock]:
    generator = MotionGenerator(SCENARIOS[scenario], fs_hz=FS)
    out, index, n = [], 0, int(seconds_per_block * FS)
    while not generator.exhausted:
        acc = generator.next_samples(n)
        t = T0 + ((index + np.arange(len(acc))) * (NS_PER_S / FS)).astype(np.int64)
        out.append(SampleBlock(t, acc, FS))
        index += len(acc)
    return out


def chest_wearer(wearer_id: str = "w1") -> WearerDevices:
    strap = DeviceConfig(wearer_id, "polar-h10", Placement.CHEST, name="strap")
    return WearerDevices(WearerConfig(wearer_id, "Ada"), (strap,), strap, None, (strap,))


class Hub:
    """One wearer's runtime with a real write path (outbox + database) and dispatcher."""

    def __init__(
        self,
        store: Store,
        outbox_path: Path,
        *,
        resume: LiveRecord | None = None,
        recent: Sequence[NudgeRecord] = (),
        targets: Sequence[NudgeTarget] = (),
    ) -> None:
        self.outbox = Outbox(outbox_path)
        self.writer = WriteOutbox(self.outbox, store.repository, min_retry_s=0.05, max_retry_s=0.2)
        self.dispatcher = NudgeDispatcher(self.writer, timeout_s=1.0)
        self.runtime = WearerRuntime(
            chest_wearer(), self.writer, self.dispatcher.submit, live_interval_s=0,
            resume=resume, recent_nudges=recent,
        )  # fmt: skip
        self.runtime.nudge_targets = list(targets)

    async def feed(self, data: Sequence[SampleBlock], *, finish: bool = True) -> None:
        drainer = asyncio.create_task(self.writer.run())
        try:
            for block in data:
                await self.runtime.on_block(block)
                await asyncio.sleep(0)  # let the drainer run, as on a live hub
            if finish:
                await self.runtime.finish()
            await self.dispatcher.finish()
        finally:
            drainer.cancel()
            await asyncio.gather(drainer, return_exceptions=True)
        await self.writer.finish(timeout_s=2.0)


def _connection_params(url: str) -> dict[str, str]:
    name = url.split("@/", 1)[1].split("?", 1)[0]
    query = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))
    return {"dbname": name, "host": query["host"], "port": query["port"]}


def _set_outage(url: str, down: bool) -> None:
    """Refuse (or allow again) every connection to the test database, dropping open ones."""
    p = _connection_params(url)
    with psycopg.connect(host=p["host"], port=int(p["port"]), user="postgres",
                         dbname="postgres", autocommit=True) as con:  # fmt: skip
        con.execute(f"ALTER DATABASE {p['dbname']} ALLOW_CONNECTIONS {'false' if down else 'true'}")
        if down:
            con.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (p["dbname"],),
            )


def _events_without_db(data: list[SampleBlock]) -> list[tuple[str, int, int]]:
    pipeline = Pipeline(Placement.CHEST)
    events: list[Event] = []
    for block in data:
        events.extend(pipeline.feed(block).events)
    events.extend(pipeline.flush().events)
    # stored times have microsecond resolution
    return sorted(
        (e.kind, e.start_ns // 1000 * 1000, e.end_ns // 1000 * 1000)
        for e in events
        if e.kind in ("static_bout", "posture")
    )


def _stored(store: Store) -> list[tuple[str, int, int]]:
    return sorted(
        (e.kind, utc_ns(e.start_at), utc_ns(e.end_at))
        for kind in ("static_bout", "posture")
        for e in store.queries.events(OPERATOR, "w1", kind)
    )


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_database_outage_loses_nothing(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = blocks()
    store = Store.open(db_url)
    store.repository.ensure_wearer("w1", "Ada")
    hub = Hub(store, tmp_path / "outbox")

    async def run() -> int:
        # Blocks of 20 s: the outage (block 80 to 120, minutes 26.7 to 40) covers the nudge
        # at 30 min and the end of the sitting bout at 35 min.
        drainer = asyncio.create_task(hub.writer.run())
        held = 0
        for k, block in enumerate(data):
            if k == 80:
                _set_outage(db_url, True)
            if k == 120:
                held = hub.outbox.pending  # what waited on disk for the database
                _set_outage(db_url, False)
            await hub.runtime.on_block(block)
            await asyncio.sleep(0)
        await hub.runtime.finish()
        await hub.dispatcher.finish()
        drainer.cancel()
        await asyncio.gather(drainer, return_exceptions=True)
        await hub.writer.finish(timeout_s=5.0)
        return held

    held = asyncio.run(run())
    assert held > 0
    assert "kept in the outbox" in caplog.text
    assert hub.outbox.pending == 0
    stored, nudges = _stored(store), store.queries.nudges(OPERATOR, "w1")
    store.close()
    assert stored == _events_without_db(data)
    assert [kind for kind, *_ in stored].count("static_bout") == 2
    assert len(nudges) == 1
    assert nudges[0].delivery == "dashboard-only"  # no band to buzz in this test


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # it makes the outage
def test_rows_left_by_a_shutdown_with_the_database_down_are_written_at_the_next_start(
    db_url: str, tmp_path: Path
) -> None:
    data = blocks()[:100]
    store = Store.open(db_url)
    store.repository.ensure_wearer("w1", "Ada")
    hub = Hub(store, tmp_path / "outbox")
    _set_outage(db_url, True)
    try:
        asyncio.run(hub.feed(data))
        left = hub.outbox.pending
        assert left > 0
        assert hub.writer.stats.pending > 0  # what `run` reports and exits non-zero for
    finally:
        _set_outage(db_url, False)
    hub.outbox.close()
    # the next start: a new write path over the same outbox file
    again = WriteOutbox(Outbox(tmp_path / "outbox"), store.repository)
    while again.drain_once():
        pass
    assert again.outbox.pending == 0
    assert again.stats.written == left
    stored = _stored(store)
    store.close()
    assert stored == _events_without_db(data)


def test_a_restart_mid_bout_resumes_the_bout_and_sends_no_nudge_twice(
    db_url: str, tmp_path: Path
) -> None:
    """The e2e-short wearer sits from minute 5 to 35; the hub is killed at minute 32 (after
    the 30-min nudge), without a clean shutdown, and restarts 20 s of device time later. The
    bout goes on from its stored start, no second copy of it is stored, and the 30-min nudge
    is not sent again."""
    data = blocks()
    kill, restart = 96, 97  # blocks of 20 s: minute 32, then one block lost
    store = Store.open(db_url)
    store.repository.ensure_wearer("w1", "Ada")
    first = Hub(store, tmp_path / "outbox")
    asyncio.run(first.feed(data[:kill], finish=False))  # kill -9: no finish(), no flush
    first.outbox.close()
    live = store.repository.live_state("w1")
    assert live is not None
    assert live.bout is not None
    assert live.bout.posture in (Posture.SITTING, Posture.STATIONARY)
    recent = store.repository.nudges_since("w1", live.device_time_ns - 3600 * NS_PER_S)
    assert len(recent) == 1
    second = Hub(store, tmp_path / "outbox", resume=live, recent=recent)
    asyncio.run(second.feed(data[restart:]))
    bouts = store.queries.events(OPERATOR, "w1", "static_bout")
    nudges = store.queries.nudges(OPERATOR, "w1")
    store.close()
    starts = [utc_ns(b.start_at) for b in bouts]
    assert live.bout.start_ns // 1000 * 1000 in starts  # the resumed bout kept its start
    assert len(bouts) == len(set(starts)) == 2  # the sitting and the standing bout, once each
    # no two stored static bouts overlap (a restart used to store the same bout twice)
    spans = sorted((utc_ns(b.start_at), utc_ns(b.end_at)) for b in bouts)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    assert len(nudges) == 1


class HungBand:
    """A band whose alert write never answers."""

    def __init__(self) -> None:
        self.calls = 0

    async def nudge(self, level: object, text: str) -> NudgeDelivery:
        self.calls += 1
        await asyncio.Event().wait()
        return NudgeDelivery(NudgeOutcome.ACKNOWLEDGED)


def test_a_hung_band_write_neither_stalls_the_pipeline_nor_counts_as_delivered(
    tmp_path: Path,
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    store.repository.ensure_wearer("w1", "Ada")
    band = HungBand()
    hub = Hub(store, tmp_path / "outbox", targets=[band])
    data = blocks()
    asyncio.run(hub.feed(data))
    nudges = store.queries.nudges(OPERATOR, "w1")
    processed = store.repository.live_state("w1")
    store.close()
    assert band.calls == 1
    assert [n.delivery for n in nudges] == ["failed: no answer within 1 s"]
    # every block was folded in although the write hung: the live state reached the end
    assert processed is not None
    assert processed.device_time_ns == data[-1].end_ns


def test_a_band_put_down_on_a_table_is_not_nudged(db_url: str, tmp_path: Path) -> None:
    """Worn and sitting for 12 min, then on a table for 65 min (2 mg of sensor noise, a
    typical MEMS accelerometer): no nudge at 30 or 45 min of the "bout", non-wear stored,
    and the sitting ends where the stillness began."""
    generator = MotionGenerator(SCENARIOS["e2e-short"], fs_hz=FS)
    worn = generator.next_samples(int(12 * 60 * FS))
    rng = np.random.default_rng(3)
    g = worn[-int(5 * FS) :].mean(axis=0)
    table = g + rng.normal(0.0, 0.002, size=(int(65 * 60 * FS), 3))
    acc = np.concatenate([worn, table])
    t = T0 + (np.arange(len(acc)) * (NS_PER_S / FS)).astype(np.int64)
    n = int(20 * FS)
    data = [SampleBlock(t[i : i + n], acc[i : i + n], FS) for i in range(0, len(acc), n)]
    store = Store.open(db_url)
    store.repository.ensure_wearer("w1", "Ada")
    asyncio.run(Hub(store, tmp_path / "outbox").feed(data))
    nudges = store.queries.nudges(OPERATOR, "w1")
    nonwear = store.queries.events(OPERATOR, "w1", "nonwear")
    bouts = store.queries.events(OPERATOR, "w1", "static_bout")
    store.close()
    assert nudges == []
    assert len(nonwear) == 1
    assert abs((utc_ns(nonwear[0].start_at) - T0) / NS_PER_S - 12 * 60) < 30
    assert all((utc_ns(b.end_at) - T0) / NS_PER_S < 12 * 60 + 30 for b in bouts)
