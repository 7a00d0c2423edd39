"""CSRF tokens: one random token per session, required on every state-changing request."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

from aiohttp import web

from service.web.keys import CSRF_FIELD, CSRF_HEADER

SESSION_CSRF = "csrf"  # the token's key inside the session
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_MESSAGE = "Форма устарела или пришла не с этой страницы: обновите страницу"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Uploads read as a stream by their handler, never parsed up front: the handler checks the token,
# the form's first field, before it reads the file (service/web/imports.py).
STREAMED_FORMS = frozenset({"/imports"})


def is_streamed_form(request: web.Request) -> bool:
    return (request.method == "POST" and request.path in STREAMED_FORMS
            and request.content_type == "multipart/form-data")


def ensure_token(session: MutableMapping[str, Any]) -> str:
    """The session's token, created on first need (the anonymous login page needs one too)."""
    token = session.get(SESSION_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_CSRF] = token
    return token


def tokens_match(expected: str, sent: str | None) -> bool:
    """Constant-time comparison; an empty expected token never matches (no session, no token)."""
    return bool(expected) and sent is not None and hmac.compare_digest(expected.encode(), sent.encode())


async def sent_token(request: web.Request) -> str | None:
    """The token from the X-CSRF-Token header, else from the `_csrf` form field.

    request.post() caches the parsed form, so the handler can read the body again.
    """
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    if request.content_type not in _FORM_TYPES:
        return None
    value = (await request.post()).get(CSRF_FIELD)
    return value if isinstance(value, str) else None


async def request_is_trusted(request: web.Request, expected: str) -> bool:
    """True for safe methods, and for other methods carrying the session's token."""
    if request.method in SAFE_METHODS:
        return True
    if is_streamed_form(request) and CSRF_HEADER not in request.headers:
        return True  # checked by the handler, from the stream, before anything else is read
    return tokens_match(expected, await sent_token(request))
