"""GET /compare, /compare.xlsx: the ДС-versus-КС comparison for a range of days (issue 17, item 3), for
the head (supervisor, admin): the presentation's table with the difference, each figure's definition,
the clients behind churn, the monthly charts, the survey and the mailings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.cli.arguments import day as parse_day
from service.compare.charts import line_chart
from service.compare.definitions import Period
from service.compare.export import compare_xlsx
from service.compare.report import BY_KEY, FIGURES, PERCENT, SEGMENTS, Comparison, Figure, Value, period_problem
from service.compare.segments import histories
from service.db.compare import CompareRepository, comparison
from service.db.compare_rows import CompareRowsRepository
from service.db.segments import SegmentsRepository
from service.web.auth import requires
from service.web.desk_context import settings_of, utc_now

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_DATA = "нет данных"
# Where a figure's rows can be read: the CRM events behind it (/month/events takes months).
EVENT_KINDS = {"churn": "client_disconnected", "churn_competitors": "competitor_lost", "paid_webinars": "seminar_sold"}


def setup_compare(app: web.Application) -> None:
    app.router.add_get("/compare", compare_page, name="compare")
    app.router.add_get("/compare.xlsx", compare_export, name="compare_xlsx")
    app.router.add_get("/compare/rows", rows_page, name="compare_rows")


class BadPeriod(Exception):
    """The address names a period that cannot be compared (Russian, shown as it is)."""


@dataclass(frozen=True, slots=True)
class Row:
    figure: Figure
    ds: str
    ks: str
    difference: str
    ds_detail: str
    ks_detail: str
    link: str | None  # the CRM events behind it, or the lost clients below
    ds_rows: str  # the rows it was counted from, of each segment
    ks_rows: str


def period_from(query: Any, today: date) -> Period:
    """?from=…&to=… (ГГГГ-ММ-ДД or ДД.ММ.ГГГГ); by default the year so far."""
    try:
        first = parse_day(query["from"]) if query.get("from") else today.replace(month=1, day=1)
        last = parse_day(query["to"]) if query.get("to") else today
    except Exception as e:  # argparse's type error carries the Russian message
        raise BadPeriod(str(e)) from e
    problem = period_problem(first, last)
    if problem:
        raise BadPeriod(problem)
    return Period(first, last)


def decimal(value: Decimal) -> str:
    """33,3 · 0,80 · 2: a Russian decimal comma, the places the figure was rounded to."""
    return str(int(value)) if value == value.to_integral_value() else f"{value}".replace(".", ",")


def shown(value: Value, unit: str) -> str:
    if value.value is None:
        return NO_DATA
    return f"{decimal(value.value)} %" if unit == PERCENT else decimal(value.value)


def _detail(value: Value) -> str:
    if value.base is None or value.value is None:
        return ""
    return f"{value.part} из {value.base}" if value.part is not None else f"по {value.base}"


def _difference(ds: Value, ks: Value, unit: str) -> str:
    if ds.value is None or ks.value is None:
        return NO_DATA
    diff = ds.value - ks.value
    sign = "+" if diff > 0 else ("−" if diff < 0 else "")
    text = decimal(abs(diff))
    return f"{sign}{text} п.п." if unit == PERCENT else f"{sign}{text}"


def rows_of(found: Comparison) -> list[Row]:
    period = found.period
    months = {"from": f"{period.first:%Y-%m}", "to": f"{period.last:%Y-%m}"}
    rows = []
    for figure in FIGURES:
        ds, ks = found.table[figure.key]["ДС"], found.table[figure.key]["КС"]
        kind = EVENT_KINDS.get(figure.key)
        link = "#churned" if figure.key == "churn" else (
            "/month/events?" + urlencode({**months, "kind": kind}) if kind else None)
        rows.append(Row(figure, shown(ds, figure.unit), shown(ks, figure.unit), _difference(ds, ks, figure.unit),
                        _detail(ds), _detail(ks), link, rows_link(period, figure.key, "ДС"),
                        rows_link(period, figure.key, "КС")))
    return rows


@requires("supervisor", "admin")
async def compare_page(request: web.Request) -> web.Response:
    settings = settings_of(request)
    today = utc_now().astimezone(settings.organisation.tz).date()
    try:
        period = period_from(request.query, today)
    except BadPeriod as e:
        return aiohttp_jinja2.render_template("compare/page.html", request, {"error": str(e), "period": None},
                                              status=400)
    sessions = request.app[DB_SESSIONS]
    found = await comparison(sessions, period, settings.organisation.tz, settings.compare.survey_mapping())
    churned = await CompareRepository(sessions).churned(period)
    charts = []
    for figure in FIGURES:
        series = found.series[figure.key]
        labels = {str(v): shown(Value(v), figure.unit) for values in series.values() for v in values if v is not None}
        charts.append((figure, line_chart(found.months, series, labels)))
    context = {"error": None, "period": period, "rows": rows_of(found), "found": found, "charts": charts,
               "churned": churned, "segments": SEGMENTS, "percent": _percent,
               "query": urlencode({"from": period.first.isoformat(), "to": period.last.isoformat()}),
               "previous": _shifted(period, -1), "following": _shifted(period, 1)}
    return aiohttp_jinja2.render_template("compare/page.html", request, context)


def _percent(value: Decimal | None) -> str:
    return NO_DATA if value is None else f"{decimal((value * 100).quantize(Decimal('0.1')))} %"


def _shifted(period: Period, step: int) -> str:
    length = (period.last - period.first).days + 1
    first = period.first + timedelta(days=step * length)
    return urlencode({"from": first.isoformat(), "to": (first + timedelta(days=length - 1)).isoformat()})


@requires("supervisor", "admin")
async def compare_export(request: web.Request) -> web.Response:
    settings = settings_of(request)
    today = utc_now().astimezone(settings.organisation.tz).date()
    try:
        period = period_from(request.query, today)
    except BadPeriod as e:
        raise web.HTTPBadRequest(text=str(e)) from e
    found = await comparison(request.app[DB_SESSIONS], period, settings.organisation.tz,
                             settings.compare.survey_mapping())
    body = compare_xlsx(found, rows_of(found))
    name = f"compare-{period.first:%Y%m%d}-{period.last:%Y%m%d}.xlsx"
    return web.Response(body=body, content_type=XLSX_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@requires("supervisor", "admin")
async def rows_page(request: web.Request) -> web.Response:
    """The rows behind one figure of one segment: ?figure=acts_on_time&segment=ДС&from=…&to=…"""
    settings = settings_of(request)
    today = utc_now().astimezone(settings.organisation.tz).date()
    figure = BY_KEY.get(request.query.get("figure", ""))
    segment = request.query.get("segment", "")
    try:
        period = period_from(request.query, today)
        if figure is None:
            raise BadPeriod("Неизвестный показатель: откройте строки из таблицы сравнения")
        if segment not in SEGMENTS:
            raise BadPeriod("Сегмент — ДС или КС")
    except BadPeriod as e:
        return aiohttp_jinja2.render_template("compare/rows.html", request, {"error": str(e)}, status=400)
    sessions = request.app[DB_SESSIONS]
    history = histories(await SegmentsRepository(sessions).facts())
    table = await CompareRowsRepository(sessions).rows(figure.key, segment, period, history,
                                                       settings.organisation.tz)
    value = ""
    if table.total is None:  # requests: the count is the table's
        found = await comparison(sessions, period, settings.organisation.tz, settings.compare.survey_mapping())
        value = shown(found.table[figure.key][segment], figure.unit)
    context = {"error": None, "figure": figure, "segment": segment, "period": period, "table": table,
               "lines": list(zip(table.client_codes, table.rows, strict=True)),
               "client_column": table.columns.index("Клиент"), "value": value,
               "back": urlencode({"from": period.first.isoformat(), "to": period.last.isoformat()})}
    return aiohttp_jinja2.render_template("compare/rows.html", request, context)


def rows_link(period: Period, figure: str, segment: str) -> str:
    return "/compare/rows?" + urlencode({"figure": figure, "segment": segment, "from": period.first.isoformat(),
                                         "to": period.last.isoformat()})
