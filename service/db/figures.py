"""Control-figure aggregates, grouped in the database by Expert and organisation-time day.

Calls are bucketed by the organisation-time date of `started_at` (SPEC-NOTES: day of a call). The
period is first narrowed to its UTC bounds (an index range on calls.started_at), then each call's
local date is computed: on PostgreSQL with `AT TIME ZONE` (tz database, DST-correct); SQLite knows
no zones, so each day's UTC bounds are computed in Python and the date is picked by a CASE over
them (right for any zone, DST included). Raw calls never come into Python.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Select, and_, case, cast, func, literal_column, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from scheduler.model import FINISHED_STATES, PlanState
from service.db.engine import SessionMaker
from service.db.models import Call, Expert, PlannedCall, WrapUp
from service.figures.compute import FigureTargets
from service.figures.errors import UnknownScope
from service.figures.model import DayAggregate, ExpertInfo, Period, Scope, ScopeKind
from service.figures.report import FiguresReport, build_report

_FINISHED = sorted(s.value for s in FINISHED_STATES)


def day_start_utc(day: date, tz: ZoneInfo) -> datetime:
    """UTC instant at which the organisation-time `day` begins."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def utc_range(period: Period, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return day_start_utc(period.first, tz), day_start_utc(period.last + timedelta(days=1), tz)


def local_day(dialect: str, column: Any, period: Period, tz: ZoneInfo) -> ColumnElement[Any]:
    """SQL for the organisation-time date of `column` (a UTC timestamp inside `period`)."""
    if dialect == "postgresql":
        # Inlined (not a bind parameter) so that GROUP BY repeats exactly the selected expression.
        # A fixed offset is much cheaper per row than a zone name; it is used only when the zone's
        # offset does not change within the period (no DST change: Moscow, always since 2014).
        offset = fixed_offset(period, tz)
        zone = literal_column(f"INTERVAL '{offset}'" if offset else _quoted(tz.key))
        return cast(func.timezone(zone, column), Date)
    days = period.days
    whens = [(column < day_start_utc(d + timedelta(days=1), tz), d.isoformat()) for d in days[:-1]]
    return case(*whens, else_=days[-1].isoformat()) if whens else literal_column(_quoted(days[0].isoformat()))


