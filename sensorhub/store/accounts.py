"""The care circle in the store: accounts, logins, shares (consent) and the audit log.

Every change here writes its audit entry in the same transaction as the change, so the log
and the data cannot disagree. Passwords are never stored, logged or put in an error message;
the audit log keeps the username a login was tried with when it names an account, and never
what was typed as a password. A username that names no account is not kept: people type
their password into the username field, and the audit log cannot be edited afterwards.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from sensorhub.access import AccessError, Role, Scope, Viewer, parse_role, scope_of_alert
from sensorhub.errors import StorageError
from sensorhub.store.database import describe_error
from sensorhub.store.models import (
    AlertDeliveryRow,
    AlertRow,
    AuditRow,
    NudgeRow,
    ShareRow,
    UserRow,
    WearerRow,
    WearerSettingsRow,
)
from sensorhub.store.nudge_loop import ANSWERS, RESPONSE_WINDOW_S, apply_response
from sensorhub.store.passwords import (
    hash_password,
    needs_rehash,
    rehash_password,
    verify_password,
)
from sensorhub.store.queries import AlertView, alert_view
from sensorhub.wearer_settings import SETTINGS_KEYS, WearerSettings

_T = TypeVar("_T")


def _user_id(viewer: Viewer) -> uuid.UUID | None:
    try:
        return uuid.UUID(viewer.user_id)
    except ValueError:
        return None


_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}")

#: Consecutive failed logins allowed before the account is locked (OWASP Authentication
#: Cheat Sheet, "Account Lockout"; NIST SP 800-63B section 5.2.2 rate limiting).
LOCKOUT_AFTER_FAILURES: Final = 5
#: First lockout, doubled for every further failure, capped (backoff, not a permanent lock
#: an attacker could use to keep a caregiver out).
LOCKOUT_FIRST_S: Final = 30.0
LOCKOUT_MAX_S: Final = 15 * 60.0
#: The audit actor of a failed login with a username that names no account (what was typed
#: may be a password typed into the wrong field: it is not kept).
UNKNOWN_USERNAME: Final = "(unknown username)"


class Action:
    """Names of audit log actions (kept stable: reports and people read them)."""

    LOGIN = "login"
    LOGIN_FAILED = "login failed"
    LOGOUT = "logout"
    VIEW = "view"
    EXPORT = "export"
    SETTINGS = "settings changed"
    SHARE_GRANTED = "share granted"
    SHARE_REVOKED = "share revoked"
    USER_ADDED = "user added"
    USER_DISABLED = "user disabled"
    PASSWORD_RESET = "password reset"  # noqa: S105 (an action name, not a password)
    WEARER_DELETED = "wearer deleted"
    NUDGE_ANSWERED = "nudge answered"
    ALERT_ACKNOWLEDGED = "alert acknowledged"
    ALERT_CANCELLED = "alert cancelled"


class LoginRefusedError(AccessError):
    """A login was refused; the message is safe to show (it names no account state)."""

    def __init__(self, message: str, *, retry_after_s: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UnknownAlertError(AccessError, LookupError):
    """No alert has this id (or the viewer may not see it: the two are not told apart)."""

    def __init__(self, alert_id: str) -> None:
        super().__init__(f"no alert {alert_id}: list the alerts with `sensorhub alerts --db URL`")
        self.alert_id = alert_id


def _alert_uuid(alert_id: uuid.UUID | str) -> uuid.UUID:
    if isinstance(alert_id, uuid.UUID):
        return alert_id
    try:
        return uuid.UUID(alert_id.strip())
    except ValueError:
        raise UnknownAlertError(alert_id) from None


@dataclass(frozen=True, slots=True)
class UserView:
    """An account as listed by ``sensorhub users list`` (no password hash)."""

    id: uuid.UUID
    username: str
    display_name: str
    role: Role
    wearer_id: str | None
    disabled: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    locked_until: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ShareView:
    """A share: who sees which scopes of whose data, since when and until when."""

    id: uuid.UUID
    wearer_id: str
    grantee: str
    grantee_display_name: str
    scopes: frozenset[Scope]
    granted_at: dt.datetime
    granted_by: str
    basis: str
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revoked_by: str | None

    def active_at(self, now: dt.datetime) -> bool:
        """Whether the share opens data at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit log entry."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    wearer_id: str | None
    detail: str


