"""Who is looking: the login form, idle logout, logout, and audited page views.

Nothing of a wearer is rendered before :func:`viewer` returns an account. Local accounts log
in with a username and password (argon2id hashes, lockout with backoff after repeated
failures: :mod:`sensorhub.store.accounts`); a site with an identity provider configures
Streamlit's OIDC login (an ``[auth]`` section in ``.streamlit/secrets.toml``), and the
provider's e-mail address must match an account's username. A session that sees no
interaction for the idle time is logged out (HIPAA 164.312(a)(2)(iii), automatic logoff);
the live panels' own refreshes do not count as interaction. The account is re-read at every
run, so a disabled account is logged out at once.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Final

import streamlit as st

from dashboard.data import accounts, show_error
from sensorhub.access import Viewer

# the command that starts this process sets these (one definition of each)
from sensorhub.cli.dashboard import DESK_LOGIN_ENV, IDLE_LOGOUT_ENV, is_loopback
from sensorhub.errors import SensorhubError
from sensorhub.store import Action, LoginRefusedError

_LOGGER = logging.getLogger(__name__)

#: 15 minutes: the automatic-logoff time most health-care security policies use (NIST SP
#: 800-63B section 7.2 allows at most 30 minutes of inactivity at AAL2).
DEFAULT_IDLE_LOGOUT_MIN: Final = 15.0

_VIEWER = "sensorhub_viewer"
_LAST_ACTIVE = "sensorhub_last_active"
_AUDITED = "sensorhub_audited"
_NOTICE = "sensorhub_notice"


def idle_logout_s() -> float:
    """The idle time after which a session is logged out, in seconds."""
    raw = os.environ.get(IDLE_LOGOUT_ENV, "")
    try:
        minutes = float(raw) if raw else DEFAULT_IDLE_LOGOUT_MIN
    except ValueError:
        _LOGGER.warning("%s=%r is not a number of minutes: using %s", IDLE_LOGOUT_ENV, raw, 15)
        minutes = DEFAULT_IDLE_LOGOUT_MIN
    return max(minutes, 1.0) * 60.0


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, SensorhubError, KeyError):
        return False
    except Exception:
        _LOGGER.warning("cannot read .streamlit/secrets.toml: OIDC login is off")
        return False


def _desk_login() -> Viewer | None:
    username = os.environ.get(DESK_LOGIN_ENV)
    if not username:
        return None
    address = str(st.get_option("server.address") or "")
    if not is_loopback(address):
        st.error(
            "Desk mode (no login) is served on this computer only; this dashboard listens on "
            f"{address or 'every address'}. Restart it without --login-as."
        )
        st.stop()
    try:
        return accounts().login_external(username, provider="desk mode on 127.0.0.1")
    except SensorhubError as exc:
        show_error("Desk mode cannot log in", exc)
        st.stop()


def _log_in(session_viewer: Viewer) -> None:
    st.session_state[_VIEWER] = session_viewer
    st.session_state[_LAST_ACTIVE] = time.time()
    st.session_state[_AUDITED] = set()


def log_out(reason: str = "") -> None:
    """End the session (audited); ``reason`` is shown on the login form."""
    current = st.session_state.get(_VIEWER)
    if isinstance(current, Viewer):
        try:
            accounts().record(current.username, Action.LOGOUT, None, reason or "logout button")
        except SensorhubError as exc:
            _LOGGER.warning("could not audit a logout: %s", exc)
    for key in (_VIEWER, _LAST_ACTIVE, _AUDITED):
        st.session_state.pop(key, None)
    if reason:
        st.session_state[_NOTICE] = reason


def viewer(*, interaction: bool = True) -> Viewer | None:
    """The logged-in account, or None (then show only the login form).

    Parameters
    ----------
    interaction
        Whether this run comes from the person (a click, a page change) and so resets the
        idle timer; the live panels' timed refreshes pass False.
    """
    current = st.session_state.get(_VIEWER)
    if not isinstance(current, Viewer):
        desk = _desk_login()
        if desk is not None:
            _log_in(desk)
            return desk
        return None
    now = time.time()
    if now - float(st.session_state.get(_LAST_ACTIVE, now)) > idle_logout_s():
        log_out(f"You were logged out after {idle_logout_s() / 60:.0f} minutes without activity.")
        return None
    fresh = accounts().current_viewer(current)
    if fresh is None:
        log_out("This account was disabled.")
        return None
    if interaction:
        st.session_state[_LAST_ACTIVE] = now
    st.session_state[_VIEWER] = fresh
    return fresh


def current() -> Viewer:
    """The viewer :func:`viewer` checked at the top of this run (pages call it)."""
    found = st.session_state.get(_VIEWER)
    if not isinstance(found, Viewer):
        st.stop()
    return found


def audit_view(current: Viewer, page: str, wearer_id: str | None) -> None:
    """Record that ``current`` viewed ``page`` of a wearer (once per session and page)."""
    seen: set[tuple[str, str | None]] = st.session_state.setdefault(_AUDITED, set())
    if (page, wearer_id) in seen:
        return
    accounts().record(current.username, Action.VIEW, wearer_id, page)
    seen.add((page, wearer_id))


def login_page() -> None:
    """The login form (the only page before a login)."""
    st.title("sensorhub")
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.info(notice)
    with st.form("login", border=True):
        st.subheader("Log in")
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        if not username or not password:
            st.error("Enter your username and password.")
        else:
            try:
                _log_in(accounts().authenticate(username.strip(), password))
            except LoginRefusedError as exc:
                st.error(str(exc))
            except SensorhubError as exc:
                show_error("Cannot log in now", exc)
            else:
                st.rerun()
    if _oidc_configured():
        _oidc_login()
    st.caption("Forgot your password? Ask the person who runs this hub to reset it.")


def _oidc_login() -> None:
    user: Any = st.user
    if not user.get("is_logged_in"):
        if st.button("Log in with your organisation's account"):
            st.login()
        return
    email = user.get("email")
    try:
        _log_in(accounts().login_external(str(email), provider="OIDC"))
    except SensorhubError as exc:
        st.error(str(exc))
        st.button("Log out of the identity provider", on_click=st.logout)
        return
    st.rerun()


def sidebar(current: Viewer) -> None:
    """Who is logged in, and the logout button."""
    st.sidebar.caption(f"Logged in as **{current.username}** ({current.role.value})")
    if st.sidebar.button("Log out"):
        log_out("You logged out.")
        if _oidc_configured() and st.user.get("is_logged_in"):
            st.logout()
        st.rerun()
