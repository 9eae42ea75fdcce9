"""The reader tests use to see every row (the database's operator, as the hub does)."""

from __future__ import annotations

from sensorhub.store.operator import Operator

#: Reads everything: tests check what was stored, not who may see it.
OPERATOR = Operator("tests")
