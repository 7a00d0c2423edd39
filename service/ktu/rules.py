"""The КТУ sheet's rules (docs/ktu.md): components per role, their values, the money, the versions. Pure.

The presentation («Мотивация сотрудников на ДС») lists the components of the Expert's and the PM's
КТУ with their values; `compute_sheet` turns one person-month's data and entries into a sheet where
every value carries its source and a Russian explanation. Money is `Decimal`, rounded to kopecks
once, at the end. A sheet is a draft until the head approves it; an approved sheet is locked, and a
change makes a new version with a reason (every version is kept by the caller, in order).

    ServiceError (service.errors)
    └── KtuError      an entry, input or sheet change that is refused; the message is Russian
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import NamedTuple

from service.errors import ServiceError

STEP = Decimal("0.1")  # the presentation prices «0,1 КТУ»
KOPECK = Decimal("0.01")
RUB_PER_0_1_RANGE = (Decimal(1200), Decimal(2500))  # «Стоимость 0,1 КТУ от 1200 до 2500 руб.»


class KtuError(ServiceError, ValueError):
    """A КТУ entry, input or sheet change that cannot be taken; nothing was changed."""


class Role(StrEnum):
    EXPERT = "expert"
    PM = "pm"

    @property
    def label(self) -> str:
        return {"expert": "Эксперт по ДС", "pm": "ПМ по ДС"}[self.value]


class Source(StrEnum):
    COMPUTED = "computed"  # from DS Desk's data (imports, plan/fact)
    ENTERED = "entered"  # by the head, with a reason


class PlanKind(StrEnum):
    """Monthly plans per person (`dsdesk import plans`), as the presentation names them."""

    TRAINING = "training"
    ST_INVITATIONS = "st_invitations"
    SEMINAR_SALES = "seminar_sales"
    GK_SUBSCRIPTIONS = "gk_subscriptions"

    @property
    def label(self) -> str:
        return PLAN_LABELS[self]


PLAN_LABELS = {
    PlanKind.TRAINING: "по обучению",
    PlanKind.ST_INVITATIONS: "по приглашению на СТ",
    PlanKind.SEMINAR_SALES: "по продаже платных семинаров",
    PlanKind.GK_SUBSCRIPTIONS: "по подписке на ГК",
}

VKSP_BALANCE = "vksp_balance"
TRAINING_PLAN = "training_plan"
ST_INVITATIONS_PLAN = "st_invitations_plan"
SEMINAR_SALES_PLAN = "seminar_sales_plan"
GK_SUBSCRIPTIONS_PLAN = "gk_subscriptions_plan"
COLLECTION_COMPLETENESS = "collection_completeness"
TRAINING_EXCELLENCE = "training_excellence"
DEDUCTION = "deduction"
# The presentation's wording, for the sheet and the payroll's XLSX.
LABELS = {
    VKSP_BALANCE: "Баланс ВКСП",
    TRAINING_PLAN: "Выполнение плана по обучению",
    ST_INVITATIONS_PLAN: "Выполнение плана по приглашению на СТ",
    SEMINAR_SALES_PLAN: "Выполнение плана по продаже платных семинаров",
    GK_SUBSCRIPTIONS_PLAN: "Выполнение плана по подписке на ГК",
    COLLECTION_COMPLETENESS: "Полнота сбора",
    TRAINING_EXCELLENCE: "За отличные результаты в обучении",
    DEDUCTION: "Снижение за нарушения",
}


def points_text(value: Decimal) -> str:
    """«+0,3», «−0,1», «0»: a КТУ value as the sheet shows it."""
    if value == 0:
        return "0"
    return ("+" if value > 0 else "−") + number_text(abs(value))


def number_text(value: Decimal) -> str:
    """«0,85», «−1,5», «5»: a Russian decimal comma, no trailing zeros."""
    return format(value.normalize(), "f").replace(".", ",").replace("-", "−")


def rub_text(amount: Decimal) -> str:
    """«5 250,00 ₽»: kopecks shown, as the payroll needs them."""
    text = format(amount.quantize(KOPECK, ROUND_HALF_UP), ",.2f").replace(",", "\u202f").replace(".", ",")
    return text.replace("-", "−") + " ₽"


@dataclass(frozen=True, slots=True)
class Component:
    key: str
    label: str
    allowed: tuple[Decimal, ...]  # ascending
    source: Source

    @property
    def allowed_text(self) -> str:
        """«−0,5; +0,5», or «0 или от −0,05 до −0,8 с шагом 0,05» for a long even range."""
        nonzero = [v for v in self.allowed if v != 0]
        steps = {b - a for a, b in zip(nonzero, nonzero[1:], strict=False)}
        if len(nonzero) <= 3 or len(steps) != 1:
            return "; ".join(points_text(v) for v in self.allowed)
        first, last = (nonzero[-1], nonzero[0]) if nonzero[0] < 0 else (nonzero[0], nonzero[-1])
        span = f"от {points_text(first)} до {points_text(last)} с шагом {number_text(steps.pop())}"
        return f"0 или {span}" if len(nonzero) < len(self.allowed) else span


@dataclass(frozen=True, slots=True)
class PlanFact:
    plan: int  # 0: no plan was set for the month
    fact: int


@dataclass(frozen=True, slots=True)
class Entry:
    """A value the head entered for an `entered` component."""

    value: Decimal
    reason: str
    author: str  # as shown: «Иванова О. П.»


@dataclass(frozen=True, slots=True)
class KtuInputs:
    """One person-month: plans and facts (a kind left out: not imported), imported figures, entries."""

    person: str  # login
    month: date  # its first day
    plans: Mapping[PlanKind, PlanFact] = field(default_factory=dict)
    vksp_balance: Decimal | None = None  # None: not imported
    collection_completeness: Decimal | None = None  # a share, 0..1; None: not imported
    entries: Mapping[str, Entry] = field(default_factory=dict)  # component key → entry


class Outcome(NamedTuple):
    value: Decimal
    source: str
    explanation: str
    missing: bool = False


def _no_data(what: str) -> Outcome:
    return Outcome(Decimal(0), f"нет данных: {what}", "0 — до импорта данных", missing=True)


@dataclass(frozen=True, slots=True)
class BalanceRule:
    """Баланс ВКСП: `loss` below `loss_below`, `gain` above `gain_above`, `neutral` in between (inclusive)."""

    loss: Decimal
    neutral: Decimal
    gain: Decimal
    loss_below: Decimal = Decimal(0)
    gain_above: Decimal = Decimal(0)
    source: Source = Source.COMPUTED

    @property
    def allowed(self) -> tuple[Decimal, ...]:
        return tuple(sorted({self.loss, self.neutral, self.gain}))

    def evaluate(self, key: str, inputs: KtuInputs) -> Outcome:
        balance = inputs.vksp_balance
        if balance is None:
            return _no_data("Баланс ВКСП за месяц не импортирован")
        source = "из данных: импорт «Баланс ВКСП»"
        shown = number_text(balance)
        if balance < self.loss_below:
            return Outcome(self.loss, source, f"{points_text(self.loss)} — баланс {shown}: "
                                              f"меньше {number_text(self.loss_below)}")
        if balance > self.gain_above:
            return Outcome(self.gain, source, f"{points_text(self.gain)} — баланс {shown}: "
                                              f"больше {number_text(self.gain_above)}")
        band = (f"равен {number_text(self.loss_below)}" if self.loss_below == self.gain_above else
                f"от {number_text(self.loss_below)} до {number_text(self.gain_above)}")
        return Outcome(self.neutral, source, f"{points_text(self.neutral)} — баланс {shown}: {band}")


@dataclass(frozen=True, slots=True)
class PlanRule:
    """A monthly plan: `met` when fact ≥ plan, else `not_met`; a plan of 0 (none set) gives 0."""

    kind: PlanKind
    not_met: Decimal
    met: Decimal
    source: Source = Source.COMPUTED

    @property
    def allowed(self) -> tuple[Decimal, ...]:
        return tuple(sorted({self.not_met, self.met, Decimal(0)}))

    def evaluate(self, key: str, inputs: KtuInputs) -> Outcome:
        pf = inputs.plans.get(self.kind)
        if pf is None:
            return _no_data(f"план {self.kind.label} за месяц не импортирован")
        source = f"из данных: план и факт {self.kind.label}"
        if pf.plan == 0:
            return Outcome(Decimal(0), source, f"0 — план на месяц не ставился (факт {pf.fact})")
        if pf.fact >= pf.plan:
            return Outcome(self.met, source, f"{points_text(self.met)} — выполнен: {pf.fact} при плане {pf.plan}")
        return Outcome(self.not_met, source,
                       f"{points_text(self.not_met)} — не выполнен: {pf.fact} при плане {pf.plan}")


@dataclass(frozen=True, slots=True)
class StepRule:
    """Полнота сбора: `points[i]` for a share from `thresholds[i-1]` (inclusive) to `thresholds[i]`."""

    thresholds: tuple[Decimal, ...]  # ascending
    points: tuple[Decimal, ...]  # one more than thresholds
    source: Source = Source.COMPUTED

    @property
    def allowed(self) -> tuple[Decimal, ...]:
        return tuple(sorted(set(self.points)))

    def evaluate(self, key: str, inputs: KtuInputs) -> Outcome:
        share = inputs.collection_completeness
        if share is None:
            return _no_data("Полнота сбора за месяц не импортирована")
        tier = sum(1 for t in self.thresholds if share >= t)
        value = self.points[tier]
        band = [f"от {number_text(self.thresholds[tier - 1])}"] if tier else []
        band += [f"меньше {number_text(self.thresholds[tier])}"] if tier < len(self.thresholds) else []
        return Outcome(value, "из данных: импорт «Полнота сбора»",
                       f"{points_text(value)} — полнота сбора {number_text(share)}: {', '.join(band)}")


@dataclass(frozen=True, slots=True)
class EntryRule:
    """A value the head enters with a reason; 0 when nothing is entered."""

    allowed: tuple[Decimal, ...]  # ascending, 0 among them
    source: Source = Source.ENTERED

    def evaluate(self, key: str, inputs: KtuInputs) -> Outcome:
        entry = inputs.entries.get(key)
        if entry is None or entry.value == 0:
            return Outcome(Decimal(0), "не введено", "0 — не введено")
        return Outcome(entry.value, f"введено: {entry.author}, {entry.reason}",
                       f"{points_text(entry.value)} — введено руководителем")


Rule = BalanceRule | PlanRule | StepRule | EntryRule


def deduction_values(most: Decimal, least: Decimal, step: Decimal) -> tuple[Decimal, ...]:
    """0 and every value from `least` down to `most` by `step`: (−0.8, −0.75, …, −0.05, 0)."""
    count = (least - most) / step if step > 0 else Decimal("NaN")
    if most > least or least >= 0 or not count.is_finite() or count != count.to_integral_value():
        raise KtuError(f"Снижение: от {number_text(least)} до {number_text(most)} с шагом "
                       f"{number_text(step)} — не ряд отрицательных значений")
    return (*(most + step * i for i in range(int(count) + 1)), Decimal(0))


@dataclass(frozen=True, slots=True)
class KtuRules:
    rub_per_0_1: Decimal
    roles: Mapping[Role, Mapping[str, Rule]]  # per role, the components in the sheet's order

    def components(self, role: Role) -> tuple[Component, ...]:
        return tuple(Component(key, LABELS[key], rule.allowed, rule.source)
                     for key, rule in self.roles[role].items())

    def component(self, role: Role, key: str) -> Component | None:
        return next((c for c in self.components(role) if c.key == key), None)


def _d(text: str) -> Decimal:
    return Decimal(text)


DEFAULT_COMPLETENESS_THRESHOLDS = (_d("0.7"), _d("0.8"), _d("0.9"))
_VKSP = BalanceRule(_d("-0.1"), _d("0"), _d("0.3"))
_TRAINING = PlanRule(PlanKind.TRAINING, _d("-0.5"), _d("0.5"))
_COMPLETENESS = StepRule(DEFAULT_COMPLETENESS_THRESHOLDS, (_d("0"), _d("0.1"), _d("0.2"), _d("0.3")))
_EXCELLENCE = EntryRule((_d("0"), _d("0.05")))
_DEDUCTION = EntryRule(deduction_values(_d("-0.8"), _d("-0.05"), _d("0.05")))
DEFAULT_RULES = KtuRules(
    rub_per_0_1=Decimal(1500),
    roles={
        Role.EXPERT: {VKSP_BALANCE: _VKSP, TRAINING_PLAN: _TRAINING,
                      ST_INVITATIONS_PLAN: PlanRule(PlanKind.ST_INVITATIONS, _d("-0.5"), _d("0.5")),
                      COLLECTION_COMPLETENESS: _COMPLETENESS, TRAINING_EXCELLENCE: _EXCELLENCE,
                      DEDUCTION: _DEDUCTION},
        Role.PM: {VKSP_BALANCE: _VKSP, TRAINING_PLAN: _TRAINING,
                  SEMINAR_SALES_PLAN: PlanRule(PlanKind.SEMINAR_SALES, _d("0"), _d("0.5")),
                  GK_SUBSCRIPTIONS_PLAN: PlanRule(PlanKind.GK_SUBSCRIPTIONS, _d("0"), _d("0.1")),
                  COLLECTION_COMPLETENESS: _COMPLETENESS, TRAINING_EXCELLENCE: _EXCELLENCE,
                  DEDUCTION: _DEDUCTION},
    },
)


@dataclass(frozen=True, slots=True)
class ComponentValue:
    key: str
    label: str
    value: Decimal
    source: str  # «из данных: …», «введено: <кто>, <причина>», «не введено», «нет данных: …»
    explanation: str  # Russian: «+0,5 — выполнен: 6 при плане 5»
    missing: bool = False  # a computed component whose data is not imported yet


@dataclass(frozen=True, slots=True)
class KtuSheet:
    person: str
    month: date
    role: Role
    values: tuple[ComponentValue, ...]
    points: Decimal  # the sum, exact
    rub_per_0_1: Decimal  # the rate the money was computed with (kept with an approved version)
    money: Decimal  # points × rub_per_0_1 ÷ 0.1, rounded to kopecks once

    @property
    def missing(self) -> tuple[str, ...]:
        """The keys of computed components still without data."""
        return tuple(v.key for v in self.values if v.missing)

    @property
    def money_explanation(self) -> str:
        """«0,35 × 1 500,00 ₽ ÷ 0,1 = 5 250,00 ₽»."""
        return f"{number_text(self.points)} × {rub_text(self.rub_per_0_1)} ÷ 0,1 = {rub_text(self.money)}"


def money(points: Decimal, rub_per_0_1: Decimal) -> Decimal:
    """КТУ points × the price of 0.1 ÷ 0.1, rounded half up to kopecks (once: pass the exact total)."""
    return (points * rub_per_0_1 / STEP).quantize(KOPECK, rounding=ROUND_HALF_UP)


def check_entry(role: Role, key: str, value: Decimal, reason: str, rules: KtuRules) -> str | None:
    """Why the head cannot enter `value` for component `key` of `role` (Russian), or None."""
    component = rules.component(role, key)
    if not value.is_finite():
        return f"«{LABELS.get(key, key)}»: значение должно быть числом"
    if component is None:
        label = LABELS.get(key, key)
        return f"В КТУ роли «{role.label}» нет составляющей «{label}»"
    if component.source is Source.COMPUTED:
        return f"«{component.label}» считается из данных и не вводится вручную"
    if value not in component.allowed:
        return (f"«{component.label}»: значение {points_text(value)} не допускается; "
                f"допустимо: {component.allowed_text}")
    if value != 0 and not " ".join(reason.split()):
        if value < 0:
            return f"Снижение без причины не принимается: укажите причину («{component.label}»)"
        return f"Укажите причину: «{component.label}» вводится только с причиной"
    return None


def compute_sheet(role: Role, inputs: KtuInputs, rules: KtuRules) -> KtuSheet:
    """The person-month's sheet; KtuError (Russian) for a refused entry or impossible data."""
    _check_inputs(role, inputs, rules)
    values = tuple(_value(key, rule, inputs) for key, rule in rules.roles[role].items())
    points = sum((v.value for v in values), Decimal(0))
    return KtuSheet(inputs.person, inputs.month, role, values, points, rules.rub_per_0_1,
                    money(points, rules.rub_per_0_1))


