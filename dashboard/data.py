"""The dashboard's one door to the data: a cached read-only Store from the configured URL."""

from __future__ import annotations

import argparse
import os
import sys

import streamlit as st

from sensorhub.errors import StorageError
from sensorhub.store import DEFAULT_DB_URL, Queries, Store

DB_ENV = "SENSORHUB_DB_URL"

#: Database URLs already seen to hold a sensorhub schema (shared by every session).
_SCHEMA_SEEN: set[str] = set()


def database_url(argv: list[str] | None = None) -> str:
    """``--db URL`` after ``streamlit run app.py --``, else $SENSORHUB_DB_URL, else default."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db", default=None)
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return str(known.db or os.environ.get(DB_ENV) or DEFAULT_DB_URL)


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    # The dashboard never migrates: the collector (or `sensorhub db upgrade`) owns the schema.
    return Store.open(url, upgrade=False)


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
