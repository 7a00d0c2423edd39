"""Refuse NUL bytes and unreadable forms before anything reads the request.

PostgreSQL cannot store or compare a NUL in text: a login, a search or a form field with one
would fail deep in a query with a 500. No user types one; it is refused up front with a clear
message, ahead of the session, sign-in and CSRF checks (which read the form too).

A form body no browser would send (bytes that are not text in its charset, a charset that does
not exist, multipart without a boundary or with a broken part) is refused here too, with 400:
every later `request.post()` then reads the parsed, cached form and cannot fail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiohttp import web
from multidict import MultiDictProxy

from service.web.auth import Handler
from service.web.csrf import is_streamed_form

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BAD_ADDRESS = "Недопустимые символы в адресе страницы"
BAD_FORM = "Недопустимые символы в форме: уберите их и отправьте ещё раз"
UNREADABLE_FORM = "Форма пришла в непонятном виде: обновите страницу и отправьте её ещё раз"
log = logging.getLogger(__name__)


def setup_input_guard(app: web.Application) -> None:
    """First in line: before the session middleware and the sign-in/CSRF checks."""
    app.middlewares.insert(0, control_characters_middleware)


@web.middleware
async def control_characters_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """In the path nothing can be found by such a name (404, as for a traversal attempt); in the
    query or a form it is a bad value (400)."""
    if "\x00" in request.path:
        raise web.HTTPNotFound(text="Страница не найдена")
    if _has_nul(request.query.items()):
        raise web.HTTPBadRequest(text=BAD_ADDRESS)
    if (request.method not in ("GET", "HEAD", "OPTIONS") and request.content_type in FORM_TYPES
            and not is_streamed_form(request)):  # an upload is read as a stream by its own handler
        # request.post() caches the parsed form: the handler reads it again for free.
        if _has_nul((await _readable_form(request)).items()):
            raise web.HTTPBadRequest(text=BAD_FORM)
    return await handler(request)


async def _readable_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    try:
        return await request.post()
    except web.HTTPException:  # 413: the body is over client_max_size
        raise
    except Exception as e:  # noqa: BLE001 — whatever the parser trips on, the body is the client's fault
        log.info("unreadable form from %s on %s: %s: %s", request.remote, request.path, type(e).__name__, e)
        raise web.HTTPBadRequest(text=UNREADABLE_FORM) from e


def _has_nul(items: Iterable[tuple[str, object]]) -> bool:
    return any("\x00" in key or "\x00" in _text_of(value) for key, value in items)


def _text_of(value: object) -> str:
    if isinstance(value, web.FileField):
        return value.filename or ""
    return value if isinstance(value, str) else ""
