"""Admins manage the REST API's tokens (/admin/api): issue one (shown once), revoke, read the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.api.tokens import SCOPE_LABELS, SCOPES, checked_name, new_token, parse_scopes
from service.appkeys import DB_SESSIONS, SETTINGS
from service.db.api_tokens import ApiTokensRepository
from service.digits import small_int
from service.web.auth import requires
from service.web.desk_context import signed_in

MAX_PER_MINUTE = 100_000
NOTICES = {"revoked": "Токен отозван: запросы с ним получают 401.",
           "already": "Этот токен уже отозван."}


def setup_admin_api(app: web.Application) -> None:
    app.router.add_get("/admin/api", tokens_page, name="admin_api")
    app.router.add_post("/admin/api", create_token)
    app.router.add_post(r"/admin/api/{id:[0-9]{1,18}}/revoke", revoke_token)


@requires("admin")
async def tokens_page(request: web.Request) -> web.Response:
    notice = NOTICES.get(request.query.get("done", ""))
    return await _page(request, notice=notice)


@requires("admin")
async def create_token(request: web.Request) -> web.Response:
    form = await request.post()
    name = str(form.get("name", ""))
    scopes = [str(v) for v in form.getall("scopes", [])]
    rate_text = str(form.get("per_minute", "")).strip()
    errors: dict[str, str] = {}
    try:
        name = checked_name(name)
    except ValueError as e:
        errors["name"] = str(e).capitalize() + "."
    try:
        chosen = parse_scopes(scopes)
    except ValueError as e:
        errors["scopes"] = str(e).capitalize() + "."
        chosen = ()
    per_minute = small_int(rate_text, 6) if rate_text else request.app[SETTINGS].api.per_minute
    if per_minute is None or not 1 <= per_minute <= MAX_PER_MINUTE:
        errors["per_minute"] = f"Запросов в минуту — целое число от 1 до {MAX_PER_MINUTE}."
    if errors:
        return await _page(request, form={"name": name, "scopes": scopes, "per_minute": rate_text}, errors=errors,
                           status=422)
    made = new_token()
    view = await ApiTokensRepository(request.app[DB_SESSIONS]).create(
        name, chosen, per_minute or 1, made, signed_in(request).id, datetime.now(UTC))
    # The token is in this answer only: it is stored hashed, nobody can see it again.
    return await _page(request, issued={"id": view.id, "name": view.name, "token": made.token})


@requires("admin")
async def revoke_token(request: web.Request) -> web.Response:
    done = await ApiTokensRepository(request.app[DB_SESSIONS]).revoke(int(request.match_info["id"]),
                                                                      datetime.now(UTC))
    raise web.HTTPSeeOther("/admin/api?done=" + ("revoked" if done else "already"))


async def _page(request: web.Request, *, notice: str | None = None, form: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None, issued: dict[str, Any] | None = None,
                status: int = 200) -> web.Response:
    tokens = ApiTokensRepository(request.app[DB_SESSIONS])
    context = {
        "tokens": await tokens.all_tokens(),
        "audit": await tokens.audit_log(100),
        "scopes": [(s, SCOPE_LABELS[s]) for s in SCOPES],
        "form": form or {"name": "", "scopes": ["read"], "per_minute": ""},
        "errors": errors or {},
        "issued": issued,
        "notice": notice,
        "default_rate": request.app[SETTINGS].api.per_minute,
        "tz": request.app[SETTINGS].organisation.tz,
    }
    response = aiohttp_jinja2.render_template("admin/api_tokens.html", request, context, status=status)
    response.headers["Cache-Control"] = "no-store"  # a page with a new token must not stay in a cache
    return response
