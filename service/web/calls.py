"""Calling from the screen (click-to-call, hang up), the wrap-up form and playing a recording."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from dialer.errors import AmiActionTimeout, DialerError
from scheduler.calling_hours import call_window, check_call_time, check_callback
from service.appkeys import DB_SESSIONS, PBX
from service.calllog.filters import is_linkedid
from service.db.board import BoardRepository, OwedWrapUp, local_day
from service.db.call_targets import CallTarget, CallTargetsRepository
from service.db.logins import LoginsRepository
from service.db.recordings import RecordingRef, RecordingsRepository
from service.db.transitions import TransitionsRepository
from service.db.wrapups import CallStillUp, WrapUpContext, WrapUpRepository
from service.desk.wrapup import (
    CampaignField,
    FieldError,
    WrapUpInput,
    WrapUpResult,
    parse_wrapup,
    suggested_result,
)
from service.settings import Settings
from service.transition.errors import TransitionError
from service.web.desk_context import forbidden, settings_of, signed_in, utc_now
from service.web.desk_status import declare_ready_for_call
from service.web.keys import SignedInUser
from texts.labels import OUTCOME_LABELS, RESULT_LABELS
from texts.pbx import request_failed_text
from texts.phones import phone_ru
from texts.words import minutes_seconds

EMPTY_FORM: dict[str, Any] = {"result": "", "topic": "", "logged_in": False, "productive": False,
                              "comment": "", "next_contact": "", "transition": "", "transition_reason": "",
                              "transition_until": ""}


def add_routes(app: web.Application) -> None:
    app.router.add_post("/calls", originate, name="originate")
    app.router.add_post("/calls/{linkedid}/hangup", hang_up, name="hangup")
    app.router.add_get("/calls/{linkedid}/wrapup", wrapup_form, name="wrapup")
    app.router.add_post("/calls/{linkedid}/wrapup", save_wrapup, name="wrapup_save")
    app.router.add_get("/calls/{linkedid}/recording", recording, name="recording")


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


# ---- calling ---------------------------------------------------------------------------
async def originate(request: web.Request) -> web.Response:
    """Ring the Expert's phone, then the client's (a planned item, or a contact from the card)."""
    user = signed_in(request)
    form = await request.post()
    if not user.extension:
        return _json_error(400, "У вас не указан добавочный номер: звонить не с чего")
    if PBX not in request.app:
        return _json_error(503, "АТС не подключена")
    target = await _call_target(request, user, str(form.get("item", "")), str(form.get("contact", "")))
    if isinstance(target, web.Response):
        return target
    # A wrap-up owed first: asking «Всё равно позвонить?» and then refusing the call anyway was a question
    # for nothing (found trying the desk with a wrap-up pending at night).
    refused = await _wrapup_owed(request, user)
    if refused is None:
        refused = _outside_hours(request, target, confirmed=form.get(CONFIRM_OUTSIDE_HOURS) == "1")
    if refused is not None:
        return refused
    pbx = request.app[PBX]
    # No await between this check and originate's expectation: a double click gets a 409.
    if pbx.extension_busy(user.extension):
        return _json_error(409, "У вас уже идёт звонок: завершите его")
    try:
        # Accepted is not done: if the Expert's phone then fails, the desk hears why (`originate_failed`).
        linkedid = await pbx.originate(user.extension, target.phone or "", planned_call_id=target.planned_call_id,
                                       client_id=target.client_id, requested_by=user.id)
    except ValueError:
        return _json_error(400, f"Номер {target.phone} нельзя набрать")
    except (TimeoutError, DialerError, OSError) as e:
        return _json_error(503, pbx_problem(request, "call", e))
    if target.planned_call_id is not None:
        await CallTargetsRepository(request.app[DB_SESSIONS]).mark_started(target.planned_call_id, utc_now())
    await declare_ready_for_call(request, user)
    return web.json_response({"linkedid": linkedid})


async def owed_wrapup(request: web.Request, expert_id: int, *, forced_only: bool = True) -> OwedWrapUp | None:
    """The Expert's call of today that still has no wrap-up; with `forced_only`, only under
    desk.forced_wrapup (the desk shows it before a click; a new call is refused while there is one)."""
    settings = settings_of(request)
    if forced_only and not settings.desk.forced_wrapup:
        return None
    tz = settings.organisation.tz
    return await BoardRepository(request.app[DB_SESSIONS]).owed_wrapup(expert_id, local_day(utc_now(), tz), tz)


def owed_text(owed: OwedWrapUp, tz: ZoneInfo) -> str:
    """«ООО «Полюс», 10:42»: the call a wrap-up is owed for."""
    who = owed.client_name or (phone_ru(owed.client_number) if owed.client_number else "номер неизвестен")
    return f"{who}, {owed.started_at.astimezone(tz).strftime('%H:%M')}"


async def _wrapup_owed(request: web.Request, user: SignedInUser) -> web.Response | None:
    """409 while a call of hers today still has no wrap-up: the answer names that call, and the desk
    opens its form (`wrapup_linkedid`)."""
    owed = await owed_wrapup(request, user.id)
    if owed is None:
        return None
    said = owed_text(owed, settings_of(request).organisation.tz)
    return web.json_response({"error": f"Сначала сохраните итог звонка: {said}", "wrapup_linkedid": owed.linkedid},
                             status=409)


def _callback_check(settings: Settings, ctx: WrapUpContext, now: datetime) -> Callable[[datetime], str | None]:
    """Why a callback at a moment cannot be promised to this call's client (its hours, days off, too far)."""
    zone = ctx.client_timezone or settings.organisation.timezone
    window = call_window(ctx.call_from, ctx.call_to, settings.plan.client_hours)
    calendar = settings.plan.calendar()
    return lambda at: check_callback(at, now, zone, window, calendar, settings.desk.callback_max_days)


