"""Password hashing for dashboard accounts: argon2id (RFC 9106) through argon2-cffi.

argon2-cffi's defaults are RFC 9106's second recommended option (argon2id, t=3, m=64 MiB,
p=4), about 50-100 ms per hash on a Raspberry Pi class hub: slow enough to make offline
guessing expensive, fast enough for a login. Hashes are PHC strings that carry their own
parameters, so stronger parameters later still verify old hashes (and rehash them).
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sensorhub.access import AccessError

_HASHER = PasswordHasher()

#: NIST SP 800-63B section 5.1.1.2 asks for at least 8 characters; a hub holding several
#: people's health data asks for more, and allows long passphrases.
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024


@functools.cache
def _dummy_hash() -> str:
    # Verified when an account has no password or does not exist, so that a wrong username
    # takes as long as a wrong password (no account enumeration by timing).
    return _HASHER.hash("sensorhub-not-an-account")


def check_password_policy(password: str) -> None:
    """Refuse a password that is too short or too long (never echoing it).

    Raises
    ------
    AccessError
        If the password breaks the policy.
    """
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccessError(
            f"password too short: use at least {MIN_PASSWORD_CHARS} characters "
            "(a few random words make a good one)"
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccessError(f"password too long: at most {MAX_PASSWORD_CHARS} characters")


def hash_password(password: str) -> str:
    """The argon2id PHC string of ``password`` (after the policy check)."""
    check_password_policy(password)
    return _HASHER.hash(password)


def rehash_password(password: str) -> str:
    """A fresh hash of a password that just verified (no policy check: it met the policy of
    its day, and refusing it now would lock its owner out at login)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (None: the account has no password).

    Takes the same time whether or not an account exists (a dummy hash is verified).
    """
    try:
        return _HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
