"""The recordings of a dataset that have an analysis output: (truth, output) pairs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def truth_and_output(truth_dir: Path, out_dir: Path) -> Iterator[tuple[dict[str, Any], Any]]:
    """Each recording's truth and its ``sensorhub analyze`` document, in file order
    (recordings without an output file are skipped: score.py counts those as missing)."""
    for tp in sorted(truth_dir.glob("*.truth.json")):
        tr = json.loads(tp.read_text())
        op = out_dir / f"{tr['recording']}.json"
        if op.is_file():
            yield tr, json.loads(op.read_text())