CONFIRM_OUTSIDE_HOURS = "confirm_outside_hours"  # the Expert confirmed a call outside the client's hours


def _outside_hours(request: web.Request, target: CallTarget, *, confirmed: bool) -> web.Response | None:
    """409 when it is no time to call the client: a question the desk asks the Expert to confirm,
    or, with desk.block_outside_hours, a refusal. None: a time to call (or confirmed)."""
    settings = settings_of(request)
    zone = target.client_timezone or settings.organisation.timezone
    window = call_window(target.call_from, target.call_to, settings.plan.client_hours)
    verdict = check_call_time(utc_now(), zone, window, settings.plan.calendar())
    if verdict.allowed or (confirmed and not settings.desk.block_outside_hours):
        return None
    if settings.desk.block_outside_hours:
        # The reason names the hours already: «… — вне рабочего времени клиента 09:00–18:00».
        return web.json_response({"error": f"Звонок не сделан: {verdict.reason}. Звонить в это время в отделе "
                                           "запрещено", "outside_hours": True}, status=409)
    reason = verdict.reason or ""
    # The reason already names the client's time («у клиента сейчас 05:42, вт 08.12 — …»): said once.
    return web.json_response({"error": f"Звонок не сделан: {reason}", "outside_hours": True,
                              "confirm": f"{reason[:1].upper()}{reason[1:]}. Всё равно позвонить?"}, status=409)


async def _call_target(request: web.Request, user: SignedInUser, item: str,
                       contact: str) -> CallTarget | web.Response:
    """The planned item or contact to dial, after the access checks."""
    targets = CallTargetsRepository(request.app[DB_SESSIONS])
    target = await targets.planned_item(item) if item else await targets.contact(contact)
    if target is None:
        return _json_error(404, "Нет такого звонка или контакта")
    if target.owner_id != user.id and not user.is_supervisor and not await _her_campaign(request, user, target):
        return _json_error(403, "Это клиент другого Эксперта")
    if not target.phone:
        return _json_error(400, "У контакта нет телефона")
    return target


async def hang_up(request: web.Request) -> web.Response:
    user = signed_in(request)
    if PBX not in request.app or not user.extension:
        return _json_error(409, "Нет звонка, который можно завершить")
    try:
        done = await request.app[PBX].hang_up_call(request.match_info["linkedid"], user.extension)
    except (TimeoutError, DialerError, OSError) as e:
        return _json_error(503, pbx_problem(request, "hangup", e))
    if not done:
        return _json_error(409, "Этот звонок уже завершён или не ваш")
    return web.json_response({"ok": True})


async def _her_campaign(request: web.Request, user: SignedInUser, target: CallTarget) -> bool:
    """A client of the move to ДС assigned to her: not in her portfolio yet, but hers to call (issue 15)."""
    campaign = await TransitionsRepository(request.app[DB_SESSIONS]).campaign_expert(target.client_id)
    return campaign is not None and campaign == user.id


def pbx_problem(request: web.Request, kind: str, error: BaseException) -> str:
    """What to tell the person whose click the PBX could not take: the link's state says why."""
    timed_out = isinstance(error, (TimeoutError, AmiActionTimeout))
    return request_failed_text(kind, str(request.app[PBX].link_state().status), timed_out)