def encode_scopes(scopes: Iterable[Scope]) -> str:
    """Scopes as stored: sorted names between commas (``",activity,status,"``).

    The commas on both ends let a query match one scope with ``LIKE '%,name,%'``.
    """
    names = sorted({Scope(s).value for s in scopes})
    if not names:
        raise AccessError("a share needs at least one scope")
    return "," + ",".join(names) + ","


def decode_scopes(stored: str) -> frozenset[Scope]:
    """The scopes of a stored share."""
    return frozenset(Scope(name) for name in stored.split(",") if name)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _user_view(row: UserRow) -> UserView:
    return UserView(
        row.id,
        row.username,
        row.display_name,
        Role(row.role),
        row.wearer_id,
        row.disabled,
        row.created_at,
        row.last_login_at,
        row.locked_until,
    )


def _audit(
    session: Session, actor: str, action: str, wearer_id: str | None, detail: str, at: dt.datetime
) -> None:
    session.add(AuditRow(at=at, actor=actor, action=action, wearer_id=wearer_id, detail=detail))


def lockout_s(failures: int) -> float:
    """How long an account stays locked after ``failures`` consecutive failed logins."""
    if failures < LOCKOUT_AFTER_FAILURES:
        return 0.0
    return min(LOCKOUT_FIRST_S * 2.0 ** (failures - LOCKOUT_AFTER_FAILURES), LOCKOUT_MAX_S)


