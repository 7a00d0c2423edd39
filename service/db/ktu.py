"""Reads and writes of the КТУ sheet (issue 16, item 4; docs/ktu.md): the month's data for everyone at once,
the head's entries and the sheet's versions under a per-person-month lock.

Reads take the whole department's month in one GROUP BY per source (monthly plans, wrapped-up calls,
visits, business events, entries, versions): the benchmark runs 1,000 employees over 10M calls, so
never a query per person. Writes go through `locked`: every change of one person-month first makes
sure its version 1 row exists (INSERT … ON CONFLICT DO NOTHING) and locks it (SELECT … FOR UPDATE on
PostgreSQL; on SQLite that INSERT already takes the database's single write lock), so two heads
approving at once make one approval, and an entry is never written beside an approval that missed it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, and_, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.days import day_bounds
from service.db.engine import SessionMaker
from service.db.figures_queries import call_ids
from service.db.models import BusinessEvent, Call, ClosedMonth, Expert, MonthlyPlan, Visit, WrapUp
from service.db.models_ktu import KtuEntry, KtuVersion
from service.db.upsert import dialect_name, insert_for
from service.figures.model import Period, PeriodKind
from service.month.kinds import month_after

ROLES = ("expert", "pm")
_VERSIONS = cast(Table, KtuVersion.__table__)
_CLOSED = cast(Table, ClosedMonth.__table__)
# The facts of the plans (docs/ktu.md «Facts»): events of these kinds, by the employee named on them.
EVENT_FACTS = {"seminar_sold": "seminar_sales", "gk_subscription": "gk_subscriptions"}
TOPIC_FACTS = ("training", "st_invitations")  # counted from wrapped-up calls and visits by topic
# A refusal is a contact for the figures (SPEC-NOTES), but nobody was trained or invited on it.
CONTACT_MADE = "contact_made"
VISIT_DONE = "done"


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    login: str
    full_name: str
    role: str  # expert | pm (other roles have no sheet)
    active: bool = True


@dataclass(frozen=True, slots=True)
class StoredEntry:
    employee_id: int
    component: str
    value: Decimal
    reason: str
    author: str
    entered_at: datetime


@dataclass(frozen=True, slots=True)
class StoredVersion:
    id: int
    employee_id: int
    number: int
    role: str
    state: str  # draft | approved
    author: str
    created_at: datetime
    reason: str | None
    approved_by: str | None
    approved_at: datetime | None
    sheet: dict[str, Any] | None  # the frozen sheet of an approved version


@dataclass(frozen=True, slots=True)
class MonthData:
    """Everyone's month: imported plans and values (kind → value), facts of the plans (kind → count)."""

    plans: dict[int, dict[str, Decimal]]
    facts: dict[int, dict[str, int]]


@dataclass(frozen=True, slots=True)
class Locked:
    """A person-month held for a change: the transaction's session, its versions (oldest first), the month closed."""

    session: AsyncSession
    versions: list[StoredVersion]
    closed: bool


class KtuRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def people(self) -> list[Person]:
        """The active Experts and PMs, Experts first, by name: whose sheets the month has."""
        query = (_people().where(Expert.role.in_(ROLES), Expert.active)
                 .order_by(case((Expert.role == "expert", 0), else_=1), Expert.full_name, Expert.login))
        async with self._sessions() as session:
            return [Person(*row) for row in await session.execute(query)]

    async def person(self, login: str) -> Person | None:
        async with self._sessions() as session:
            row = (await session.execute(_people().where(Expert.login == login))).first()
        return Person(*row) if row is not None else None

    async def month_data(self, month: date, tz: ZoneInfo, topics: Mapping[str, Sequence[str]],
                         employee_ids: Collection[int] | None = None,
                         session: AsyncSession | None = None) -> MonthData:
        """Plans and facts of `month` (its 1st) for everyone, or for `employee_ids`; `topics`: fact kind →
        the wrap-up and visit topics that count for it (ktu.fact_topics)."""
        async with _reading(self._sessions, session) as s:
            plans = await _plans(s, month, employee_ids)
            facts: dict[int, dict[str, int]] = {}
            for source in (await _call_facts(s, month, tz, topics, employee_ids),
                           await _visit_facts(s, month, topics, employee_ids),
                           await _event_facts(s, month, employee_ids)):
                for employee_id, kind, n in source:
                    per = facts.setdefault(employee_id, {})
                    per[kind] = per.get(kind, 0) + n
        return MonthData(plans, facts)

    async def entries(self, month: date, employee_ids: Collection[int] | None = None,
                      session: AsyncSession | None = None) -> dict[int, dict[str, StoredEntry]]:
        """The latest entry per person and component (the ones that count)."""
        latest: dict[int, dict[str, StoredEntry]] = {}
        for entry in await self.entry_history(month, employee_ids, session):
            latest.setdefault(entry.employee_id, {})[entry.component] = entry
        return latest

    async def entry_history(self, month: date, employee_ids: Collection[int] | None = None,
                            session: AsyncSession | None = None) -> list[StoredEntry]:
        """Every entry of the month, oldest first (the history the sheet page lists)."""
        e = KtuEntry
        query = (select(e.employee_id, e.component, e.value, e.reason, e.author, e.entered_at)
                 .where(e.month == month).order_by(e.id))
        if employee_ids is not None:
            query = query.where(e.employee_id.in_(list(employee_ids)))
        async with _reading(self._sessions, session) as s:
            return [StoredEntry(i, c, Decimal(v), r, a, t) for i, c, v, r, a, t in await s.execute(query)]

    async def versions(self, month: date, employee_ids: Collection[int] | None = None,
                       session: AsyncSession | None = None) -> dict[int, list[StoredVersion]]:
        """Each person's versions of the month, oldest first."""
        query = _versions_query(month)
        if employee_ids is not None:
            query = query.where(KtuVersion.employee_id.in_(list(employee_ids)))
        out: dict[int, list[StoredVersion]] = {}
        async with _reading(self._sessions, session) as s:
            for row in await s.execute(query):
                out.setdefault(row.employee_id, []).append(_version(row))
        return out

    async def is_closed(self, month: date, session: AsyncSession | None = None) -> bool:
        async with _reading(self._sessions, session) as s:
            return await s.scalar(select(ClosedMonth.month).where(ClosedMonth.month == month)) is not None

    @asynccontextmanager
    async def locked(self, person: Person, month: date, author: str, now: datetime) -> AsyncIterator[Locked]:
        """One transaction holding the person-month: commits when the block ends, rolls back on an error."""
        async with self._sessions.begin() as session:
            first = {"employee_id": person.id, "month": month, "number": 1, "role": person.role,
                     "state": "draft", "author": author, "created_at": now}
            await session.execute(insert_for(dialect_name(session), _VERSIONS).values(first).on_conflict_do_nothing(
                index_elements=["employee_id", "month", "number"]))
            await session.execute(select(KtuVersion.id).where(
                KtuVersion.employee_id == person.id, KtuVersion.month == month, KtuVersion.number == 1)
                .with_for_update())
            versions = (await self.versions(month, [person.id], session)).get(person.id, [])
            yield Locked(session, versions, await self.is_closed(month, session))

    @staticmethod
    async def add_entry(lock: Locked, person: Person, month: date, component: str, value: Decimal, reason: str,
                        author_id: int | None, author: str, now: datetime) -> None:
        await lock.session.execute(insert(KtuEntry).values(
            employee_id=person.id, month=month, component=component, value=value, reason=reason,
            author_id=author_id, author=author, entered_at=now))

    @staticmethod
    async def approve(lock: Locked, version_id: int, by: str, now: datetime, sheet: dict[str, Any]) -> bool:
        """The draft approved with its frozen sheet; False when it was not a draft (nothing written)."""
        result = await lock.session.execute(
            update(KtuVersion).where(KtuVersion.id == version_id, KtuVersion.state == "draft")
            .values(state="approved", approved_by=by, approved_at=now, sheet=sheet)
            .returning(KtuVersion.id))
        return result.first() is not None

    @staticmethod
    async def add_version(lock: Locked, person: Person, month: date, number: int, role: str, author: str,
                          now: datetime, reason: str) -> None:
        await lock.session.execute(insert(KtuVersion).values(
            employee_id=person.id, month=month, number=number, role=role, state="draft", author=author,
            created_at=now, reason=reason))

    async def close_month(self, month: date, closed_by: int | None, now: datetime,
                          people: Sequence[Person]) -> list[Person]:
        """Close the month when every one of `people` has an approved latest version, and return [];
        otherwise write nothing and return those still without one. A month closed already stays so."""
        try:
            async with self._sessions.begin() as session:
                # The write first: on SQLite it takes the write lock, so no entry or version slips in between.
                statement = insert_for(dialect_name(session), _CLOSED).values(
                    month=month, closed_at=now, closed_by=closed_by).on_conflict_do_nothing(index_elements=["month"])
                await session.execute(statement)
                locked = await session.execute(_versions_query(month).with_for_update())
                latest = {row.employee_id: row.state for row in locked}  # ordered by number: the last wins
                pending = [p for p in people if latest.get(p.id) != "approved"]
                if pending:
                    raise _NotReady(pending)
        except _NotReady as e:  # raised to roll the closing back
            return e.people
        return []


class _NotReady(Exception):
    def __init__(self, people: list[Person]) -> None:
        super().__init__("sheets not approved")
        self.people = people


