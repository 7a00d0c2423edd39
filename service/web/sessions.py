"""Encrypted cookie sessions: the key (configured, or generated once into a 0600 file) and the storage."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from service.errors import SettingsError
from service.settings import ServiceSettings

COOKIE_NAME = "dsdesk_session"


def session_storage(settings: ServiceSettings) -> EncryptedCookieStorage:
    """HttpOnly, SameSite=Lax cookies, encrypted and time-limited (Fernet) with the service's key."""
    return EncryptedCookieStorage(
        Fernet(fernet_key(session_secret(settings))),
        cookie_name=COOKIE_NAME,
        max_age=int(settings.session_hours * 3600),
        secure=settings.secure_cookies,
        httponly=True,
        samesite="Lax",
    )


def session_secret(settings: ServiceSettings) -> str:
    """The configured secret (or DSDESK_SECRET_KEY), else the one kept in secret_key_file."""
    configured = settings.secret_key.get_secret_value()
    return configured if configured else load_or_create_secret(settings.secret_key_file)


def fernet_key(secret: str) -> bytes:
    """Any secret text, stretched to the 32-byte urlsafe-base64 key Fernet wants."""
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode("utf-8")).digest())


def load_or_create_secret(path: Path) -> str:
    """The secret in `path`; created (mode 0600) on first use. Two starts at once agree on one key."""
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(32) + "\n")
    try:
        os.link(draft, path)  # atomic and never overwrites: whoever links first wins
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    secret = path.read_text(encoding="ascii").strip()
    if not secret:
        raise SettingsError(f"service.secret_key_file: {path} is empty: delete it to have a new key generated")
    return secret
