"""What the monthly reports read (issue 16, item 3): every person's facts over a period, at once.

One query per source for the whole department (the benchmark runs 1,000 employees over 10M calls
and 1M events): the control figures' day aggregates (the summary the figures page keeps), topics
per Expert from the same summary, the portfolio today, visits, the PM's calls, the imported visit
plans and the business events. The rows are turned into reports by service/month/report.py.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, distinct, func, null, select, text
from sqlalchemy.orm import aliased

from service.db.engine import SessionMaker
from service.db.figures import FiguresRepository
from service.db.figures_queries import call_ids, counts_per_expert_day, tuned, utc_range
from service.db.figures_summary import days_span
from service.db.models import Client, ClientContact, Expert
from service.db.models_figures import FiguresCount
from service.db.models_month import BusinessEvent, MonthlyPlan
from service.db.visits import VisitsRepository
from service.figures.freshness import stored_and_live
from service.figures.model import Period, PeriodKind, Scope, ScopeKind
from service.month.report import DEBT_ACTIVE, DEBT_DISCONNECTED, CallFacts, EventFacts, PersonFacts

ROLES = ("expert", "pm")
DISCONNECTED, RESTORED, DEBT = "client_disconnected", "client_restored", "debt_collected"


@dataclass(frozen=True, slots=True)
class Employee:
    id: int
    login: str
    full_name: str
    role: str  # expert | pm
    extension: str | None


@dataclass(frozen=True, slots=True)
class MonthFacts:
    """Every person's facts over the period, and the department's events (a client counted once)."""

    people: dict[int, PersonFacts]
    department_events: dict[str, EventFacts]


def period_of(first_month: date, last_month: date) -> Period:
    """The months first..last (their 1sts) as organisation-time days."""
    after = date(last_month.year + last_month.month // 12, last_month.month % 12 + 1, 1)
    return Period(PeriodKind.MONTH, first_month, after - timedelta(days=1))


class MonthReportRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions
        self._figures = FiguresRepository(sessions)
        self._visits = VisitsRepository(sessions)

    async def people(self, logins: Collection[str] | None = None) -> list[Employee]:
        """The active Experts and PMs (the report's columns), Experts first, by name."""
        query = (select(Expert.id, Expert.login, Expert.full_name, Expert.role, Expert.extension)
                 .where(Expert.role.in_(ROLES), Expert.active)
                 .order_by(case((Expert.role == "expert", 0), else_=1), Expert.full_name, Expert.login))
        if logins is not None:
            query = query.where(Expert.login.in_(list(logins)))
        async with self._sessions() as session:
            return [Employee(*row) for row in await session.execute(query)]

    async def facts(self, people: Sequence[Employee], period: Period, tz: ZoneInfo, now: datetime) -> MonthFacts:
        ids = [p.id for p in people]
        start, end = utc_range(period, tz)
        after = period.last + timedelta(days=1)
        # Every read at once, each on its own connection (bench/month.py: ~170 ms less at 1,000 people).
        (calls, topics), (portfolio, visits, pm_calls, plans, events, department) = await asyncio.gather(
            self._expert_calls(period, tz, now),
            asyncio.gather(self._portfolio(ids), self._visits.done_counts(ids, period.first, after),
                           self._visits.call_counts(ids, start, end), self._visit_plans(ids, period),
                           self._events(period, by_employee=True), self._events(period, by_employee=False)))
        months = (period.last.year - period.first.year) * 12 + period.last.month - period.first.month + 1
        facts = {}
        for i in ids:
            plan, plan_months = plans.get(i, (None, 0))
            gap = (f"план визитов загружен за {plan_months} из {months} мес. периода"
                   if 0 < plan_months < months else None)
            clients, users = portfolio.get(i, (0, 0))
            planned_done, unplanned_done = visits.get(i, (0, 0))
            facts[i] = PersonFacts(
                clients=clients, users=users, calls=calls.get(i, CallFacts()), topics=topics.get(i, {}),
                visits_planned_plan=plan if plan_months == months else None, visits_plan_gap=gap,
                visits_planned_done=planned_done,
                visits_unplanned_done=unplanned_done, pm_calls=pm_calls.get(i, 0), events=events.get(i, {}))
        return MonthFacts(facts, department.get(None, {}))

    async def _expert_calls(self, period: Period, tz: ZoneInfo, now: datetime) -> tuple[
            dict[int, CallFacts], dict[int, dict[str | None, int]]]:
        """The control figures' counts and the topics, per Expert (the figures' own definitions)."""
        aggregates, _, _ = await self._figures.figures(Scope(ScopeKind.DEPARTMENT), period, tz, now)
        calls: dict[int, CallFacts] = {}
        for a in aggregates:
            calls[a.expert_id] = calls.get(a.expert_id, CallFacts()) + CallFacts(
                a.planned, a.calls, a.unplanned, a.contacts, a.productive, a.logged_in, a.guessed)
        return calls, await self._topics(period, tz, now)

    async def _topics(self, period: Period, tz: ZoneInfo, now: datetime) -> dict[int, dict[str | None, int]]:
        """Wrapped-up calls by topic per Expert: the summary's days (refreshed by _expert_calls)
        and today from scratch, as the figures page reads them."""
        stored, live = stored_and_live(period.first, period.last, now.astimezone(tz).date())
        counts: dict[int, Counter[str | None]] = {}
        async with self._sessions() as session:
            rows: list[Any] = []
            if stored:
                fc = FiguresCount
                rows += (await session.execute(
                    select(fc.expert_id, fc.key, func.sum(fc.n)).where(fc.kind == "topic", fc.day >= stored[0],
                                                                       fc.day <= stored[1])
                    .group_by(fc.expert_id, fc.key))).all()
            if live:
                span = days_span(*live)
                dialect = await tuned(session)
                sub = counts_per_expert_day(dialect, "topic", span, tz, await call_ids(session, span, tz)).subquery()
                rows += (await session.execute(select(sub.c.expert_id, sub.c.key, func.sum(sub.c.n))
                                               .group_by(sub.c.expert_id, sub.c.key))).all()
        for expert_id, key, n in rows:
            if expert_id is not None:
                counts.setdefault(expert_id, Counter())[key] += int(n)
        return {expert_id: dict(c) for expert_id, c in counts.items()}

    async def _portfolio(self, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """employee id → (clients, contacts marked «пользователь»), today."""
        clients_q = (select(Client.expert_id, func.count()).where(Client.expert_id.in_(ids))
                     .group_by(Client.expert_id))
        users_q = (select(Client.expert_id, func.count()).join(ClientContact, ClientContact.client_id == Client.id)
                   .where(Client.expert_id.in_(ids), ClientContact.is_user).group_by(Client.expert_id))
        async with self._sessions() as session:
            clients = {e: int(n) for e, n in await session.execute(clients_q) if e is not None}
            users = {e: int(n) for e, n in await session.execute(users_q) if e is not None}
        return {e: (n, users.get(e, 0)) for e, n in clients.items()}

    async def _visit_plans(self, ids: Sequence[int], period: Period) -> dict[int, tuple[Decimal, int]]:
        """employee id → (the imported planned-visit plans of the period's months summed, how many months)."""
        query = (select(MonthlyPlan.employee_id, func.sum(MonthlyPlan.value), func.count())
                 .where(MonthlyPlan.employee_id.in_(ids), MonthlyPlan.kind == "pm_visits_planned",
                        MonthlyPlan.month >= period.first, MonthlyPlan.month <= period.last)
                 .group_by(MonthlyPlan.employee_id))
        async with self._sessions() as session:
            return {e: (Decimal(v), int(n)) for e, v, n in await session.execute(query)}

    async def _events(self, period: Period, *, by_employee: bool) -> dict[int | None, dict[str, EventFacts]]:
        """(employee id or None for the department) → kind → facts; debt collected split by whether
        the client was disconnected on that day (its last disconnection not followed by a restoration)."""
        async with self._sessions() as session:
            if session.get_bind().dialect.name == "postgresql":
                # The correlated «last disconnection» subquery makes the planner's cost estimate high
                # enough to JIT-compile a query that runs in ~150 ms: compiling took 100–450 ms more.
                await session.execute(text("SET LOCAL jit = off"))
            rows = (await session.execute(_events_query(period, by_employee))).all()
        out: dict[int | None, dict[str, EventFacts]] = {}
        for employee_id, kind, disconnected, count, clients, amount in rows:
            key = kind if kind != DEBT else (DEBT_DISCONNECTED if disconnected else DEBT_ACTIVE)
            facts = EventFacts(int(count), int(clients), Decimal(amount or 0))
            per = out.setdefault(employee_id if by_employee else None, {})
            per[key] = per.get(key, EventFacts()) + facts
        return out


def client_disconnected_then() -> ColumnElement[bool]:
    """SQL, for a BusinessEvent row: its client was disconnected on its day (the client's last
    disconnection or restoration on or before that day is a disconnection)."""
    e = BusinessEvent
    state = aliased(BusinessEvent)
    last_state = (select(state.kind).where(state.client_id == e.client_id, state.kind.in_((DISCONNECTED, RESTORED)),
                                           state.occurred_on <= e.occurred_on)
                  .order_by(state.occurred_on.desc(), state.id.desc()).limit(1).correlate(e).scalar_subquery())
    # COALESCE: a client never disconnected has no such row, and NOT (NULL = …) would drop it too.
    return func.coalesce(last_state, "") == DISCONNECTED


def _events_query(period: Period, by_employee: bool) -> Select[Any]:
    e = BusinessEvent
    disconnected = case((e.kind == DEBT, client_disconnected_then()), else_=False).label("disconnected")
    who = e.employee_id if by_employee else null()
    rows = (select(who.label("employee_id"), e.kind, disconnected, e.client_id, e.amount_rub)
            .where(e.occurred_on >= period.first, e.occurred_on <= period.last))
    if by_employee:
        rows = rows.where(e.employee_id.is_not(None))
    sub = rows.subquery()
    return (select(sub.c.employee_id, sub.c.kind, sub.c.disconnected, func.count(),
                   func.count(distinct(sub.c.client_id)), func.sum(sub.c.amount_rub))
            .group_by(sub.c.employee_id, sub.c.kind, sub.c.disconnected))
