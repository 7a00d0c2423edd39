"""From per-Expert-per-day aggregates to the control figures, each beside its target. Pure.

Definitions: SPEC-NOTES "Figures". Per-day figures divide by Expert-days at work: the days on which
an Expert had at least one planned item or call (a day with nothing is a day off, not a zero).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, time
from functools import reduce
from operator import add, attrgetter
from typing import Any

from service.figures.model import (
    SECONDS_FIELDS,
    DayAggregate,
    ExpertFigures,
    ExpertInfo,
    FigureRow,
    Pacing,
    Share,
    Status,
    Target,
    Totals,
)
from texts.labels import OUTCOME_LABELS
from texts.words import plural

_SUMMED = tuple(f.name for f in fields(Totals) if f.name != "expert_days")
_VALUES = attrgetter(*_SUMMED)
NO_TOPIC = "без инфоповода"
# The call-log filters listing exactly the made calls (SPEC-NOTES: made calls).
MADE_DRILL = {"direction": "outbound", "dialled": "yes", "guessed": "no"}
NO_WRAPUP = "без итога (карточка не заполнена)"
CALL_IN_PROGRESS = "идёт сейчас"


@dataclass(frozen=True, slots=True)
class FigureTargets:
    """config.yaml `targets`, as the figures use them."""

    planned_min: float = 15
    planned_max: float = 17
    productive_per_day: float = 12
    productive_minutes_min: float = 10
    productive_minutes_max: float = 12
    login_share: float = 0.6
    productive_min_talk_s: float = 120  # issue 13: the least talk of a productive call

    @classmethod
    def of(cls, settings: object) -> FigureTargets:
        """From a TargetsSettings (or anything with the same attributes)."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


def totals(aggregates: Iterable[DayAggregate]) -> Totals:
    """Sums over Experts and days; expert_days counts each Expert's working days once."""
    aggs = list(aggregates)
    # Column by column in C: a department's month is ~22,000 aggregates, summed again per Expert
    # and per day, and attribute-by-attribute adding took longer than reading them. reduce(add)
    # adds in the same order as a loop would, so the float sum is the same to the last bit.
    columns = zip(*map(_VALUES, aggs), strict=True) if aggs else (() for _ in _SUMMED)
    sums = {name: reduce(add, column, 0) for name, column in zip(_SUMMED, columns, strict=True)}
    working = {(agg.expert_id, agg.day) for agg in aggs if agg.is_working_day}
    values: dict[str, Any] = {name: float(value) if name in SECONDS_FIELDS else int(value)
                              for name, value in sums.items()}
    return Totals(expert_days=len(working), **values)


def per_day(count: float, expert_days: int) -> float | None:
    return None if expert_days == 0 else count / expert_days


def ratio(part: float, whole: float) -> float | None:
    return None if whole == 0 else part / whole


def figure_rows(t: Totals, targets: FigureTargets, drill: Mapping[str, str] | None = None) -> list[FigureRow]:
    """The control figures for one scope; `drill` (e.g. the Expert's extension) goes into every link."""
    base = dict(drill or {})
    days = t.expert_days
    avg_productive = ratio(t.productive_talk_s, t.productive)
    login = ratio(t.logged_in, t.contacts)
    planned_target = Target(targets.planned_min, targets.planned_max, per_day=True)
    productive_target = Target(targets.productive_per_day, None, per_day=True)
    minutes_target = Target(targets.productive_minutes_min, targets.productive_minutes_max)
    login_target = Target(targets.login_share, None)
    calls_per_day = per_day(t.made, days)

    def row(key: str, label: str, total: float | None, target: Target | None, compared: float | None,
            filters: Mapping[str, str], kind: str = "count", daily: float | None = None) -> FigureRow:
        status = target.status(compared) if target is not None else Status.NONE
        return FigureRow(key, label, total, daily, target, status, {**base, **filters}, kind)

    planned_daily = per_day(t.planned, days)
    productive_daily = per_day(t.productive, days)
    return [
        row("planned", "Плановые звонки", t.planned, planned_target, planned_daily, {"planned": "yes"},
            daily=planned_daily),
        row("finished", "Выполнено плановых", t.finished, None, None, {"planned": "yes"},
            daily=per_day(t.finished, days)),
        row("made", "Сделано звонков", t.made, None, None, MADE_DRILL, daily=calls_per_day),
        row("calls_per_day", "Звонков в день на Эксперта", calls_per_day, planned_target, calls_per_day,
            MADE_DRILL, kind="rate"),
        row("contacts", "Контакт состоялся", t.contacts, None, None, {"result": "contact"},
            daily=per_day(t.contacts, days)),
        row("productive", "Результативные", t.productive, productive_target, productive_daily,
            {"productive": "yes", "guessed": "no"}, daily=productive_daily),
        row("unplanned", "Внеплановые звонки", t.unplanned, None, None, {"planned": "no"},
            daily=per_day(t.unplanned, days)),
        row("avg_productive", "Средняя длительность результативного", avg_productive, minutes_target,
            None if avg_productive is None else avg_productive / 60, {"productive": "yes", "guessed": "no"},
            kind="seconds"),
        row("login_share", "Доля контактов с заходом в систему", login, login_target, login,
            {"result": "contact", "logged_in": "yes"}, kind="share"),
    ]


