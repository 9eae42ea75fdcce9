"""Devices page: battery, last seen and stream counters of every wearable."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import views
from dashboard.data import queries


@st.fragment(run_every=dt.timedelta(seconds=5))
def devices_table() -> None:
    """Refreshes every 5 s."""
    q = queries()
    tz_of = {w.id: w.timezone for w in q.wearers()}
    devices = q.devices()
    if not devices:
        st.info("No device has connected yet.")
        return
    rows = []
    for device in devices:
        rows.extend(views.device_rows([device], tz_of.get(device.wearer_id, "UTC")))
    st.table(rows)


def render() -> None:
    """Page entry point."""
    st.title("Devices")
    devices_table()
