"""Notification channel URLs (apprise's) shown without their secrets.

An apprise URL carries the password of a mail account, a bot token or a private ntfy topic.
:func:`mask_channel` is what every log line, stored delivery and error message shows instead.
Kept free of heavy imports: the config loader uses it.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["mask_channel"]

_MASK: Final = "***"
#: Longest masked channel (the size of the delivery log's column).
_CHANNEL_CHARS: Final = 400
#: A host name that is only a name: a dotted name, an IPv4 or IPv6 address, or localhost.
#: Anything else in the host position (Telegram's bot token, an ntfy topic, a Discord webhook
#: id) is a secret of the service and is masked too.
_PLAIN_HOST = re.compile(
    r"localhost|\[[0-9A-Fa-f:.]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
    r"|(?=.*[A-Za-z])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)


def mask_channel(url: str) -> str:
    """An apprise URL with its secrets hidden: scheme and host kept, everything else masked.

    ``mailto://ana:pw@example.org?to=x@y.org`` becomes ``mailto://***@example.org/***``,
    ``ntfys://ntfy.sh/ana-topic`` becomes ``ntfys://ntfy.sh/***``, ``tgram://123:ABC/456``
    becomes ``tgram://***/***`` (the bot token sits where a host would). User, password,
    path, query and fragment are never shown; a port is kept. A trailing `` (2)`` (how the
    notifier tells apart two channels of one caregiver that mask alike) is kept. Idempotent,
    and total: text that is no URL at all becomes ``***``.
    """
    numbered = re.fullmatch(r"(.*) \(([0-9]{1,3})\)", url)  # a label made unique: "... (2)"
    if numbered:
        return f"{mask_channel(numbered.group(1))} ({numbered.group(2)})"
    scheme, sep, rest = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return _MASK
    split = re.search(r"[/?#]", rest)
    netloc, after = (rest[: split.start()], rest[split.start() :]) if split else (rest, "")
    _userinfo, at_sign, host_port = netloc.rpartition("@")
    if host_port.startswith("["):  # an IPv6 address
        host, _, port = host_port[1:].partition("]")
        host, port = f"[{host}]", port.removeprefix(":")
    else:
        host, _, port = host_port.partition(":")
    shown = host.lower() if _PLAIN_HOST.fullmatch(host) else _MASK
    if shown != _MASK and port.isdigit():
        shown = f"{shown}:{port}"
    masked = f"{scheme.lower()}://{_MASK + '@' if at_sign else ''}{shown}"
    if after.strip("/?#"):
        masked += f"/{_MASK}"
    return masked[:_CHANNEL_CHARS]
