"""Password hashing (argon2id, argon2-cffi's default parameters), the length rule, session fingerprints."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()  # the library defaults; re-tuned by upgrading argon2-cffi, not by hand


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Swap the hasher and return the previous one (tests lower the cost; production never calls it)."""
    global _hasher
    previous, _hasher = _hasher, hasher
    _dummy_hash.cache_clear()
    return previous


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; a malformed stored hash counts as a mismatch, not a crash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's (rehash at the next sign-in)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def burn_a_verification(password: str) -> None:
    """As slow as a real check: an unknown login must not answer faster than a wrong password."""
    verify_password(_dummy_hash(), password)


def password_problem(password: str) -> str | None:
    """Why a new password is refused (Russian, a phrase without the final stop: the CLI and the
    admin form both say it), or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"пароль слишком короткий: нужно не меньше {MIN_PASSWORD_LENGTH} символов"
    if not password.strip():
        return "пароль не может состоять из одних пробелов"
    return None


def fingerprint(password_hash: str) -> str:
    """A short digest of the stored hash kept in the session: a new password ends older sessions."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:32]


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not a real password, only spends time")
