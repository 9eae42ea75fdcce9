"""The operator: whoever holds the database URL, reading everything for a stated purpose.

The hub itself, the command line (export, reports) and tests read as the operator: holding
the URL (and so the database's password) already gives every row, so a filter would protect
nothing there. The dashboard, which serves other people, may not import this module (an
import-linter contract in pyproject.toml): every read it makes is filtered for a logged-in
:class:`~sensorhub.access.Viewer`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Operator:
    """A read made by the database's owner, not for a dashboard viewer.

    Parameters
    ----------
    purpose
        What the reads are for ("export", "tests"), for logs and audit entries.
    """

    purpose: str


__all__ = ["Operator"]
