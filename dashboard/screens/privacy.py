"""The wearer's "Who can see my data" page: their shares, revoking one, and who looked.

Like Apple Health sharing: the wearer sees each person their data is shared with and which
parts, can stop a share at once (it takes effect on that person's next refresh), and sees
the audit log of every view of their data.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard import auth, views
from dashboard.data import accounts, queries, show_error
from sensorhub.access import Scope
from sensorhub.errors import SensorhubError
from sensorhub.store import ShareView

#: What each scope opens, in the words the wearer reads.
SCOPE_WORDS = {
    Scope.STATUS: "what you are doing now, and alerts",
    Scope.ACTIVITY: "sitting, standing, steps and nudges",
    Scope.GAIT: "how you walk",
    Scope.FALLS: "falls",
    Scope.DEVICES: "your devices",
}


def share_rows(shares: list[ShareView], timezone: str) -> list[dict[str, str]]:
    """Table rows of shares, in the wearer's time zone."""
    return [
        {
            "shared with": f"{s.grantee_display_name} ({s.grantee})",
            "can see": "; ".join(SCOPE_WORDS[scope] for scope in sorted(s.scopes)),
            "since": views.local_minute(s.granted_at, timezone),
            "until": views.local_minute(s.expires_at, timezone)
            if s.expires_at
            else "until you stop it",
            "granted by": "you" if s.basis == "wearer" else f"{s.granted_by} ({s.basis})",
        }
        for s in shares
    ]


def _revoke(share_id: uuid.UUID) -> None:
    try:
        accounts().revoke_share_as(auth.current(), share_id)
    except SensorhubError as exc:
        show_error("Could not stop sharing", exc)


def share_form(wearer_id: str, timezone: str) -> None:
    """The wearer shares parts of their data with another account (until they stop it)."""
    with st.expander("Share with someone"), st.form("share", clear_on_submit=True):
        username = st.text_input("Their username", help="They need an account on this hub.")
        chosen = st.multiselect(
            "What they may see",
            list(Scope),
            default=[Scope.STATUS],
            format_func=lambda scope: SCOPE_WORDS[scope],
        )
        today = dt.datetime.now(ZoneInfo(timezone)).date()
        until = st.date_input(
            "Until (optional, to the end of that day)", value=None, min_value=today
        )
        if not st.form_submit_button("Share"):
            return
    expires = (
        dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), ZoneInfo(timezone))
        if until
        else None
    )
    try:
        viewer = auth.current()
        accounts().grant_share(
            wearer_id, username.strip(), chosen, actor=viewer.username, expires_at=expires
        )
    except SensorhubError as exc:
        show_error("Could not share", exc)
    else:
        st.success(f"Shared with {username.strip()}.")


def render() -> None:
    """Page entry point (wearer accounts only)."""
    st.title("Who can see my data")
    viewer = auth.current()
    if viewer.wearer_id is None:
        st.info("This page is for wearers.")
        return
    timezone = next(
        (w.timezone for w in queries().wearers(viewer) if w.id == viewer.wearer_id), "UTC"
    )
    auth.audit_view(viewer, "Who can see my data", viewer.wearer_id)
    now = dt.datetime.now(dt.UTC)
    shares = accounts().shares(viewer.wearer_id)
    active = [s for s in shares if s.active_at(now)]
    st.subheader("Shared now")
    if not active:
        st.caption("Your data is shared with no one.")
    for share, row in zip(active, share_rows(active, timezone), strict=True):
        with st.container(border=True):
            left, right = st.columns([4, 1])
            left.markdown(f"**{row['shared with']}** can see {row['can see']}.")
            left.caption(f"Since {row['since']}, {row['until']}; granted by {row['granted by']}.")
            right.button(
                "Stop sharing", key=f"revoke-{share.id}", on_click=_revoke, args=(share.id,)
            )
    share_form(viewer.wearer_id, timezone)
    past = [s for s in shares if not s.active_at(now)]
    if past:
        with st.expander("Past shares"):
            st.table(share_rows(past, timezone))
    st.subheader("Who looked at your data")
    entries = accounts().audit(wearer_id=viewer.wearer_id, limit=500)
    if not entries:
        st.caption("No one yet.")
        return
    st.dataframe(
        [
            {
                "when": views.local_minute(e.at, timezone),
                "who": e.actor,
                "what": e.action,
                "detail": e.detail,
            }
            for e in entries
        ],
        hide_index=True,
    )


def nothing_shared() -> None:
    """The only page of an account nothing has been shared with yet."""
    st.title("Nothing shared yet")
    st.info(
        "No wearer has shared their data with this account yet. A wearer shares from their "
        "own dashboard page or asks the hub's administrator to record their consent."
    )
