"""The ДС-versus-КС table, its monthly series, the mailings by kind and the survey (issue 17, item 3). Pure.

Every figure is computed for ДС and for КС by service/compare/definitions.py over the facts the
repository read (service/db/compare.py); a figure with nothing to divide by is None («нет данных»).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Any, TypeVar

from service.compare import definitions as d
from service.compare.definitions import Period, Ratio, SegmentHistory, clients_in, segment_on
from service.compare.records import MAILING_KIND_LABELS, MAILING_KINDS
from service.compare.survey import MEASURE_LABELS, MEASURES, SurveyMapping, shares

SEGMENTS = ("ДС", "КС")
_Dated = TypeVar("_Dated", bound=tuple[Any, ...])  # a fact whose second item is its day
PERCENT, SHARE, COUNT, PER_MONTH, PER_CLIENT = "%", "доля", "шт.", "чел. в месяц", "на клиента"


@dataclass(frozen=True, slots=True)
class Figure:
    key: str
    label: str
    unit: str
    definition: str  # shown on hover; docs/compare.md says the same


FIGURES = (
    Figure("churn", "Отвал", PERCENT,
           "клиенты, отключённые за период (в том сегменте, где они были в день отключения) ÷ клиенты сегмента "
           "на начало периода"),
    Figure("churn_competitors", "Отвал на конкурентов", COUNT,
           "события «Уход к конкуренту» за период; конкурент — из примечания события"),
    Figure("trained_per_month", "Обучение: прошедших обучение в месяц", PER_MONTH,
           "пользователи клиентов сегмента, прошедшие обучение за период ÷ месяцев в периоде"),
    Figure("trained_share", "Показатель обученности", PERCENT,
           "пользователи клиентов сегмента на конец периода, обученные за 12 месяцев до его конца ÷ эти пользователи"),
    Figure("collection_completeness", "Полнота сбора", SHARE,
           "средняя полнота сбора клиентов сегмента на конец периода (по последнему импорту клиентов) — "
           "среди тех, у кого она указана"),
    Figure("prepayment_share", "% предоплат", PERCENT,
           "клиенты сегмента на конец периода с предоплатой от месяца ÷ клиенты сегмента (по последнему импорту)"),
    Figure("acts_on_time", "Своевременность собираемости актов", PERCENT,
           "акты со сроком в периоде, возвращённые не позже срока ÷ акты со сроком в периоде"),
    Figure("requests", "Число обращений на чат, ЛК и горячую линию", COUNT,
           "обращения за период; клиент — в том сегменте, где он был в день обращения"),
    Figure("requests_per_client", "Обращений на клиента", PER_CLIENT,
           "обращения за период ÷ клиенты сегмента на конец периода"),
    Figure("st_attendance", "Посещения СТ", PERCENT,
           "клиенты сегмента на конец периода, посетившие СТ в периоде ÷ клиенты сегмента"),
    Figure("paid_webinars", "Продано платных вебинаров", COUNT,
           "события «Продажа семинара» за период; клиент — в том сегменте, где он был в день продажи"),
)
BY_KEY = {figure.key: figure for figure in FIGURES}


@dataclass(frozen=True, slots=True)
class Value:
    value: Decimal | None  # None: «нет данных»
    part: int | None = None  # what was counted (clients lost, users trained…)
    base: int | None = None  # what it was divided by


@dataclass(frozen=True, slots=True)
class Facts:
    """What the comparison reads for a range of days (the repository fills it)."""

    history: SegmentHistory
    disconnections: Sequence[tuple[int, date]] = ()
    competitor_losses: Sequence[tuple[int, date, str]] = ()  # (client, day, the competitor as noted)
    users: Mapping[int, int] = field(default_factory=dict)  # user (a contact marked a user) → client id
    trainings: Sequence[tuple[int, date]] = ()  # (user, day)
    prepaid_months: Mapping[int, int | None] = field(default_factory=dict)
    completeness: Mapping[int, Decimal] = field(default_factory=dict)
    acts: Sequence[tuple[int, date, date | None]] = ()
    requests: Sequence[tuple[int, date]] = ()  # each request of a client whose segment changed
    request_counts: Mapping[tuple[str, date], int] = field(default_factory=dict)  # (segment, month) → requests
    seminar_visits: Sequence[tuple[int, date]] = ()
    webinars_sold: Sequence[tuple[int, date]] = ()


@dataclass(frozen=True, slots=True)
class MailingLine:
    kind: str
    label: str
    campaigns: int
    delivered: int
    opened: Ratio
    clicked: Ratio


@dataclass(frozen=True, slots=True)
class SurveyLine:
    measure: str
    label: str
    share: Ratio


@dataclass(frozen=True, slots=True)
class Comparison:
    period: Period
    table: dict[str, dict[str, Value]]  # figure → segment → value
    months: list[date]  # the 1st of each month the period touches
    series: dict[str, dict[str, list[Decimal | None]]]  # figure → segment → a value per month
    competitors: dict[str, Counter[str]]  # segment → competitor → clients lost
    mailings: list[MailingLine]
    survey: list[SurveyLine]
    respondents: int


MAX_DAYS = 3 * 366 + 1
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def period_problem(first: date, last: date) -> str | None:
    """Why a period cannot be compared (Russian), or None."""
    for named in (first, last):  # 0001-01-01 or 9999-12-31 would overflow the months' arithmetic
        if not EARLIEST <= named <= LATEST:
            return f"Дата {named:%d.%m.%Y} вне {EARLIEST.year}–{LATEST.year} годов"
    if first > last:
        return f"Начало периода {first:%d.%m.%Y} позже конца {last:%d.%m.%Y}"
    if (last - first).days > MAX_DAYS:
        return "Период длиннее трёх лет: выберите покороче"
    return None


def months_of(period: Period) -> list[Period]:
    """The calendar months the period touches, each cut to the period."""
    found, first = [], period.first
    while first <= period.last:
        after = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        found.append(Period(first, min(period.last, after - timedelta(days=1))))
        first = after
    return found


def _ratio(r: Ratio, scale: int = 100) -> Value:
    value = r.value
    return Value(None if value is None else (value * scale).quantize(Decimal("0.1"), ROUND_HALF_UP), r.part, r.whole)


def _per(count: int, base: int, places: str = "0.01") -> Value:
    if not base:
        return Value(None, count, base)
    return Value((Decimal(count) / base).quantize(Decimal(places), ROUND_HALF_UP), count, base)


def figures(facts: Facts, segment: str, period: Period, months_in_period: int) -> dict[str, Value]:
    """Every figure of one segment over one period."""
    history = facts.history
    at_end = clients_in(history, segment, period.last)
    then, users, first, last = d.segment_lookup(history), facts.users, period.first, period.last
    trained = {user for user, day in facts.trainings
               if first <= day <= last and then(users.get(user, -1), day) == segment}
    shares_known = [facts.completeness[c] for c in at_end if c in facts.completeness]
    completeness = (Value((sum(shares_known, Decimal(0)) / len(shares_known)).quantize(Decimal("0.01"), ROUND_HALF_UP),
                          None, len(shares_known)) if shares_known else Value(None, 0, 0))
    requests = _requests(facts, segment, period)
    lost = [(c, day) for c, day, _ in facts.competitor_losses]
    return {
        "churn": _ratio(d.churn(history, segment, period, facts.disconnections)),
        "churn_competitors": Value(Decimal(d.paid_webinars(history, segment, period, lost))),
        "trained_per_month": _per(len(trained), months_in_period, "0.1"),
        "trained_share": _ratio(d.trained_share(history, segment, period, facts.users, facts.trainings)),
        "collection_completeness": completeness,
        "prepayment_share": _ratio(d.prepayment_share(history, segment, period, facts.prepaid_months)),
        "acts_on_time": _ratio(d.acts_on_time(history, segment, period, facts.acts)),
        "requests": Value(Decimal(requests)),
        "requests_per_client": _per(requests, len(at_end)),
        "st_attendance": _ratio(d.st_attendance(history, segment, period, facts.seminar_visits)),
        "paid_webinars": Value(Decimal(d.paid_webinars(history, segment, period, facts.webinars_sold))),
    }


def _requests(facts: Facts, segment: str, period: Period) -> int:
    counted = sum(count for (seg, month), count in facts.request_counts.items()
                  if seg == segment and period.first <= month <= period.last)
    return counted + d.paid_webinars(facts.history, segment, period, facts.requests)  # a dated count, like sales


def compare(facts: Facts, period: Period, mailings: Sequence[tuple[str, int, int, int]],
            survey_answers: Sequence[Mapping[str, str]], mapping: SurveyMapping) -> Comparison:
    """The whole page: the table, the monthly series, the competitors, the mailings and the survey.

    `mailings`: (kind, delivered, opened, clicked) of each campaign sent in the period."""
    months = months_of(period)
    table: dict[str, dict[str, Value]] = {figure.key: {} for figure in FIGURES}
    series: dict[str, dict[str, list[Decimal | None]]] = {f.key: {s: [] for s in SEGMENTS} for f in FIGURES}
    monthly = _by_month(facts, months)
    for segment in SEGMENTS:
        for key, value in figures(facts, segment, period, len(months)).items():
            table[key][segment] = value
        for month, month_facts in zip(months, monthly, strict=True):
            for key, value in figures(month_facts, segment, month, 1).items():
                series[key][segment].append(value.value)
    competitors = {segment: Counter(name or "не указан" for client, day, name in facts.competitor_losses
                                    if day in period and segment_on(facts.history.get(client, ()), day) == segment)
                   for segment in SEGMENTS}
    answered = shares(survey_answers, mapping)
    return Comparison(period, table, [m.first for m in months], series, competitors, _mailings(mailings),
                      [SurveyLine(m, MEASURE_LABELS[m], answered[m]) for m in MEASURES if m in answered],
                      len(survey_answers))


def _by_month(facts: Facts, months: Sequence[Period]) -> list[Facts]:
    """The facts each month's figures look at: the dated ones of that calendar month, the trainings of the 12
    months up to its end. The same figures as from all the facts, each month passing over its own rows only
    (the year's series went over all the year's rows 24 times: 3.9 of the page's 11 s at 100,000 clients,
    bench/compare.py)."""
    at = {(m.first.year, m.first.month): i for i, m in enumerate(months)}

    def split(rows: Sequence[_Dated]) -> list[list[_Dated]]:
        found: list[list[_Dated]] = [[] for _ in months]
        for row in rows:
            i = at.get((row[1].year, row[1].month))  # every dated row has its day second
            if i is not None:
                found[i].append(row)
        return found

    trainings = sorted(facts.trainings, key=itemgetter(1))
    days = [day for _, day in trainings]
    windows = [trainings[bisect_right(days, m.last - d.TRAINED_WITHIN):bisect_right(days, m.last)] for m in months]
    lost, losses, acts = split(facts.disconnections), split(facts.competitor_losses), split(facts.acts)
    requests, visits, sold = split(facts.requests), split(facts.seminar_visits), split(facts.webinars_sold)
    return [replace(facts, disconnections=lost[i], competitor_losses=losses[i], trainings=windows[i], acts=acts[i],
                    requests=requests[i], seminar_visits=visits[i], webinars_sold=sold[i]) for i in range(len(months))]


def _mailings(campaigns: Sequence[tuple[str, int, int, int]]) -> list[MailingLine]:
    lines = []
    for kind in MAILING_KINDS:
        mine = [c for c in campaigns if c[0] == kind]
        delivered = sum(c[1] for c in mine)
        lines.append(MailingLine(kind, MAILING_KIND_LABELS[kind], len(mine), delivered,
                                 Ratio(sum(c[2] for c in mine), delivered), Ratio(sum(c[3] for c in mine), delivered)))
    return lines


def json_rows(comparison: Comparison) -> list[dict[str, object]]:
    """`dsdesk compare --json`: one object per figure — figure, ds, ks, unit, ds_count, ks_count (the base a
    share is of: clients, users, acts; the count itself for a count), and what was counted (ds_part, ks_part)."""
    rows: list[dict[str, object]] = []
    for figure in FIGURES:
        ds, ks = comparison.table[figure.key]["ДС"], comparison.table[figure.key]["КС"]
        rows.append({"figure": figure.key, "label": figure.label,
                     "ds": _number(ds.value), "ks": _number(ks.value), "unit": figure.unit,
                     "ds_count": _count(ds), "ks_count": _count(ks), "ds_part": ds.part, "ks_part": ks.part})
    return rows


def _number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() and value.as_tuple().exponent == 0 else float(value)


def _count(value: Value) -> int | None:
    if value.base is not None:
        return value.base
    return None if value.value is None else int(value.value)
