"""The call log (GET /calls) and a call's page (GET /calls/{linkedid}).

Supervisors and admins see every call; an Expert sees the same page limited to their own calls
and gets 403 on another Expert's call. The filters' query names are a contract (service.calllog.filters).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.calllog.filters import (
    ANY_CONTACT,
    DIRECTIONS,
    LOGIN_SOURCES,
    NO_WRAPUP,
    OUTCOMES,
    RESULTS,
    CallFilters,
    FilterError,
    is_linkedid,
    parse_filters,
    to_query,
)
from service.db.call_log import MAX_NAME_MATCHES, BadCursor, CallDetail, CallLogRepository, CallPage
from service.db.experts import ExpertsRepository
from service.db.logins import LoginsRepository
from service.web.call_steps import steps_context
from service.web.desk_context import forbidden, settings_of, signed_in, utc_now
from service.web.keys import SignedInUser
from service.web.recording_comments import comments_context
from service.web.scorecards import score_context
from texts.labels import (
    DIRECTION_LABELS,
    GUESSED_TITLE,
    HANGUP_BY_LABELS,
    LOGIN_SOURCE_LABELS,
    OUTCOME_LABELS,
    PLAN_STATE_LABELS,
    RESULT_LABELS,
    call_timeline,
    hangup_cause_label,
    quality_label,
    too_vague_search,
)

PAGE_SIZE = 50
STALE_CURSOR = "Ссылка на страницу устарела: показана первая страница"


def add_routes(app: web.Application) -> None:
    app.router.add_get("/calls", call_log, name="call_log")
    app.router.add_get("/calls/{linkedid}", call_page, name="call_page")


def _repo(request: web.Request) -> CallLogRepository:
    return CallLogRepository(request.app[DB_SESSIONS], settings_of(request).organisation.tz)


def own_calls_of(user: SignedInUser) -> int | None:
    """None: every call (supervisors); else the user's id (an Expert sees only the calls they own)."""
    return None if user.is_supervisor else user.id


async def call_log(request: web.Request) -> web.Response:
    user = signed_in(request)
    settings = settings_of(request)
    query = {k: v for k, v in request.query.items()}
    parsed = parse_filters(query, settings.organisation.tz, utc_now())
    context = await _form_context(request, user, query)
    if not isinstance(parsed, CallFilters):
        context.update(errors=_by_field(parsed), page=None, next_url=None, first_url=None)
        return aiohttp_jinja2.render_template("calllog/log.html", request, context, status=400)
    page, notice = await _page(request, user, parsed, request.query.get("after"))
    vague = too_vague_search(page.vague_search, MAX_NAME_MATCHES) if page.vague_search else None
    context.update(errors={}, page=page, notices=[n for n in (notice, vague) if n],
                   next_url=_url(parsed, page.next_cursor) if page.next_cursor else None,
                   first_url=_url(parsed, None) if page.first > 1 else None)
    return aiohttp_jinja2.render_template("calllog/log.html", request, context)


async def _page(request: web.Request, user: SignedInUser, filters: CallFilters,
                after: str | None) -> tuple[CallPage, str | None]:
    repo = _repo(request)
    try:
        return await repo.page(filters, after or None, PAGE_SIZE, only_expert=own_calls_of(user)), None
    except BadCursor:
        return await repo.page(filters, None, PAGE_SIZE, only_expert=own_calls_of(user)), STALE_CURSOR


def _url(filters: CallFilters, cursor: str | None) -> str:
    query = to_query(filters)
    if cursor:
        query["after"] = cursor
    return "/calls" + ("?" + urlencode(query) if query else "")


def _by_field(errors: list[FilterError]) -> dict[str, str]:
    return {e.field: e.message for e in errors}


async def _form_context(request: web.Request, user: SignedInUser, query: dict[str, str]) -> dict[str, Any]:
    settings = settings_of(request)
    return {
        "values": query, "experts": await _experts(request, user), "topics": settings.desk.topics,
        "outcomes": OUTCOMES, "directions": DIRECTIONS, "results": RESULTS,
        "no_wrapup": NO_WRAPUP, "any_contact": ANY_CONTACT, "login_sources": LOGIN_SOURCES,
        "notices": [], **labels(), "tz": settings.organisation.timezone,
    }


def labels() -> dict[str, Any]:
    return {"outcome_labels": OUTCOME_LABELS, "result_labels": RESULT_LABELS,
            "direction_labels": DIRECTION_LABELS, "hangup_by_labels": HANGUP_BY_LABELS,
            "state_labels": PLAN_STATE_LABELS, "guessed_title": GUESSED_TITLE,
            "login_source_labels": LOGIN_SOURCE_LABELS}


async def _experts(request: web.Request, user: SignedInUser) -> list[tuple[str, str]]:
    """(extension, name) for the Expert filter: everyone for a supervisor, oneself for an Expert."""
    if not user.is_supervisor:
        return [(user.extension, user.full_name)] if user.extension else []
    return await ExpertsRepository(request.app[DB_SESSIONS]).extension_choices()


async def call_page(request: web.Request) -> web.Response:
    user = signed_in(request)
    linkedid = request.match_info["linkedid"]
    detail = await _repo(request).call(linkedid) if is_linkedid(linkedid) else None
    if detail is None:
        raise web.HTTPNotFound(text="Такого звонка нет в журнале")
    if not user.is_supervisor and detail.row.expert_id != user.id:
        raise forbidden("Это звонок другого Эксперта")
    settings = settings_of(request)
    logins = await LoginsRepository(request.app[DB_SESSIONS]).for_call(
        detail.id, settings.organisation.tz, settings.targets.login_grace_s)
    context = {"call": detail, "tz": settings.organisation.timezone, **labels(), "logins": logins,
               "quality": [(code, quality_label(code)) for code in detail.quality],
               "hangup_cause": hangup_cause_label(detail.hangup_cause), "timeline": _timeline(detail),
               "show_access": user.is_supervisor,
               "own": detail.row.expert_id == user.id,
               **await score_context(request, detail, user),
               **await comments_context(request, detail, user),
               **await steps_context(request, detail)}
    return aiohttp_jinja2.render_template("calllog/call.html", request, context)


def _timeline(detail: CallDetail) -> list[tuple[str, datetime]]:
    moments = {"started_at": detail.row.started_at, "ringing_at": detail.ringing_at,
               "answered_at": detail.answered_at, "ended_at": detail.ended_at}
    return call_timeline(detail.row.direction, detail.hangup_by, moments)
