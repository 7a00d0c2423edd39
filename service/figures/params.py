"""The figures' query (?scope=…&period=…&date=…) parsed and the call-log links built from it. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from service.figures.errors import BadFiguresQuery
from service.figures.model import Period, PeriodKind, Scope, ScopeKind

CALL_LOG_PATH = "/calls"
YEARS = (2000, 2100)
_PERIOD_WORDS = ", ".join(k.value for k in PeriodKind)


@dataclass(frozen=True, slots=True)
class FiguresQuery:
    scope: Scope
    period: Period

    def params(self) -> dict[str, str]:
        """The query parameters that name this report (for the XLSX link and the form)."""
        return {"scope": self.scope.param, "period": self.period.kind.value,
                "date": self.period.first.isoformat()}


def parse_query(query: Mapping[str, str], today: date) -> FiguresQuery:
    """Defaults: the department, the current month; a bad value raises BadFiguresQuery in Russian."""
    return FiguresQuery(parse_scope(query.get("scope", "")),
                        Period.around(parse_period(query.get("period", "")), parse_date(query.get("date", ""), today)))


def parse_scope(raw: str) -> Scope:
    raw = raw.strip()
    if raw in ("", ScopeKind.DEPARTMENT.value):
        return Scope(ScopeKind.DEPARTMENT)
    kind, _, name = raw.partition(":")
    if kind in (ScopeKind.GROUP.value, ScopeKind.EXPERT.value) and name.strip():
        return Scope(ScopeKind(kind), name.strip())
    raise BadFiguresQuery(f"Непонятный срез «{raw}»: нужен department, group:<группа> или expert:<логин>")


def parse_period(raw: str) -> PeriodKind:
    try:
        return PeriodKind(raw.strip() or PeriodKind.MONTH.value)
    except ValueError as e:
        raise BadFiguresQuery(f"Непонятный период «{raw}»: нужен один из {_PERIOD_WORDS}") from e


def parse_date(raw: str, today: date) -> date:
    if not raw.strip():
        return today
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError as e:
        raise BadFiguresQuery(f"Непонятная дата «{raw}»: нужна дата вида ГГГГ-ММ-ДД") from e
    if not YEARS[0] <= day.year <= YEARS[1]:  # also keeps «previous/next period» inside the calendar
        raise BadFiguresQuery(f"Дата «{raw}» вне {YEARS[0]}–{YEARS[1]} годов")
    return day


def call_log_url(period: Period, filters: Mapping[str, str]) -> str:
    """The call log (GET /calls, its filter names) showing the calls behind a figure."""
    params = {**filters, "from": period.first.isoformat(), "to": period.last.isoformat()}
    order = ("expert", "from", "to", "direction", "outcome", "topic", "planned", "result", "productive", "logged_in")
    ordered = {k: params[k] for k in order if k in params} | {k: v for k, v in params.items() if k not in order}
    return f"{CALL_LOG_PATH}?{urlencode(ordered)}"
