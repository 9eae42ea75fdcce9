"""Alerts: open and past caregiver alerts with every delivery, and Acknowledge; the wearer's
"I'm OK" for a possible fall that is still in its cancel window.

Falls need the ``falls`` scope, every other kind ``status`` (the store filters).
"""

from __future__ import annotations

import datetime as dt
import uuid

import streamlit as st

from dashboard import auth, views
from dashboard.data import accounts, queries, show_error
from sensorhub.access import Viewer
from sensorhub.errors import SensorhubError
from sensorhub.store import AlertView

#: Alert states still waiting for someone.
ACTIVE = ("pending", "open")


def _acknowledge(alert_id: uuid.UUID) -> None:
    try:
        accounts().acknowledge_alert(alert_id, auth.current())
    except SensorhubError as exc:
        show_error("Could not acknowledge", exc)


def _im_ok(alert_id: uuid.UUID) -> None:
    try:
        accounts().cancel_alert(alert_id, auth.current())
    except SensorhubError as exc:
        show_error("Could not cancel", exc)


def im_ok_banner(viewer: Viewer, wearer_id: str) -> None:
    """The wearer's own pending possible fall: a warning and an "I'm OK" button."""
    if viewer.wearer_id != wearer_id:
        return
    for alert in queries().alerts(viewer, wearer_id, state="pending"):
        if alert.kind != "possible_fall":
            continue
        with st.container(border=True):
            st.error(
                f"{alert.reason} If you are all right, press I'm OK: otherwise your caregivers "
                "are told when the minute is up."
            )
            st.button("I'm OK", key=f"ok-{alert.id}", on_click=_im_ok, args=(alert.id,),
                      type="primary")  # fmt: skip


def _card(alert: AlertView, name: str, timezone: str, viewer: Viewer) -> None:
    with st.container(border=True):
        left, right = st.columns([4, 1])
        left.markdown(f"**{name}** — {alert.reason}")
        left.caption(
            f"{alert.kind.replace('_', ' ')}, {alert.severity}, {alert.state}; opened "
            f"{views.local_minute(alert.opened_at, timezone)}"
            + (f"; acknowledged by {alert.acknowledged_by}" if alert.acknowledged_by else "")
        )
        if alert.state in ACTIVE and viewer.wearer_id != alert.wearer_id:
            right.button(
                "Acknowledge", key=f"ack-{alert.id}", on_click=_acknowledge, args=(alert.id,)
            )
        if alert.deliveries:
            left.dataframe(
                [
                    {
                        "at": views.local_minute(d.at, timezone),
                        "to": d.recipient,
                        "channel": d.channel,
                        "attempt": d.attempt,
                        "result": d.result,
                    }
                    for d in alert.deliveries
                ],
                hide_index=True,
            )


def render() -> None:
    """Page entry point."""
    st.title("Alerts")
    viewer = auth.current()
    q = queries()
    wearers = q.wearers(viewer)
    by_id = {w.id: w for w in wearers}
    alerts = q.alerts(viewer, since=dt.datetime.now(dt.UTC) - dt.timedelta(days=30))
    for wearer_id in sorted({a.wearer_id for a in alerts}):
        auth.audit_view(viewer, "Alerts", wearer_id)
    active = [a for a in alerts if a.state in ACTIVE]
    st.subheader("Open")
    if not active:
        st.caption("No open alert.")
    for alert in sorted(active, key=lambda a: (a.severity != "urgent", a.opened_at)):
        wearer = by_id.get(alert.wearer_id)
        name = views.wearer_label(wearer, wearers) if wearer else alert.wearer_id
        _card(alert, name, wearer.timezone if wearer else "UTC", viewer)
    past = [a for a in alerts if a.state not in ACTIVE]
    if past:
        st.subheader("Past 30 days")
        for alert in reversed(past):
            wearer = by_id.get(alert.wearer_id)
            name = views.wearer_label(wearer, wearers) if wearer else alert.wearer_id
            _card(alert, name, wearer.timezone if wearer else "UTC", viewer)