def expert_breakdown(experts: Sequence[ExpertInfo], aggregates: Iterable[DayAggregate],
                     targets: FigureTargets) -> list[ExpertFigures]:
    """Each Expert's figures (every Expert of the scope, also one with no data), by full name."""
    by_expert: dict[int, list[DayAggregate]] = {e.id: [] for e in experts}
    for agg in aggregates:
        by_expert.setdefault(agg.expert_id, []).append(agg)
    result = []
    for expert in sorted(experts, key=lambda e: e.full_name):
        drill = {"expert": expert.extension} if expert.extension else {}
        expert_totals = totals(by_expert[expert.id])
        rows = figure_rows(expert_totals, targets, drill)
        result.append(ExpertFigures(expert, expert_totals, {r.key: r for r in rows}))
    return result


def daily_totals(aggregates: Iterable[DayAggregate], days: Sequence[date]) -> list[tuple[date, Totals]]:
    """The scope's totals for each day of the period (an empty day gives zeros)."""
    by_day: dict[date, list[DayAggregate]] = {d: [] for d in days}
    for agg in aggregates:
        by_day.setdefault(agg.day, []).append(agg)
    return [(d, totals(by_day[d])) for d in days]


def distribution(counts: Mapping[str | None, int], drill_key: str, label: Callable[[str | None], str],
                 drill: Mapping[str, str] | None = None, extra_whole: int = 0) -> list[Share]:
    """Bars, largest first; a None key (no topic, call still up) gets no drill-down link."""
    whole = sum(counts.values()) + extra_whole
    shares = [
        Share(key, label(key), count, count / whole, {} if key is None else {**(drill or {}), drill_key: key})
        for key, count in counts.items() if count > 0
    ]
    return sorted(shares, key=lambda s: (-s.count, s.label))


def topic_distribution(topics: Mapping[str | None, int], unwrapped: int,
                       drill: Mapping[str, str] | None = None) -> list[Share]:
    """Wrapped-up calls by topic (инфоповод); the calls still without a wrap-up last, as their own bar."""
    shares = distribution(topics, "topic", lambda k: k or NO_TOPIC, drill, extra_whole=unwrapped)
    if unwrapped:
        # The call log's `result=none` lists the calls nobody wrapped up yet.
        shares.append(Share(None, NO_WRAPUP, unwrapped, unwrapped / (sum(topics.values()) + unwrapped),
                            {**(drill or {}), "result": "none"}))
    return shares


def outcome_distribution(outcomes: Mapping[str | None, int], drill: Mapping[str, str] | None = None) -> list[Share]:
    return distribution(outcomes, "outcome",
                        lambda k: CALL_IN_PROGRESS if k is None else OUTCOME_LABELS.get(k, k), drill)


def pacing(due: int, finished: int, now_local: time) -> Pacing:
    """«к 14:00 отстаёт на 4 звонка» when fewer items are finished than have come due, else on plan."""
    behind = due - finished
    if behind <= 0:
        return Pacing(due, finished, "идёт по плану")
    calls = plural(behind, "звонок", "звонка", "звонков")
    return Pacing(due, finished, f"к {now_local:%H:%M} отстаёт на {behind} {calls}")
