"""The Expert's screen: today's queue, the selected client's brief and script, the call panel."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from scheduler.calling_hours import CallTime, call_window, check_call_time
from service.appkeys import DB_SESSIONS
from service.db.brief import BriefRepository
from service.db.call_targets import CallTargetsRepository
from service.db.desk_queue import DeskQueueRepository
from service.db.experts import ExpertsRepository
from service.desk.queue import QueueRow, next_row, ordered, progress
from service.web import calls as call_views
from service.web import clients as client_views
from service.web import desk_status
from service.web.auth import requires
from service.web.clients import brief_extras
from service.web.desk_context import (
    access_denied_middleware,
    desk_day,
    settings_of,
    shown_expert,
    signed_in,
    utc_now,
)
from service.web.desk_strip import strip_for
from service.web.recording_comments import new_comments_badge
from service.web.script_panel import script_panel, setup_scripts


def setup_desk(app: web.Application) -> None:
    setup_scripts(app)
    app.middlewares.append(access_denied_middleware)
    app.router.add_get("/", index, name="index")
    app.router.add_get("/desk", desk_screen, name="desk")
    app.router.add_get("/team", team, name="team")
    client_views.add_routes(app)
    call_views.add_routes(app)
    desk_status.add_routes(app)


async def index(request: web.Request) -> web.StreamResponse:
    user = signed_in(request)
    if user.role == "sio":  # a СИО only scores clients for ДС (service/web/role_scope.py)
        raise web.HTTPFound("/selection")
    raise web.HTTPFound("/board" if user.is_supervisor else "/desk")


@aiohttp_jinja2.template("desk/screen.html")
async def desk_screen(request: web.Request) -> dict[str, Any]:
    user = signed_in(request)
    settings = settings_of(request)
    expert = await shown_expert(request, user)
    day = desk_day(settings, utc_now())
    rows = ordered(await DeskQueueRepository(request.app[DB_SESSIONS]).queue(
        expert.id, day.day, settings.organisation.tz))
    target = expert.daily_target or settings.plan.target_min
    upcoming = next_row(rows)
    selected = _selected(rows, request.query.get("item"), upcoming)
    brief = None
    if selected is not None and selected.client_id is not None:
        brief = await BriefRepository(request.app[DB_SESSIONS]).brief(
            selected.client_id, expert.id, all_calls=user.is_supervisor)
    return {
        "expert": expert, "own_desk": expert.id == user.id, "day": day, "rows": rows,
        "progress": progress(rows, target), "next_row": upcoming, "selected": selected, "brief": brief,
        "strip": await strip_for(request.app[DB_SESSIONS], expert.id, expert.login, settings, utc_now()),
        "script": await script_panel(request, brief, selected, expert, request.query.get("script")),
        "status": await desk_status.todays_status(request, expert.id), "pause_reasons": settings.desk.pause_reasons,
        "call_time": await _call_time(request, selected) if expert.id == user.id else None,
        "block_outside_hours": settings.desk.block_outside_hours, "forced_wrapup": settings.desk.forced_wrapup,
        # The server refuses a new call while one of today's has no wrap-up: the button says so before the click.
        **(await _owed(request, expert.id, settings.desk.forced_wrapup) if expert.id == user.id else NO_OWED),
        "new_comments": await new_comments_badge(request, user, expert.id),
        **brief_extras(settings, brief),
    }


NO_OWED: dict[str, Any] = {"wrapup_owed": None, "owed_since": None}


async def _owed(request: web.Request, expert_id: int, forced: bool) -> dict[str, Any]:
    """`wrapup_owed`: the call «Позвонить» waits for (desk.forced_wrapup); `owed_since`: when the call owing a
    wrap-up ended, for her status («Итоги звонка» whatever row is selected: found trying the desk, it said
    «Готов» once another row was picked)."""
    owed = await call_views.owed_wrapup(request, expert_id, forced_only=False)
    if owed is None:
        return NO_OWED
    text = call_views.owed_text(owed, settings_of(request).organisation.tz)
    return {"wrapup_owed": {"linkedid": owed.linkedid, "text": text} if forced else None,
            "owed_since": owed.ended_at}


async def _call_time(request: web.Request, selected: QueueRow | None) -> CallTime | None:
    """The client's local time and whether it is a time to call (the hint above «Позвонить»)."""
    if selected is None or not selected.is_planned or not selected.is_open or selected.public_id is None:
        return None
    target = await CallTargetsRepository(request.app[DB_SESSIONS]).planned_item(selected.public_id)
    if target is None:
        return None
    settings = settings_of(request)
    zone = target.client_timezone or settings.organisation.timezone
    window = call_window(target.call_from, target.call_to, settings.plan.client_hours)
    return check_call_time(utc_now(), zone, window, settings.plan.calendar())


def _selected(rows: list[QueueRow], wanted: str | None, upcoming: QueueRow | None) -> QueueRow | None:
    if wanted:
        for row in rows:
            if wanted in (row.public_id, row.linkedid):
                return row
    return upcoming or next((r for r in rows if r.needs_wrapup), None) or (rows[0] if rows else None)


@requires("supervisor", "admin")
@aiohttp_jinja2.template("desk/team.html")
async def team(request: web.Request) -> dict[str, Any]:
    """Supervisors: every Expert's progress today, each a link to their desk (read-only)."""
    settings = settings_of(request)
    day = desk_day(settings, utc_now())
    experts = await ExpertsRepository(request.app[DB_SESSIONS]).active_experts()
    queues = await DeskQueueRepository(request.app[DB_SESSIONS]).queues(
        [e.id for e in experts], day.day, settings.organisation.tz)
    lines = [(expert, progress(queues[expert.id], expert.daily_target or settings.plan.target_min))
             for expert in experts]
    return {"day": day, "lines": lines}
