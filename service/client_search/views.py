"""GET /clients: the client search page (the box is also in the top navigation, templates/base.html).

An Expert searches her own portfolio (the clients assigned to her); supervisors and admins search
every client. Each client found links to its card (/clients/{id}, service/web/clients.py), which
keeps its own access check and offers the call buttons.
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.client_search.query import MAX_CHARS, MIN_CHARS, read_query
from service.client_search.repository import ClientSearchRepository
from service.web.desk_context import settings_of, signed_in, utc_now

LIMIT = 50


def setup_client_search(app: web.Application) -> None:
    app.router.add_get("/clients", search_page, name="client_search")


@aiohttp_jinja2.template("clients/search.html")
async def search_page(request: web.Request) -> dict[str, Any]:
    user = signed_in(request)
    query = read_query(request.query.get("q"))
    repo = ClientSearchRepository(request.app[DB_SESSIONS])
    result = await repo.search(query, None if user.is_supervisor else user.id, LIMIT)
    return {"query": query, "result": result, "limit": LIMIT, "min_chars": MIN_CHARS, "max_chars": MAX_CHARS,
            "all_clients": user.is_supervisor, "tz": settings_of(request).organisation.tz, "now": utc_now()}
