"""Devices page: battery, last seen and stream counters of the wearables the viewer may see.

Needs the ``devices`` scope of a wearer (administrators have it for every wearer).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import auth, views
from dashboard.data import queries


@st.fragment(run_every=dt.timedelta(seconds=5))
def devices_table() -> None:
    """Refreshes every 5 s."""
    viewer = auth.viewer(interaction=False)
    if viewer is None:
        st.rerun()
    q = queries()
    wearers = q.wearers(viewer)
    by_id = {w.id: w for w in wearers}
    devices = q.devices(viewer)
    if not devices:
        st.info("No device has connected yet.")
        return
    rows = []
    for device in devices:
        wearer = by_id.get(device.wearer_id)
        for row in views.device_rows([device], wearer.timezone if wearer else "UTC"):
            rows.append({"wearer": views.wearer_label(wearer, wearers) if wearer else "", **row})
    for wearer_id in sorted({d.wearer_id for d in devices}):
        auth.audit_view(viewer, "Devices", wearer_id)
    st.table(rows)


def render() -> None:
    """Page entry point."""
    st.title("Devices")
    devices_table()
