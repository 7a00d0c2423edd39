"""Refuse NUL bytes in a request's URL or form before anything reads them.

PostgreSQL cannot store or compare a NUL in text: a login, a search or a form field with one
would fail deep in a query with a 500. No user types one; it is refused up front with a clear
message, ahead of the session, sign-in and CSRF checks (which read the form too).
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from service.web.auth import Handler

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BAD_ADDRESS = "Недопустимые символы в адресе страницы"
BAD_FORM = "Недопустимые символы в форме: уберите их и отправьте ещё раз"


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
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.content_type in FORM_TYPES:
        # request.post() caches the parsed form: the handler reads it again for free.
        if _has_nul((await request.post()).items()):
            raise web.HTTPBadRequest(text=BAD_FORM)
    return await handler(request)


def _has_nul(items: Iterable[tuple[str, object]]) -> bool:
    return any("\x00" in key or (isinstance(value, str) and "\x00" in value) for key, value in items)
