"""Control figures from the database: the report reads the summary, kept fresh before each read.

`FiguresRepository.report` (the figures page and its XLSX) refreshes the summary
(service/db/figures_summary.py: per Expert and organisation-time day, rebuilt for the days written
to since the last refresh) and reads the period's ~22,000 rows (a department's month at 10,000,000
calls) instead of its ~440,000 calls. `day_aggregates`, `topics` and `outcomes` compute the same
from scratch, grouped in SQL (service/db/figures_queries.py): the definition the summary must
always equal, kept for tests and for comparison in bench/report.py. Raw calls never come into Python.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select, true

from scheduler.model import PlanState
from service.db.engine import SessionMaker
from service.db.expert_status import ExpertStatusRepository
from service.db.figures_queries import (
    CALL_FIELDS,
    FINISHED,
    CallIds,
    as_date,
    call_ids,
    calls_per_expert_day,
    counts_per_expert_day,
    expert_filter,
    numbers,
    planned_per_expert_day,
    tuned,
    utc_range,
)
from service.db.figures_summary import FiguresSummary, days_span
from service.db.funnel import FunnelRepository
from service.db.models import Call, Expert, PlannedCall, WrapUp
from service.desk.status import PauseTime
from service.figures.compute import FigureTargets
from service.figures.errors import UnknownScope
from service.figures.freshness import stored_and_live
from service.figures.funnel import funnel, funnels_by_expert
from service.figures.model import DayAggregate, ExpertInfo, Period, Scope, ScopeKind
from service.figures.report import FiguresReport, build_report
from service.figures.time_in_state import DayKey, pauses_by_day


class FiguresRepository:
    """Reads for the control figures; every method groups in SQL."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions
        self.summary = FiguresSummary(sessions)

    async def report(self, scope: Scope, period: Period, tz: ZoneInfo, now: datetime,
                     targets: FigureTargets) -> FiguresReport:
        """Everything the figures page and its XLSX show, from the freshly refreshed summary."""
        experts = await self.experts(scope)
        local_now = now.astimezone(tz)
        (aggregates, topics, outcomes), due, short = await asyncio.gather(
            self.figures(scope, period, tz, now), self._pacing_if_today(scope, period, local_now.date(), now),
            self.short_productive(scope, period, tz, targets.productive_min_talk_s))
        pauses = await self.pauses(experts, period, tz, now)
        report = build_report(scope, period, experts, aggregates, topics, outcomes, due, local_now.time(), targets,
                              short, pauses)
        return await self.with_transition(report, scope, experts, period, tz)

    async def with_transition(self, report: FiguresReport, scope: Scope, experts: Sequence[ExpertInfo],
                              period: Period, tz: ZoneInfo) -> FiguresReport:
        """The move to ДС (issue 15): the period's funnel (the scope's, and per Expert) and ДС now."""
        ids = None if scope.kind is ScopeKind.DEPARTMENT else [e.id for e in experts]
        repo = FunnelRepository(self._sessions)
        steps = await repo.steps(ids, *utc_range(period, tz))
        return dataclasses.replace(report, funnel=funnel(steps), funnel_lines=funnels_by_expert(steps, experts),
                                   portfolio=await repo.portfolio(ids))

    async def pauses(self, experts: Sequence[ExpertInfo], period: Period, tz: ZoneInfo,
                     now: datetime) -> dict[DayKey, PauseTime]:
        """The scope's Experts' pauses per day, from the status log (a few rows per Expert-day)."""
        start, end = utc_range(period, tz)
        entries = await ExpertStatusRepository(self._sessions).entries([e.id for e in experts], start, end)
        return pauses_by_day(entries, period.days, tz, now)

    async def short_productive(self, scope: Scope, period: Period, tz: ZoneInfo, threshold_s: float) -> int:
        """Wrap-ups marked productive whose call talked less than the threshold: saved before the rule
        (issue 13) and left as they were; the page shows how many beside the figure."""
        start, end = utc_range(period, tz)
        query = expert_filter(
            select(func.count()).select_from(WrapUp).join(Call, Call.id == WrapUp.call_id)
            .join(Expert, Expert.id == Call.expert_id), scope,
        ).where(WrapUp.productive == true(), Call.talk_s < threshold_s, Call.started_at >= start,
                Call.started_at < end)
        async with self._sessions() as session:
            return int(await session.scalar(query) or 0)

    async def figures(self, scope: Scope, period: Period, tz: ZoneInfo, now: datetime) -> tuple[
            list[DayAggregate], dict[str | None, int], dict[str | None, int]]:
        """(day aggregates, topics, outcomes): the days before today from the refreshed summary,
        today (and later: tomorrow's plan) from scratch — the same as from scratch throughout.

        The two parts run side by side, each on its own connections (two cores, or PostgreSQL's
        backends, work at once).
        """
        stored, live = stored_and_live(period.first, period.last, now.astimezone(tz).date())
        parts = await asyncio.gather(self._stored_part(scope, stored, tz, now), self._live_part(scope, live, tz))
        aggregates = sorted((a for part, _, _ in parts for a in part), key=lambda a: (a.expert_id, a.day))
        topics: Counter[str | None] = Counter()
        outcomes: Counter[str | None] = Counter()
        for _, part_topics, part_outcomes in parts:
            topics.update(part_topics)
            outcomes.update(part_outcomes)
        return aggregates, dict(topics), dict(outcomes)  # sorted: the from-scratch order

    async def _stored_part(self, scope: Scope, days: tuple[date, date] | None, tz: ZoneInfo,
                           now: datetime) -> tuple[list[DayAggregate], dict[str | None, int], dict[str | None, int]]:
        span = days_span(*days) if days else None
        await self.summary.refresh(tz, now, span)
        if span is None:
            return [], {}, {}
        aggregates, (topics, outcomes) = await asyncio.gather(
            self.summary.day_aggregates(scope, span), self.summary.distributions(scope, span))
        return aggregates, topics, outcomes

    async def _live_part(self, scope: Scope, days: tuple[date, date] | None,
                         tz: ZoneInfo) -> tuple[list[DayAggregate], dict[str | None, int], dict[str | None, int]]:
        if days is None:
            return [], {}, {}
        span = days_span(*days)
        ids = await self.call_ids(span, tz)
        aggregates, topics, outcomes = await asyncio.gather(
            self.day_aggregates(scope, span, tz, ids), self.topics(scope, span, tz, ids),
            self.outcomes(scope, span, tz))
        return aggregates, topics, outcomes

    async def _pacing_if_today(self, scope: Scope, period: Period, today: date,
                               now: datetime) -> dict[int, tuple[int, int]] | None:
        return await self.pacing(scope, today, now) if period.contains(today) else None

    async def experts(self, scope: Scope) -> list[ExpertInfo]:
        """The Experts (role expert) of a scope; UnknownScope when the group or login names nobody."""
        query = select(Expert.id, Expert.login, Expert.full_name, Expert.extension, Expert.group_name)
        if scope.kind is ScopeKind.EXPERT:
            query = query.where(Expert.login == scope.name)
        else:
            query = query.where(Expert.role == "expert")
        if scope.kind is ScopeKind.GROUP:
            query = query.where(Expert.group_name == scope.name)
        async with self._sessions() as session:
            rows = [ExpertInfo(*row) for row in await session.execute(query.order_by(Expert.full_name))]
        if not rows and scope.kind is ScopeKind.GROUP:
            raise UnknownScope(f"Нет группы «{scope.name}»")
        if not rows and scope.kind is ScopeKind.EXPERT:
            raise UnknownScope(f"Нет Эксперта с логином «{scope.name}»")
        return rows

    async def groups(self) -> list[str]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(Expert.group_name).where(Expert.role == "expert", Expert.group_name.is_not(None))
                .distinct().order_by(Expert.group_name))
        return [name for (name,) in rows if name is not None]  # never false (the WHERE): it narrows the type

    async def call_ids(self, period: Period, tz: ZoneInfo) -> CallIds:
        """The lowest and highest id of the period's calls (see figures_queries.call_ids)."""
        async with self._sessions() as session:
            return await call_ids(session, period, tz)

    async def day_aggregates(self, scope: Scope, period: Period, tz: ZoneInfo,
                             ids: CallIds | None = None, expert_id: int | None = None) -> list[DayAggregate]:
        """From scratch: one row per Expert and organisation-time day with a planned item or a call.

        `expert_id` (the scope's one Expert) narrows the reading itself, not only the result: the
        desk strip asks for one Expert's today on every desk page.
        """
        async with self._sessions() as session:
            dialect = await tuned(session)
            ids = ids or await call_ids(session, period, tz)
            calls_sub = calls_per_expert_day(dialect, period, tz, ids, expert_id).subquery()
            planned_sub = planned_per_expert_day(period, expert_id).subquery()
            calls = (await session.execute(_of_scope(calls_sub, scope))).all()
            planned = (await session.execute(_of_scope(planned_sub, scope))).all()
        merged: dict[tuple[int, date], dict[str, Any]] = {}
        for row in calls:
            merged[(row.expert_id, as_date(row.day))] = {name: row._mapping[name] for name in CALL_FIELDS}
        for row in planned:
            key = (row.expert_id, as_date(row.day))
            merged.setdefault(key, {}).update(planned=row.planned, finished=row.finished)
        return [DayAggregate(expert_id, day, **numbers(values)) for (expert_id, day), values in sorted(merged.items())]

    async def topics(self, scope: Scope, period: Period, tz: ZoneInfo,
                     ids: CallIds | None = None) -> dict[str | None, int]:
        """From scratch: wrapped-up calls by the wrap-up's topic (None: no topic given)."""
        return await self._counts("topic", scope, period, tz, ids)

    async def outcomes(self, scope: Scope, period: Period, tz: ZoneInfo) -> dict[str | None, int]:
        """From scratch: calls by the PBX's outcome (None: the call is still up)."""
        return await self._counts("outcome", scope, period, tz, None)

    async def _counts(self, kind: str, scope: Scope, period: Period, tz: ZoneInfo,
                      ids: CallIds | None) -> dict[str | None, int]:
        async with self._sessions() as session:
            dialect = await tuned(session)
            ids = ids or await call_ids(session, period, tz)
            sub = counts_per_expert_day(dialect, kind, period, tz, ids).subquery()
            query = expert_filter(select(sub.c.key, func.sum(sub.c.n)).join(Expert, Expert.id == sub.c.expert_id),
                                  scope).group_by(sub.c.key)
            return {key: int(n) for key, n in await session.execute(query)}

    async def pacing(self, scope: Scope, day: date, now: datetime) -> dict[int, tuple[int, int]]:
        """Expert id → (planned items of `day` whose slot is before `now`, items finished)."""
        live = PlannedCall.state != PlanState.CANCELLED.value
        query = (expert_filter(select(
            PlannedCall.expert_id,
            func.sum(case((and_(live, PlannedCall.slot < now), 1), else_=0)),
            func.sum(case((PlannedCall.state.in_(FINISHED), 1), else_=0)),
        ).join(Expert, Expert.id == PlannedCall.expert_id), scope)
            .where(PlannedCall.plan_date == day).group_by(PlannedCall.expert_id))
        async with self._sessions() as session:
            return {expert_id: (int(due or 0), int(done or 0))
                    for expert_id, due, done in await session.execute(query)}


def _of_scope(sub: Any, scope: Scope) -> Any:
    """Every column of a per-Expert-per-day subquery, for the scope's Experts only."""
    return expert_filter(select(*sub.c).join(Expert, Expert.id == sub.c.expert_id), scope)


