"""sensorhub dashboard (Streamlit entry point): navigation only; pages live in ``pages/``.

Run with ``sensorhub dashboard --db URL`` or ``streamlit run dashboard/app.py -- --db URL``.
"""

from __future__ import annotations

import streamlit as st

from dashboard.pages import devices, today

st.set_page_config(page_title="sensorhub", page_icon=":material/directions_walk:", layout="wide")
page = st.navigation(
    [
        st.Page(
            today.render, title="Today", icon=":material/today:", url_path="today", default=True
        ),
        st.Page(devices.render, title="Devices", icon=":material/bluetooth:", url_path="devices"),
    ]
)
page.run()
