"""The wearer's page: live bout timer, latest nudge with its exercise card, today's bouts."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import views
from dashboard.data import queries


def timeline_chart(rows: list[dict[str, object]]) -> alt.Chart:
    """Horizontal bars of the day's postures, coloured by posture."""
    colours = views.POSTURE_COLOURS
    data = pd.DataFrame(rows)
    data["start"] = pd.to_datetime(data["start"])
    data["end"] = pd.to_datetime(data["end"])
    chart: alt.Chart = (
        alt.Chart(data.assign(day="today"))
        .mark_bar(height=28)
        .encode(
            x=alt.X("start:T", title=None, axis=alt.Axis(format="%H:%M", grid=False)),
            x2="end:T",
            y=alt.Y("day:N", axis=None),
            color=alt.Color(
                "posture:N",
                scale=alt.Scale(domain=list(colours), range=list(colours.values())),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=["posture:N", "minutes:Q"],
        )
        .properties(height=alt.Step(32))
    )
    return chart


def _wearer_choice() -> tuple[str, str] | None:
    wearers = queries().wearers()
    if not wearers:
        st.info("No wearer yet. Start the collector (`sensorhub run`) or the demo (`make demo`).")
        return None
    labels = {w.display_name: w for w in wearers}
    name = st.sidebar.selectbox("Wearer", list(labels), key="wearer")
    chosen = labels[name or next(iter(labels))]
    return chosen.id, chosen.timezone


@st.fragment(run_every=dt.timedelta(seconds=2))
def live_panel(wearer_id: str, timezone: str) -> None:
    """Refreshes every 2 s: the bout timer, the latest nudge and today's tables."""
    q = queries()
    live = q.live(wearer_id)
    if live is None:
        st.info("Waiting for the first data from this wearer's devices…")
        return
    stale = views.staleness_warning(live, dt.datetime.now(dt.UTC))
    if stale:
        st.warning(stale)
    still = views.motionless_note(live)
    if still:
        st.info(still)
    card = views.bout_card(live, timezone)
    left, right = st.columns(2)
    left.metric("Now", card.posture, help=f"as of {card.as_of} (device time)")
    right.metric(card.bout_label, card.bout_value)
    if card.bout_minutes is not None:
        st.progress(
            min(card.bout_minutes / card.limit_minutes, 1.0),
            text=f"{card.bout_minutes:.0f} of {card.limit_minutes:.0f} min before a nudge",
        )
    since, until = views.local_day_bounds(live.device_time_at, timezone)
    nudges = q.nudges(wearer_id, since=since, until=until)
    if nudges:
        latest = nudges[-1]
        with st.container(border=True):
            st.markdown(f"**Movement nudge** — {latest.message}")
            suggestion = views.exercise_card(latest)
            if suggestion:
                exercise, note = suggestion
                st.markdown(
                    f"**{exercise.name}** ({exercise.position}, about "
                    f"{exercise.duration_s // 60 or 1} min): {exercise.instructions}"
                )
                st.caption(note)
    segments = q.events(wearer_id, "posture", since=since, until=until)
    if segments:
        st.subheader("Today's timeline")
        st.altair_chart(timeline_chart(views.timeline_rows(segments, timezone)))
    st.subheader("Today's static bouts")
    bouts = q.events(wearer_id, "static_bout", since=since, until=until)
    if bouts:
        st.table(views.bout_rows(bouts, timezone))
    else:
        st.caption("No finished static bout yet today.")
    st.subheader("Nudges today")
    if nudges:
        st.table(views.nudge_rows(nudges, timezone))
    else:
        st.caption("No nudge yet today.")


def render() -> None:
    """Page entry point."""
    st.title("Today")
    chosen = _wearer_choice()
    if chosen is None:
        return
    live_panel(*chosen)
    with st.expander("When to see a doctor"):
        for line in views.RED_FLAGS:
            st.markdown(f"- {line}")