def _value(key: str, rule: Rule, inputs: KtuInputs) -> ComponentValue:
    outcome = rule.evaluate(key, inputs)
    return ComponentValue(key, LABELS[key], outcome.value, outcome.source, outcome.explanation, outcome.missing)


def _check_inputs(role: Role, inputs: KtuInputs, rules: KtuRules) -> None:
    if inputs.month.day != 1:
        raise KtuError(f"Месяц ведомости задаётся первым днём, а не {inputs.month.isoformat()}")
    for kind, pf in inputs.plans.items():
        if pf.plan < 0 or pf.fact < 0:
            raise KtuError(f"План и факт {PlanKind(kind).label} не могут быть отрицательными")
    share = inputs.collection_completeness
    if share is not None and not 0 <= share <= 1:
        raise KtuError(f"Полнота сбора — доля от 0 до 1, а не {number_text(share)}")
    for key, entry in inputs.entries.items():
        problem = check_entry(role, key, entry.value, entry.reason, rules)
        if problem is None and entry.value != 0 and not entry.author.strip():
            problem = f"Не указано, кто ввёл «{LABELS[key]}»"
        if problem is not None:
            raise KtuError(problem)


class SheetState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"  # locked

    @property
    def label(self) -> str:
        return {"draft": "черновик", "approved": "утверждена"}[self.value]


