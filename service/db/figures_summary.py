"""The control figures' summary: per Expert and organisation-time day, refreshed by watermark.

Tables (migration 0009): `figures_daily` (one DayAggregate per Expert and day), `figures_counts`
(topic and outcome counts per Expert and day), `figures_days` (the days built), `figures_state`
(zone, watermark; its one row is the lock). Nothing outside this module writes them and no other
code has to call it: writers only set `updated_at`, as they already do on every write.

A refresh, in one transaction holding the state row: finds the days of the calls, wrap-ups and
planned items written since the watermark (minus a safety lag, service/figures/freshness.py),
rebuilds those of them that are built, builds the days the caller asks for that are not, and moves
the watermark to `now`. A day is always rebuilt whole from the ledger (delete, insert … select),
so a refresh is idempotent, a call that changed owner leaves no trace with the old one, and two
refreshes at once just run one after the other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Float, String, Table, delete, func, insert, literal, literal_column, select, union_all, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from service.days import day_bounds
from service.db.engine import SessionMaker
from service.db.figures_queries import (
    CALL_FIELDS,
    PLAN_FIELDS,
    as_date,
    call_ids,
    calls_per_expert_day,
    counts_per_expert_day,
    expert_filter,
    planned_per_expert_day,
    tuned,
)
from service.db.models import (
    Call,
    Expert,
    FiguresBuiltDay,
    FiguresCount,
    FiguresDaily,
    FiguresState,
    PlannedCall,
    WrapUp,
)
from service.db.upsert import insert_for
from service.figures.freshness import changes_since, days_of_hours, days_to_rebuild, runs
from service.figures.model import SECONDS_FIELDS, DayAggregate, Period, PeriodKind, Scope

_STATE = cast(Table, FiguresState.__table__)
_FIELDS = (*PLAN_FIELDS, *CALL_FIELDS)  # DayAggregate's fields after expert_id and day, in its order
COUNT_KINDS = ("topic", "outcome")


class FiguresSummary:
    """Refreshes and reads the summary; each method is one transaction."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def refresh(self, tz: ZoneInfo, now: datetime, period: Period | None = None) -> list[date]:
        """Bring the summary up to date (and build `period`'s days); returns the days (re)built."""
        async with self._sessions.begin() as session:
            dialect = await tuned(session)
            zone, watermark = await _lock(session, dialect, now)
            if watermark is not None and watermark > now:
                # A refresh with a later clock got the lock first (the minute job fired just before
                # midnight, a report just after): going back would un-build the day it just built.
                now = watermark
            if zone != tz.key:  # the days were another zone's: none of them is right any more
                await _wipe(session)
                watermark = None
            today = now.astimezone(tz).date()
            await _unbuild_from(session, today)  # stored before this version, or by a clock running ahead
            since = changes_since(watermark)
            touched = (await _touched_days(session, dialect, since, tz, today)
                       if since is not None else set())
            days = days_to_rebuild(period.days if period else [], await _built_days(session), touched, today)
            for first, last in runs(days):
                await _rebuild(session, dialect, days_span(first, last), tz, now)
            await session.execute(update(_STATE).where(_STATE.c.id == 1).values(tz=tz.key, watermark=now))
        return days

    async def keep_warm(self, tz: ZoneInfo, now: datetime) -> list[date]:
        """A refresh that also builds the organisation-time month of `now` up to yesterday (the scheduler's job)."""
        return await self.refresh(tz, now, Period.around(PeriodKind.MONTH, now.astimezone(tz).date()))

    async def day_aggregates(self, scope: Scope, period: Period) -> list[DayAggregate]:
        """The scope's Experts' stored days of the period, by Expert and day."""
        fd = FiguresDaily
        query = (expert_filter(select(fd.expert_id, fd.day, *[getattr(fd, f) for f in _FIELDS])
                               .join(Expert, Expert.id == fd.expert_id), scope)
                 .where(fd.day >= period.first, fd.day <= period.last).order_by(fd.expert_id, fd.day))
        async with self._sessions() as session:
            # On the Core connection: the ORM's row processing was a third of the read.
            rows = (await (await session.connection()).execute(query)).all()
        # Positional: a department's month is ~22,000 rows, and building each through a name
        # mapping cost more than the query itself. _FIELDS is DayAggregate's own field order.
        return [DayAggregate(expert_id, as_date(day), *values) for expert_id, day, *values in rows]

    async def distributions(self, scope: Scope,
                            period: Period) -> tuple[dict[str | None, int], dict[str | None, int]]:
        """(wrapped-up calls by topic, calls by outcome) of the scope's Experts over the period."""
        fc = FiguresCount
        query = (expert_filter(select(fc.kind, fc.key, func.sum(fc.n)).join(Expert, Expert.id == fc.expert_id),
                               scope)
                 .where(fc.day >= period.first, fc.day <= period.last).group_by(fc.kind, fc.key))
        out: dict[str, dict[str | None, int]] = {kind: {} for kind in COUNT_KINDS}
        async with self._sessions() as session:
            for kind, key, n in await session.execute(query):
                out[kind][key] = int(n)
        return out["topic"], out["outcome"]


async def forget_days(session: AsyncSession, first: date, last: date) -> None:
    """Days `first`..`last` are built again when a report next needs them (their inputs changed in a
    way `updated_at` does not show: the usage data's measurement)."""
    # The refresh's lock first: a refresh running now must not store these days from before the change.
    await session.execute(update(_STATE).where(_STATE.c.id == 1).values(refreshed_at=_STATE.c.refreshed_at))
    for model in (FiguresDaily, FiguresCount, FiguresBuiltDay):
        await session.execute(delete(model).where(model.day >= first, model.day <= last))