def _people() -> Select[*tuple[Any, ...]]:
    return select(Expert.id, Expert.login, Expert.full_name, Expert.role, Expert.active)


def _versions_query(month: date) -> Select[*tuple[Any, ...]]:
    v = KtuVersion
    return (select(v.id, v.employee_id, v.number, v.role, v.state, v.author, v.created_at, v.reason,
                   v.approved_by, v.approved_at, v.sheet)
            .where(v.month == month).order_by(v.employee_id, v.number))


def _version(row: Any) -> StoredVersion:
    return StoredVersion(row.id, row.employee_id, row.number, row.role, row.state, row.author, row.created_at,
                         row.reason, row.approved_by, row.approved_at, row.sheet)


@asynccontextmanager
async def _reading(sessions: SessionMaker, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
    """The caller's session (inside its lock), or a short one of our own."""
    if session is not None:
        yield session
        return
    async with sessions() as own:
        yield own


def _only(column: Any, employee_ids: Collection[int] | None) -> list[Any]:
    return [] if employee_ids is None else [column.in_(list(employee_ids))]


async def _plans(session: AsyncSession, month: date, employee_ids: Collection[int] | None
                 ) -> dict[int, dict[str, Decimal]]:
    query = (select(MonthlyPlan.employee_id, MonthlyPlan.kind, MonthlyPlan.value)
             .where(MonthlyPlan.month == month, *_only(MonthlyPlan.employee_id, employee_ids)))
    plans: dict[int, dict[str, Decimal]] = {}
    for employee_id, kind, value in await session.execute(query):
        plans.setdefault(employee_id, {})[kind] = Decimal(value)
    return plans


def _topic_sums(topic: Any, topics: Mapping[str, Sequence[str]]) -> list[Any]:
    """One count per fact kind (a topic in both lists counts for both)."""
    return [func.sum(case((topic.in_(list(topics[kind])), 1), else_=0)) for kind in TOPIC_FACTS]


def _by_kind(rows: Sequence[Any]) -> list[tuple[int, str, int]]:
    return [(row[0], kind, int(n or 0)) for row in rows for kind, n in zip(TOPIC_FACTS, row[1:], strict=True)]


async def _call_facts(session: AsyncSession, month: date, tz: ZoneInfo, topics: Mapping[str, Sequence[str]],
                      employee_ids: Collection[int] | None) -> list[tuple[int, str, int]]:
    """Calls the owner wrapped up as «контакт состоялся» with a counted topic, in the month's
    organisation-time days (the figures' day of a call)."""
    after = month_after(month)
    start, end = day_bounds(month, tz)[0], day_bounds(after, tz)[0]
    ids = await call_ids(session, Period(PeriodKind.MONTH, month, date.fromordinal(after.toordinal() - 1)), tz)
    every = sorted({t for kind in TOPIC_FACTS for t in topics[kind]})
    # The id bounds let the database read only the month's wrap-ups (as the figures do).
    joined = and_(WrapUp.call_id == Call.id, WrapUp.call_id.between(*ids))
    query = (select(Call.expert_id, *_topic_sums(WrapUp.topic, topics)).select_from(Call).join(WrapUp, joined)
             .where(Call.started_at >= start, Call.started_at < end, Call.expert_id.is_not(None),
                    WrapUp.result == CONTACT_MADE, WrapUp.topic.in_(every), *_only(Call.expert_id, employee_ids))
             .group_by(Call.expert_id))
    return _by_kind((await session.execute(query)).all())


async def _visit_facts(session: AsyncSession, month: date, topics: Mapping[str, Sequence[str]],
                       employee_ids: Collection[int] | None) -> list[tuple[int, str, int]]:
    """Visits that took place (a visit's day is already the organisation's calendar day)."""
    every = sorted({t for kind in TOPIC_FACTS for t in topics[kind]})
    query = (select(Visit.employee_id, *_topic_sums(Visit.topic, topics))
             .where(Visit.day >= month, Visit.day < month_after(month), Visit.result == VISIT_DONE,
                    Visit.topic.in_(every), *_only(Visit.employee_id, employee_ids))
             .group_by(Visit.employee_id))
    return _by_kind((await session.execute(query)).all())


async def _event_facts(session: AsyncSession, month: date, employee_ids: Collection[int] | None
                       ) -> list[tuple[int, str, int]]:
    e = BusinessEvent
    query = (select(e.employee_id, e.kind, func.count())
             .where(e.occurred_on >= month, e.occurred_on < month_after(month), e.kind.in_(list(EVENT_FACTS)),
                    e.employee_id.is_not(None), *_only(e.employee_id, employee_ids))
             .group_by(e.employee_id, e.kind))
    rows = await session.execute(query)  # employee_id IS NOT NULL above
    return [(employee_id, EVENT_FACTS[kind], int(n)) for employee_id, kind, n in rows if employee_id is not None]
