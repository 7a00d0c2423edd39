"""The ДС-versus-КС table, its monthly series, the mailings by kind and the survey (issue 17, item 3). Pure.

Every figure is computed for ДС and for КС by service/compare/definitions.py over the facts the
repository read (service/db/compare.py); a figure with nothing to divide by is None («нет данных»).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from service.compare import definitions as d
from service.compare.definitions import TRAINED_WITHIN, Period, Ratio, SegmentHistory, clients_in, segment_on
from service.compare.engine import Counted, Inputs, Lookup, count_all
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
    user_counts: Mapping[int, int] = field(default_factory=dict)  # client → its users (contacts marked users)
    trainings: Sequence[tuple[int, int, date]] = ()  # (user, its client, day) of users
    prepaid_months: Mapping[int, int | None] = field(default_factory=dict)
    completeness: Mapping[int, Decimal] = field(default_factory=dict)
    acts: Sequence[tuple[int, date, date | None]] = ()  # each act of a client whose segment may have changed
    # (segment, month) → (acts due, returned on time) of the clients whose segment cannot have changed
    act_counts: Mapping[tuple[str, date], tuple[int, int]] = field(default_factory=dict)
    requests: Sequence[tuple[int, date]] = ()  # each request of a client whose segment changed
    request_counts: Mapping[tuple[str, date], int] = field(default_factory=dict)  # (segment, month) → requests
    seminar_visits: Sequence[tuple[int, date]] = ()
    webinars_sold: Sequence[tuple[int, date]] = ()
    # The months (their 1st) with any CRM event imported; None: those of the events above
    event_months: frozenset[date] | None = None


# Which import each figure is counted from: with no row of it in a period the figure is «нет данных», never a
# 0 that reads as measured (found trying it: «Число обращений 0» for months whose requests were never imported).
SOURCES = {"churn": "events", "churn_competitors": "events", "paid_webinars": "events",
           "trained_per_month": "trainings", "trained_share": "trainings", "requests": "requests",
           "requests_per_client": "requests", "st_attendance": "seminars", "prepayment_share": "prepaid"}
SOURCE_LABELS = {"events": "события CRM (events)", "trainings": "обучение (trainings)",
                 "requests": "обращения (requests)", "seminars": "посещения СТ (seminars)",
                 "prepaid": "предоплата клиентов (clients: prepaid_months)", "acts": "акты (acts)"}


def _month(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True, slots=True)
class Measured:
    """The months each source has rows in (prepayment: whether any client has it at all)."""

    months: dict[str, frozenset[date]]
    prepaid: bool

    @classmethod
    def of(cls, facts: Facts) -> Measured:
        events = facts.event_months if facts.event_months is not None else frozenset(
            _month(day) for rows in (facts.disconnections, facts.webinars_sold) for _, day in rows) | frozenset(
            _month(day) for _, day, _ in facts.competitor_losses)
        return cls({
            "events": events,
            "trainings": frozenset(_month(day) for _, _, day in facts.trainings),
            "requests": frozenset(month for _, month in facts.request_counts)
            | frozenset(_month(day) for _, day in facts.requests),
            "seminars": frozenset(_month(day) for _, day in facts.seminar_visits),
        }, any(months is not None for months in facts.prepaid_months.values()))

    def missing(self, period: Period) -> set[str]:
        """The sources with no row in the period (for trainings: in the 12 months up to its end as well)."""
        first = _month(period.first)
        found = {source for source, months in self.months.items()
                 if not any(first <= month <= period.last for month in months)}
        window = _month(period.last - TRAINED_WITHIN)
        if "trainings" in found and any(window <= month <= period.last for month in self.months["trainings"]):
            found.discard("trainings")  # none in the period, but some in the trained share's 12 months
        if not self.prepaid:
            found.add("prepaid")
        return found


def unmeasured(values: dict[str, Value], missing: set[str], period: Period, measured: Measured) -> dict[str, Value]:
    """`values` with every figure whose source has no row in the period made «нет данных»."""
    out = dict(values)
    for key, source in SOURCES.items():
        if source in missing:
            out[key] = Value(None)
    if "trainings" not in missing and not any(_month(period.first) <= month <= period.last
                                              for month in measured.months["trainings"]):
        out["trained_per_month"] = Value(None)  # trainings only before the period: its share is measured, not this
    return out


def months_length(period: Period) -> Decimal:
    """How many months the period is long: a whole calendar month counts 1, a part of one its share of days
    (found trying it: 15.06–10.07 was divided by 2)."""
    total = Decimal(0)
    for month in months_of(period):
        after = (month.first.replace(day=28) + timedelta(days=4)).replace(day=1)
        total += Decimal((month.last - month.first).days + 1) / Decimal((after - month.first.replace(day=1)).days)
    return total


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
    not_imported: list[str] = field(default_factory=list)  # the sources with no row in the period
    survey_left_out: int = 0  # answers of clients outside ДС on the day they answered

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


def _per_month(count: int, months: Decimal) -> Value:
    value = (Decimal(count) / months).quantize(Decimal("0.1"), ROUND_HALF_UP) if months else None
    return Value(value, count, None)


def figures(facts: Facts, segment: str, period: Period) -> dict[str, Value]:
    """Every figure of one segment over one period (the definitions applied one by one: the reference)."""
    measured = Measured.of(facts)
    return unmeasured(_figures(facts, segment, period), measured.missing(period), period, measured)


def _figures(facts: Facts, segment: str, period: Period) -> dict[str, Value]:
    history = facts.history
    at_end = clients_in(history, segment, period.last)
    trained = {user for user, client, day in facts.trainings
               if day in period and segment_on(history.get(client, ()), day) == segment}
    shares_known = [facts.completeness[c] for c in at_end if c in facts.completeness]
    completeness = (Value((sum(shares_known, Decimal(0)) / len(shares_known)).quantize(Decimal("0.01"), ROUND_HALF_UP),
                          None, len(shares_known)) if shares_known else Value(None, 0, 0))
    requests = _requests(facts, segment, period)
    lost = [(c, day) for c, day, _ in facts.competitor_losses]
    return {
        "churn": _ratio(d.churn(history, segment, period, facts.disconnections)),
        "churn_competitors": Value(Decimal(d.paid_webinars(history, segment, period, lost))),
        "trained_per_month": _per_month(len(trained), months_length(period)),
        "trained_share": _ratio(d.trained_share(history, segment, period, facts.user_counts, facts.trainings)),
        "collection_completeness": completeness,
        "prepayment_share": _ratio(d.prepayment_share(history, segment, period, facts.prepaid_months)),
        "acts_on_time": _ratio(_acts(facts, segment, period)),
        "requests": Value(Decimal(requests)),
        "requests_per_client": _per(requests, len(at_end)),
        "st_attendance": _ratio(d.st_attendance(history, segment, period, facts.seminar_visits)),
        "paid_webinars": Value(Decimal(d.paid_webinars(history, segment, period, facts.webinars_sold))),
    }


def _acts(facts: Facts, segment: str, period: Period) -> Ratio:
    one_by_one = d.acts_on_time(facts.history, segment, period, facts.acts)
    counted = [due for (seg, month), due in facts.act_counts.items() if seg == segment and month in period]
    return Ratio(one_by_one.part + sum(on_time for _, on_time in counted),
                 one_by_one.whole + sum(due for due, _ in counted))


def _requests(facts: Facts, segment: str, period: Period) -> int:
    counted = sum(count for (seg, month), count in facts.request_counts.items()
                  if seg == segment and period.first <= month <= period.last)
    return counted + d.paid_webinars(facts.history, segment, period, facts.requests)  # a dated count, like sales


def values_of(counted: Counted, months: Decimal) -> dict[str, Value]:
    """The page's values of one segment's counts (as figures() computes them from the definitions)."""
    end = counted.at_end
    completeness = (Value((end.completeness / end.with_completeness).quantize(Decimal("0.01"), ROUND_HALF_UP),
                          None, end.with_completeness) if end.with_completeness else Value(None, 0, 0))
    return {
        "churn": _ratio(counted.churn),
        "churn_competitors": Value(Decimal(counted.competitors)),
        "trained_per_month": _per_month(counted.trained, months),
        "trained_share": _ratio(Ratio(counted.trained_within, end.users)),
        "collection_completeness": completeness,
        "prepayment_share": _ratio(Ratio(end.prepaid, end.clients)),
        "acts_on_time": _ratio(Ratio(counted.acts_on_time, counted.acts_due)),
        "requests": Value(Decimal(counted.requests)),
        "requests_per_client": _per(counted.requests, end.clients),
        "st_attendance": _ratio(Ratio(counted.came_to_st, end.clients)),
        "paid_webinars": Value(Decimal(counted.webinars)),
    }


def compare(facts: Facts, period: Period, mailings: Sequence[tuple[str, int, int, int]],
            survey_answers: Sequence[Mapping[str, str]], mapping: SurveyMapping,
            survey_left_out: int = 0) -> Comparison:
    """The whole page: the table, the monthly series, the competitors, the mailings and the survey.

    `mailings`: (kind, delivered, opened, clicked) of each campaign sent in the period. The figures come
    from engine.py in one pass (the same numbers as figures(), period by period)."""
    months = months_of(period)
    lookup = Lookup(facts.history)
    inputs = Inputs(facts.disconnections, [(c, day) for c, day, _ in facts.competitor_losses], facts.user_counts,
                    facts.trainings, facts.acts, facts.requests, facts.request_counts, facts.seminar_visits,
                    facts.webinars_sold, facts.act_counts, facts.prepaid_months, facts.completeness)
    counted = count_all(lookup, inputs, [period, *months])
    measured = Measured.of(facts)
    table: dict[str, dict[str, Value]] = {figure.key: {} for figure in FIGURES}
    series: dict[str, dict[str, list[Decimal | None]]] = {f.key: {s: [] for s in SEGMENTS} for f in FIGURES}
    for slot, (counts, span) in enumerate(zip(counted, [period, *months], strict=True)):
        missing = measured.missing(span)
        for segment in SEGMENTS:
            values = unmeasured(values_of(counts[segment], months_length(span)), missing, span, measured)
            for key, value in values.items():
                if slot == 0:
                    table[key][segment] = value
                else:
                    series[key][segment].append(value.value)
    competitors = {segment: Counter(name or "не указан" for client, day, name in facts.competitor_losses
                                    if day in period and lookup.segment(client, day) == segment)
                   for segment in SEGMENTS}
    answered = shares(survey_answers, mapping)
    return Comparison(period, table, [m.first for m in months], series, competitors, _mailings(mailings),
                      [SurveyLine(m, MEASURE_LABELS[m], answered[m]) for m in MEASURES if m in answered],
                      len(survey_answers), sorted(SOURCE_LABELS[s] for s in measured.missing(period) | (
                          {"acts"} if not any(v.base for v in table["acts_on_time"].values()) else set())),
                      survey_left_out)


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