# ---- wrap-up ---------------------------------------------------------------------------
async def _context(request: web.Request, user: SignedInUser, *, for_saving: bool) -> WrapUpContext:
    """The call's wrap-up context; checks who may see it.

    No waiting: the screen asks when it is told the call ended, and that event goes out only
    once the ledger has committed the closed call (commit, then publish: dialer/durable.py).
    """
    linkedid = request.match_info["linkedid"]
    ctx = await WrapUpRepository(request.app[DB_SESSIONS]).context(linkedid) if is_linkedid(linkedid) else None
    if ctx is None:
        raise web.HTTPNotFound(text="Звонок не найден в журнале")
    _check_wrapup_access(ctx, user, for_saving=for_saving)
    if ctx.is_open:
        raise web.HTTPConflict(text="Звонок ещё идёт: итог — после его окончания")
    return ctx


def _check_wrapup_access(ctx: WrapUpContext, user: SignedInUser, *, for_saving: bool) -> None:
    """The call's owner (who held the extension when it was recorded) fills the wrap-up in, so only
    they ever save one; supervisors may read it."""
    if ctx.expert_id != user.id and (for_saving or not user.is_supervisor):
        raise forbidden("Это звонок другого Эксперта")


def _form_context(request: web.Request, ctx: WrapUpContext, values: dict[str, Any],
                  errors: list[FieldError], campaign: CampaignField | None) -> dict[str, Any]:
    settings = settings_of(request)
    values = {**EMPTY_FORM, **values}
    return {"ctx": ctx, "values": values, "errors": {e.field: e.message for e in errors},
            "results": list(WrapUpResult), "result_labels": RESULT_LABELS, "outcome_labels": OUTCOME_LABELS,
            "topics": settings.desk.topics, "tz": settings.organisation.tz,
            "min_productive": minutes_seconds(settings.targets.productive_min_talk_s), "campaign": campaign}


async def _campaign(request: web.Request, ctx: WrapUpContext) -> CampaignField | None:
    """The «Переход на ДС» field, for a call of a client in the campaign for ДС (None otherwise)."""
    if ctx.client_db_id is None:
        return None
    settings = settings_of(request)
    state = (await TransitionsRepository(request.app[DB_SESSIONS]).current([ctx.client_db_id])).get(ctx.client_db_id)
    if state is None:
        return None
    return CampaignField(current=state.status, today=utc_now().astimezone(settings.organisation.tz).date(),
                         decline_reasons=settings.selection.decline_reasons,
                         recorded=state.status if state.call_id == ctx.call_id else None)


def _initial_values(ctx: WrapUpContext, tz: Any, campaign: CampaignField | None = None) -> dict[str, Any]:
    saved = ctx.saved
    if saved is not None:
        recorded = campaign.recorded.value if campaign is not None and campaign.recorded is not None else ""
        return {"result": saved.result, "topic": saved.topic or "", "logged_in": saved.logged_in,
                "productive": saved.productive, "comment": saved.comment or "",
                "next_contact": saved.next_contact_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
                if saved.next_contact_at else "", "transition": recorded}
    result = suggested_result(ctx.outcome)
    return {"result": "" if result is None else result.value, "topic": ctx.planned_topic or "", "logged_in": False,
            "productive": False, "comment": "",  # the Expert's judgement: never ticked for them (issue 13)
            "next_contact": ""}


async def wrapup_form(request: web.Request) -> web.Response:
    user = signed_in(request)
    ctx = await _context(request, user, for_saving=False)
    campaign = await _campaign(request, ctx)
    values = _initial_values(ctx, settings_of(request).organisation.tz, campaign)
    return aiohttp_jinja2.render_template("desk/_wrapup.html", request,
                                          _form_context(request, ctx, values, [], campaign))


