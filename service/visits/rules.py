"""What a visit is, its Russian names, the /visits form's checks and the month's plan/fact. Pure."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

MAX_TEXT = 2000  # contacts met, topic, comment: what a phone keyboard types in a minute, with room to spare
EARLIEST = date(2000, 1, 1)  # docs/security.md «Bad input»: dates lie between 2000 and 2100
LATEST = date(2100, 12, 31)


class VisitResult(StrEnum):
    DONE = "done"
    NOT_DONE = "not_done"
    MOVED = "moved"


RESULT_LABELS: dict[str, str] = {"done": "состоялся", "not_done": "не состоялся", "moved": "перенесён"}
# The import's spellings of a result (service/imports/schemas.py VISITS): the code or a Russian word.
RESULT_SPELLINGS: dict[str, str] = {
    **{code: code for code in RESULT_LABELS},
    "состоялся": "done", "проведён": "done", "проведен": "done", "выполнен": "done",
    "не состоялся": "not_done", "не проведён": "not_done", "не проведен": "not_done", "отменён": "not_done",
    "отменен": "not_done", "перенесён": "moved", "перенесен": "moved", "перенос": "moved",
}
SOURCES = ("web", "import")


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """A visit as an import or the form gives it; key (employee, client, day, planned)."""

    employee_login: str
    client_external_id: str
    day: date
    planned: bool
    result: str
    contacts_met: str | None = None
    topic: str | None = None
    comment: str | None = None

    @property
    def key(self) -> tuple[str, str, date, bool]:
        return self.employee_login, self.client_external_id, self.day, self.planned


@dataclass(frozen=True, slots=True)
class VisitForm:
    """The /visits form as typed (to show it again) and what is wrong with it, by field."""

    values: Mapping[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    client_id: int | None = None
    day: date | None = None
    planned: bool = True
    result: str = VisitResult.DONE.value

    def text(self, name: str) -> str | None:
        return self.values.get(name, "").strip() or None


def read_visit_form(form: Mapping[str, str], portfolio: Collection[int], topics: Collection[str],
                    today: date) -> VisitForm:
    """The form's values checked: a client of her portfolio, a real date, a known result and topic, and no
    visit that took place (or did not) after `today` (found trying it: a «состоялся» on 25.12 counted on 07.12)."""
    values = {name: str(form.get(name, "")) for name in
              ("client_id", "day", "planned", "contacts_met", "result", "topic", "comment")}
    errors: dict[str, str] = {}
    client_id = _client(values["client_id"], portfolio, errors)
    day = _day(values["day"], errors)
    if values["planned"] not in ("yes", "no"):
        errors["planned"] = "Укажите, плановый визит или внеплановый."
    if values["result"] not in RESULT_LABELS:
        errors["result"] = "Выберите результат визита: состоялся, не состоялся или перенесён."
    if values["topic"].strip() and values["topic"].strip() not in topics:
        errors["topic"] = "Выберите тему из списка."
    if day is not None and day > today and values["result"] in (VisitResult.DONE, VisitResult.NOT_DONE):
        errors["day"] = (f"Визит {day:%d.%m.%Y} ещё впереди: состоялся ли он, отмечают в его день "
                         f"(сегодня {today:%d.%m.%Y}).")
    for name, label in (("contacts_met", "«С кем встречались»"), ("comment", "Комментарий")):
        if len(values[name].strip()) > MAX_TEXT:
            errors[name] = f"{label} длиннее {MAX_TEXT} знаков: сократите."
    return VisitForm(values, errors, client_id, day, values["planned"] != "no",
                     values["result"] if values["result"] in RESULT_LABELS else VisitResult.DONE.value)


def _client(raw: str, portfolio: Collection[int], errors: dict[str, str]) -> int | None:
    raw = raw.strip()
    if not raw:
        errors["client_id"] = "Выберите клиента."
        return None
    if not raw.isdigit() or len(raw) > 18 or int(raw) not in portfolio:
        errors["client_id"] = "Такого клиента нет в вашем портфеле: выберите из списка."
        return None
    return int(raw)


def _day(raw: str, errors: dict[str, str]) -> date | None:
    raw = raw.strip()
    if raw.count(".") == 2:  # ДД.ММ.ГГГГ typed where the browser has no date picker
        raw = "-".join(reversed(raw.split(".")))
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors["day"] = "Укажите дату визита (ДД.ММ.ГГГГ)."
        return None
    if not EARLIEST <= day <= LATEST:
        errors["day"] = "Дата визита — между 2000 и 2100 годом."
        return None
    return day


@dataclass(frozen=True, slots=True)
class Target:
    low: int
    high: int
    personal: bool = False  # her own plan for the month (imported), not the department's norm

    @property
    def text(self) -> str:
        """«план 30–32» (the norm) or «личный план 28»."""
        band = str(self.low) if self.low == self.high else f"{self.low}–{self.high}"
        return f"личный план {band}" if self.personal else f"план {band}"


@dataclass(frozen=True, slots=True)
class Line:
    """One row of a PM's month: a figure, its fact and its target range."""

    label: str
    fact: int
    target: Target

    @property
    def status(self) -> str:
        """As the control figures colour it: low | ok | high."""
        if self.fact < self.target.low:
            return "low"
        return "high" if self.fact > self.target.high and not self.target.personal else "ok"


@dataclass(frozen=True, slots=True)
class MonthFacts:
    """What a PM did in a month: visits that took place (planned, unplanned) and calls in the ledger."""

    planned: int = 0
    unplanned: int = 0
    calls: int = 0


@dataclass(frozen=True, slots=True)
class VisitTargets:
    planned: Target
    unplanned: Target
    calls: Target


# The monthly plans (`dsdesk import plans`) that replace the norms for one PM and month.
PERSONAL_PLAN_KINDS = ("pm_visits_planned", "pm_visits_unplanned", "pm_calls")


def personal_targets(norms: VisitTargets, plans: Mapping[str, int]) -> VisitTargets:
    """Her own plan for the month where one is imported (kind → value), else the department's norm.

    A personal plan is a single number: reaching it is on target, and so is doing more (the norm's
    upper bound says when a PM plans too many, which a personal plan already decided)."""
    def one(kind: str, norm: Target) -> Target:
        if kind not in plans:
            return norm
        return Target(plans[kind], plans[kind], personal=True)
    return VisitTargets(one("pm_visits_planned", norms.planned), one("pm_visits_unplanned", norms.unplanned),
                        one("pm_calls", norms.calls))


def plan_fact(facts: MonthFacts, targets: VisitTargets) -> list[Line]:
    """The page's three rows, in the presentation's order («Отчетность ПМ по ДС»)."""
    return [Line("Плановые визиты", facts.planned, targets.planned),
            Line("Внеплановые визиты", facts.unplanned, targets.unplanned),
            Line("Звонки", facts.calls, targets.calls)]
