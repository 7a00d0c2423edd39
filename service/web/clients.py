"""The client card: the brief («Сведения о Клиенте») with a call button per contact."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.db.brief import BriefRepository, ClientBrief
from service.web.desk_context import forbidden, settings_of, signed_in, utc_now
from service.web.keys import SignedInUser
from service.web.script_panel import script_panel
from texts.labels import OUTCOME_LABELS, RESULT_LABELS


def add_routes(app: web.Application) -> None:
    app.router.add_get("/clients/{client_id}", client_page, name="client")
    app.router.add_get("/clients/{client_id}/brief", brief_fragment, name="client_brief")


async def load_brief(request: web.Request, user: SignedInUser) -> ClientBrief:
    """The brief of a client the user may see: 404 unknown, 403 another Expert's client."""
    external_id = request.match_info["client_id"]
    repo = BriefRepository(request.app[DB_SESSIONS])
    exists, expert_id = await repo.expert_of(external_id)
    if not exists:
        raise web.HTTPNotFound(text=f"Нет клиента {external_id}")
    if not user.is_supervisor and expert_id != user.id:
        raise forbidden("Это клиент другого Эксперта")
    brief = await repo.brief(external_id, user.id, all_calls=user.is_supervisor)
    if brief is None:  # deleted between the two reads
        raise web.HTTPNotFound(text=f"Нет клиента {external_id}")
    return brief


def brief_context(request: web.Request, brief: ClientBrief) -> dict[str, Any]:
    settings = settings_of(request)
    return {"brief": brief, **brief_extras(settings)}


def brief_extras(settings: Any) -> dict[str, Any]:
    """What the brief template needs besides the brief itself."""
    return {"outcome_labels": OUTCOME_LABELS, "result_labels": RESULT_LABELS,
            "tz": settings.organisation.tz, "now": utc_now()}


@aiohttp_jinja2.template("desk/client.html")
async def client_page(request: web.Request) -> dict[str, Any]:
    user = signed_in(request)
    brief = await load_brief(request, user)
    return {**brief_context(request, brief),
            "script": await script_panel(request, brief, None, user, request.query.get("script")),
            "inbound": request.query.get("call")}


@aiohttp_jinja2.template("desk/_brief.html")
async def brief_fragment(request: web.Request) -> dict[str, Any]:
    """The brief alone: the pop-up when a known client calls in."""
    user = signed_in(request)
    return brief_context(request, await load_brief(request, user))
