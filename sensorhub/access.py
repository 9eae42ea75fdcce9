"""Who may see what: roles, share scopes and the viewer every read is made for.

The access model follows Apple Health sharing and HIPAA's technical safeguards (45 CFR
164.312): every person has a unique account; a wearer's data is seen only by the wearer and by
the people the wearer shared it with, for the scopes chosen, until the share expires or is
revoked; an administrator runs the hub (accounts, devices) and sees no health data unless a
wearer shared it with them. These are plain values; the store enforces them in its queries.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from sensorhub.errors import SensorhubError


class AccessError(SensorhubError):
    """An account, share or scope request is not allowed or not understood."""


class Role(enum.StrEnum):
    """What an account is for (one role per account)."""

    #: a person who wears the devices and sees their own data
    WEARER = "wearer"
    #: family or care staff, who see what wearers shared with them
    CAREGIVER = "caregiver"
    #: a physiotherapist or doctor, who sees what wearers shared with them
    CLINICIAN = "clinician"
    #: runs the hub: accounts and device health, no health data unless shared
    ADMIN = "admin"


class Scope(enum.StrEnum):
    """A part of a wearer's data that a share opens."""

    #: live posture and bout timer, alerts
    STATUS = "status"
    #: sitting, standing, steps, epochs, static bouts and nudges
    ACTIVITY = "activity"
    #: gait bouts, their metrics and trends
    GAIT = "gait"
    #: detected falls
    FALLS = "falls"
    #: the wearer's devices: battery, signal, data quality
    DEVICES = "devices"


ALL_SCOPES: frozenset[Scope] = frozenset(Scope)

#: The scope that opens each stored event kind (kinds not listed need ACTIVITY).
EVENT_KIND_SCOPES: dict[str, Scope] = {
    "gait_bout": Scope.GAIT,
    "fall": Scope.FALLS,
}


#: The scope that opens each alert kind (kinds not listed need STATUS).
ALERT_KIND_SCOPES: dict[str, Scope] = {"possible_fall": Scope.FALLS}


def scope_of_alert(kind: str) -> Scope:
    """The scope a viewer needs to see alerts of ``kind`` (falls: FALLS, the rest: STATUS)."""
    return ALERT_KIND_SCOPES.get(kind, Scope.STATUS)


def scope_of_event(kind: str) -> Scope:
    """The scope a viewer needs to see events of ``kind``."""
    return EVENT_KIND_SCOPES.get(kind, Scope.ACTIVITY)


def parse_scopes(text: str | Iterable[str]) -> frozenset[Scope]:
    """Scopes from ``"status,activity"`` (or an iterable of names).

    Raises
    ------
    AccessError
        If a name is not a scope, or none is given.
    """
    names = text.split(",") if isinstance(text, str) else list(text)
    cleaned = [name.strip().lower() for name in names if name.strip()]
    if not cleaned:
        raise AccessError(f"no scope given: choose from {', '.join(s.value for s in Scope)}")
    unknown = sorted({name for name in cleaned if name not in Scope._value2member_map_})
    if unknown:
        raise AccessError(
            f"unknown scope {', '.join(unknown)}: choose from {', '.join(s.value for s in Scope)}"
        )
    return frozenset(Scope(name) for name in cleaned)


def parse_role(text: str) -> Role:
    """A role from its name.

    Raises
    ------
    AccessError
        If the name is not a role.
    """
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise AccessError(
            f"unknown role {text!r}: choose from {', '.join(r.value for r in Role)}"
        ) from None


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person a read is made for (a logged-in account).

    ``wearer_id`` is set for a wearer's own account: that wearer's data is theirs in every
    scope. Everything else comes from shares, checked by the store at each query, so a
    revocation or expiry takes effect on the next read.
    """

    user_id: str
    username: str
    role: Role
    wearer_id: str | None = None

    @property
    def is_admin(self) -> bool:
        """Whether the account runs the hub (accounts, device health)."""
        return self.role is Role.ADMIN


__all__ = [
    "ALERT_KIND_SCOPES",
    "ALL_SCOPES",
    "EVENT_KIND_SCOPES",
    "AccessError",
    "Role",
    "Scope",
    "Viewer",
    "parse_role",
    "parse_scopes",
    "scope_of_alert",
    "scope_of_event",
]
