"""What the control figures are made of: scopes, periods, targets, aggregates, figure rows. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    LOW = "low"
    HIGH = "high"
    NONE = "none"  # no target, or nothing to compare (no productive call: no average)


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Period:
    """Organisation-time dates [first, last], both inclusive."""

    kind: PeriodKind
    first: date
    last: date

    @classmethod
    def around(cls, kind: PeriodKind, day: date) -> Period:
        """The day, its Monday-to-Sunday week, or its calendar month."""
        if kind is PeriodKind.DAY:
            return cls(kind, day, day)
        if kind is PeriodKind.WEEK:
            monday = day - timedelta(days=day.weekday())
            return cls(kind, monday, monday + timedelta(days=6))
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return cls(kind, first, following - timedelta(days=1))

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def contains(self, day: date) -> bool:
        return self.first <= day <= self.last

    @property
    def title(self) -> str:
        if self.kind is PeriodKind.DAY:
            return self.first.strftime("%d.%m.%Y")
        return f"{self.first:%d.%m.%Y} – {self.last:%d.%m.%Y}"


class ScopeKind(StrEnum):
    DEPARTMENT = "department"
    GROUP = "group"
    EXPERT = "expert"


@dataclass(frozen=True, slots=True)
class Scope:
    kind: ScopeKind
    name: str = ""  # the group's name or the Expert's login

    @property
    def param(self) -> str:
        """The `scope` query parameter that names this scope."""
        return self.kind.value if self.kind is ScopeKind.DEPARTMENT else f"{self.kind.value}:{self.name}"


@dataclass(frozen=True, slots=True)
class ExpertInfo:
    id: int
    login: str
    full_name: str
    extension: str | None
    group_name: str | None


@dataclass(frozen=True, slots=True)
class DayAggregate:
    """One Expert's counts for one organisation-time day (from GROUP BY in the database)."""

    expert_id: int
    day: date
    planned: int = 0  # planned items, cancelled excluded, rolled-over included
    finished: int = 0  # planned items finished with any result
    calls: int = 0  # every ledger call of the Expert (both directions, every outcome)
    made: int = 0  # outbound calls where the client was dialled (not expert_no_answer)
    unplanned: int = 0  # calls not linked to a planned item
    wrapped: int = 0  # calls with a wrap-up
    contacts: int = 0  # wrap-ups with a contact made: «контакт состоялся» or a refusal
    productive: int = 0  # contacts marked productive
    productive_talk_s: float = 0.0  # sum of talk_s of the productive calls
    logged_in: int = 0  # contacts with the client logged in
    guessed: int = 0  # calls whose outcome or talk time is a guess (a gap in the PBX link): in no other count
    login_measured: int = 0  # contacts whose "logged in" is measured from the usage data (not the tick)
    login_disagree: int = 0  # of those, where the measurement and the Expert's tick differ
    # Time in state (issue 14), from the PBX's times, guessed calls aside: talking (talk_s), on a
    # call at all (duration_s: dialling and ringing too), in wrap-up (the call's end to its
    # wrap-up's first save, at most WRAPUP_COUNT_MAX_S). Pauses come from the status log.
    talk_total_s: float = 0.0
    on_call_s: float = 0.0
    wrapup_s: float = 0.0

    @property
    def is_working_day(self) -> bool:
        """A day with at least one planned item or call counts for the per-day figures."""
        return self.planned > 0 or self.calls > 0


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums of DayAggregate over Experts and days, plus the Expert-days they were at work."""

    expert_days: int = 0
    planned: int = 0
    finished: int = 0
    calls: int = 0
    made: int = 0
    unplanned: int = 0
    wrapped: int = 0
    contacts: int = 0
    productive: int = 0
    productive_talk_s: float = 0.0
    logged_in: int = 0
    guessed: int = 0
    login_measured: int = 0
    login_disagree: int = 0
    talk_total_s: float = 0.0
    on_call_s: float = 0.0
    wrapup_s: float = 0.0


# The sums kept as seconds (float); every other summed field is a count.
SECONDS_FIELDS = frozenset({"productive_talk_s", "talk_total_s", "on_call_s", "wrapup_s"})
# A wrap-up saved later than this after its call counts this much «в итогах»: the rest was a form
# left open (lunch, the evening), not wrap-up work. The board shows the real wait, amber.
WRAPUP_COUNT_MAX_S = 1800


@dataclass(frozen=True, slots=True)
class Target:
    """A target range; None on a side means unbounded there (12 productive a day: min 12)."""

    min: float | None = None
    max: float | None = None
    per_day: bool = False  # compared with the per-Expert-per-day value, not the period's total

    def status(self, value: float | None) -> Status:
        if value is None or (self.min is None and self.max is None):
            return Status.NONE
        if self.min is not None and value < self.min - 1e-9:
            return Status.LOW
        if self.max is not None and value > self.max + 1e-9:
            return Status.HIGH
        return Status.OK


@dataclass(frozen=True, slots=True)
class FigureRow:
    """One control figure: its total over the period, per Expert per day, target and status."""

    key: str
    label: str
    total: float | None  # counts; seconds for durations; 0..1 for shares; None: no data
    per_day: float | None  # per Expert per working day (counts only)
    target: Target | None
    status: Status
    drill: dict[str, str] = field(default_factory=dict)  # call-log filters behind the figure
    kind: str = "count"  # count | rate (per Expert-day) | seconds | share


@dataclass(frozen=True, slots=True)
class ExpertFigures:
    expert: ExpertInfo
    totals: Totals
    rows: dict[str, FigureRow]  # key → row, the same keys as the scope's table


@dataclass(frozen=True, slots=True)
class Share:
    """One bar of a distribution: a topic or an outcome, its count and share of the whole."""

    key: str | None
    label: str
    count: int
    share: float
    drill: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Pacing:
    """Today so far: planned items whose slot is before now vs. finished items."""

    due: int
    finished: int
    text: str
    judged: bool = True  # False: no plan today, so no verdict («плана на сегодня нет»)

    @property
    def behind(self) -> int:
        return max(self.due - self.finished, 0)
