"""WearerRuntime: what the pipeline finds reaches the store, also across a database outage."""

from __future__ import annotations

import asyncio

import numpy as np
import psycopg
import pytest

from sensorhub.model import NS_PER_S, Event, Placement, SampleBlock
from sensorhub.pipeline import Pipeline
from sensorhub.service import WearerRuntime
from sensorhub.sim.scenario import SCENARIOS, MotionGenerator
from sensorhub.store import Store
from sensorhub.store import ns_from_utc as utc_ns

T0 = 1_795_422_600 * NS_PER_S  # 2026-11-23 08:30 UTC
FS = 50.0


def blocks(seconds_per_block: float = 20.0) -> list[SampleBlock]:
    generator = MotionGenerator(SCENARIOS["e2e-short"], fs_hz=FS)
    out, index, n = [], 0, int(seconds_per_block * FS)
    while not generator.exhausted:
        acc = generator.next_samples(n)
        t = T0 + ((index + np.arange(len(acc))) * (NS_PER_S / FS)).astype(np.int64)
        out.append(SampleBlock(t, acc, FS))
        index += len(acc)
    return out


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


async def _run(
    store: Store, url: str, data: list[SampleBlock], outage: tuple[int, int] | None
) -> None:
    runtime = WearerRuntime("w1", Placement.CHEST, store.repository, live_interval_s=0)
    for k, block in enumerate(data):
        if outage and k == outage[0]:
            _set_outage(url, True)
        if outage and k == outage[1]:
            _set_outage(url, False)
        await runtime.on_block(block)
    await runtime.finish()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_database_outage_loses_nothing(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    data = blocks()
    store = Store.open(db_url)
    store.repository.ensure_wearer("w1", "Ada")
    # Blocks of 20 s: the outage (block 80 to 120, minutes 26.7 to 40) covers the nudge at
    # 30 min and the end of the sitting bout at 35 min.
    asyncio.run(_run(store, db_url, data, outage=(80, 120)))
    assert "kept in memory" in caplog.text
    stored = sorted(
        (e.kind, utc_ns(e.start_at), utc_ns(e.end_at))
        for kind in ("static_bout", "posture")
        for e in store.queries.events("w1", kind)
    )
    nudges = store.queries.nudges("w1")
    store.close()
    assert stored == sorted(_events_without_db(data))
    assert [kind for kind, *_ in stored].count("static_bout") == 2
    assert len(nudges) == 1


def _events_without_db(data: list[SampleBlock]) -> list[tuple[str, int, int]]:
    pipeline = Pipeline(Placement.CHEST)
    events: list[Event] = []
    for block in data:
        events.extend(pipeline.feed(block).events)
    events.extend(pipeline.flush().events)
    # stored times have microsecond resolution
    return [
        (e.kind, e.start_ns // 1000 * 1000, e.end_ns // 1000 * 1000)
        for e in events
        if e.kind in ("static_bout", "posture")
    ]


def test_a_device_pinned_to_an_adapter_gets_bluez_adapter_arguments() -> None:
    from sensorhub.ble.session import BleakBackend
    from sensorhub.service import backend_for

    base = BleakBackend(scanner_kwargs={"x": 1}, client_kwargs={"y": 2})
    assert backend_for(base, None) is base
    pinned = backend_for(base, "hci1")
    assert pinned.scanner_kwargs == {"x": 1, "bluez": {"adapter": "hci1"}}
    assert pinned.client_kwargs == {"y": 2, "bluez": {"adapter": "hci1"}}


def test_a_band_put_down_on_a_table_is_not_nudged(db_url: str) -> None:
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
    asyncio.run(_run(store, db_url, data, outage=None))
    nudges = store.queries.nudges("w1")
    nonwear = store.queries.events("w1", "nonwear")
    bouts = store.queries.events("w1", "static_bout")
    store.close()
    assert nudges == []
    assert len(nonwear) == 1
    assert abs((utc_ns(nonwear[0].start_at) - T0) / NS_PER_S - 12 * 60) < 30
    assert all((utc_ns(b.end_at) - T0) / NS_PER_S < 12 * 60 + 30 for b in bouts)
