"""The control figures: GET /figures (page) and GET /figures.xlsx (the same report).

Supervisors choose any scope; an Expert sees her own figures only, whatever the parameters say."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.db.figures import FiguresRepository
from service.figures.charts import daily_columns, horizontal_bars
from service.figures.compute import FigureTargets
from service.figures.errors import FiguresError, UnknownScope
from service.figures.export import report_xlsx, xlsx_name
from service.figures.funnel import STAGES
from service.figures.model import Period, PeriodKind, Scope, ScopeKind
from service.figures.params import FiguresQuery, call_log_url, parse_query
from service.figures.report import FiguresReport, show_target, show_value
from service.web.auth import current_user, requires
from service.web.desk_context import settings_of, utc_now
from service.web.keys import SignedInUser
from service.web.scorecards import score_figures_context, score_sheet
from texts.labels import FIGURE_STATUS_LABELS, PERIOD_LABELS, TRANSITION_LABELS
from texts.words import decimal

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def setup_figures(app: web.Application) -> None:
    app.router.add_get("/figures", figures_page, name="figures")
    app.router.add_get("/figures.xlsx", figures_xlsx, name="figures_xlsx")


@requires("expert", "supervisor", "admin")
async def figures_page(request: web.Request) -> web.StreamResponse:
    repo = FiguresRepository(request.app[DB_SESSIONS])
    user = current_user(request)
    if user.is_supervisor:
        choices = {"experts": await repo.experts(Scope(ScopeKind.DEPARTMENT)), "groups": await repo.groups(),
                   "periods": PERIOD_LABELS, "own_only": False}
    else:  # an Expert: her own figures only, no other Expert's nor a group's name anywhere on the page
        choices = {"experts": await repo.experts(_own_scope(user)), "groups": [], "periods": PERIOD_LABELS,
                   "own_only": True}
    try:
        query, report = await _report(request, repo)
    except FiguresError as e:
        context = {"error": str(e), "query": None, "report": None, **choices}
        return aiohttp_jinja2.render_template("figures/page.html", request, context, status=_status(e))
    return aiohttp_jinja2.render_template("figures/page.html", request, {
        "error": None, "query": query, "report": report, **choices, **_page_helpers(query, report, request),
        **await score_figures_context(request, query, report),
    })


@requires("expert", "supervisor", "admin")
async def figures_xlsx(request: web.Request) -> web.StreamResponse:
    repo = FiguresRepository(request.app[DB_SESSIONS])
    try:
        query, report = await _report(request, repo)
    except FiguresError as e:
        return web.Response(status=_status(e), text=str(e), content_type="text/plain", charset="utf-8")
    settings = settings_of(request)
    body = report_xlsx(report, utc_now().astimezone(settings.organisation.tz),
                       [await score_sheet(request, query, report)])
    russian = f"Показатели {report.title} {report.period.title}.xlsx"
    disposition = f"attachment; filename=\"{xlsx_name(report)}\"; filename*=UTF-8''{quote(russian)}"
    return web.Response(body=body, content_type=XLSX_TYPE, headers={"Content-Disposition": disposition})


async def _report(request: web.Request, repo: FiguresRepository) -> tuple[FiguresQuery, FiguresReport]:
    settings = settings_of(request)
    now = utc_now()
    tz = settings.organisation.tz
    query = parse_query(request.query, now.astimezone(tz).date())
    user = current_user(request)
    if not user.is_supervisor:  # whatever the parameters say: an Expert's scope is herself (issue 13)
        query = FiguresQuery(_own_scope(user), query.period)
    report = await repo.report(query.scope, query.period, tz, now, FigureTargets.of(settings.targets))
    return query, report


def _own_scope(user: SignedInUser) -> Scope:
    return Scope(ScopeKind.EXPERT, user.login)


def _status(error: FiguresError) -> int:
    return 404 if isinstance(error, UnknownScope) else 400


def neighbour(period: Period, step: int) -> date:
    """A day of the period before (-1) or after (+1) this one."""
    if period.kind is PeriodKind.MONTH:
        return period.first - timedelta(days=1) if step < 0 else period.last + timedelta(days=1)
    return period.first + timedelta(days=step * len(period.days))


def _page_helpers(query: FiguresQuery, report: FiguresReport, request: web.Request) -> dict[str, Any]:
    targets = FigureTargets.of(settings_of(request).targets)

    def calls_link(filters: dict[str, str]) -> str | None:
        # The call log filters by one extension: a group's own figures cannot be drilled into as a
        # whole (its per-Expert rows can), and an empty filter would show the whole department.
        if not filters or (report.scope.kind is ScopeKind.GROUP and "expert" not in filters):
            return None
        return call_log_url(report.period, filters)

    def shifted(step: int) -> str:
        """The same report one period earlier (-1) or later (+1)."""
        return "/figures?" + urlencode({**query.params(), "date": neighbour(report.period, step).isoformat()})

    return {
        "calls_link": calls_link, "show_value": show_value, "show_target": show_target,
        "status_labels": FIGURE_STATUS_LABELS, "xlsx_url": "/figures.xlsx?" + urlencode(query.params()),
        "topic_chart": horizontal_bars(report.topics, lambda s: calls_link(s.drill)),
        "outcome_chart": horizontal_bars(report.outcomes, lambda s: calls_link(s.drill)),
        "daily_chart": daily_columns(report.daily, targets) if len(report.daily) > 1 else None,
        "previous_url": shifted(-1), "next_url": shifted(1), "targets": targets, "decimal": decimal,
        "funnel_stages": STAGES, "transition_labels": TRANSITION_LABELS,
    }
