"""One control-figures report (what the page shows and the XLSX holds) and how values read. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time

from service.desk.status import PauseTime
from service.figures.compute import (
    FigureTargets,
    daily_totals,
    expert_breakdown,
    figure_rows,
    outcome_distribution,
    pacing,
    topic_distribution,
    totals,
)
from service.figures.funnel import Funnel, Portfolio
from service.figures.model import (
    DayAggregate,
    ExpertFigures,
    ExpertInfo,
    FigureRow,
    Pacing,
    Period,
    Scope,
    ScopeKind,
    Share,
    Target,
    Totals,
)
from service.figures.time_in_state import DayKey, TimeLine, duration_text, time_lines
from texts.words import decimal, minutes_seconds


@dataclass(frozen=True, slots=True)
class PacingLine:
    expert: ExpertInfo
    pacing: Pacing


@dataclass(frozen=True, slots=True)
class FiguresReport:
    scope: Scope
    title: str  # «Отдел», «Группа 1», «Орлова Мария»
    period: Period
    rows: list[FigureRow]
    breakdown: list[ExpertFigures]
    daily: list[tuple[date, Totals]]
    topics: list[Share]
    outcomes: list[Share]
    pacing: Pacing | None  # the scope's, when the period is today's
    pacing_lines: list[PacingLine]
    guessed: int = 0  # calls with a guessed outcome or talk time: counted in no figure, shown apart
    guessed_drill: dict[str, str] | None = None  # the call-log filters that list them
    short_productive: int = 0  # marked productive before the rule, with talk under the threshold
    short_drill: dict[str, str] | None = None
    login: LoginSource | None = None  # how the login share was known
    times: list[TimeLine] = field(default_factory=list)  # time in state per Expert over the period
    day_times: list[TimeLine] = field(default_factory=list)  # … and per Expert-day
    funnel: Funnel | None = None  # the move to ДС in the period (issue 15)
    funnel_lines: list[Funnel] = field(default_factory=list)  # … per Expert
    portfolio: Portfolio | None = None  # ДС now


@dataclass(frozen=True, slots=True)
class LoginSource:
    """The login share's contacts: measured from the usage data, or as the Experts ticked them."""

    contacts: int
    measured: int
    disagree: int  # measured, and the tick says otherwise
    disagree_drill: dict[str, str]

    @property
    def text(self) -> str:
        """«по статистике онлайн-версии», «по отметке эксперта» or the mix, said in numbers."""
        if self.contacts == 0 or self.measured == 0:
            return "по отметке эксперта"
        if self.measured == self.contacts:
            return "по статистике онлайн-версии"
        return (f"по статистике онлайн-версии: {self.measured} из {self.contacts} контактов; "
                f"остальные {self.contacts - self.measured} — по отметке эксперта")


def scope_title(scope: Scope, experts: Sequence[ExpertInfo]) -> str:
    if scope.kind is ScopeKind.DEPARTMENT:
        return "Отдел"
    if scope.kind is ScopeKind.GROUP:
        return scope.name
    return experts[0].full_name if experts else scope.name


def scope_drill(scope: Scope, experts: Sequence[ExpertInfo]) -> dict[str, str]:
    """Call-log filters naming the scope. The call log filters by one extension, so a group's
    figure links carry none (each Expert's row in the breakdown links to their own calls)."""
    if scope.kind is ScopeKind.EXPERT and experts and experts[0].extension:
        return {"expert": experts[0].extension}
    return {}


NO_PLAN_TODAY = Pacing(0, 0, "плана на сегодня нет", judged=False)


def pace_of(due_finished: tuple[int, int] | None, now_local: time) -> Pacing:
    """An Expert (or a scope) with no plan today gets no verdict: «0 из 0 … идёт по плану» said nothing
    true (found trying the figures with an Expert just imported; the board says the same)."""
    return NO_PLAN_TODAY if due_finished is None else pacing(*due_finished, now_local)


def build_report(scope: Scope, period: Period, experts: Sequence[ExpertInfo],
                 aggregates: Sequence[DayAggregate], topics: Mapping[str | None, int],
                 outcomes: Mapping[str | None, int], due_finished: Mapping[int, tuple[int, int]] | None,
                 now_local: time, targets: FigureTargets, short_productive: int = 0,
                 pauses: Mapping[DayKey, PauseTime] | None = None) -> FiguresReport:
    """`due_finished` (Expert id → items due, finished) is given only when the period holds today."""
    drill = scope_drill(scope, experts)
    t = totals(aggregates)
    times, day_times = time_lines(experts, aggregates, pauses or {})
    lines: list[PacingLine] = []
    overall = None
    if due_finished is not None:
        lines = [PacingLine(e, pace_of(due_finished.get(e.id), now_local)) for e in experts]
        overall = pace_of((sum(line.pacing.due for line in lines), sum(line.pacing.finished for line in lines))
                          if due_finished else None, now_local)
    return FiguresReport(
        scope=scope, title=scope_title(scope, experts), period=period,
        rows=figure_rows(t, targets, drill),
        breakdown=expert_breakdown(experts, aggregates, targets) if scope.kind is not ScopeKind.EXPERT else [],
        daily=daily_totals(aggregates, period.days),
        topics=topic_distribution(topics, t.calls - t.wrapped, drill),
        outcomes=outcome_distribution(outcomes, {**drill, "guessed": "no"}),
        pacing=overall, pacing_lines=lines, guessed=t.guessed, guessed_drill={**drill, "guessed": "yes"},
        short_productive=short_productive,
        short_drill={**drill, "productive": "yes", "talk_below": minutes_seconds(targets.productive_min_talk_s)},
        login=LoginSource(t.contacts, t.login_measured, t.login_disagree,
                          {**drill, "result": "contact", "login": "disagree"}),
        times=times, day_times=day_times,
    )


def show_value(value: float | None, kind: str) -> str:
    """A figure as people read it: counts, 2,3 a day, 10:15 (a call's min:s), 1 ч 07 мин (a time in state,
    kind "duration"), 58,3 %."""
    if value is None:
        return "—"
    if kind == "seconds":
        return minutes_seconds(value)
    if kind == "duration":
        return duration_text(value)
    if kind == "share":
        return f"{decimal(round(value * 100, 1))} %"
    return decimal(value)


def show_target(target: Target | None, kind: str) -> str:
    if target is None:
        return ""
    unit = {"seconds": " мин", "share": ""}.get(kind, " в день" if target.per_day or kind == "rate" else "")
    low, high = target.min, target.max
    if kind == "share":
        return f"≥ {decimal(round((low or 0) * 100, 1))} %"
    if high is None:
        return f"≥ {decimal(low or 0)}{unit}"
    return f"{decimal(low or 0)}–{decimal(high)}{unit}"
