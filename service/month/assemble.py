"""The monthly reports put together from what the repositories read (issue 16): the tables, the head's
lines, the targets from settings. Shared by the pages (service/month/views.py) and bench/month.py, so
the benchmark times exactly what a page does. No I/O: the facts, plans and sheets come in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from service.db.month_report import Employee, MonthFacts
from service.ktu.sheets import PersonSheet
from service.month.dashboard import DashboardLine, ktu_state, line
from service.month.report import Column, PersonFacts, Table, Targets, expert_table, pm_table, sum_facts
from service.settings import Settings


class ImportedPlan(Protocol):
    @property
    def employee_id(self) -> int: ...

    @property
    def kind(self) -> str: ...


def targets_of(settings: Settings, months: int) -> Targets:
    t = settings.targets
    return Targets(Decimal(str(t.login_share)), (t.pm_visits_planned_min, t.pm_visits_planned_max),
                   (t.pm_visits_unplanned_min, t.pm_visits_unplanned_max), (t.pm_calls_min, t.pm_calls_max),
                   months)


def tables_of(people: Sequence[Employee], facts: MonthFacts, targets: Targets, *,
              with_department: bool) -> list[Table]:
    """The Experts' table and the PMs' (each only when it has someone), with the department's column."""
    columns: dict[str, list[tuple[Column, PersonFacts]]] = {"expert": [], "pm": []}
    for p in people:
        columns[p.role].append((Column(p.full_name, p.login), facts.people[p.id]))
    tables = []
    for role, build in (("expert", expert_table), ("pm", pm_table)):
        if not columns[role]:
            continue
        department = None
        if with_department:  # the PMs' events are counted over the department: a client two worked with once
            department = sum_facts([f for _, f in columns[role]], facts.department_events if role == "pm" else None)
        tables.append(build(columns[role], targets, department))
    return tables


def dashboard_of(people: Sequence[Employee], facts: Mapping[int, PersonFacts], targets: Targets,
                 plans: Iterable[ImportedPlan], sheets: Iterable[PersonSheet]) -> tuple[DashboardLine, ...]:
    """Each person's work against plan, КТУ draft and what is missing, for the head (one month)."""
    imported: dict[int, set[str]] = {}
    for plan in plans:
        imported.setdefault(plan.employee_id, set()).add(plan.kind)
    by_id = {s.person.id: s for s in sheets}
    lines = []
    for p in people:
        sheet = by_id.get(p.id)
        state = None
        if sheet is not None and sheet.sheet is not None:
            state = ktu_state(sheet.sheet, sheet.approved, sheet.latest.number)
        lines.append(line(p.login, p.full_name, p.role, facts[p.id], targets, imported.get(p.id, set()), state,
                          sheet.error if sheet is not None else None))
    return tuple(lines)
