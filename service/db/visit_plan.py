"""The PMs' monthly visit plans (issue 16, item 1): built from the call plan's reasons, kept, shown on /visits.

`build_month` loads the PMs' portfolios with the call plan's own loader (role `pm`), asks the pure
builder (scheduler/visit_plan.py) for the visits not planned yet and inserts them; a client already
on her month's plan is never planned twice (unique key, insert-if-absent), so building again — the
daily job, the CLI, two at once — only tops the plan up.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, exists, select

from scheduler.calendar import WorkCalendar
from scheduler.rules import PlanRules
from scheduler.visit_plan import PlannedVisit as NewVisit
from scheduler.visit_plan import build_visit_plan
from service.db.bulk import ids_by
from service.db.engine import SessionMaker
from service.db.models import Client, Expert, MonthlyPlan, PlannedVisit, Visit
from service.db.plan_inputs import load_plan_inputs
from service.db.records import Counts
from service.db.upsert import dialect_name, insert_for
from service.month.kinds import first_of_month, month_after
from service.visits.rules import VisitResult

_PLANNED = cast(Table, PlannedVisit.__table__)


@dataclass(frozen=True, slots=True)
class PlanLine:
    """One client of a PM's month plan as /visits shows it."""

    rank: int
    client_id: int
    client_external_id: str
    client_name: str
    reasons: tuple[str, ...]  # Russian, most urgent first
    visited: bool  # a planned visit to this client took place in the month


class VisitPlanRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def build_month(self, day: date, tz: ZoneInfo, calendar: WorkCalendar, rules: PlanRules,
                          default_count: int, now: datetime, logins: Collection[str] | None = None) -> Counts:
        """Top up every active PM's plan for the month of `day` (reasons as of `day`): to her imported
        plan (`pm_visits_planned`) where there is one, else `default_count` visits."""
        month = first_of_month(day)
        async with self._sessions() as session:
            inputs = await load_plan_inputs(session, day, tz, logins, role="pm")
        if not inputs.experts:
            return Counts()
        logins_ = [e.login for e in inputs.experts]
        counts = await self._counts(month, logins_, default_count)
        new = build_visit_plan(inputs, calendar, rules, tz, counts, await self.planned(month, logins_))
        return await self._save(month, new, now)

    async def planned(self, month: date, logins: Collection[str]) -> dict[str, set[str]]:
        """login → the clients (external ids) on her plan for the month."""
        query = (select(Expert.login, Client.external_id).select_from(PlannedVisit)
                 .join(Expert, Expert.id == PlannedVisit.employee_id)
                 .join(Client, Client.id == PlannedVisit.client_id)
                 .where(PlannedVisit.month == month, Expert.login.in_(list(logins))))
        out: dict[str, set[str]] = {}
        async with self._sessions() as session:
            for login, code in await session.execute(query):
                out.setdefault(login, set()).add(code)
        return out

    async def month_plan(self, employee_id: int, month: date) -> list[PlanLine]:
        """Her plan for the month, in order, each line saying whether the planned visit took place."""
        visited = exists(select(Visit.id).where(
            Visit.employee_id == PlannedVisit.employee_id, Visit.client_id == PlannedVisit.client_id,
            Visit.planned, Visit.result == VisitResult.DONE.value,
            and_(Visit.day >= month, Visit.day < month_after(month))))
        query = (select(PlannedVisit.rank, Client.id, Client.external_id, Client.name, PlannedVisit.reasons,
                        visited.label("visited"))
                 .join(Client, Client.id == PlannedVisit.client_id)
                 .where(PlannedVisit.employee_id == employee_id, PlannedVisit.month == month)
                 .order_by(PlannedVisit.rank, Client.external_id))
        async with self._sessions() as session:
            return [PlanLine(rank, cid, code, name, tuple(r["text"] for r in reasons), bool(done))
                    for rank, cid, code, name, reasons, done in await session.execute(query)]

    async def _counts(self, month: date, logins: list[str], default_count: int) -> Mapping[str, int]:
        query = (select(Expert.login, MonthlyPlan.value).join(Expert, Expert.id == MonthlyPlan.employee_id)
                 .where(MonthlyPlan.month == month, MonthlyPlan.kind == "pm_visits_planned",
                        Expert.login.in_(logins)))
        async with self._sessions() as session:
            imported = {login: int(value) for login, value in await session.execute(query)}
        return {login: imported.get(login, default_count) for login in logins}

    async def _save(self, month: date, visits: list[NewVisit], now: datetime) -> Counts:
        if not visits:
            return Counts()
        async with self._sessions.begin() as session:
            employees = await ids_by(session, cast(Table, Expert.__table__), "login",
                                     {v.employee_login for v in visits})
            clients = await ids_by(session, cast(Table, Client.__table__), "external_id",
                                   {v.client_external_id for v in visits})
            rows = [{"employee_id": employees[v.employee_login], "month": month,
                     "client_id": clients[v.client_external_id], "rank": v.rank,
                     "reasons": [{"code": r.code.value, "text": r.text} for r in v.reasons],
                     "source": "built", "created_at": now} for v in visits]
            statement = insert_for(dialect_name(session), _PLANNED).on_conflict_do_nothing(
                index_elements=[_PLANNED.c.employee_id, _PLANNED.c.month, _PLANNED.c.client_id]
            ).returning(_PLANNED.c.id)
            inserted = len((await session.execute(statement, rows)).all())  # RETURNING: the rows really inserted
            return Counts(new=inserted, unchanged=len(rows) - inserted)
