"""Packets as JSON-ready values with physical units (for ``sensorhub decode`` and logs).

Pure conversion, no I/O: dataclass fields become keys, numpy arrays lists, enums their names,
bytes hex strings; the unit properties a packet defines (``acc_g``, ``gyro_dps``, ...) are
added when they apply to it.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from firmware_protocols.errors import ProtocolError

__all__ = ["UNIT_PROPERTIES", "dumps", "to_jsonable"]

#: Derived values in physical units, added to the JSON of packets that define them.
UNIT_PROPERTIES: Final = (
    "acc_g",
    "gyro_dps",
    "compass_ut",
    "ecg_uv",
    "sample_rate_hz",
    "sensor_contact",
)


def to_jsonable(obj: object) -> Any:
    """Convert a decoded packet (or any value inside one) to JSON-serialisable values.

    Dataclasses become ``{"type": class name, fields..., unit properties...}``; IntFlag values
    become the list of set flag names; non-finite floats become None.
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, enum.IntFlag):
        return [m.name for m in type(obj) if m in obj and m.name]
    if isinstance(obj, enum.Enum):
        return obj.name
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, bytes | bytearray | memoryview):
        return bytes(obj).hex()
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | frozenset | set):
        items = sorted(obj, key=repr) if isinstance(obj, frozenset | set) else obj
        return [to_jsonable(v) for v in items]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {"type": type(obj).__name__}
        for f in dataclasses.fields(obj):
            out[f.name] = to_jsonable(getattr(obj, f.name))
        for name in UNIT_PROPERTIES:
            if isinstance(getattr(type(obj), name, None), property):
                try:
                    value = getattr(obj, name)
                except ProtocolError:  # not defined for this kind of frame (e.g. acc_g of GYRO)
                    continue
                if value is not None:
                    out[name] = to_jsonable(value)
        message = getattr(getattr(obj, "status", None), "message", None)
        if isinstance(message, str):
            out["status_message"] = message
        return out
    raise TypeError(f"cannot convert {type(obj).__name__} to JSON")


_INNER_LIST = re.compile(r"\[\s+([^\[\]{}]*?)\s+\]")


def dumps(value: Any) -> str:
    """JSON text indented for people, with innermost lists (e.g. one x, y, z sample) kept on
    one line."""
    text = json.dumps(value, indent=2, allow_nan=False)
    return _INNER_LIST.sub(lambda m: "[" + re.sub(r"\s*\n\s*", " ", m.group(1)) + "]", text)
