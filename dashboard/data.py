"""The dashboard's one door to the data: a cached read-only Store from the configured URL.

The URL comes from ``$SENSORHUB_DB_URL`` (how ``sensorhub dashboard`` and the demo pass it:
a process's environment is visible to its owner only, its command line to every local user)
or, for a hand-started ``streamlit run dashboard/app.py -- --db URL``, from ``--db``. The
store is opened read-only: a missing SQLite file is reported, never created.
"""

from __future__ import annotations

import argparse
import sys

import streamlit as st

from sensorhub.errors import StorageError
from sensorhub.store import Queries, Store
from sensorhub.store import database_url as configured_url

#: Database URLs already seen to hold a sensorhub schema (shared by every session).
_SCHEMA_SEEN: set[str] = set()


def database_url(argv: list[str] | None = None) -> str:
    """``--db URL`` after ``streamlit run app.py --``, else $SENSORHUB_DB_URL, else default."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db", default=None)
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return configured_url(known.db)


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    # The dashboard never writes nor migrates: the collector (or `sensorhub db upgrade`) owns
    # the database and its schema.
    return Store.open_read_only(url)


def queries() -> Queries:
    """Read access to the configured database.

    Stops the page with a message that says what to do when the database cannot be opened
    or has no sensorhub schema yet (nothing has been collected).
    """
    url = database_url()
    try:
        store = _store(url)
        # The schema is checked until it exists; after that every 2-s refresh skips the query.
        revision = "known" if url in _SCHEMA_SEEN else store.schema_revision()
    except StorageError as exc:
        st.error(f"Cannot open the sensorhub database: {exc}")
        st.stop()
    if revision is None:
        st.warning(
            "This database holds no sensorhub data yet. Start the collector "
            "(`sensorhub run` or `make demo`) or run `sensorhub db upgrade --db URL`."
        )
        st.stop()
    _SCHEMA_SEEN.add(url)
    return store.queries