class Accounts:
    """Accounts, shares and the audit log of one database (one short transaction per call).

    Parameters
    ----------
    engine
        A read-write engine (the dashboard opens one beside its read-only data engine).
    clock
        Returns the current UTC time (tests pass a fixed clock for expiry and lockout).
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self._engine = engine
        self._clock = clock

    def _run(self, work: Callable[[Session], _T]) -> _T:
        try:
            with Session(self._engine) as session, session.begin():
                return work(session)
        except IntegrityError as exc:
            raise AccessError(
                f"the change conflicts with what is stored: {describe_error(exc.orig or exc)}"
            ) from exc
        except SQLAlchemyError as exc:
            raise StorageError(
                f"the database refused the change: {exc.__class__.__name__}: {describe_error(exc)}"
            ) from exc

    # -- accounts -----------------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        role: Role | str,
        *,
        actor: str,
        display_name: str | None = None,
        password: str | None = None,
        wearer_id: str | None = None,
    ) -> UserView:
        """Create an account (and its audit entry).

        Parameters
        ----------
        username
            Unique login name: letters, digits and ``. _ @ + -``, at most 200 characters.
        role
            One of :class:`~sensorhub.access.Role`.
        actor
            Who creates it (for the audit log).
        display_name
            Name shown on the dashboard (default: the username).
        password
            The password (checked against the policy, stored as an argon2id hash); None for
            an account that logs in through the site's identity provider only.
        wearer_id
            For a ``wearer`` account: the wearer this person is.

        Raises
        ------
        AccessError
            If the username is taken or malformed, the role unknown, or the wearer link wrong.
        """
        role = parse_role(role) if isinstance(role, str) else role
        if not _USERNAME.fullmatch(username):
            raise AccessError(
                f"invalid username {username!r}: use letters, digits and . _ @ + - "
                "(at most 200 characters, starting with a letter or digit)"
            )
        if (wearer_id is not None) != (role is Role.WEARER):
            raise AccessError(
                "a wearer account needs --wearer ID (the wearer it is), and only a wearer "
                "account takes one"
            )
        password_hash = hash_password(password) if password is not None else None
        now = self._clock()

        def work(session: Session) -> UserView:
            if session.scalar(select(UserRow.id).where(UserRow.username == username)):
                raise AccessError(f"username {username!r} is taken: choose another")
            if wearer_id is not None:
                if session.get(WearerRow, wearer_id) is None:
                    raise AccessError(
                        f"no wearer {wearer_id!r} in the database: add the wearer to the hub "
                        "config and start the hub once (or check the id)"
                    )
                if session.scalar(select(UserRow.username).where(UserRow.wearer_id == wearer_id)):
                    raise AccessError(f"wearer {wearer_id!r} already has an account")
            row = UserRow(
                id=uuid.uuid4(),
                username=username,
                display_name=display_name or username,
                role=role.value,
                password_hash=password_hash,
                wearer_id=wearer_id,
                disabled=False,
                created_at=now,
                failed_logins=0,
            )
            session.add(row)
            _audit(session, actor, Action.USER_ADDED, wearer_id, f"{username} as {role}", now)
            session.flush()
            return _user_view(row)

        return self._run(work)

    def users(self) -> list[UserView]:
        """Every account, by username."""
        return self._run(
            lambda s: [_user_view(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]
        )

    def user(self, username: str) -> UserView | None:
        """The account with this username, or None."""

        def work(session: Session) -> UserView | None:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            return None if row is None else _user_view(row)

        return self._run(work)

    def _user_row(self, session: Session, username: str) -> UserRow:
        row = session.scalar(select(UserRow).where(UserRow.username == username))
        if row is None:
            raise AccessError(f"no account {username!r}: see `sensorhub users list`")
        return row

    def disable_user(self, username: str, *, actor: str) -> None:
        """Disable an account: it cannot log in and its open sessions see nothing more."""
        now = self._clock()

        def work(session: Session) -> None:
            row = self._user_row(session, username)
            row.disabled = True
            _audit(session, actor, Action.USER_DISABLED, row.wearer_id, username, now)

        self._run(work)

    def reset_password(self, username: str, password: str, *, actor: str) -> None:
        """Set a new password (and lift a lockout)."""
        password_hash = hash_password(password)
        now = self._clock()

        def work(session: Session) -> None:
            row = self._user_row(session, username)
            row.password_hash = password_hash
            row.failed_logins = 0
            row.locked_until = None
            _audit(session, actor, Action.PASSWORD_RESET, row.wearer_id, username, now)

        self._run(work)

    def authenticate(self, username: str, password: str) -> Viewer:
        """Check a login; returns the viewer, or raises :class:`LoginRefusedError`.

        Unknown usernames, wrong passwords and disabled accounts get the same message (no
        account enumeration); a locked account says when to try again. Every attempt is
        audited with the username tried.
        """
        now = self._clock()
        refused = "wrong username or password"

        def check(session: Session) -> tuple[Viewer | None, LoginRefusedError | None]:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            if row is not None and row.locked_until is not None and row.locked_until > now:
                wait_s = (row.locked_until - now).total_seconds()
                _audit(session, username, Action.LOGIN_FAILED, None, "account locked", now)
                return None, LoginRefusedError(
                    f"too many failed logins: try again in {max(1, round(wait_s))} s",
                    retry_after_s=wait_s,
                )
            ok = verify_password(row.password_hash if row else None, password)
            if row is None or not ok or row.disabled:
                reason = "unknown username" if row is None else "disabled" if ok else "password"
                actor = username if row is not None else UNKNOWN_USERNAME
                if row is not None and not ok:
                    row.failed_logins += 1
                    lock = lockout_s(row.failed_logins)
                    if lock:
                        row.locked_until = now + dt.timedelta(seconds=lock)
                        reason += f"; locked for {lock:.0f} s"
                _audit(session, actor, Action.LOGIN_FAILED, None, reason, now)
                return None, LoginRefusedError(refused)
            row.failed_logins = 0
            row.locked_until = None
            row.last_login_at = now
            if row.password_hash is not None and needs_rehash(row.password_hash):
                # not hash_password: a password that met an older policy still logs in
                row.password_hash = rehash_password(password)
            _audit(session, username, Action.LOGIN, None, "password", now)
            return Viewer(str(row.id), row.username, Role(row.role), row.wearer_id), None

        viewer, error = self._run(check)
        if error is not None:
            raise error
        assert viewer is not None
        return viewer

    def login_external(self, username: str, *, provider: str) -> Viewer:
        """A login vouched for by the site's identity provider (OIDC): the account must exist.

        Raises
        ------
        LoginRefusedError
            If no enabled account has this username.
        """
        now = self._clock()

        def work(session: Session) -> Viewer | None:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            if row is None or row.disabled:
                _audit(session, username, Action.LOGIN_FAILED, None, f"{provider}: no account", now)
                return None
            row.last_login_at = now
            _audit(session, username, Action.LOGIN, None, provider, now)
            return Viewer(str(row.id), row.username, Role(row.role), row.wearer_id)

        viewer = self._run(work)
        if viewer is None:
            raise LoginRefusedError(
                "your identity provider vouched for you, but this hub has no account for "
                f"{username}: ask its administrator to add one"
            )
        return viewer

    def current_viewer(self, viewer: Viewer) -> Viewer | None:
        """``viewer`` as the account is now (None when disabled or deleted since the login)."""

        try:
            user_id = uuid.UUID(viewer.user_id)
        except ValueError:
            return None

        def work(session: Session) -> Viewer | None:
            row = session.get(UserRow, user_id)
            if row is None or row.disabled:
                return None
            return Viewer(str(row.id), row.username, Role(row.role), row.wearer_id)

        return self._run(work)

    # -- shares -------------------------------------------------------------------------------

    def grant_share(
        self,
        wearer_id: str,
        to_username: str,
        scopes: Iterable[Scope],
        *,
        actor: str,
        basis: str = "wearer",
        expires_at: dt.datetime | None = None,
    ) -> ShareView:
        """Share ``scopes`` of a wearer's data with an account (replacing an active share).

        Parameters
        ----------
        basis
            ``"wearer"`` when the wearer grants it; when an administrator grants it on the
            wearer's behalf, the documented basis ("signed consent form 2026-11-30").
        """
        stored_scopes = encode_scopes(scopes)
        now = self._clock()
        if expires_at is not None and expires_at <= now:
            raise AccessError(f"the expiry {expires_at:%Y-%m-%d %H:%M} UTC is in the past")
        if not basis.strip():
            raise AccessError("say on what basis the share is granted (e.g. the consent form)")

        def work(session: Session) -> ShareView:
            if session.get(WearerRow, wearer_id) is None:
                raise AccessError(f"no wearer {wearer_id!r} in the database")
            grantee = self._user_row(session, to_username)
            if grantee.wearer_id == wearer_id:
                raise AccessError(f"{to_username} is this wearer's own account: it sees all")
            for old in self._active_shares(session, wearer_id, grantee.id, now):
                old.revoked_at, old.revoked_by = now, f"{actor} (replaced)"
            row = ShareRow(
                id=uuid.uuid4(),
                wearer_id=wearer_id,
                grantee_id=grantee.id,
                scopes=stored_scopes,
                granted_at=now,
                granted_by=actor,
                basis=basis,
                expires_at=expires_at,
            )
            session.add(row)
            until = f" until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
            _audit(
                session,
                actor,
                Action.SHARE_GRANTED,
                wearer_id,
                f"to {to_username}: {stored_scopes.strip(',')}{until}; basis: {basis}",
                now,
            )
            session.flush()
            return self._share_view(row, grantee)

        return self._run(work)

    @staticmethod
    def _active_shares(
        session: Session, wearer_id: str, grantee_id: uuid.UUID, now: dt.datetime
    ) -> list[ShareRow]:
        return list(
            session.scalars(
                select(ShareRow).where(
                    ShareRow.wearer_id == wearer_id,
                    ShareRow.grantee_id == grantee_id,
                    ShareRow.revoked_at.is_(None),
                    or_(ShareRow.expires_at.is_(None), ShareRow.expires_at > now),
                )
            )
        )

    def revoke_share(self, wearer_id: str, to_username: str, *, actor: str) -> int:
        """Revoke every active share of the wearer with the account; returns how many.

        Takes effect on the viewer's next query.
        """
        now = self._clock()

        def work(session: Session) -> int:
            grantee = self._user_row(session, to_username)
            active = self._active_shares(session, wearer_id, grantee.id, now)
            if not active:
                raise AccessError(f"{to_username} has no active share of wearer {wearer_id!r}")
            for row in active:
                row.revoked_at, row.revoked_by = now, actor
            _audit(session, actor, Action.SHARE_REVOKED, wearer_id, f"from {to_username}", now)
            return len(active)

        return self._run(work)

    def revoke_share_as(self, viewer: Viewer, share_id: uuid.UUID) -> None:
        """The wearer revokes one of their shares from the dashboard.

        Raises
        ------
        AccessError
            If the share is not this wearer's (or not active any more).
        """
        now = self._clock()

        def work(session: Session) -> None:
            row = session.get(ShareRow, share_id)
            if row is None or viewer.wearer_id is None or row.wearer_id != viewer.wearer_id:
                raise AccessError("this share is not yours to revoke")
            if row.revoked_at is not None:
                return
            grantee = session.get(UserRow, row.grantee_id)
            row.revoked_at, row.revoked_by = now, viewer.username
            name = grantee.username if grantee else str(row.grantee_id)
            _audit(
                session, viewer.username, Action.SHARE_REVOKED, row.wearer_id, f"from {name}", now
            )

        self._run(work)

    # -- the nudge loop -----------------------------------------------------------------------

    def answer_nudge(
        self,
        viewer: Viewer,
        nudge_id: uuid.UUID,
        answer: str,
        *,
        at: dt.datetime | None = None,
    ) -> bool:
        """The wearer answers a current nudge "done" or "snoozed" (audited).

        Only the wearer's own account may answer (a caregiver sees the outcome but cannot
        answer for the wearer), only within the response window after the nudge (10 min,
        measured at ``at``: the wearer's device time as the dashboard last saw it, else now),
        and the first response wins (:func:`sensorhub.store.nudge_loop.apply_response`). A
        snooze lasts the wearer's ``snooze_min`` (15 min by default).

        Returns True if the answer was stored, False if the nudge already had a response.

        Raises
        ------
        AccessError
            If the account may not answer this nudge, or the nudge is no longer current.
        """
        if answer not in ANSWERS:
            raise AccessError(f"unknown answer {answer!r}: use one of {sorted(ANSWERS)}")
        when = at or self._clock()

        def work(session: Session) -> bool:
            nudge = session.get(NudgeRow, nudge_id)
            user_id = _user_id(viewer)
            user = None if user_id is None else session.get(UserRow, user_id)
            if (
                nudge is None
                or user is None
                or user.disabled
                or user.wearer_id is None
                or user.wearer_id != nudge.wearer_id
            ):
                raise AccessError("only the wearer can answer their own nudges")
            response_s = (when - nudge.sent_at).total_seconds()
            if not -60.0 <= response_s <= RESPONSE_WINDOW_S:
                raise AccessError("this nudge is no longer current: it cannot be answered now")
            snoozed_until = None
            if answer == "snoozed":
                stored = session.get(WearerSettingsRow, nudge.wearer_id)
                minutes = float((stored.settings if stored else {}).get("snooze_min", 15.0))
                snoozed_until = when + dt.timedelta(minutes=minutes)
            taken = apply_response(
                session,
                nudge_id,
                outcome=answer,
                responded_at=when,
                response_s=response_s,
                snoozed_until=snoozed_until,
            )
            detail = f"{answer} nudge {nudge_id}" + ("" if taken else " (already answered)")
            _audit(session, viewer.username, Action.NUDGE_ANSWERED, nudge.wearer_id, detail, now)
            return taken

        now = self._clock()
        return self._run(work)

    def save_wearer_settings(self, wearer_id: str, settings: WearerSettings, actor: str) -> None:
        """Store the wearer's own settings (audited "settings changed", with what changed).

        Keys of the stored JSON that :class:`~sensorhub.wearer_settings.WearerSettings` does
        not know (other parts' settings) are kept.

        Raises
        ------
        AccessError
            If there is no such wearer.
        """
        now = self._clock()

        def work(session: Session) -> None:
            if session.get(WearerRow, wearer_id) is None:
                raise AccessError(f"no wearer {wearer_id!r}")
            row = session.get(WearerSettingsRow, wearer_id)
            new = settings.to_json()
            before = {} if row is None else dict(row.settings)
            if row is None:
                row = WearerSettingsRow(wearer_id=wearer_id, settings={}, updated_at=now)
                session.add(row)
            merged = {k: v for k, v in before.items() if k not in SETTINGS_KEYS}
            merged.update(new)
            row.settings, row.updated_at, row.updated_by = merged, now, actor
            changed = sorted(k for k in SETTINGS_KEYS if before.get(k) != merged.get(k))
            detail = ", ".join(f"{k}={merged.get(k)!r}" for k in changed) or "no change"
            _audit(session, actor, Action.SETTINGS, wearer_id, detail, now)

        self._run(work)

    @staticmethod
    def _share_view(row: ShareRow, grantee: UserRow) -> ShareView:
        return ShareView(
            row.id,
            row.wearer_id,
            grantee.username,
            grantee.display_name,
            decode_scopes(row.scopes),
            row.granted_at,
            row.granted_by,
            row.basis,
            row.expires_at,
            row.revoked_at,
            row.revoked_by,
        )

    def shares(self, wearer_id: str | None = None, *, active_only: bool = False) -> list[ShareView]:
        """Shares (of one wearer, or all), newest first."""
        now = self._clock()

        def work(session: Session) -> list[ShareView]:
            stmt = select(ShareRow, UserRow).join(UserRow, UserRow.id == ShareRow.grantee_id)
            if wearer_id is not None:
                stmt = stmt.where(ShareRow.wearer_id == wearer_id)
            if active_only:
                stmt = stmt.where(
                    ShareRow.revoked_at.is_(None),
                    or_(ShareRow.expires_at.is_(None), ShareRow.expires_at > now),
                )
            rows = session.execute(stmt.order_by(ShareRow.granted_at.desc(), ShareRow.id))
            return [self._share_view(share, user) for share, user in rows]

        return self._run(work)

    # -- alerts -------------------------------------------------------------------------------

    def _may_see_alert(self, session: Session, viewer: Viewer, row: AlertRow) -> bool:
        """Whether ``viewer`` may see (and so acknowledge) the alert, checked now."""
        user = session.get(UserRow, uuid.UUID(viewer.user_id))
        if user is None or user.disabled:
            return False
        if user.wearer_id is not None and user.wearer_id == row.wearer_id:
            return True
        need = scope_of_alert(row.kind)
        shares = self._active_shares(session, row.wearer_id, user.id, self._clock())
        return any(need in decode_scopes(share.scopes) for share in shares)

    def _alert_row(
        self, session: Session, alert_id: uuid.UUID | str, actor: str | Viewer
    ) -> AlertRow:
        key = _alert_uuid(alert_id)
        row = session.get(AlertRow, key, with_for_update=True)
        if row is None:
            raise UnknownAlertError(str(alert_id))
        if isinstance(actor, Viewer) and not self._may_see_alert(session, actor, row):
            raise UnknownAlertError(str(alert_id))
        return row

    @staticmethod
    def _alert_view(session: Session, row: AlertRow) -> AlertView:
        deliveries = session.scalars(
            select(AlertDeliveryRow).where(AlertDeliveryRow.alert_id == row.id)
        ).all()
        return alert_view(row, deliveries)

    def acknowledge_alert(self, alert_id: uuid.UUID | str, actor: str | Viewer) -> AlertView:
        """A caregiver is on it: a pending or open alert becomes ``acknowledged`` (audited).

        Idempotent: an alert already acknowledged, resolved or cancelled is left as it is
        (and returned). ``actor`` is a logged-in viewer, who must be able to see the alert
        (the wearer, or a share with its scope), or a name for the command line
        (``cli:<os user>``).

        Raises
        ------
        UnknownAlertError
            If no alert has this id (or the viewer may not see it).
        """
        now = self._clock()
        name = actor.username if isinstance(actor, Viewer) else actor

        def work(session: Session) -> AlertView:
            row = self._alert_row(session, alert_id, actor)
            if row.state in ("pending", "open"):
                row.state = "acknowledged"
                row.acknowledged_at, row.acknowledged_by = now, name
                row.updated_at = now
                _audit(
                    session,
                    name,
                    Action.ALERT_ACKNOWLEDGED,
                    row.wearer_id,
                    f"{row.kind} {row.id}",
                    now,
                )
            return self._alert_view(session, row)

        return self._run(work)

    def cancel_alert(self, alert_id: uuid.UUID | str, actor: str | Viewer) -> AlertView:
        """The wearer's "I'm OK": a pending possible fall becomes ``cancelled`` (audited), so
        no caregiver is told.

        Idempotent for an alert already cancelled. A viewer must be the wearer themselves.

        Raises
        ------
        UnknownAlertError
            If no alert has this id (or it is not the viewer's own).
        AccessError
            If the alert is no longer pending (caregivers have been told: they acknowledge it).
        """
        now = self._clock()
        name = actor.username if isinstance(actor, Viewer) else actor

        def work(session: Session) -> AlertView:
            row = self._alert_row(session, alert_id, actor)
            if isinstance(actor, Viewer) and actor.wearer_id != row.wearer_id:
                raise UnknownAlertError(str(alert_id))
            if row.state == "pending":
                row.state = "cancelled"
                row.reason = (
                    row.reason.split(";", 1)[0] + "; the wearer said they are OK, so no one "
                    "was alerted."
                )
                row.updated_at = row.closed_at = now
                detail = f"{row.kind} {row.id}"
                _audit(session, name, Action.ALERT_CANCELLED, row.wearer_id, detail, now)
            elif row.state != "cancelled":
                raise AccessError(
                    f"alert {row.id} is {row.state}, no longer waiting for the wearer: "
                    "caregivers have been told (they acknowledge it)"
                )
            return self._alert_view(session, row)

        return self._run(work)

    # -- audit log ----------------------------------------------------------------------------

    def record(
        self, actor: str, action: str, wearer_id: str | None = None, detail: str = ""
    ) -> None:
        """Append one entry to the audit log."""
        now = self._clock()
        self._run(lambda s: _audit(s, actor, action, wearer_id, detail, now))

    def audit(
        self,
        *,
        wearer_id: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditEntry]:
        """Audit entries (about one wearer, or all) since a time, newest first."""

        def work(session: Session) -> list[AuditEntry]:
            stmt = select(AuditRow)
            conditions: list[Any] = []
            if wearer_id is not None:
                conditions.append(AuditRow.wearer_id == wearer_id)
            if since is not None:
                conditions.append(AuditRow.at >= since)
            if conditions:
                stmt = stmt.where(and_(*conditions))
            stmt = stmt.order_by(AuditRow.at.desc(), AuditRow.id.desc())
            if limit is not None:
                stmt = stmt.limit(limit)
            return [
                AuditEntry(r.id, r.at, r.actor, r.action, r.wearer_id, r.detail)
                for r in session.scalars(stmt)
            ]

        return self._run(work)


__all__ = [
    "LOCKOUT_AFTER_FAILURES",
    "UNKNOWN_USERNAME",
    "AccessError",
    "Accounts",
    "Action",
    "AuditEntry",
    "LoginRefusedError",
    "ShareView",
    "UnknownAlertError",
    "UserView",
    "decode_scopes",
    "encode_scopes",
    "lockout_s",
]
