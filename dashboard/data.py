"""The dashboard's one door to the data: viewer-filtered reads and the care-circle accounts.

The URL comes from ``$SENSORHUB_DB_URL`` (how ``sensorhub dashboard`` and the demo pass it:
a process's environment is visible to its owner only, its command line to every local user)
or, for a hand-started ``streamlit run dashboard/app.py -- --db URL``, from ``--db``.

Health data is read through a read-only store (a missing SQLite file is reported, never
created), and only through :class:`~sensorhub.store.Queries`, whose every read is filtered
for the logged-in viewer: the dashboard has no unfiltered query (it may not import
``sensorhub.store.operator``, an import-linter contract). Query results are not cached, so
one viewer's data can never be served to another from a cache, and a revoked share stops
showing on the next refresh. The accounts (logins, the audit log, revoking a share) go
through a second, read-write engine that never migrates the schema.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass

import streamlit as st

from sensorhub.errors import SensorhubError, StorageError
from sensorhub.store import Accounts, Queries, Store
from sensorhub.store import database_url as configured_url
from sensorhub.store.database import create_db_engine, head_revision

_LOGGER = logging.getLogger(__name__)

#: Database URLs already seen to hold a sensorhub schema (shared by every session).
_SCHEMA_SEEN: set[str] = set()


@dataclass(frozen=True)
class DashboardStore:
    """What the dashboard may do with the database."""

    #: health data, each read filtered for a viewer
    queries: Queries
    #: logins, the audit log, shares
    accounts: Accounts
    #: the read-only store (schema checks)
    store: Store


def database_url(argv: list[str] | None = None) -> str:
    """``--db URL`` after ``streamlit run app.py --``, else $SENSORHUB_DB_URL, else default."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db", default=None)
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return configured_url(known.db)


@st.cache_resource(show_spinner=False)
def _open(url: str) -> DashboardStore:
    # The dashboard never migrates: the collector (or `sensorhub db upgrade`) owns the schema.
    # The read-only store is opened first, so a missing SQLite file is reported, not created.
    store = Store.open_read_only(url)
    return DashboardStore(store.queries, Accounts(create_db_engine(url)), store)


def show_error(message: str, exc: BaseException) -> None:
    """Show a short message; the details go to the log (``client.showErrorDetails`` is off)."""
    _LOGGER.warning("%s: %s", message, exc)
    st.error(f"{message}: {exc}" if isinstance(exc, SensorhubError) else message)


def dashboard_store() -> DashboardStore:
    """The configured database, opened for the dashboard.

    Stops the page with a message that says what to do when the database cannot be opened
    or has no sensorhub schema yet (nothing has been collected).
    """
    url = database_url()
    try:
        opened = _open(url)
        # The schema is checked until it exists; after that every refresh skips the query.
        revision = "known" if url in _SCHEMA_SEEN else opened.store.schema_revision()
    except StorageError as exc:
        show_error("Cannot open the sensorhub database", exc)
        st.stop()
    if revision is None:
        st.warning(
            "This database holds no sensorhub data yet. Start the collector "
            "(`sensorhub run` or `make demo`) or run `sensorhub db upgrade --db URL`."
        )
        st.stop()
    if revision != "known" and revision != head_revision():
        st.warning(
            "This database was written by an older sensorhub: bring it up to date with "
            "`sensorhub db upgrade --db URL` (or restart the hub, which does it)."
        )
        st.stop()
    _SCHEMA_SEEN.add(url)
    return opened


def queries() -> Queries:
    """Viewer-filtered reads of the configured database."""
    return dashboard_store().queries


def accounts() -> Accounts:
    """The care-circle accounts of the configured database."""
    return dashboard_store().accounts
