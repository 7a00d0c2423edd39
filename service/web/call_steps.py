"""The desk logs the script step the Expert moved to during her call (issue 18): POST /calls/{linkedid}/steps.

The time is the server's, when the request arrives; the desk numbers the moves within the call (`seq`), so a
request repeated after a network hiccup is written once. Only the Expert's own answered call that is still up
takes steps: a step logged after the call ended would lengthen the last step's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from dialer.records import CallRecord
from service.appkeys import DB_SESSIONS, PBX
from service.calllog.filters import is_linkedid
from service.coaching.step_times import StepEntry, step_times
from service.db.call_log import CallDetail
from service.db.logins import LoginsRepository
from service.db.step_scripts import StepScriptsRepository
from service.digits import small_int
from service.web.desk_context import settings_of, signed_in, utc_now

MAX_SEQ = 999


def setup_call_steps(app: web.Application) -> None:
    app.router.add_post("/calls/{linkedid}/steps", log_step, name="call_step")
    app.router.add_get("/calls/{linkedid}/login", live_login, name="call_live_login")


def _talking_call(request: web.Request, linkedid: str, extension: str | None) -> CallRecord | None:
    """The Expert's own call while it is up and answered; None otherwise (or without a PBX link)."""
    if PBX not in request.app or not extension or not is_linkedid(linkedid):
        return None
    call = request.app[PBX].current_call(linkedid)
    if call is None or call.expert_ext != extension or call.answered_at is None:
        return None
    return call


async def live_login(request: web.Request) -> web.Response:
    """Whether the client has logged in during this call so far, by the usage data imported until now (the
    desk asks while the login step is open). Measured only: nothing here is ever a tick."""
    user = signed_in(request)
    call = _talking_call(request, request.match_info["linkedid"], user.extension)
    if call is None or call.answered_at is None:
        return _error(409, "Нет вашего разговора: вход клиента проверяется только во время звонка")
    if call.client_id is None:
        return web.json_response({"logged_in": False, "known_client": False})
    settings = settings_of(request)
    login = await LoginsRepository(request.app[DB_SESSIONS]).login_during(
        call.client_id, call.answered_at, utc_now(), settings.targets.login_grace_s)
    if login is None:
        return web.json_response({"logged_in": False, "known_client": True})
    at = login.started_at.astimezone(settings.organisation.tz).strftime("%H:%M")
    return web.json_response({"logged_in": True, "known_client": True, "at": at, "who": login.contact_name or ""})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _small_int(value: object, limit: int) -> int | None:
    number = small_int(value, 9)
    return number if number is not None and number <= limit else None


async def log_step(request: web.Request) -> web.Response:
    user = signed_in(request)
    linkedid = request.match_info["linkedid"]
    form = await request.post()
    seq = _small_int(form.get("seq"), MAX_SEQ)
    version_id = _small_int(form.get("version"), 2**31 - 1)
    step_key = form.get("step")
    if not is_linkedid(linkedid) or seq is None or version_id is None or not isinstance(step_key, str):
        return _error(400, "Шаг не записан: запрос неполный (нужны звонок, номер шага, версия сценария и шаг)")
    if _talking_call(request, linkedid, user.extension) is None:
        return _error(409, "Шаг не записан: время шагов записывается только во время вашего разговора")
    repo = StepScriptsRepository(request.app[DB_SESSIONS])
    version = await repo.version_by_id(version_id)
    if version is None or version.script.step(step_key) is None:
        return _error(400, f"Шаг не записан: в сценарии нет шага «{step_key[:40]}»")
    written = await repo.log_step(linkedid, seq, user.id, version_id, step_key, utc_now())
    return web.json_response({"ok": True, "written": written})


@dataclass(frozen=True, slots=True)
class StepLine:
    title: str
    seconds: float
    target_s: int | None
    login: bool


async def steps_context(request: web.Request, detail: CallDetail) -> dict[str, Any]:
    """The call page's «Шаги сценария»: each step the Expert went through and how long it took."""
    repo = StepScriptsRepository(request.app[DB_SESSIONS])
    logged = await repo.steps_of_call(detail.row.linkedid)
    if not logged:
        return {"call_steps": [], "call_steps_script": None}
    versions = {version_id: await repo.version_by_id(version_id) for version_id in {s.version_id for s in logged}}
    times = step_times([StepEntry(s.seq, s.step_key, s.entered_at) for s in logged], detail.ended_at, utc_now())
    lines = []
    for entry, spent in zip(logged, times, strict=True):
        version = versions[entry.version_id]
        step = version.script.step(entry.step_key) if version else None
        lines.append(StepLine(step.title if step else entry.step_key, spent.seconds,
                              step.target_s if step else None, bool(step and step.login)))
    last = versions[logged[-1].version_id]
    return {"call_steps": lines, "call_steps_script": f"{last.script.name}, версия {last.number}" if last else None}
