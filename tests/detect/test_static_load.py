"""Unit tests of the static-load state machine on label sequences."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorhub.detect.posture import CODE
from sensorhub.detect.static_load import StaticLoadTracker
from sensorhub.model import NS_PER_S, CurrentBout, Posture, StaticBout

S, W, ST, A, L = (
    CODE[p]
    for p in (Posture.SITTING, Posture.WALKING, Posture.STANDING, Posture.ACTIVE, Posture.LYING)
)


def labels(*runs: tuple[int, int]) -> np.ndarray:
    return np.concatenate([np.full(n, c, dtype=np.int8) for c, n in runs])


def feed(lab: np.ndarray, batch: int = 10_000) -> tuple[StaticLoadTracker, list[StaticBout]]:
    tr = StaticLoadTracker()
    out: list[StaticBout] = []
    k = np.arange(len(lab), dtype=np.int64)
    for i in range(0, len(lab), batch):
        out += tr.update(
            k[i : i + batch] * NS_PER_S, (k[i : i + batch] + 1) * NS_PER_S, lab[i : i + batch]
        )
    return tr, out + tr.finish(len(lab) * NS_PER_S)


def span(b: StaticBout) -> tuple[float, float]:
    return b.start_ns / NS_PER_S, b.end_ns / NS_PER_S


@pytest.mark.parametrize("batch", [1, 7, 10_000])
def test_short_interruptions_do_not_end_a_bout(batch: int) -> None:
    lab = labels((S, 1200), (A, 20), (S, 600), (W, 39), (S, 300))
    _, out = feed(lab, batch)
    assert [span(b) for b in out] == [(0, 2159)]


@pytest.mark.parametrize("batch", [1, 7, 10_000])
def test_interruptions_that_add_up_to_a_minute_are_a_break(batch: int) -> None:
    """Four walks of 20 s inside two minutes of sitting are a minute of walking: the bout
    ends where the walk that completed the minute began."""
    lab = labels((S, 300), (W, 20), (S, 10), (W, 20), (S, 10), (W, 20), (S, 10), (W, 20), (S, 300))
    _, out = feed(lab, batch)
    assert [(span(b), b.posture) for b in out] == [
        ((0, 360), Posture.SITTING),
        ((410, 710), Posture.SITTING),  # 10 s of sitting before 20 s of walking: not a bout
    ]


def test_the_interruptions_so_far_are_part_of_the_live_and_resumed_bout() -> None:
    tr = StaticLoadTracker()
    k = np.arange(440, dtype=np.int64)
    assert tr.update(k * NS_PER_S, (k + 1) * NS_PER_S, labels((S, 300), (W, 40), (S, 100))) == []
    cur = tr.current_bout
    assert cur is not None
    assert (cur.interrupted_s, cur.active_s) == (40.0, 0.0)
    resumed = StaticLoadTracker(resume=cur)
    assert resumed.gap(440 * NS_PER_S, 0) == []
    k = np.arange(440, 600, dtype=np.int64)
    ended = resumed.update(k * NS_PER_S, (k + 1) * NS_PER_S, labels((W, 20), (S, 140)))
    assert [span(b) for b in ended] == [(0, 440)]  # 40 s + 20 s of walking: a break


def test_moving_in_place_does_not_add_up_to_a_break_but_must_stay_the_minority() -> None:
    fidgety = [(S, 20), (A, 10)] * 20  # 10 min: 400 s sitting, 200 s shifting on the seat
    _, out = feed(labels(*fidgety, (W, 100)))
    assert [span(b) for b in out] == [(0, 590)]
    restless = [(S, 10), (A, 20)] * 20  # mostly moving: not a static bout
    _, out = feed(labels(*restless, (W, 100)))
    assert out == []


def test_a_short_bout_mostly_interrupted_is_not_reported() -> None:
    _, out = feed(labels((S, 40), (ST, 50), (S, 15), (W, 200)))  # 55 s of sitting in 105 s
    assert out == []


@pytest.mark.parametrize("batch", [1, 13, 10_000])
def test_break_of_a_minute_ends_the_bout_where_it_began(batch: int) -> None:
    lab = labels((S, 1200), (W, 60), (S, 300))
    _, out = feed(lab, batch)
    assert [span(b) for b in out] == [(0, 1200), (1260, 1560)]


def test_change_of_position_starts_new_bout_at_the_change() -> None:
    lab = labels((S, 1800), (ST, 600))
    _, out = feed(lab)
    assert [(span(b), b.posture) for b in out] == [
        ((0, 1800), Posture.SITTING),
        ((1800, 2400), Posture.STANDING),
    ]


def test_flicker_inside_a_break_does_not_interrupt_it() -> None:
    lab = labels((S, 1200), (W, 30), (S, 2), (W, 40), (ST, 100))
    _, out = feed(lab)
    assert span(out[0]) == (0, 1200)


def test_mixed_break_of_standing_and_walking_counts() -> None:
    lab = labels((S, 1200), (ST, 30), (W, 40), (S, 600))
    _, out = feed(lab)
    assert [span(b) for b in out] == [(0, 1200), (1270, 1870)]


def test_short_bouts_are_not_reported() -> None:
    _, out = feed(labels((W, 100), (ST, 30), (W, 100)))
    assert out == []


def test_current_bout_and_gap() -> None:
    tr = StaticLoadTracker()
    k = np.arange(600, dtype=np.int64)
    assert tr.update(k * NS_PER_S, (k + 1) * NS_PER_S, labels((L, 100), (S, 500))) == []
    cur = tr.current_bout
    assert cur is not None
    assert (cur.start_ns, cur.last_ns, cur.posture) == (
        100 * NS_PER_S,
        600 * NS_PER_S,
        Posture.SITTING,
    )
    assert tr.gap(599 * NS_PER_S, 60 * NS_PER_S) == []  # short: the bout goes on
    assert tr.current_bout is not None
    ended = tr.gap(599 * NS_PER_S, 600 * NS_PER_S)  # long: ends at the last sample
    assert [span(b) for b in ended] == [(100, 599)]
    assert tr.current_bout is None


def test_a_resumed_bout_goes_on_or_ends_as_across_a_gap() -> None:
    stored = CurrentBout(100 * NS_PER_S, Posture.SITTING, 600 * NS_PER_S)
    short = StaticLoadTracker(resume=stored)
    assert short.current_bout == stored
    assert short.gap(600 * NS_PER_S, 60 * NS_PER_S) == []  # short: the bout goes on
    k = np.arange(660, 900, dtype=np.int64)
    assert short.update(k * NS_PER_S, (k + 1) * NS_PER_S, labels((S, 240))) == []
    assert [span(b) for b in short.finish(900 * NS_PER_S)] == [(100, 900)]
    long = StaticLoadTracker(resume=stored)  # long: ends at the stored last evidence
    assert [span(b) for b in long.gap(600 * NS_PER_S, 600 * NS_PER_S)] == [(100, 600)]
    assert long.current_bout is None


# -- properties ------------------------------------------------------------------------------

SN = CODE[Posture.STATIONARY]
RUN_LABELS = (S, ST, W, A, L, SN)


@st.composite
def label_runs(draw: st.DrawFn) -> np.ndarray:
    runs = draw(
        st.lists(
            st.tuples(st.sampled_from(RUN_LABELS), st.integers(1, 150)), min_size=1, max_size=30
        )
    )
    return labels(*runs)


@settings(max_examples=200, deadline=None)
@given(lab=label_runs(), batch=st.integers(1, 400))
def test_bouts_agree_with_their_frames(lab: np.ndarray, batch: int) -> None:
    """Whatever the postures, no bout holds a minute or more of walking and other postures in
    total (moving in place aside), its posture is the majority of its frames, bouts do not
    overlap, and the batching does not matter."""
    _, out = feed(lab, batch)
    _, whole = feed(lab)
    assert out == whole
    for b in out:
        frames = lab[b.start_ns // NS_PER_S : b.end_ns // NS_PER_S]
        mine = {CODE[b.posture]} | ({SN} if b.posture != Posture.STATIONARY else set())
        own = int(np.isin(frames, list(mine)).sum())
        assert len(frames) - own - int((frames == A).sum()) < 60
        assert int((frames == W).sum()) < 60
        assert own > len(frames) / 2
        assert own >= 60
    for a, b in itertools.pairwise(out):
        assert a.end_ns <= b.start_ns


@pytest.mark.parametrize("batch", [1, 50, 10_000])
def test_a_short_gap_inside_an_interruption_counts_towards_the_break(batch: int) -> None:
    """45 s lying, then 50 s without data (the lying goes on, as across any short gap), then
    sitting again: 95 s of lying is a break."""
    k = np.concatenate([np.arange(0, 345), np.arange(395, 700)]).astype(np.int64)
    lab = labels((S, 300), (L, 45), (S, 305))
    tr = StaticLoadTracker()
    out: list[StaticBout] = []
    for i in range(0, len(k), batch):
        sl = slice(i, i + batch)
        out += tr.update(k[sl] * NS_PER_S, (k[sl] + 1) * NS_PER_S, lab[sl])
    out += tr.finish(700 * NS_PER_S)
    assert [span(b) for b in out] == [(0, 300), (395, 700)]


def test_a_stationary_bout_seen_sitting_goes_on_as_a_sitting_bout() -> None:
    """A hip band put on at the desk is stationary until a walk teaches upright; a short walk
    and sitting after it continue the bout, now sitting, from its start."""
    _, out = feed(labels((SN, 600), (W, 5), (S, 1500), (W, 120)))
    assert [(span(b), b.posture) for b in out] == [((0, 2105), Posture.SITTING)]