def fixed_offset(period: Period, tz: ZoneInfo) -> str | None:
    """'+03:00' when `tz` keeps one UTC offset over the whole period, else None."""
    bounds = [datetime.combine(d, time.min, tzinfo=tz) for d in [*period.days, period.last + timedelta(days=1)]]
    offsets = {b.utcoffset() for b in bounds}
    if len(offsets) != 1:
        return None
    minutes = int((offsets.pop() or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _quoted(value: str) -> str:
    if "'" in value:
        raise ValueError(f"unexpected quote in {value!r}")
    return f"'{value}'"


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


class FiguresRepository:
    """Reads for the control figures; every method groups in SQL."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def report(self, scope: Scope, period: Period, tz: ZoneInfo, now: datetime,
                     targets: FigureTargets) -> FiguresReport:
        """Everything the figures page and its XLSX show; the independent reads run side by side."""
        experts = await self.experts(scope)
        local_now = now.astimezone(tz)
        today = local_now.date()
        ids = await self.call_ids(period, tz)
        aggregates, topics, outcomes, due = await asyncio.gather(
            self.day_aggregates(scope, period, tz, ids), self.topics(scope, period, tz, ids),
            self.outcomes(scope, period, tz), self._pacing_if_today(scope, period, today, now))
        return build_report(scope, period, experts, aggregates, topics, outcomes, due, local_now.time(), targets)

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
        return [name for (name,) in rows]

    async def call_ids(self, period: Period, tz: ZoneInfo) -> CallIds:
        """The lowest and highest id of the period's calls.

        An exact bound for the wrap-ups to join (a wrap-up carries its call's id), which lets the
        database read only the wrap-ups of about that period instead of the whole history.
        """
        start, end = utc_range(period, tz)
        async with self._sessions() as session:
            # `id + 0`: PostgreSQL would otherwise walk the primary key from one end, filtering
            # by time, past every older call (9 s at 10,000,000 calls); this reads the period only.
            lo, hi = (await session.execute(select(func.min(Call.id + 0), func.max(Call.id + 0))
                                            .where(Call.started_at >= start, Call.started_at < end))).one()
        return (lo, hi) if lo is not None else (0, -1)

    async def day_aggregates(self, scope: Scope, period: Period, tz: ZoneInfo,
                             ids: CallIds | None = None) -> list[DayAggregate]:
        """One row per Expert and organisation-time day that had a planned item or a call."""
        ids = ids or await self.call_ids(period, tz)
        async with self._sessions() as session:
            dialect = await _tuned(session)
            calls = (await session.execute(_call_counts(dialect, scope, period, tz, ids))).all()
            planned = (await session.execute(_planned_counts(scope, period))).all()
        merged: dict[tuple[int, date], dict[str, Any]] = {}
        for row in calls:
            key = (row.expert_id, _as_date(row.day))
            merged[key] = {name: row._mapping[name] for name in _CALL_FIELDS}
        for row in planned:
            key = (row.expert_id, _as_date(row.day))
            merged.setdefault(key, {}).update(planned=row.planned, finished=row.finished)
        return [DayAggregate(expert_id, day, **_numbers(values)) for (expert_id, day), values in sorted(merged.items())]

    async def topics(self, scope: Scope, period: Period, tz: ZoneInfo,
                     ids: CallIds | None = None) -> dict[str | None, int]:
        """Wrapped-up calls by the wrap-up's topic (None: no topic given)."""
        start, end = utc_range(period, tz)
        ids = ids or await self.call_ids(period, tz)
        query = (select(WrapUp.topic, func.count()).select_from(Call).join(WrapUp, _wrapup_of_call(ids))
                 .where(Call.started_at >= start, Call.started_at < end, _of_scope(scope)).group_by(WrapUp.topic))
        async with self._sessions() as session:
            await _tuned(session)
            return {topic: count for topic, count in await session.execute(query)}

    async def outcomes(self, scope: Scope, period: Period, tz: ZoneInfo) -> dict[str | None, int]:
        """Calls by the PBX's outcome (None: the call is still up)."""
        start, end = utc_range(period, tz)
        query = (select(Call.outcome, func.count())
                 .where(Call.started_at >= start, Call.started_at < end, _of_scope(scope)).group_by(Call.outcome))
        async with self._sessions() as session:
            await _tuned(session)
            return {outcome: count for outcome, count in await session.execute(query)}

    async def pacing(self, scope: Scope, day: date, now: datetime) -> dict[int, tuple[int, int]]:
        """Expert id → (planned items of `day` whose slot is before `now`, items finished)."""
        live = PlannedCall.state != PlanState.CANCELLED.value
        query = (_scoped_planned(select(
            PlannedCall.expert_id,
            func.sum(case((and_(live, PlannedCall.slot < now), 1), else_=0)),
            func.sum(case((PlannedCall.state.in_(_FINISHED), 1), else_=0)),
        ), scope).where(PlannedCall.plan_date == day).group_by(PlannedCall.expert_id))
        async with self._sessions() as session:
            return {expert_id: (int(due or 0), int(done or 0))
                    for expert_id, due, done in await session.execute(query)}


CallIds = tuple[int, int]
# A month of a large department is ~420,000 joined rows: grouping them in memory instead of in
# temporary files (PostgreSQL's default work_mem is 4 MB) is most of the speed. Per transaction.
REPORT_WORK_MEM = "64MB"


async def _tuned(session: AsyncSession) -> str:
    """The session's dialect; on PostgreSQL, this transaction gets REPORT_WORK_MEM."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
        # asyncpg prepares statements; after five runs PostgreSQL may switch to a generic plan,
        # which cannot see how narrow the period's bounds are and scans far more (7 s instead of
        # 2 s at 10,000,000 calls). Planning each time costs about a millisecond.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    return dialect


def _wrapup_of_call(ids: CallIds) -> ColumnElement[bool]:
    return and_(WrapUp.call_id == Call.id, WrapUp.call_id.between(*ids))


_CALL_FIELDS = ("calls", "made", "unplanned", "wrapped", "contacts", "productive", "productive_talk_s", "logged_in")


def _numbers(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v or 0) if k == "productive_talk_s" else int(v or 0)) for k, v in values.items()}


def _of_scope(scope: Scope) -> ColumnElement[bool]:
    """Calls of the scope's Experts (the ledger knows an Expert by their phone's extension)."""
    return Call.expert_ext.in_(_expert_filter(select(Expert.extension), scope))


def _scoped_planned(query: Select[Any], scope: Scope) -> Select[Any]:
    return _expert_filter(query.join(Expert, Expert.id == PlannedCall.expert_id), scope)


def _expert_filter(query: Select[Any], scope: Scope) -> Select[Any]:
    if scope.kind is ScopeKind.EXPERT:
        return query.where(Expert.login == scope.name)
    query = query.where(Expert.role == "expert")
    return query.where(Expert.group_name == scope.name) if scope.kind is ScopeKind.GROUP else query


def _flag(condition: ColumnElement[bool], value: Any = 1) -> ColumnElement[Any]:
    return func.sum(case((condition, value), else_=0))


def _call_counts(dialect: str, scope: Scope, period: Period, tz: ZoneInfo, ids: CallIds) -> Select[Any]:
    """Counted per extension and day first (no join per call), then named by Expert."""
    start, end = utc_range(period, tz)
    # SPEC-NOTES: a refusal is a contact (not productive); a wrong number is not.
    contact = WrapUp.result.in_(("contact_made", "refused"))
    productive = and_(contact, WrapUp.productive == true())
    rows = (select(
        Call.expert_ext, local_day(dialect, Call.started_at, period, tz).label("day"),
        Call.direction, Call.outcome, Call.planned_call_id, Call.talk_s, WrapUp.id.label("wrapup_id"),
        contact.label("contact"), productive.label("productive"),
        and_(contact, WrapUp.logged_in == true()).label("logged_in"),
    ).select_from(Call).outerjoin(WrapUp, _wrapup_of_call(ids))
        .where(Call.started_at >= start, Call.started_at < end,
               # The department needs no per-call filter: the join with Experts below drops
               # supervisors' and unknown extensions after grouping, which is cheaper.
               *([] if scope.kind is ScopeKind.DEPARTMENT else [_of_scope(scope)]))).subquery()
    dialled = and_(rows.c.direction == "outbound", rows.c.outcome.is_not(None),
                   rows.c.outcome != "expert_no_answer")
    per_extension = select(
        rows.c.expert_ext, rows.c.day,
        func.count().label("calls"),
        _flag(dialled).label("made"),
        _flag(rows.c.planned_call_id.is_(None)).label("unplanned"),
        _flag(rows.c.wrapup_id.is_not(None)).label("wrapped"),
        _flag(rows.c.contact == true()).label("contacts"),
        _flag(rows.c.productive == true()).label("productive"),
        _flag(rows.c.productive == true(), rows.c.talk_s).label("productive_talk_s"),
        _flag(rows.c.logged_in == true()).label("logged_in"),
    ).group_by(rows.c.expert_ext, rows.c.day).subquery()
    counts = [per_extension.c[name] for name in _CALL_FIELDS]
    return _expert_filter(select(Expert.id.label("expert_id"), per_extension.c.day, *counts)
                          .join(Expert, Expert.extension == per_extension.c.expert_ext), scope)


def _planned_counts(scope: Scope, period: Period) -> Select[Any]:
    live = PlannedCall.state != PlanState.CANCELLED.value
    return (_scoped_planned(select(
        PlannedCall.expert_id.label("expert_id"), PlannedCall.plan_date.label("day"),
        _flag(live).label("planned"),
        _flag(PlannedCall.state.in_(_FINISHED)).label("finished"),
    ), scope).where(PlannedCall.plan_date >= period.first, PlannedCall.plan_date <= period.last)
        .group_by(PlannedCall.expert_id, PlannedCall.plan_date))
