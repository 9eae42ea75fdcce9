"""Accounts and the audit log on real SQLite and PostgreSQL: lockout with backoff, no account
enumeration, passwords nowhere but as argon2id hashes, rehash, an append-only audit log (also
against an application role on PostgreSQL), and models that match the migrations."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text, update
from sqlalchemy.exc import DBAPIError

from sensorhub.access import AccessError, Role
from sensorhub.store import Accounts, LoginRefusedError, Store
from sensorhub.store.accounts import LOCKOUT_AFTER_FAILURES, UNKNOWN_USERNAME, lockout_s
from sensorhub.store.models import Base, UserRow
from sensorhub.store.passwords import needs_rehash
from sensorhub.store.wearer_data import delete_wearer

PASSWORD = "Tr0ub4dor&3-horse-staple"
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    s.repository.ensure_wearer("ada", "Ada")
    yield s
    s.close()


def test_lockout_with_backoff_after_five_failures(store: Store) -> None:
    clock = Clock()
    accounts = Accounts(store.engine, clock=clock)
    accounts.add_user("carol", Role.CAREGIVER, actor="test", password=PASSWORD)
    for _ in range(LOCKOUT_AFTER_FAILURES - 1):
        with pytest.raises(LoginRefusedError, match=r"^wrong username or password$"):
            accounts.authenticate("carol", "not the password")
    assert accounts.authenticate("carol", PASSWORD).username == "carol"  # resets the count

    for _ in range(LOCKOUT_AFTER_FAILURES):
        with pytest.raises(LoginRefusedError, match=r"^wrong username or password$"):
            accounts.authenticate("carol", "not the password")
    # locked: even the right password is refused, with the time to wait
    with pytest.raises(LoginRefusedError, match="try again in 30 s") as locked:
        accounts.authenticate("carol", PASSWORD)
    assert locked.value.retry_after_s == pytest.approx(30.0)
    clock.advance(29)
    with pytest.raises(LoginRefusedError, match="try again in 1 s"):
        accounts.authenticate("carol", PASSWORD)
    clock.advance(1.5)
    # the lock ended; one more failure locks for twice as long
    with pytest.raises(LoginRefusedError, match=r"^wrong username or password$"):
        accounts.authenticate("carol", "not the password")
    with pytest.raises(LoginRefusedError, match="try again in 60 s"):
        accounts.authenticate("carol", PASSWORD)
    clock.advance(61)
    viewer = accounts.authenticate("carol", PASSWORD)
    assert viewer.role is Role.CAREGIVER
    user = accounts.user("carol")
    assert user is not None
    assert user.locked_until is None
    assert user.last_login_at == clock.now
    actions = [e.action for e in accounts.audit()]
    # 4 + 5 wrong passwords, 2 tries while locked, 1 wrong, 1 while locked
    assert actions.count("login failed") == 13
    assert actions.count("login") == 2
    assert [lockout_s(n) for n in (4, 5, 6, 7, 20)] == [0.0, 30.0, 60.0, 120.0, 900.0]


def test_unknown_user_wrong_password_and_disabled_get_the_same_message(store: Store) -> None:
    accounts = store.accounts
    accounts.add_user("carol", "caregiver", actor="test", password=PASSWORD)
    accounts.add_user("dave", "clinician", actor="test", password=PASSWORD)
    accounts.disable_user("dave", actor="test")
    messages = set()
    for username, password in [
        ("nobody", PASSWORD),
        ("carol", "wrong password!"),
        ("dave", PASSWORD),
    ]:
        with pytest.raises(LoginRefusedError) as refused:
            accounts.authenticate(username, password)
        messages.add(str(refused.value))
    assert messages == {"wrong username or password"}
    # an account without a password (identity provider only) cannot log in with one
    accounts.add_user("erin", "admin", actor="test")
    with pytest.raises(LoginRefusedError, match=r"^wrong username or password$"):
        accounts.authenticate("erin", "")
    # a disabled account's open session sees nothing more, and the provider cannot vouch
    carol = accounts.login_external("carol", provider="oidc")
    assert accounts.current_viewer(carol) == carol
    accounts.disable_user("carol", actor="test")
    assert accounts.current_viewer(carol) is None
    with pytest.raises(LoginRefusedError, match="no account for dave"):
        accounts.login_external("dave", provider="oidc")


def test_passwords_appear_in_no_log_audit_entry_or_error(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    accounts = store.accounts
    secrets = [PASSWORD, "a-new-passphrase-42", "wrong-guess-1234", "tiny"]
    accounts.add_user("carol", "caregiver", actor="test", password=PASSWORD)
    accounts.add_user("ada", "wearer", actor="test", password=secrets[1], wearer_id="ada")
    accounts.reset_password("carol", secrets[1], actor="test")
    errors = []
    for call in (
        lambda: accounts.authenticate("carol", secrets[2]),
        lambda: accounts.authenticate("nobody", secrets[2]),
        lambda: accounts.add_user("dave", "clinician", actor="test", password=secrets[3]),
        lambda: accounts.reset_password("carol", secrets[3], actor="test"),
        lambda: accounts.add_user("carol", "clinician", actor="test", password=secrets[0]),
    ):
        with pytest.raises(AccessError) as error:
            call()
        errors.append(str(error.value))
    assert accounts.authenticate("carol", secrets[1]).username == "carol"
    # a password typed into the username field is not kept in the (uneditable) audit log
    with pytest.raises(LoginRefusedError):
        accounts.authenticate(secrets[0], secrets[0])
    [entry] = accounts.audit(limit=1)
    assert (entry.actor, entry.action) == (UNKNOWN_USERNAME, "login failed")
    with store.engine.connect() as connection:
        stored = [
            " ".join(map(str, row))
            for table in ("audit_log", "app_user")
            for row in connection.execute(text(f"SELECT * FROM {table}"))
        ]
    hashes = [r for r in stored if "$argon2id$" in r]
    assert len(hashes) == 2
    everything = "\n".join([*errors, *stored, caplog.text])
    assert "carol" in everything  # the search looks at real text
    for secret in secrets:
        assert secret not in everything


def test_an_old_hash_is_rehashed_at_login(store: Store) -> None:
    accounts = store.accounts
    accounts.add_user("carol", "caregiver", actor="test")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("short-9")
    assert needs_rehash(weak)
    with store.engine.begin() as connection:
        connection.execute(
            update(UserRow).where(UserRow.username == "carol").values(password_hash=weak)
        )
    # "short-9" is below today's policy (10 characters): it met an older one and still works
    assert accounts.authenticate("carol", "short-9").username == "carol"
    with store.engine.connect() as connection:
        new = connection.execute(
            text("SELECT password_hash FROM app_user WHERE username = 'carol'")
        ).scalar_one()
    assert new != weak
    assert new.startswith("$argon2id$")
    assert not needs_rehash(new)
    assert accounts.authenticate("carol", "short-9").username == "carol"


def test_the_audit_log_refuses_update_and_delete(store: Store) -> None:
    store.accounts.record("test", "view", "ada", "today page")
    for statement in (
        "UPDATE audit_log SET detail = 'nothing happened'",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as c:
            c.execute(text(statement))
    [entry] = store.accounts.audit()
    assert entry.detail == "today page"


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_an_application_role_may_only_insert_into_the_audit_log(db_url: str) -> None:
    owner = Store.open(db_url)
    owner.repository.ensure_wearer("ada", "Ada")
    role = f"app_{uuid.uuid4().hex[:8]}"
    with owner.engine.begin() as c:
        c.execute(text(f"CREATE ROLE {role} LOGIN"))
        c.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        c.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        )
        c.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    app_url = owner.engine.url.set(username=role)
    app = create_engine(app_url, hide_parameters=True)
    try:
        accounts = Accounts(app)
        accounts.add_user("ada", "wearer", actor="app", wearer_id="ada")
        accounts.record("app", "view", "ada", "today page")  # INSERT works
        refusals = {
            "UPDATE audit_log SET detail = 'x'": "append-only",
            "DELETE FROM audit_log": "append-only",
            "TRUNCATE audit_log": "permission denied|append-only",
            "ALTER TABLE audit_log DISABLE TRIGGER USER": "must be owner",
            "DROP TRIGGER audit_log_no_update_or_delete ON audit_log": "must be owner",
        }
        for statement, message in refusals.items():
            with pytest.raises(DBAPIError, match=message), app.begin() as c:
                c.execute(text(statement))
        # the application's own erasure works and leaves the log whole
        delete_wearer(app, "ada", actor="app")
        actions = [e.action for e in accounts.audit()]
        assert actions == ["wearer deleted", "view", "user added"]
    finally:
        app.dispose()
        owner.close()


def test_models_match_the_migrations(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
