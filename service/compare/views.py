"""GET /compare, /compare.xlsx: the ДС-versus-КС comparison for a range of days (issue 17, item 3), for
the head (supervisor, admin): the presentation's table with the difference, each figure's definition,
the clients behind churn, the monthly charts, the survey and the mailings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.cli.arguments import day as parse_day
from service.compare.charts import line_chart
from service.compare.definitions import Period, Ratio
from service.compare.export import compare_xlsx
from service.compare.report import (
    BY_KEY,
    FIGURES,
    PER_MONTH,
    PERCENT,
    SEGMENTS,
    Comparison,
    Figure,
    Value,
    period_problem,
)
from service.compare.segments import histories
from service.db.compare import CompareRepository, comparison
from service.db.compare_rows import CompareRowsRepository
from service.db.segments import SegmentsRepository
from service.web.auth import requires
from service.web.desk_context import settings_of, utc_now

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_DATA = "нет данных"


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
    if first > today:  # found trying it: a future quarter showed «Отвал 0 %» as if measured
        raise BadPeriod(f"Период ещё не начался (сегодня {today:%d.%m.%Y}): данных за него нет")
    return Period(first, min(last, today))


def decimal(value: Decimal) -> str:
    """33,3 · 0,80 · 2: a Russian decimal comma, the places the figure was rounded to."""
    return str(int(value)) if value == value.to_integral_value() else f"{value}".replace(".", ",")


def shown(value: Value, unit: str) -> str:
    if value.value is None:
        return NO_DATA
    return f"{decimal(value.value)} %" if unit == PERCENT else decimal(value.value)


def _detail(value: Value, unit: str) -> str:
    if value.value is None:
        return ""
    if unit == PER_MONTH:  # found trying it: «118 из 6» read as a share
        return f"{value.part} чел. за период"
    if value.base is None:
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
    rows = []
    for figure in FIGURES:
        ds, ks = found.table[figure.key]["ДС"], found.table[figure.key]["КС"]
        link = "#churned" if figure.key == "churn" else None
        rows.append(Row(figure, shown(ds, figure.unit), shown(ks, figure.unit), _difference(ds, ks, figure.unit),
                        _detail(ds, figure.unit), _detail(ks, figure.unit), link, rows_link(period, figure.key, "ДС"),
                        rows_link(period, figure.key, "КС")))
    return rows


@requires("supervisor", "admin")
async def compare_page(request: web.Request) -> web.Response:
    settings = settings_of(request)
    today = utc_now().astimezone(settings.organisation.tz).date()
    try:
        period = period_from(request.query, today)
    except BadPeriod as e:  # the form keeps what was typed (found trying it: both dates were cleared)
        typed = {"first": request.query.get("from", ""), "to": request.query.get("to", "")}
        return aiohttp_jinja2.render_template("compare/page.html", request,
                                              {"error": str(e), "period": None, "typed": typed}, status=400)
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
               "previous": _shifted(period, -1), "following": _shifted(period, 1) if _next_start(period) <= today
               else None, "typed": None, "clipped": today if period.last == today else None}
    return aiohttp_jinja2.render_template("compare/page.html", request, context)


def _percent(share: Ratio) -> str:
    """A share in per cent to one place, from its counts (found trying it: 12 of 22 rounded twice to 54,6 %)."""
    if not share.whole:
        return NO_DATA
    return f"{decimal((Decimal(share.part * 100) / share.whole).quantize(Decimal('0.1'), ROUND_HALF_UP))} %"


def _whole_months(period: Period) -> int | None:
    """How many calendar months the period is, when it is whole months (01.06–30.11: 6); else None."""
    if period.first.day != 1 or (period.last + timedelta(days=1)).day != 1:
        return None
    return (period.last.year - period.first.year) * 12 + period.last.month - period.first.month + 1


def _months_later(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _next_start(period: Period) -> date:
    months = _whole_months(period)
    return _months_later(period.first, months) if months else period.last + timedelta(days=1)


def _shifted(period: Period, step: int) -> str:
    """The same length before or after: whole months by months (found trying it: 01.06–30.11 went to 30.11.2025–
    31.05.2026), other periods by days."""
    months = _whole_months(period)
    if months:
        first = _months_later(period.first, step * months)
        last = _months_later(first, months) - timedelta(days=1)
    else:
        length = (period.last - period.first).days + 1
        first = period.first + timedelta(days=step * length)
        last = first + timedelta(days=length - 1)
    return urlencode({"from": first.isoformat(), "to": last.isoformat()})


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
    body = compare_xlsx(found, rows_of(found), await CompareRepository(request.app[DB_SESSIONS]).churned(period))
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
