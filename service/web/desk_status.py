"""The Expert's status on the desk: POST /desk/status («готов» / «пауза: причина»), pushed to the board.

The desk's button and key (P) post here; the board hears it at once (`status` on the supervisors'
streams) and the Expert's other tabs too. Starting a call from a pause declares her ready
(`declare_ready_for_call`); signing out ends the day's status (auth.logout). See docs/desk.md.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.days import day_bounds
from service.db.expert_status import ExpertStatusRepository
from service.desk.status import DeskStatus, StatusEntry, current_status, status_problem
from service.web.desk_context import settings_of, signed_in, utc_now
from service.web.keys import CALLING_ROLES, SignedInUser
from service.web.live import LIVE_HUB


def add_routes(app: web.Application) -> None:
    app.router.add_post("/desk/status", set_status, name="desk_status")


async def set_status(request: web.Request) -> web.Response:
    user = signed_in(request)
    if user.role not in CALLING_ROLES:
        return web.json_response({"error": "Статус «готов» или «пауза» есть только у Эксперта"}, status=403)
    form = await request.post()
    status, reason = str(form.get("status", "")).strip(), " ".join(str(form.get("reason", "")).split())
    problem = status_problem(status, reason, settings_of(request).desk.pause_reasons)
    if problem is not None:
        return web.json_response({"error": problem}, status=400)
    entry = await record_status(request, user, DeskStatus(status), reason if status == DeskStatus.PAUSE else None)
    return web.json_response(status_json(entry))


async def record_status(request: web.Request, user: SignedInUser, status: DeskStatus,
                        reason: str | None) -> StatusEntry:
    """Append to the log, then tell the board and the Expert's own screens."""
    entry = await ExpertStatusRepository(request.app[DB_SESSIONS]).add(user.id, status, reason, utc_now())
    hub = request.app.get(LIVE_HUB)
    if hub is not None:
        payload = {**status_json(entry), "expert_ext": user.extension, "login": user.login}
        hub.announce("status", payload)
        hub.tell(user.id, "status", payload)
    return entry


async def declare_ready_for_call(request: web.Request, user: SignedInUser) -> None:
    """A call started from a pause: she is working again (the pause must not run on through it)."""
    status = await todays_status(request, user.id)
    if status is not None and status.status is DeskStatus.PAUSE:
        await record_status(request, user, DeskStatus.READY, None)


async def todays_status(request: web.Request, expert_id: int, now: datetime | None = None) -> StatusEntry | None:
    settings = settings_of(request)
    tz = settings.organisation.tz
    start = day_bounds((now or utc_now()).astimezone(tz).date(), tz)[0]
    latest = await ExpertStatusRepository(request.app[DB_SESSIONS]).latest([expert_id], start)
    return current_status(latest.values(), start)


def status_json(entry: StatusEntry | None) -> dict[str, object]:
    if entry is None:
        return {"status": None, "reason": None, "at": None, "label": "Готов"}
    return {"status": str(entry.status), "reason": entry.reason, "at": entry.at.isoformat(), "label": entry.label}
