"""The wearer's page: live bout timer, latest nudge with its exercise card, today's bouts.

Everything is read for the logged-in viewer: the live panel needs the ``status`` scope, the
timeline, bouts and nudges the ``activity`` scope; a part not shared is not drawn. The bout
timer is measured against the wearer's own limits (their stored settings). While the latest
nudge is current (no response yet, sent within the last 10 min of the wearer's device time)
the wearer's own account gets "Done" and "Snooze" buttons; a caregiver sees what came of it
but cannot answer for the wearer.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import auth, views
from dashboard.data import accounts, queries, show_error
from dashboard.screens import alerts
from sensorhub.access import Scope, Viewer
from sensorhub.errors import SensorhubError
from sensorhub.store import LiveView, NudgeView, WearerView
from sensorhub.wearer_settings import WearerSettings


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


def wearer_choice(viewer: Viewer, needs: set[Scope]) -> WearerView | None:
    """The sidebar's wearer picker over the wearers shared with ``viewer`` in ``needs``."""
    wearers = [w for w in queries().wearers(viewer) if w.scopes & needs]
    if not wearers:
        st.info("No wearer has shared this with you yet.")
        return None
    by_id = {w.id: w for w in wearers}
    chosen = st.sidebar.selectbox(
        "Wearer",
        list(by_id),
        format_func=lambda i: views.wearer_label(by_id[i], wearers),
        key="wearer",
    )
    return by_id[chosen or wearers[0].id]


@st.fragment(run_every=dt.timedelta(seconds=2))
def live_panel(wearer_id: str, timezone: str) -> None:
    """Refreshes every 2 s: the bout timer, the latest nudge and today's tables."""
    viewer = auth.viewer(interaction=False)
    if viewer is None:
        st.rerun()
    alerts.im_ok_banner(viewer, wearer_id)
    q = queries()
    scopes = q.scopes(viewer, wearer_id)
    live = q.live(viewer, wearer_id)
    own = q.wearer_settings(viewer, wearer_id) or WearerSettings()
    if Scope.STATUS in scopes:
        if live is None:
            st.info("Waiting for the first data from this wearer's devices…")
            return
        _live_card(live, timezone, own)
    if Scope.ACTIVITY not in scopes:
        return
    now = live.device_time_at if live is not None else dt.datetime.now(dt.UTC)
    device_time = None if live is None else views.device_now(live, dt.datetime.now(dt.UTC))
    since, until = views.local_day_bounds(now, timezone)
    nudges = q.nudges(viewer, wearer_id, since=since, until=until)
    if nudges and live is not None and device_time is not None:
        latest = nudges[-1]
        with st.container(border=True):
            st.markdown(f"**Movement nudge** — {latest.message}")
            _answer(viewer, wearer_id, latest, device_time)
            suggestion = views.exercise_card(latest)
            if suggestion:
                exercise, note = suggestion
                st.markdown(
                    f"**{exercise.name}** ({exercise.position}, about "
                    f"{exercise.duration_s // 60 or 1} min): {exercise.instructions}"
                )
                st.caption(note)
    if Scope.GAIT in scopes:
        walks = q.events(viewer, wearer_id, "gait_bout", since=since, until=until)
        walked_s = sum(w.duration_s for w in walks if w.start_at >= since)
        st.metric("Walking today", views.walking_goal_text(walked_s, own.walking_goal_min))
    segments = q.events(viewer, wearer_id, "posture", since=since, until=until)
    if segments:
        st.subheader("Today's timeline")
        st.altair_chart(timeline_chart(views.timeline_rows(segments, timezone)))
    st.subheader("Today's static bouts")
    bouts = q.events(viewer, wearer_id, "static_bout", since=since, until=until)
    if bouts:
        st.table(views.bout_rows(bouts, timezone, own))
    else:
        st.caption("No finished static bout yet today.")
    st.subheader("Nudges today")
    if nudges:
        st.table(views.nudge_rows(nudges, timezone, device_time))
    else:
        st.caption("No nudge yet today.")


def _answer(viewer: Viewer, wearer_id: str, nudge: NudgeView, device_time: dt.datetime) -> None:
    """The wearer's "Done" and "Snooze" while the nudge is current; else what came of it."""
    if not views.nudge_is_current(nudge, device_time):
        st.caption(f"Outcome: {views.outcome_text(nudge, device_time)}")
        return
    if viewer.wearer_id != wearer_id:
        st.caption("Waiting for a response (a break or the wearer's answer).")
        return
    done, snooze = st.columns(2)
    answer = None
    if done.button("Done", key=f"done-{nudge.id}", icon=":material/check:"):
        answer = "done"
    if snooze.button("Snooze", key=f"snooze-{nudge.id}", icon=":material/snooze:"):
        answer = "snoozed"
    if answer is None:
        return
    try:
        accounts().answer_nudge(viewer, nudge.id, answer, at=device_time)
    except SensorhubError as exc:
        show_error("Could not record your answer", exc)
        return
    st.success("Well done!" if answer == "done" else "Snoozed: no reminder for this for a while.")


def _live_card(live: LiveView, timezone: str, own: WearerSettings) -> None:
    stale = views.staleness_warning(live, dt.datetime.now(dt.UTC))
    if stale:
        st.warning(stale)
    still = views.motionless_note(live)
    if still:
        st.info(still)
    card = views.bout_card(
        live,
        timezone,
        sitting_limit_min=own.sitting_limit_min,
        standing_limit_min=own.standing_limit_min,
    )
    left, right = st.columns(2)
    left.metric("Now", card.posture, help=f"as of {card.as_of} (device time)")
    right.metric(card.bout_label, card.bout_value)
    if card.bout_minutes is not None:
        st.progress(
            min(card.bout_minutes / card.limit_minutes, 1.0),
            text=views.limit_text(card.bout_minutes, card.limit_minutes),
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