async def save_wrapup(request: web.Request) -> web.Response:
    """Validate and save; on errors the form comes back with every problem and what was typed."""
    user = signed_in(request)
    ctx = await _context(request, user, for_saving=True)
    form = {k: str(v) for k, v in (await request.post()).items() if k != "_csrf"}
    settings = settings_of(request)
    now = utc_now()
    campaign = await _campaign(request, ctx)
    parsed = parse_wrapup(form, topics=settings.desk.topics, tz=settings.organisation.tz, now=now,
                          talk_s=ctx.talk_s, min_productive_talk_s=settings.targets.productive_min_talk_s,
                          answered=ctx.answered_at is not None or ctx.talk_s > 0,
                          callback_check=_callback_check(settings, ctx, now), campaign=campaign)
    if not isinstance(parsed, WrapUpInput):
        return _form_with_errors(request, ctx, form, parsed, campaign)
    day = ctx.started_at.astimezone(settings.organisation.tz).date()
    try:
        await WrapUpRepository(request.app[DB_SESSIONS]).save(
            ctx.linkedid, user.id, parsed, day, now, today=now.astimezone(settings.organisation.tz).date(),
            decline_reasons=settings.selection.decline_reasons)
    except CallStillUp as e:
        raise web.HTTPConflict(text="Звонок ещё идёт: итог — после его окончания") from e
    except TransitionError as e:  # the status changed meanwhile (another tab, the card): nothing was saved
        field = {"reason": "transition_reason", "until": "transition_until"}.get(e.field, "transition")
        return _form_with_errors(request, ctx, form, [FieldError(field, e.message)], await _campaign(request, ctx))
    # On a day the usage data covers, «заходил» is measured from the call's real talk.
    await LoginsRepository(request.app[DB_SESSIONS]).measure_call(
        ctx.linkedid, settings.organisation.tz, settings.targets.login_grace_s, now)
    if "application/json" in request.headers.get("Accept", ""):
        return web.json_response({"ok": True, "next": "/desk"})
    raise web.HTTPSeeOther("/desk")


def _form_with_errors(request: web.Request, ctx: WrapUpContext, form: dict[str, str], errors: list[FieldError],
                      campaign: CampaignField | None) -> web.Response:
    """The form again with every problem and what was typed; 422, nothing saved."""
    values = {**form, "logged_in": "logged_in" in form, "productive": "productive" in form}
    response = aiohttp_jinja2.render_template("desk/_wrapup.html", request,
                                              _form_context(request, ctx, values, errors, campaign))
    response.set_status(422)
    return response


# ---- recordings ------------------------------------------------------------------------
PURGED = "Запись удалена по сроку хранения"
_SAFE_NAME = re.compile(r"[^0-9A-Za-z._-]+")


async def recording(request: web.Request) -> web.StreamResponse:
    """Only the call's own Expert and supervisors; never a file outside the recordings directory.

    Answers Range requests (the player seeks); `?download=1` sends it as an attachment. Each
    playback or download is written to the access log once — a player's later Range requests
    (seeking, buffering) are the same playback.
    """
    user = signed_in(request)
    recordings = RecordingsRepository(request.app[DB_SESSIONS])
    linkedid = request.match_info["linkedid"]
    ref = await recordings.by_linkedid(linkedid) if is_linkedid(linkedid) else None
    if ref is None or ref.recording is None:
        raise web.HTTPNotFound(text="Записи нет")
    if not user.is_supervisor and ref.expert_id != user.id:
        raise forbidden("Это запись чужого звонка")
    if ref.purged_at is not None:
        raise web.HTTPGone(text=PURGED)
    path = recording_path(settings_of(request), ref.recording)
    if path is None:
        raise web.HTTPNotFound(text="Файл записи не найден")
    download = request.query.get("download") in ("1", "yes")
    if request.method == "GET" and starts_a_playback(request.headers.get("Range")):
        await recordings.log_access(ref.call_id, user.id, "download" if download else "play",
                                    request.remote, utc_now())
    response = web.FileResponse(path)
    if download:
        name = download_name(ref, path, settings_of(request).organisation.tz)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def starts_a_playback(range_header: str | None) -> bool:
    """A request without Range, or for the file's start: a player opening it (not seeking)."""
    if not range_header:
        return True
    return range_header.replace(" ", "").lower().startswith("bytes=0-")


def download_name(ref: RecordingRef, path: Path, tz: ZoneInfo) -> str:
    """`zvonok-2026-03-02-1030-101-1700000000.1.wav`: ASCII only, nothing a header could misread."""
    moment = ref.started_at.astimezone(tz).strftime("%Y-%m-%d-%H%M")
    name = f"zvonok-{moment}-{ref.expert_ext or 'x'}-{ref.linkedid}"
    suffix = path.suffix if re.fullmatch(r"\.[0-9A-Za-z]{1,5}", path.suffix) else ""
    return _SAFE_NAME.sub("_", name)[:120] + suffix


def recording_path(settings: Settings, pbx_path: str) -> Path | None:
    """The file inside the recordings directory, or None (outside it, missing, or not a file)."""
    return settings.recordings.existing_file(pbx_path)
