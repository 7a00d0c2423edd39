"""Where a role may go at all: a СИО (`sio`) only to the selection for ДС, deny by default.

A СИО scores clients for ДС and gives the recommendation (issue 15); the desk, the call log, the
board, the figures, the client cards and the admin pages are not theirs. Many of those pages check
only that someone is signed in (an Expert sees her own data, a supervisor everyone's), so instead of
a check on each of them (and on every page added later), this middleware lets a СИО reach only the
paths below and answers 403 «Нет доступа» everywhere else.
"""

from __future__ import annotations

from aiohttp import web

from service.web.auth import NO_ACCESS, Handler, refuse
from service.web.keys import USER_KEY

# Sign-in and out, the session's own data, the start page (it redirects to the list) and the selection.
SIO_PATHS = frozenset({"/", "/login", "/logout", "/session", "/selection", "/selection.xlsx"})
SIO_PREFIXES = ("/selection/",)
SIO_ONLY_SELECTION = "Роли «СИО» доступен только отбор клиентов на ДС."


def setup_role_scope(app: web.Application) -> None:
    """After the sign-in check (it needs the user), ahead of every page."""
    app.middlewares.append(role_scope_middleware)


def sio_may_open(path: str) -> bool:
    return path in SIO_PATHS or path.startswith(SIO_PREFIXES)


@web.middleware
async def role_scope_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    user = request.get(USER_KEY)
    if user is not None and user.role == "sio" and not sio_may_open(request.path):
        return await refuse(request, NO_ACCESS, SIO_ONLY_SELECTION)
    return await handler(request)
