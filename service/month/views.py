"""GET /month, /month.xlsx, /month/events: the Expert's and the PM's monthly reports (issue 16, item 3).

The head (supervisor, admin) sees the department — every Expert and PM side by side with the
department's column — or one person (`?person=LOGIN`); an Expert or a PM sees her own report only,
whatever the address says. A month or a range of months: `?from=2026-03&to=2026-05`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.db.ktu import KtuRepository
from service.db.ktu import Person as KtuPerson
from service.db.month import MonthRepository
from service.db.month_events import EVENTS_PAGE, MonthEventsRepository
from service.db.month_report import Employee, MonthReportRepository, period_of
from service.figures.model import Period
from service.figures.params import call_log_url
from service.ktu.sheets import month_sheets
from service.month.assemble import dashboard_of, tables_of, targets_of
from service.month.dashboard import DashboardLine
from service.month.export import month_xlsx
from service.month.kinds import EVENT_KINDS, first_of_month, label, month_after, month_label
from service.month.report import (
    Column,
    Drill,
    Figure,
    PersonFacts,
    Table,
    Targets,
    Unit,
)
from service.selection.listing import collector_paused
from service.web.auth import current_user, requires
from service.web.desk_context import settings_of, utc_now
from service.web.keys import SignedInUser
from texts.words import decimal

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_MONTHS = 24
BAD_MONTH = "Неверный месяц: нужен ГГГГ-ММ, например 2026-03"
ROLE_LABELS = {"expert": "Эксперт по ДС", "pm": "ПМ по ДС"}


def setup_month(app: web.Application) -> None:
    app.router.add_get("/month", month_page, name="month")
    app.router.add_get("/month.xlsx", month_report_xlsx, name="month_xlsx")
    app.router.add_get("/month/events", events_page, name="month_events")


class ReportError(Exception):
    """The address asks for a report that cannot be made (Russian, shown as it is)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Query:
    first: date  # the first month's 1st
    last: date  # the last month's 1st
    person: str | None  # a login; None: the department

    @property
    def period(self) -> Period:
        return period_of(self.first, self.last)

    @property
    def title(self) -> str:
        if self.first == self.last:
            return month_label(self.first)
        return f"{month_label(self.first)} — {month_label(self.last)}"

    @property
    def months(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    def params(self, **extra: str) -> dict[str, str]:
        out = {"from": f"{self.first:%Y-%m}", "to": f"{self.last:%Y-%m}"}
        if self.person:
            out["person"] = self.person
        return {**out, **extra}


@dataclass(frozen=True, slots=True)
class MonthReport:
    query: Query
    tables: tuple[Table, ...]
    people: tuple[Employee, ...]  # whom the head may choose
    dashboard: tuple[DashboardLine, ...] = ()  # the head's one-month department view (item 5)
    closed: bool = False  # the month is closed (its plans and КТУ sheets no longer change)
    closable_from: date | None = None  # the day the month may be closed, while it is not over


@requires("expert", "pm", "supervisor", "admin")
async def month_page(request: web.Request) -> web.StreamResponse:
    try:
        report = await _report(request)
    except ReportError as e:
        return aiohttp_jinja2.render_template("month/page.html", request, {"error": str(e), "report": None},
                                              status=e.status)
    return aiohttp_jinja2.render_template("month/page.html", request, _page_context(request, report))


@requires("expert", "pm", "supervisor", "admin")
async def month_report_xlsx(request: web.Request) -> web.StreamResponse:
    try:
        report = await _report(request)
    except ReportError as e:
        return web.Response(status=e.status, text=str(e), content_type="text/plain", charset="utf-8")
    tz = settings_of(request).organisation.tz
    body = month_xlsx(report.tables, report.query.title, utc_now().astimezone(tz))
    ascii_name = f"month-{report.query.first:%Y-%m}-{report.query.last:%Y-%m}.xlsx"
    russian = f"Отчётность ДС {report.query.title}.xlsx"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(russian)}"
    return web.Response(body=body, content_type=XLSX_TYPE, headers={"Content-Disposition": disposition})


@requires("expert", "pm", "supervisor", "admin")
async def events_page(request: web.Request) -> web.StreamResponse:
    """The business events behind a report's figure, newest first (the first EVENTS_PAGE of them)."""
    try:
        query = _query(request)
        kind = request.query.get("kind", "").strip() or None
        if kind is not None and kind not in EVENT_KINDS:
            raise ReportError(f"Нет такого вида событий: «{kind[:64]}»")
        disconnected = {"yes": True, "no": False, "": None}.get(request.query.get("disconnected", "").strip(), "bad")
        if disconnected == "bad":
            raise ReportError("disconnected: только yes или no")
        person = await _person(request, query)
    except ReportError as e:
        return aiohttp_jinja2.render_template("month/events.html", request, {"error": str(e)}, status=e.status)
    period = query.period
    events, total = await MonthEventsRepository(request.app[DB_SESSIONS]).page(
        period.first, period.last, person.id if person else None, kind,
        disconnected if isinstance(disconnected, bool) else None)
    kind_label = label(kind) if kind else None
    if kind_label and isinstance(disconnected, bool):
        kind_label += ": клиент был отключён" if disconnected else ": клиент не был отключён"
    context = {"error": None, "query": query, "kind": kind, "kind_label": kind_label,
               "person": person, "events": events, "total": total, "limit": EVENTS_PAGE, "label": label,
               "money": money_text,
               "back_url": "/month?" + urlencode(query.params())}
    return aiohttp_jinja2.render_template("month/events.html", request, context)