@dataclass(frozen=True, slots=True)
class SheetVersion:
    """One version of a person-month's sheet; the caller keeps every version, numbered from 1."""

    number: int
    sheet: KtuSheet
    author: str  # who made the version
    created_at: datetime
    reason: str | None = None  # why a version after the first was made
    state: SheetState = SheetState.DRAFT
    approved_by: str | None = None
    approved_at: datetime | None = None


def first_version(sheet: KtuSheet, author: str, now: datetime) -> SheetVersion:
    return SheetVersion(1, sheet, author, now)


def check_change(state: SheetState, *, new_version_reason: str | None = None) -> str | None:
    """Why the sheet cannot be changed (Russian), or None: a draft is edited in place; an approved
    sheet only through a new version, which needs a reason."""
    if state is SheetState.DRAFT or _clean(new_version_reason):
        return None
    return "Ведомость утверждена и закрыта для правки: изменение — только новой версией с указанием причины"


def revise(version: SheetVersion, sheet: KtuSheet) -> SheetVersion:
    """The draft with its sheet recomputed or re-entered; an approved version is refused."""
    problem = check_change(version.state)
    if problem is None and (sheet.person, sheet.month, sheet.role) != _whose(version.sheet):
        problem = "Новая ведомость — другого сотрудника, месяца или роли"
    if problem is not None:
        raise KtuError(problem)
    return replace(version, sheet=sheet)


