"""Accounts page (administrators): who has an account, every share, and the audit log.

Administrators run the hub; they see accounts and consent records, not health data.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auth
from dashboard.data import accounts


def render() -> None:
    """Page entry point (admin accounts only; the navigation shows it to no one else)."""
    st.title("Accounts")
    viewer = auth.current()
    if not viewer.is_admin:
        st.info("This page is for the hub's administrators.")
        return
    auth.audit_view(viewer, "Accounts", None)
    store = accounts()
    st.subheader("People with an account")
    st.dataframe(
        [
            {
                "username": u.username,
                "name": u.display_name,
                "role": u.role.value,
                "wearer": u.wearer_id or "",
                "disabled": "yes" if u.disabled else "",
                "last login (UTC)": f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "",
            }
            for u in store.users()
        ],
        hide_index=True,
    )
    st.caption("Add, disable or reset accounts with `sensorhub users ...` on the hub.")
    st.subheader("Shares")
    st.dataframe(
        [
            {
                "wearer": s.wearer_id,
                "shared with": s.grantee,
                "scopes": ", ".join(sorted(s.scopes)),
                "granted by": s.granted_by,
                "basis": s.basis,
                "expires (UTC)": f"{s.expires_at:%Y-%m-%d %H:%M}" if s.expires_at else "",
                "revoked (UTC)": f"{s.revoked_at:%Y-%m-%d %H:%M}" if s.revoked_at else "",
            }
            for s in store.shares()
        ],
        hide_index=True,
    )
    st.subheader("Audit log")
    st.dataframe(
        [
            {
                "when (UTC)": f"{e.at:%Y-%m-%d %H:%M:%S}",
                "who": e.actor,
                "what": e.action,
                "wearer": e.wearer_id or "",
                "detail": e.detail,
            }
            for e in store.audit(limit=1000)
        ],
        hide_index=True,
    )
