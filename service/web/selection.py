"""The candidate list for ДС (issue 15): GET /selection, /selection.xlsx, a client's scores, manual entry, assigning.

Supervisors, admins and СИО see the list and a client's scores and enter manual scores (and the
СИО's recommendation); only supervisors and admins assign candidates to an Expert. The list is
scored once per request (service/selection/listing.py): filters, sort and page are pure
(service/selection/candidates.py). Manual scores are appended with source "web" and the
signed-in author, never overwriting earlier ones.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.db.experts import ExpertsRepository
from service.db.records import SelectionRecord
from service.db.selection import SelectionRepository
from service.db.transitions import TransitionsRepository
from service.errors import UnknownClientError
from service.selection import candidates as pure
from service.selection.errors import BadListQuery, BadManualScore
from service.selection.export import candidates_xlsx, xlsx_name
from service.selection.listing import client_selection, scored_candidates
from service.selection.scoring import CRITERIA, CRITERION_LABELS, RECOMMENDATION, Selection
from service.transition.errors import AssignError
from service.web.auth import requires
from service.web.desk_context import settings_of, signed_in, utc_now
from texts.labels import TRANSITION_LABELS
from texts.words import plural

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIST_PATH = "/selection"
SOURCE_LABELS = {"web": "на сайте", "import": "из файла"}
SCORE_CHOICES = (("0", "0"), ("1", "1"), ("2", "2"), ("3", "3"), ("да", "да (рекомендую)"),
                 ("нет", "нет (не рекомендую)"))
SAVED = {"1": "Оценка сохранена.", "0": "Такая же оценка уже записана последней: ничего не добавлено."}
# The table's headers (the full wording is each header's tooltip).
SHORT_LABELS = {"loyalty": "Лояльн.", "skills": "Навыки", "users": "Польз.", "prepay": "Предопл.",
                "services": "Услуги", "without_sio": "Без СИО", "remoteness": "Удалён.", "from_glavbukh": "Главбух"}
MAX_TICKED = 5000  # clients in one assignment; the page shows 200 at a time


def setup_selection(app: web.Application) -> None:
    app.router.add_get(LIST_PATH, list_page, name="selection")
    app.router.add_get("/selection.xlsx", list_xlsx, name="selection_xlsx")
    app.router.add_post("/selection/assign", assign, name="selection_assign")
    app.router.add_get("/selection/{client_id}", client_page, name="selection_client")
    app.router.add_post("/selection/{client_id}", add_score)


@requires("supervisor", "admin", "sio")
async def list_page(request: web.Request) -> web.StreamResponse:
    try:
        query = pure.read_query(request.query)
    except BadListQuery as e:
        return _bad_query(e)
    return await _render_list(request, query, notice=await _assigned_notice(request))


@requires("supervisor", "admin", "sio")
async def list_xlsx(request: web.Request) -> web.StreamResponse:
    try:
        query = pure.read_query(request.query)
    except BadListQuery as e:
        return _bad_query(e)
    settings = settings_of(request)
    now = utc_now()
    rows = await _scored(request)
    kept = pure.filtered(rows, query)
    local = now.astimezone(settings.organisation.tz)
    # A department's whole list is seconds of openpyxl: off the event loop, so the desks stay quick.
    body = await asyncio.to_thread(candidates_xlsx, kept, query, len(rows), settings.selection.min_total, local)
    russian = f"Отбор на ДС {local:%d.%m.%Y}.xlsx"
    disposition = f"attachment; filename=\"{xlsx_name(local)}\"; filename*=UTF-8''{quote(russian)}"
    return web.Response(body=body, content_type=XLSX_TYPE, headers={"Content-Disposition": disposition})


@requires("supervisor", "admin")
async def assign(request: web.Request) -> web.StreamResponse:
    """Tick candidates, pick an Expert: all of them become her candidates, or none (the error is shown)."""
    form = await request.post()
    try:
        query = pure.read_query(_back_args(form.get("back")))
    except BadListQuery:
        query = pure.ListQuery()
    ticked = [value.strip() for value in form.getall("client", []) if isinstance(value, str) and value.strip()]
    login = _text(form.get("expert"))
    error = None
    if not login:
        error = "Выберите Эксперта, которому назначить клиентов."
    elif len(ticked) > MAX_TICKED:
        error = f"За один раз можно назначить не больше {MAX_TICKED} клиентов."
    if error is None:
        error = await _not_candidates(request, ticked)
    if error is None:
        settings = settings_of(request)
        transitions = TransitionsRepository(request.app[DB_SESSIONS], tz=settings.organisation.tz)
        try:
            result = await transitions.assign(ticked, login, signed_in(request).id, utc_now())
        except AssignError as e:
            error = e.message
        else:
            done = {"assigned": str(result.assigned), "kept": str(result.unchanged), "to": login}
            raise web.HTTPSeeOther(f"{LIST_PATH}?{urlencode({**query.params(), **done})}")
    return await _render_list(request, query, error=error, ticked=set(ticked), expert=login, status=400)


async def _not_candidates(request: web.Request, ticked: list[str]) -> str | None:
    """Only candidates are assigned, whatever a hand-made request ticks (found trying it: a client
    below the line, one without online/ИП and one the СИО said «нет» to were all assigned)."""
    settings = settings_of(request)
    refused: list[str] = []
    for external_id in ticked[:MAX_TICKED]:
        found = await client_selection(request.app[DB_SESSIONS], external_id, settings.selection.rules(),
                                       settings.organisation.tz, utc_now())
        if found is None:
            refused.append(f"«{external_id}»: нет такого клиента")
        elif not found.candidate.selection.candidate:
            refused.append(f"{found.candidate.name}: {_why_not(found.candidate.selection)}")
    if not refused:
        return None
    return "Назначить можно только кандидатов; ничего не назначено. " + "; ".join(refused)


def _why_not(selection: Selection) -> str:
    if not selection.eligible:
        return f"не подходит ({selection.ineligible_reason})"
    if selection.recommendation == "no":
        return "СИО не рекомендует"
    return f"сумма баллов {selection.total} ниже порога"


@requires("supervisor", "admin", "sio")
async def client_page(request: web.Request) -> web.StreamResponse:
    return await _render_client(request, notice=SAVED.get(request.query.get("saved", "")))


@requires("supervisor", "admin", "sio")
async def add_score(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    typed = {name: _text(form.get(name), strip=False) for name in ("criterion", "score", "note")}
    external_id = request.match_info["client_id"]
    try:
        criterion, value, note = pure.read_manual(typed["criterion"], typed["score"], typed["note"])
    except BadManualScore as e:
        return await _render_client(request, problems=e.problems, typed=typed, status=400)
    record = SelectionRecord(external_id, criterion, value, note, signed_in(request).login)
    try:
        counts = await SelectionRepository(request.app[DB_SESSIONS]).add_scores([record], "web", utc_now())
    except UnknownClientError as e:
        raise web.HTTPNotFound(text=f"Нет клиента «{external_id}»") from e
    raise web.HTTPSeeOther(f"/selection/{quote(external_id)}?saved={0 if counts.unchanged else 1}")


# ---- rendering -----------------------------------------------------------------------------------

async def _scored(request: web.Request) -> list[pure.Candidate]:
    settings = settings_of(request)
    return await scored_candidates(request.app[DB_SESSIONS], settings.selection.rules(), settings.organisation.tz,
                                   utc_now())


async def _render_list(request: web.Request, query: pure.ListQuery, *, notice: str | None = None,
                       error: str | None = None, ticked: set[str] | None = None, expert: str = "",
                       status: int = 200) -> web.Response:
    user = signed_in(request)
    listing = pure.listing(await _scored(request), query)
    can_assign = user.is_supervisor
    experts = await ExpertsRepository(request.app[DB_SESSIONS]).active_experts() if can_assign else []
    context = {
        "query": query, "listing": listing, "criteria": CRITERIA, "labels": CRITERION_LABELS,
        "short_labels": SHORT_LABELS, "eligible_labels": pure.ELIGIBLE_LABELS, "reasons": pure.REASONS,
        "status_labels": TRANSITION_LABELS,
        "recommendation_labels": pure.RECOMMENDATION_LABELS, "can_assign": can_assign, "experts": experts,
        "chosen_expert": expert, "ticked": ticked or set(), "notice": notice, "error": error,
        "min_total": settings_of(request).selection.min_total, "page_size": pure.PAGE_SIZE,
        "link": lambda params: LIST_PATH + ("?" + urlencode(params) if params else ""),
        "xlsx_url": "/selection.xlsx" + ("?" + urlencode(query.params(page=1)) if query.params(page=1) else ""),
        "back": urlencode(query.params()), "plural": plural,
    }
    return aiohttp_jinja2.render_template("selection/list.html", request, context, status=status)


async def _render_client(request: web.Request, *, notice: str | None = None, problems: list[str] | None = None,
                         typed: dict[str, str] | None = None, status: int = 200) -> web.Response:
    settings = settings_of(request)
    external_id = request.match_info["client_id"]
    found = await client_selection(request.app[DB_SESSIONS], external_id, settings.selection.rules(),
                                   settings.organisation.tz, utc_now())
    if found is None:
        raise web.HTTPNotFound(text=f"Нет клиента «{external_id}»")
    context = {
        "found": found, "row": found.candidate, "criteria": CRITERIA, "labels": CRITERION_LABELS,
        "form_criteria": [*((c, CRITERION_LABELS[c]) for c in CRITERIA), (RECOMMENDATION, "рекомендация СИО")],
        "score_choices": SCORE_CHOICES, "typed": typed or {"criterion": "", "score": "", "note": ""},
        "problems": problems or [], "notice": notice, "status_labels": TRANSITION_LABELS,
        "recommendation_labels": pure.RECOMMENDATION_LABELS, "source_labels": SOURCE_LABELS,
        "criterion_label": pure.criterion_label, "value_label": pure.manual_value_label,
        "tz": settings.organisation.tz.key, "min_total": settings.selection.min_total,
        "max_note": pure.MAX_NOTE_CHARS,
    }
    return aiohttp_jinja2.render_template("selection/client.html", request, context, status=status)


async def _assigned_notice(request: web.Request) -> str | None:
    """«Назначено: <Эксперт> — N клиентов» after an assignment (the redirect carries the counts and the
    login); the name in the nominative, as a label, never declined wrongly («Эксперту Орлова Мария»)."""
    assigned, kept, login = (request.query.get(key, "") for key in ("assigned", "kept", "to"))
    if not (assigned.isascii() and assigned.isdigit() and kept.isascii() and kept.isdigit() and login):
        return None
    profile = await ExpertsRepository(request.app[DB_SESSIONS]).profile(login)
    who = profile.full_name if profile is not None else login
    count = int(assigned[:9])
    text = f"Назначено Эксперту: {who} — {count} {plural(count, 'клиент', 'клиента', 'клиентов')}"
    if int(kept[:9]):
        text += f"; уже были назначены этому Эксперту: {int(kept[:9])}"
    return text + "."


def _back_args(back: object) -> dict[str, str]:
    """The list's filters the assignment form carried, to come back to the same list."""
    if not isinstance(back, str):
        return {}
    return dict(parse_qsl(back[:2000]))


def _bad_query(error: BadListQuery) -> web.Response:
    return web.Response(status=400, text=str(error), content_type="text/plain", charset="utf-8")


def _text(value: Any, strip: bool = True) -> str:
    if not isinstance(value, str):
        return ""
    return value.strip() if strip else value
