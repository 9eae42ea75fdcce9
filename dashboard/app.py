"""sensorhub dashboard (Streamlit entry point): login first, then the pages this viewer may see.

The pages live in ``screens/``, not ``pages/``: Streamlit would register a ``pages/`` folder
as pages of its own beside the navigation built here.

Run with ``sensorhub dashboard --db URL`` or ``streamlit run dashboard/app.py -- --db URL``.
Before a login only the login form exists: no page, no wearer name, no data.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auth
from dashboard.data import dashboard_store, queries
from dashboard.screens import accounts, alerts, devices, privacy, today
from sensorhub.access import Role, Scope

# Also when started by hand (`streamlit run`): a viewer gets a short message, the log the rest.
st.set_option("client.showErrorDetails", "none")
st.set_page_config(page_title="sensorhub", page_icon=":material/directions_walk:", layout="wide")
dashboard_store()  # stops with what to do if the database is missing, empty or too old
viewer = auth.viewer()
if viewer is None:
    st.navigation(
        [st.Page(auth.login_page, title="Log in", icon=":material/login:", url_path="login")],
        position="hidden",
    ).run()
    st.stop()

auth.sidebar(viewer)
wearers = queries().wearers(viewer)
scopes = set().union(*(w.scopes for w in wearers)) if wearers else set()
# (whether this viewer gets the page, page function, title, icon, URL path)
offered = [
    (bool(scopes & {Scope.STATUS, Scope.ACTIVITY}), today.render, "Today", "today", "today"),
    (bool(scopes & {Scope.STATUS, Scope.FALLS}), alerts.render, "Alerts", "notifications",
     "alerts"),
    (Scope.DEVICES in scopes, devices.render, "Devices", "bluetooth", "devices"),
    (viewer.wearer_id is not None, privacy.render, "Who can see my data", "shield_person",
     "sharing"),
    (viewer.role is Role.ADMIN, accounts.render, "Accounts", "manage_accounts", "accounts"),
]  # fmt: skip
pages = [
    st.Page(render, title=title, icon=f":material/{icon}:", url_path=path)
    for shown, render, title, icon, path in offered
    if shown
] or [
    st.Page(
        privacy.nothing_shared,
        title="Nothing shared yet",
        icon=":material/info:",
        url_path="nothing-shared",
    )
]
st.navigation(pages).run()