def days_span(first: date, last: date) -> Period:
    """Days [first, last] as a Period (the queries take one; its kind is never shown)."""
    return Period(PeriodKind.DAY, first, last)


async def _lock(session: AsyncSession, dialect: str, now: datetime) -> tuple[str | None, datetime | None]:
    """(zone, watermark), holding the state row until the transaction ends.

    A write comes first on purpose: PostgreSQL locks the row, SQLite takes its write lock, so a
    second refresh waits here and then reads the first one's watermark, never an older one.
    """
    lock = update(_STATE).where(_STATE.c.id == 1).values(refreshed_at=now).returning(_STATE.c.tz, _STATE.c.watermark)
    row = (await session.execute(lock)).first()
    if row is None:  # the migration's row is gone (a hand-emptied table): start over
        await session.execute(insert_for(dialect, _STATE).values(id=1).on_conflict_do_nothing(index_elements=["id"]))
        row = (await session.execute(lock)).one()
    return row.tz, row.watermark


async def _wipe(session: AsyncSession) -> None:
    for model in (FiguresDaily, FiguresCount, FiguresBuiltDay):
        await session.execute(delete(model))


async def _unbuild_from(session: AsyncSession, first: date) -> None:
    """Today and later are reported live: no stored copy of them may go stale."""
    for model in (FiguresDaily, FiguresCount, FiguresBuiltDay):
        await session.execute(delete(model).where(model.day >= first))


async def _built_days(session: AsyncSession) -> set[date]:
    return {as_date(day) for (day,) in await session.execute(select(FiguresBuiltDay.day))}


def _hour(dialect: str, column: Any) -> ColumnElement[Any]:
    """The hour `column` falls in: few distinct values however many rows changed."""
    if dialect == "postgresql":
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _as_utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def _touched_days(session: AsyncSession, dialect: str, since: datetime, tz: ZoneInfo,
                        today: date) -> set[date]:
    """Days before `today` of the calls, wrap-ups and planned items written after `since` (indexes on
    updated_at). Today's own writes, nearly all of them during the day, are not even looked at."""
    # An hour can straddle local midnight (days_of_hours): look from an hour before today begins.
    before = day_bounds(today, tz)[0] + timedelta(hours=1)
    call_hours = (select(_hour(dialect, Call.started_at))
                  .where(Call.updated_at > since, Call.started_at < before).distinct())
    wrapup_hours = (select(_hour(dialect, Call.started_at)).select_from(WrapUp)
                    .join(Call, Call.id == WrapUp.call_id)
                    .where(WrapUp.updated_at > since, Call.started_at < before).distinct())
    plan_days = (select(PlannedCall.plan_date)
                 .where(PlannedCall.updated_at > since, PlannedCall.plan_date < today).distinct())
    hours = [_as_utc(h) for query in (call_hours, wrapup_hours) for (h,) in await session.execute(query)]
    return days_of_hours(hours, tz) | {as_date(d) for (d,) in await session.execute(plan_days)}


async def _rebuild(session: AsyncSession, dialect: str, span: Period, tz: ZoneInfo, now: datetime) -> None:
    """The span's days recomputed from the ledger, the wrap-ups and the plan."""
    for model in (FiguresDaily, FiguresCount):
        await session.execute(delete(model).where(model.day >= span.first, model.day <= span.last))
    ids = await call_ids(session, span, tz)
    await session.execute(insert(FiguresDaily).from_select(["day", "expert_id", *_FIELDS],
                                                           _daily(dialect, span, tz, ids)))
    for kind in COUNT_KINDS:
        counts = counts_per_expert_day(dialect, kind, span, tz, ids).subquery()
        await session.execute(insert(FiguresCount).from_select(
            ["day", "expert_id", "kind", "key", "n"],
            select(counts.c.day, counts.c.expert_id, literal(kind, String), counts.c.key, counts.c.n)))
    await session.execute(delete(FiguresBuiltDay).where(FiguresBuiltDay.day >= span.first,
                                                       FiguresBuiltDay.day <= span.last))
    await session.execute(insert(FiguresBuiltDay), [{"day": d, "built_at": now} for d in span.days])


def _daily(dialect: str, span: Period, tz: ZoneInfo, ids: tuple[int, int]) -> Any:
    """One row per Expert and day: the call counts and the plan counts side by side."""
    calls = calls_per_expert_day(dialect, span, tz, ids).subquery()
    planned = planned_per_expert_day(span).subquery()

    def zero(name: str) -> ColumnElement[Any]:
        # Inlined: a bind parameter in a UNION's select list leaves PostgreSQL guessing its type.
        value = sql_cast(literal_column("0"), Float) if name in SECONDS_FIELDS else literal_column("0")
        return value.label(name)

    both = union_all(
        select(calls.c.expert_id, calls.c.day, *[zero(f) if f in PLAN_FIELDS else calls.c[f] for f in _FIELDS]),
        select(planned.c.expert_id, planned.c.day, *[planned.c[f] if f in PLAN_FIELDS else zero(f) for f in _FIELDS]),
    ).subquery()
    return (select(both.c.day, both.c.expert_id, *[func.sum(both.c[f]) for f in _FIELDS])
            .group_by(both.c.day, both.c.expert_id))
