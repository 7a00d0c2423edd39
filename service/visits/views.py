"""GET/POST /visits: a ПМ по ДС records her visits from the phone and sees her month's plan/fact.

A PM sees and records her own; supervisors and admins see every PM's month side by side and one
PM's visits with `?pm=LOGIN` (they do not record for her). An Expert gets 403, a СИО never gets here
(service/web/role_scope.py). The page is one column, built for a 375 px screen (docs/visits.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.days import day_bounds
from service.db.month import MonthRepository
from service.db.visit_plan import VisitPlanRepository
from service.db.visits import Person, VisitsRepository
from service.month.kinds import first_of_month, month_after, month_label
from service.settings import Settings
from service.visits.rules import (
    PERSONAL_PLAN_KINDS,
    RESULT_LABELS,
    Line,
    MonthFacts,
    Target,
    VisitForm,
    VisitRecord,
    VisitTargets,
    personal_targets,
    plan_fact,
    read_visit_form,
)
from service.web.auth import requires
from service.web.desk_context import forbidden, settings_of, signed_in, utc_now
from service.web.keys import SignedInUser

PATH = "/visits"
BAD_MONTH = "Неверный месяц в адресе страницы: нужен ГГГГ-ММ, например 2026-03"


def setup_visits(app: web.Application) -> None:
    app.router.add_get(PATH, visits_page, name="visits")
    app.router.add_post(PATH, record_visit, name="record_visit")


@dataclass(frozen=True, slots=True)
class ManagerMonth:
    person: Person
    lines: list[Line]


@requires("pm", "supervisor", "admin")
async def visits_page(request: web.Request) -> web.StreamResponse:
    user = signed_in(request)
    month = _month(request)
    login = request.query.get("pm", "").strip()
    if user.role == "pm" and login in ("", user.login):
        return await _render(request, user, Person(user.id, user.login, user.full_name), month,
                             _blank_form(settings_of(request)), saved=request.query.get("saved") == "1")
    if user.role == "pm":
        raise forbidden("Можно смотреть только свои визиты")
    managers = await VisitsRepository(request.app[DB_SESSIONS]).managers()
    if login:
        shown = next((p for p in managers if p.login == login), None)
        if shown is None:
            raise web.HTTPNotFound(text=f"Нет ПМ по ДС с логином «{login[:64]}»")
        return await _render(request, user, shown, month, None)
    return await _overview(request, managers, month)


@requires("pm")
async def record_visit(request: web.Request) -> web.StreamResponse:
    user = signed_in(request)
    settings = settings_of(request)
    repo = VisitsRepository(request.app[DB_SESSIONS])
    portfolio = {client_id: code for client_id, code, _ in await repo.portfolio(user.id)}
    form = read_visit_form({k: str(v) for k, v in (await request.post()).items()}, portfolio,
                           settings.desk.topics, _today(settings))
    if form.errors or form.client_id is None or form.day is None:
        month = first_of_month(form.day or _today(settings))
        return await _render(request, user, Person(user.id, user.login, user.full_name), month, form, status=422)
    record = VisitRecord(user.login, portfolio[form.client_id], form.day, form.planned, form.result,
                         form.text("contacts_met"), form.text("topic"), form.text("comment"))
    await repo.record(user.id, form.client_id, record, utc_now())
    raise web.HTTPSeeOther(f"{PATH}?month={form.day:%Y-%m}&saved=1")


async def _render(request: web.Request, user: SignedInUser, shown: Person, month: date, form: VisitForm | None,
                  *, saved: bool = False, status: int = 200) -> web.Response:
    settings = settings_of(request)
    repo = VisitsRepository(request.app[DB_SESSIONS])
    context: dict[str, Any] = {
        "shown": shown, "own": shown.id == user.id, "month": month, "month_label": month_label(month),
        "months": _neighbours(month), "lines": (await _lines(request, [shown], month))[shown.id],
        "visits": await repo.month_visits(shown.id, month, month_after(month)),
        "result_labels": RESULT_LABELS, "form": form, "saved": saved, "topics": settings.desk.topics,
        "clients": await repo.portfolio(shown.id) if form is not None else [],
        "plan": await VisitPlanRepository(request.app[DB_SESSIONS]).month_plan(shown.id, month),
        "month_over": month_after(month) <= _today(settings),
    }
    return aiohttp_jinja2.render_template("visits/page.html", request, context, status=status)


async def _overview(request: web.Request, managers: list[Person], month: date) -> web.Response:
    lines = await _lines(request, managers, month)
    context = {"month": month, "month_label": month_label(month), "months": _neighbours(month),
               "managers": [ManagerMonth(p, lines[p.id]) for p in managers]}
    return aiohttp_jinja2.render_template("visits/overview.html", request, context)


async def _lines(request: web.Request, people: list[Person], month: date) -> dict[int, list[Line]]:
    """Each person's plan/fact of the month: visits that took place, and calls she owns in the ledger."""
    settings = settings_of(request)
    repo = VisitsRepository(request.app[DB_SESSIONS])
    ids = [p.id for p in people]
    after = month_after(month)
    done = await repo.done_counts(ids, month, after)
    tz = settings.organisation.tz
    calls = await repo.call_counts(ids, day_bounds(month, tz)[0], day_bounds(after, tz)[0])
    norms = visit_targets(settings)
    plans: dict[int, dict[str, int]] = {}
    for plan in await MonthRepository(request.app[DB_SESSIONS]).plans(month, ids):
        if plan.kind in PERSONAL_PLAN_KINDS:
            plans.setdefault(plan.employee_id, {})[plan.kind] = int(plan.value)
    return {i: plan_fact(MonthFacts(*done.get(i, (0, 0)), calls.get(i, 0)), personal_targets(norms, plans.get(i, {})))
            for i in ids}


def visit_targets(settings: Settings) -> VisitTargets:
    t = settings.targets
    return VisitTargets(Target(t.pm_visits_planned_min, t.pm_visits_planned_max),
                        Target(t.pm_visits_unplanned_min, t.pm_visits_unplanned_max),
                        Target(t.pm_calls_min, t.pm_calls_max))


def _blank_form(settings: Settings) -> VisitForm:
    today = _today(settings)
    return VisitForm({"day": today.isoformat(), "planned": "yes", "result": "done"}, day=today)


def _today(settings: Settings) -> date:
    return utc_now().astimezone(settings.organisation.tz).date()


def _month(request: web.Request) -> date:
    raw = request.query.get("month", "").strip()
    if not raw:
        return first_of_month(_today(settings_of(request)))
    year, _, number = raw.partition("-")
    if not (len(year) == 4 and year.isdigit() and number.isdigit() and len(number) <= 2
            and 2000 <= int(year) <= 2100 and 1 <= int(number) <= 12):
        raise web.HTTPBadRequest(text=BAD_MONTH)
    return date(int(year), int(number), 1)


def _neighbours(month: date) -> tuple[date, date]:
    before = first_of_month(date.fromordinal(month.toordinal() - 1))
    return before, month_after(month)
