"""The head's month at a glance (issue 16, item 5): per person the work against its plan, the КТУ draft,
and what is still missing before the month can be closed. Pure.

«Missing» lists what the head must still get: the monthly plans and values not imported for the
person (each role needs its own kinds), the КТУ components without data, and the components the
head enters that nobody has entered yet (0 is a valid answer, so these are a reminder, not a block).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal

from service.ktu.rules import KtuSheet, number_text, rub_text
from service.month.kinds import label
from service.month.report import PersonFacts, Targets

NOT_ENTERED = "не введено"
# The monthly plans and values each role's report and КТУ read (docs/month.md, docs/ktu.md).
EXPECTED_PLANS: Mapping[str, tuple[str, ...]] = {
    "expert": ("training", "st_invitations", "vksp_balance", "collection_completeness"),
    "pm": ("training", "seminar_sales", "gk_subscriptions", "vksp_balance", "collection_completeness",
           "pm_visits_planned"),
}


@dataclass(frozen=True, slots=True)
class KtuState:
    points: str  # «+0,35»
    money: str  # «5 250,00 ₽»
    state: str  # «черновик, версия 1», «утверждена, версия 2»
    approved: bool
    missing_data: tuple[str, ...]  # components without data
    not_entered: tuple[str, ...]  # entered components nobody entered


@dataclass(frozen=True, slots=True)
class DashboardLine:
    login: str
    full_name: str
    role: str  # expert | pm
    work: tuple[str, ...]  # «плановых звонков 320, контакт состоялся 250, результативных 190»
    ktu: KtuState | None  # None: the sheet could not be computed (`ktu_error` says why)
    ktu_error: str | None
    missing: tuple[str, ...]  # Russian, what the head must still get for this person

    @property
    def approved(self) -> bool:
        """Her КТУ sheet is approved: what closing the month waits for (docs/ktu.md)."""
        return self.ktu is not None and self.ktu.approved

    @property
    def complete(self) -> bool:
        return not self.missing and self.approved


def missing_plans(role: str, imported: Collection[str]) -> list[str]:
    """«не импортирован план: Обучение, Баланс ВКСП» for the kinds the role needs and the month lacks."""
    lacking = [label(kind) for kind in EXPECTED_PLANS.get(role, ()) if kind not in imported]
    return [f"не импортировано: {', '.join(lacking)}"] if lacking else []


def work_lines(role: str, facts: PersonFacts, targets: Targets) -> tuple[str, ...]:
    if role == "pm":
        plan = (f"план {number_text(facts.visits_planned_plan)}" if facts.visits_planned_plan is not None
                else targets.per_period(targets.visits_planned))
        return (f"плановые визиты {facts.visits_planned_done} ({plan})",
                f"внеплановые визиты {facts.visits_unplanned_done} ({targets.per_period(targets.visits_unplanned)})",
                f"звонков {facts.pm_calls} ({targets.per_period(targets.pm_calls)})")
    c = facts.calls
    return (f"плановых звонков {c.planned}", f"контакт состоялся {c.contacts}", f"результативных {c.productive}",
            f"с заходом в систему {c.logged_in}")


def ktu_state(sheet: KtuSheet, approved: bool, version: int) -> KtuState:
    state = f"{'утверждена' if approved else 'черновик'}, версия {version}"
    missing = tuple(v.label for v in sheet.values if v.missing) if not approved else ()
    # The head's components show «не введено» until someone enters a value (service/ktu/rules.py EntryRule).
    not_entered = () if approved else tuple(v.label for v in sheet.values if v.source == NOT_ENTERED)
    return KtuState(_signed(sheet.points), rub_text(sheet.money), state, approved, missing, not_entered)


def line(login: str, full_name: str, role: str, facts: PersonFacts, targets: Targets, imported: Collection[str],
         ktu: KtuState | None, ktu_error: str | None) -> DashboardLine:
    missing = missing_plans(role, imported)
    said = {label for text in missing for label in text.removeprefix("не импортировано: ").split(", ")}
    unsaid = [label for label in (ktu.missing_data if ktu is not None else ()) if label not in said]
    if unsaid:  # «Полнота сбора» not imported is said once, not again as the КТУ's
        missing.append(f"КТУ без данных: {', '.join(unsaid)}")
    if ktu is not None and ktu.not_entered:
        missing.append(f"КТУ не введено (будет 0): {', '.join(ktu.not_entered)}")
    if ktu is not None and not ktu.approved:
        missing.append("КТУ не утверждён")
    if ktu_error:
        missing.append(f"КТУ не считается: {ktu_error}")
    return DashboardLine(login, full_name, role, work_lines(role, facts, targets), ktu, ktu_error, tuple(missing))


def _signed(points: Decimal) -> str:
    text = number_text(points)
    return text if points <= 0 else f"+{text}"
