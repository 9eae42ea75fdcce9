"""Errors raised by the protocol codecs.

Every decoder in :mod:`firmware_protocols` raises :class:`DecodeError` (and only that) for
bytes that are not a valid packet, with a message that says what was wrong. Encoders raise
:class:`EncodeError` for values that cannot be put on the wire. Both also inherit
:class:`ValueError`, so callers can catch either the domain error or the builtin (the dual
inheritance follows bumble's ``InvalidPacketError(BaseBumbleError, ValueError)``).
"""

from __future__ import annotations

__all__ = ["DecodeError", "EncodeError", "ProtocolError"]


class ProtocolError(Exception):
    """Root of every error raised by :mod:`firmware_protocols`."""


class DecodeError(ProtocolError, ValueError):
    """The bytes are not a valid packet of the expected kind (too short, bad field, ...)."""


class EncodeError(ProtocolError, ValueError):
    """The value cannot be encoded (out of the wire range, inconsistent fields, ...)."""