def check_approve(version: SheetVersion) -> str | None:
    if version.state is SheetState.APPROVED:
        return f"Ведомость уже утверждена (версия {version.number})"
    missing = [v.label for v in version.sheet.values if v.missing]
    if missing:
        return "Нельзя утвердить: нет данных — " + ", ".join(f"«{label}»" for label in missing)
    return None


def approve(version: SheetVersion, by: str, now: datetime) -> SheetVersion:
    """The version approved by the head and locked."""
    problem = check_approve(version) or (None if by.strip() else "Не указано, кто утверждает ведомость")
    if problem is not None:
        raise KtuError(problem)
    return replace(version, state=SheetState.APPROVED, approved_by=by, approved_at=now)


def new_version(previous: SheetVersion, reason: str, author: str, now: datetime) -> SheetVersion:
    """A draft after an approved version, starting from its sheet; the reason is mandatory."""
    if previous.state is not SheetState.APPROVED:
        raise KtuError(f"Версия {previous.number} — ещё черновик: её правят, новая версия не нужна")
    text = _clean(reason)
    if not text:
        raise KtuError("Новая версия утверждённой ведомости — только с указанием причины")
    if not author.strip():
        raise KtuError("Не указано, кто создаёт новую версию")
    return SheetVersion(previous.number + 1, previous.sheet, author, now, reason=text)


def append_version(history: tuple[SheetVersion, ...], version: SheetVersion) -> tuple[SheetVersion, ...]:
    """The history with `version` after the last: numbered in order, each after an approved one."""
    if history and history[-1].state is not SheetState.APPROVED:
        raise KtuError(f"Версия {history[-1].number} ещё не утверждена: новую версию не создают")
    if version.number != len(history) + 1:
        raise KtuError(f"Ожидалась версия {len(history) + 1}, а не {version.number}")
    if history and _whose(version.sheet) != _whose(history[-1].sheet):
        raise KtuError("Версия — другого сотрудника, месяца или роли")
    return (*history, version)


def _whose(sheet: KtuSheet) -> tuple[str, date, Role]:
    return sheet.person, sheet.month, sheet.role


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())
