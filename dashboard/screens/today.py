"""The wearer's page: live bout timer, latest nudge with its exercise card, today's bouts.

Everything is read for the logged-in viewer: the live panel needs the ``status`` scope, the
timeline, bouts and nudges the ``activity`` scope; a part not shared is not drawn.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import auth, views
from dashboard.data import queries
from sensorhub.access import Scope, Viewer
from sensorhub.store import LiveView, WearerView


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


def wearer_label(wearer: WearerView, everyone: list[WearerView]) -> str:
    """The wearer's name, with the id when another wearer has the same name."""
    same = sum(w.display_name == wearer.display_name for w in everyone)
    return wearer.display_name if same == 1 else f"{wearer.display_name} ({wearer.id})"


def wearer_choice(viewer: Viewer, needs: set[Scope]) -> WearerView | None:
    """The sidebar's wearer picker over the wearers shared with ``viewer`` in ``needs``."""
    wearers = [w for w in queries().wearers(viewer) if w.scopes & needs]
    if not wearers:
        st.info("No wearer has shared this with you yet.")
        return None
    by_id = {w.id: w for w in wearers}
    chosen = st.sidebar.selectbox(
        "Wearer", list(by_id), format_func=lambda i: wearer_label(by_id[i], wearers), key="wearer"
    )
    return by_id[chosen or wearers[0].id]


@st.fragment(run_every=dt.timedelta(seconds=2))
def live_panel(wearer_id: str, timezone: str) -> None:
    """Refreshes every 2 s: the bout timer, the latest nudge and today's tables."""
    viewer = auth.viewer(interaction=False)
    if viewer is None:
        st.rerun()
    q = queries()
    scopes = q.scopes(viewer, wearer_id)
    live = q.live(viewer, wearer_id)
    if Scope.STATUS in scopes:
        if live is None:
            st.info("Waiting for the first data from this wearer's devices…")
            return
        _live_card(live, timezone)
    if Scope.ACTIVITY not in scopes:
        return
    now = live.device_time_at if live is not None else dt.datetime.now(dt.UTC)
    since, until = views.local_day_bounds(now, timezone)
    nudges = q.nudges(viewer, wearer_id, since=since, until=until)
    if nudges and live is not None:
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
    segments = q.events(viewer, wearer_id, "posture", since=since, until=until)
    if segments:
        st.subheader("Today's timeline")
        st.altair_chart(timeline_chart(views.timeline_rows(segments, timezone)))
    st.subheader("Today's static bouts")
    bouts = q.events(viewer, wearer_id, "static_bout", since=since, until=until)
    if bouts:
        st.table(views.bout_rows(bouts, timezone))
    else:
        st.caption("No finished static bout yet today.")
    st.subheader("Nudges today")
    if nudges:
        st.table(views.nudge_rows(nudges, timezone))
    else:
        st.caption("No nudge yet today.")


def _live_card(live: LiveView, timezone: str) -> None:
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


def render() -> None:
    """Page entry point."""
    st.title("Today")
    viewer = auth.current()
    chosen = wearer_choice(viewer, {Scope.STATUS, Scope.ACTIVITY})
    if chosen is None:
        return
    auth.audit_view(viewer, "Today", chosen.id)
    live_panel(chosen.id, chosen.timezone)
    with st.expander("When to see a doctor"):
        for line in views.RED_FLAGS:
            st.markdown(f"- {line}")
