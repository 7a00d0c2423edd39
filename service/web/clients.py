"""The client card: the brief («Сведения о Клиенте») with a call button per contact, and for a
client in the campaign for ДС its transition status, its history and — for a supervisor — the next
step («переведён» with its date among them; POST with CSRF, checked by the status machine)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from scheduler.calling_hours import call_window, check_call_time
from service.appkeys import DB_SESSIONS
from service.db.brief import BriefRepository, ClientBrief
from service.db.transitions import TransitionEntry, TransitionsRepository, TransitionState
from service.selection.scoring import SERVICES as SERVICE_LABELS
from service.settings import Settings
from service.transition.errors import TransitionError
from service.transition.machine import Status, next_statuses
from service.web.desk_context import forbidden, settings_of, signed_in, utc_now
from service.web.keys import SignedInUser
from service.web.script_panel import SCRIPT_CATALOG, script_panel
from texts.labels import OUTCOME_LABELS, RESULT_LABELS
from texts.plan import TOPIC_TRANSITION


def add_routes(app: web.Application) -> None:
    app.router.add_get("/clients/{client_id}", client_page, name="client")
    app.router.add_get("/clients/{client_id}/brief", brief_fragment, name="client_brief")
    app.router.add_post("/clients/{client_id}/transition", record_transition, name="client_transition")


@dataclass(frozen=True, slots=True)
class TransitionPanel:
    """The card's «Переход на ДС»: the status, its history, and what a supervisor may record next."""

    state: TransitionState
    history: list[TransitionEntry]
    options: tuple[Status, ...]  # empty for an Expert, and once the move is decided
    decline_reasons: tuple[str, ...]
    error: str | None = None
    values: dict[str, str] | None = None  # what was typed, when the step was refused


async def load_brief(request: web.Request, user: SignedInUser) -> ClientBrief:
    """The brief of a client the user may see: 404 unknown, 403 another Expert's client."""
    external_id = request.match_info["client_id"]
    repo = BriefRepository(request.app[DB_SESSIONS])
    exists, expert_id = await repo.expert_of(external_id)
    if not exists:
        raise web.HTTPNotFound(text=f"Нет клиента {external_id}")
    if not user.is_supervisor and expert_id != user.id and not await _in_her_campaign(request, external_id, user):
        raise forbidden("Это клиент другого Эксперта")
    brief = await repo.brief(external_id, user.id, all_calls=user.is_supervisor)
    if brief is None:  # deleted between the two reads
        raise web.HTTPNotFound(text=f"Нет клиента {external_id}")
    return brief


async def _in_her_campaign(request: web.Request, external_id: str, user: SignedInUser) -> bool:
    """The campaign for ДС assigned the client to her: she calls it before it joins her portfolio."""
    return await TransitionsRepository(request.app[DB_SESSIONS]).campaign_expert(external_id) == user.id


def brief_context(request: web.Request, brief: ClientBrief) -> dict[str, Any]:
    settings = settings_of(request)
    return {"brief": brief, **brief_extras(settings, brief)}


def brief_extras(settings: Settings, brief: ClientBrief | None) -> dict[str, Any]:
    """What the brief template needs besides the brief itself."""
    now = utc_now()
    return {"outcome_labels": OUTCOME_LABELS, "result_labels": RESULT_LABELS,
            "tz": settings.organisation.tz, "now": now, "service_labels": SERVICE_LABELS,
            "forbidden_contacts": forbidden_contacts(settings, brief, now)}


def forbidden_contacts(settings: Settings, brief: ClientBrief | None, now: datetime) -> dict[str, str]:
    """With desk.block_outside_hours, each contact it is no time to call now → why: its «Позвонить» is off
    (found trying it: the brief's buttons stayed on and only the server's refusal said no)."""
    if brief is None or not settings.desk.block_outside_hours:
        return {}
    zone = brief.timezone or settings.organisation.timezone
    calendar = settings.plan.calendar()
    refused = {}
    for contact in brief.contacts:
        window = call_window(contact.call_from, contact.call_to, settings.plan.client_hours)
        verdict = check_call_time(now, zone, window, calendar)
        if contact.external_id and not verdict.allowed:
            refused[contact.external_id] = verdict.reason or ""
    return refused


async def _card(request: web.Request, user: SignedInUser, brief: ClientBrief,
                panel: TransitionPanel | None) -> dict[str, Any]:
    wanted = request.query.get("script")
    if wanted is None and panel is not None and panel.state.status is not Status.MOVED:
        wanted = request.app[SCRIPT_CATALOG].for_topic(TOPIC_TRANSITION).file  # the «Речевой ролик»
    return {**brief_context(request, brief), "transition": panel,
            "script": await script_panel(request, brief, None, user, wanted),
            "inbound": request.query.get("call")}


async def transition_panel(request: web.Request, user: SignedInUser, brief: ClientBrief, *,
                           error: str | None = None, values: dict[str, str] | None = None) -> TransitionPanel | None:
    """None for a client never in the campaign."""
    repo = TransitionsRepository(request.app[DB_SESSIONS])
    state = (await repo.current([brief.id])).get(brief.id)
    if state is None:
        return None
    options = next_statuses(state.status) if user.is_supervisor else ()
    return TransitionPanel(state, await repo.history(brief.id), options,
                           settings_of(request).selection.decline_reasons, error, values)


@aiohttp_jinja2.template("desk/client.html")
async def client_page(request: web.Request) -> dict[str, Any]:
    user = signed_in(request)
    brief = await load_brief(request, user)
    return await _card(request, user, brief, await transition_panel(request, user, brief))


async def record_transition(request: web.Request) -> web.Response:
    """A supervisor records the client's next step; a refused one shows the card again with why (422)."""
    user = signed_in(request)
    if not user.is_supervisor:
        raise forbidden("Статус перехода на ДС в карточке меняет руководитель группы; Эксперт — в итоге звонка")
    brief = await load_brief(request, user)
    form = {k: str(v) for k, v in (await request.post()).items() if k != "_csrf"}
    settings = settings_of(request)
    tz = settings.organisation.tz
    repo = TransitionsRepository(request.app[DB_SESSIONS], decline_reasons=settings.selection.decline_reasons, tz=tz)
    try:
        await repo.change(brief.id, form.get("status", ""), user.id, utc_now(), reason=form.get("reason") or None,
                          until=_day(form.get("until", "")), note=form.get("note") or None)
    except TransitionError as e:
        panel = await transition_panel(request, user, brief, error=e.message, values=form)
        response = aiohttp_jinja2.render_template("desk/client.html", request,
                                                  await _card(request, user, brief, panel))
        response.set_status(422)
        return response
    raise web.HTTPSeeOther(f"/clients/{brief.external_id}")


def _day(raw: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as e:
        raise TransitionError(f"Непонятная дата «{raw}»: нужен вид ГГГГ-ММ-ДД", "until") from e


@aiohttp_jinja2.template("desk/_brief.html")
async def brief_fragment(request: web.Request) -> dict[str, Any]:
    """The brief alone: the pop-up when a known client calls in."""
    user = signed_in(request)
    return brief_context(request, await load_brief(request, user))