async def _report(request: web.Request) -> MonthReport:
    settings = settings_of(request)
    query = _query(request)
    repo = MonthReportRepository(request.app[DB_SESSIONS])
    user = current_user(request)
    everyone = await repo.people() if user.is_supervisor else []
    person = await _person(request, query)
    shown = [person] if person is not None else everyone
    with collector_paused():  # ~250 ms of collection passes over objects that form no cycle (bench/month.py)
        facts = await repo.facts(shown, query.period, settings.organisation.tz, utc_now())
    targets = targets_of(settings, query.months)
    tables = tables_of(shown, facts, targets, with_department=person is None)
    if person is None and query.first == query.last:
        month = query.first
        today = utc_now().astimezone(settings.organisation.tz).date()
        return MonthReport(query, tuple(tables), tuple(everyone),
                           await _dashboard(request, month, shown, facts.people, targets),
                           closed=month in await MonthRepository(request.app[DB_SESSIONS]).closed_months(),
                           closable_from=month_after(month) if month_after(month) > today else None)
    return MonthReport(query, tuple(tables), tuple(everyone))


async def _dashboard(request: web.Request, month: date, people: Sequence[Employee],
                     facts: Mapping[int, PersonFacts], targets: Targets) -> tuple[DashboardLine, ...]:
    sessions = request.app[DB_SESSIONS]
    plans = await MonthRepository(sessions).plans(month, [p.id for p in people])
    ktu_people = [KtuPerson(p.id, p.login, p.full_name, p.role) for p in people]
    sheets = await month_sheets(KtuRepository(sessions), settings_of(request), month, ktu_people)
    return dashboard_of(people, facts, targets, plans, sheets)


async def _person(request: web.Request, query: Query) -> Employee | None:
    """Whose report: an Expert's or PM's own always; the head's choice, or None (the department)."""
    user: SignedInUser = current_user(request)
    repo = MonthReportRepository(request.app[DB_SESSIONS])
    login = user.login if not user.is_supervisor else query.person
    if login is None:
        return None
    found = await repo.people([login])
    if not found:
        raise ReportError(f"Нет Эксперта или ПМ по ДС с логином «{login[:64]}»", status=404)
    return found[0]


def _query(request: web.Request) -> Query:
    today = utc_now().astimezone(settings_of(request).organisation.tz).date()
    first = _month(request.query.get("from", "")) or first_of_month(today)
    last = _month(request.query.get("to", "")) or first
    if last < first:
        raise ReportError("Конец периода раньше его начала: поменяйте месяцы местами")
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months > MAX_MONTHS:
        raise ReportError(f"Период длиннее {MAX_MONTHS} месяцев: выберите короче")
    person = request.query.get("person", "").strip() or None
    return Query(first, last, person)


def _month(raw: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    year, _, number = raw.partition("-")
    if not (len(year) == 4 and year.isdigit() and number.isdigit() and len(number) <= 2
            and 2000 <= int(year) <= 2100 and 1 <= int(number) <= 12):
        raise ReportError(BAD_MONTH)
    return date(int(year), int(number), 1)


def money_text(amount: Decimal) -> str:
    """«12 500,00»: kopecks and a thin space between thousands, as the report shows sums."""
    return format(amount.quantize(Decimal("0.01")), ",.2f").replace(",", "\u202f").replace(".", ",")


def show_figure(figure: Figure) -> str:
    """«12», «41,7 %», «1 234,50 ₽»; «нет данных» without a value."""
    if figure.value is None:
        return "нет данных"
    if figure.unit is Unit.SHARE:
        return decimal(float(figure.value) * 100, 1) + " %"
    if figure.unit is Unit.RUB:
        return money_text(figure.value) + " ₽"
    return decimal(float(figure.value), 2)


def _page_context(request: web.Request, report: MonthReport) -> dict[str, Any]:
    query = report.query
    by_login = {p.login: p for p in report.people}

    def drill_url(figure: Figure, column: Column) -> str | None:
        if figure.drill is None:
            return None
        kind, filters = figure.drill
        if kind is Drill.EVENTS:  # the department's column: everyone's events
            params = {k: v for k, v in query.params().items() if k != "person"}
            return "/month/events?" + urlencode({**params, **({"person": column.login} if column.login else {}),
                                                 **filters})
        if column.login is None:
            return None  # the department's calls or visits: the call log and /visits show one person
        person = by_login.get(column.login) or _shown_self(request, column.login)
        if kind is Drill.CALLS:
            if person is None or not person.extension:
                return None
            return call_log_url(query.period, {"expert": person.extension, **filters})
        if query.first != query.last:
            return None  # /visits shows one month
        return f"/visits?pm={quote(column.login)}&month={query.first:%Y-%m}"

    def shifted(step: int) -> str:
        months = query.months * step
        first, last = _add_months(query.first, months), _add_months(query.last, months)
        return "/month?" + urlencode(Query(first, last, query.person).params())

    return {"error": None, "report": report, "query": query, "show": show_figure, "drill_url": drill_url,
            "xlsx_url": "/month.xlsx?" + urlencode(query.params()), "previous_url": shifted(-1),
            "next_url": shifted(1), "role_labels": ROLE_LABELS, "is_head": current_user(request).is_supervisor}


def _shown_self(request: web.Request, login: str) -> Employee | None:
    user = current_user(request)
    if user.login != login:
        return None
    return Employee(user.id, user.login, user.full_name, user.role, user.extension)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)
