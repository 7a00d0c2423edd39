"""API tokens: made, hashed and read. Pure: no I/O.

A token is `dsd_` + 43 URL-safe characters (256 random bits). Only its SHA-256 is stored; the first
characters (`prefix`) are kept in the clear so a list can say which token is which.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

Scope = Literal["read", "write", "calls"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
TOKEN_MARK = "dsd_"
PREFIX_LENGTH = 12  # "dsd_" and 8 characters
SCOPE_LABELS: dict[Scope, str] = {
    "read": "чтение", "write": "запись (загрузка данных)", "calls": "звонки (набор номера)",
}


@dataclass(frozen=True, slots=True)
class NewToken:
    token: str  # shown once, to whoever created it
    prefix: str
    digest: str


def new_token() -> NewToken:
    token = TOKEN_MARK + secrets.token_urlsafe(32)
    return NewToken(token, token[:PREFIX_LENGTH], token_digest(token))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header; None when there is none or it is not one."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value:
        return None
    return value


def parse_scopes(values: Iterable[str]) -> tuple[Scope, ...]:
    """The scopes named, in the canonical order; ValueError names an unknown one (in Russian)."""
    wanted = {v.strip() for v in values if v.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ValueError(f"неизвестные права: {', '.join(unknown)} (возможны: {', '.join(SCOPES)})")
    if not wanted:
        raise ValueError(f"укажите хотя бы одно право: {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in wanted)


MAX_NAME = 100


def checked_name(name: str) -> str:
    """The token's name, trimmed; ValueError (in Russian) when it is empty or too long."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("укажите название токена: для кого он (например, «CRM»)")
    if len(name) > MAX_NAME:
        raise ValueError(f"название токена длиннее {MAX_NAME} знаков")
    return name
