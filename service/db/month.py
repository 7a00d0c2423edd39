"""Reads and writes of the department's month (issue 16): business events, monthly plans, closed months.

Events are inserted once by their row key (the same file twice adds nothing); plans are upserted by
(person, month, kind), and a plan for a closed month is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.bulk import chunks, ids_by, insert_absent, session_scope
from service.db.engine import SessionMaker
from service.db.models import BusinessEvent, Client, ClosedMonth, Expert, MonthlyPlan
from service.db.records import Counts
from service.db.upsert import dialect_name, insert_for
from service.errors import ClosedMonthError, UnknownClientError, UnknownExpertError
from service.month.kinds import first_of_month, month_after, month_label
from service.month.records import EventRecord, PlanRecord

_CLIENTS = cast(Table, Client.__table__)
_EXPERTS = cast(Table, Expert.__table__)
_EVENTS = cast(Table, BusinessEvent.__table__)
_CLOSED = cast(Table, ClosedMonth.__table__)
_BATCH = 2000  # events bind nine values each and return ids


@dataclass(frozen=True, slots=True)
class Event:
    """A stored business event."""

    id: int
    client_id: int
    kind: str
    occurred_on: date
    amount_rub: Decimal | None
    employee_id: int | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Plan:
    """A person's plan or value of one kind for one month."""

    employee_id: int
    month: date
    kind: str
    value: Decimal


class MonthRepository:
    """A method given `session` works in the caller's transaction; otherwise in its own."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def add_events(self, records: Sequence[EventRecord], now: datetime,
                         session: AsyncSession | None = None) -> Counts:
        """Insert the events not yet there (the same row = the same event); returns new/unchanged."""
        counts = Counts()
        async with session_scope(self._sessions, session) as s:
            for chunk in chunks(records, _BATCH):
                clients = await _ids(s, _CLIENTS, "external_id", {r.client_external_id for r in chunk},
                                     UnknownClientError, "нет клиента")
                employees = await _ids(s, _EXPERTS, "login", {r.employee_login for r in chunk if r.employee_login},
                                       UnknownExpertError, "нет сотрудника")
                rows = {r.row_key: _event_row(r, clients, employees, now) for r in chunk}
                counts += await insert_absent(s, _EVENTS, "row_key", list(rows.values()))
                counts += Counts(unchanged=len(chunk) - len(rows))  # the same row twice in one batch
        return counts

    async def upsert_plans(self, records: Sequence[PlanRecord], now: datetime,
                           session: AsyncSession | None = None) -> Counts:
        """Insert new plans, update those whose value differs, leave equal ones alone.

        ClosedMonthError, before anything is written, when one is for a closed month; the same key
        twice: the later row counts.
        """
        counts = Counts()
        async with session_scope(self._sessions, session) as s:
            await _refuse_closed(s, {first_of_month(r.month) for r in records})
            for chunk in chunks(records, _BATCH):
                employees = await _ids(s, _EXPERTS, "login", {r.employee_login for r in chunk},
                                       UnknownExpertError, "нет сотрудника")
                wanted = {(employees[r.employee_login], first_of_month(r.month), r.kind): r.value for r in chunk}
                counts += Counts(unchanged=len(chunk) - len(wanted))
                counts += await _write_plans(s, wanted, now)
        return counts

    async def events(self, first: date, last: date, employee_ids: Collection[int] | None = None) -> list[Event]:
        """The events of the months `first`..`last` (both included; any day of them), oldest first;
        of these employees only, when given (an event nobody is named on is then left out)."""
        query = (select(BusinessEvent.id, BusinessEvent.client_id, BusinessEvent.kind, BusinessEvent.occurred_on,
                        BusinessEvent.amount_rub, BusinessEvent.employee_id, BusinessEvent.note)
                 .where(BusinessEvent.occurred_on >= first_of_month(first),
                        BusinessEvent.occurred_on < month_after(first_of_month(last)))
                 .order_by(BusinessEvent.occurred_on, BusinessEvent.id))
        if employee_ids is not None:
            query = query.where(BusinessEvent.employee_id.in_(list(employee_ids)))
        async with self._sessions() as session:
            return [Event(*row) for row in await session.execute(query)]

    async def plans(self, month: date, employee_ids: Collection[int] | None = None) -> list[Plan]:
        """The plans and values of `month` (any day of it), by employee and kind."""
        query = (select(MonthlyPlan.employee_id, MonthlyPlan.month, MonthlyPlan.kind, MonthlyPlan.value)
                 .where(MonthlyPlan.month == first_of_month(month))
                 .order_by(MonthlyPlan.employee_id, MonthlyPlan.kind))
        if employee_ids is not None:
            query = query.where(MonthlyPlan.employee_id.in_(list(employee_ids)))
        async with self._sessions() as session:
            return [Plan(*row) for row in await session.execute(query)]

    async def close_month(self, month: date, closed_by: int | None, now: datetime) -> bool:
        """Close the month (any day of it): its plans no longer change. False if it was closed already."""
        async with self._sessions.begin() as session:
            statement = insert_for(dialect_name(session), _CLOSED).on_conflict_do_nothing(
                index_elements=[_CLOSED.c.month]).returning(_CLOSED.c.month)
            row = {"month": first_of_month(month), "closed_at": now, "closed_by": closed_by}
            return bool((await session.execute(statement, [row])).all())

    async def closed_months(self, session: AsyncSession | None = None) -> frozenset[date]:
        async with session_scope(self._sessions, session) as s:
            return frozenset(await s.scalars(select(ClosedMonth.month)))


async def _refuse_closed(session: AsyncSession, months: set[date]) -> None:
    if not months:
        return
    closed = sorted(await session.scalars(select(ClosedMonth.month).where(ClosedMonth.month.in_(months))))
    if closed:
        named = ", ".join(month_label(month) for month in closed)
        raise ClosedMonthError(f"месяц закрыт, его планы не меняются: {named}")


async def _write_plans(session: AsyncSession, wanted: dict[tuple[int, date, str], Decimal], now: datetime) -> Counts:
    keys = list(wanted)
    existing = {(employee, month, kind): (plan_id, value) for plan_id, employee, month, kind, value in
                await session.execute(select(MonthlyPlan.id, MonthlyPlan.employee_id, MonthlyPlan.month,
                                             MonthlyPlan.kind, MonthlyPlan.value)
                                      .where(tuple_(MonthlyPlan.employee_id, MonthlyPlan.month, MonthlyPlan.kind)
                                             .in_(keys)))}
    new = [{"employee_id": e, "month": m, "kind": k, "value": v, "imported_at": now}
           for (e, m, k), v in wanted.items() if (e, m, k) not in existing]
    changed = [{"id": existing[key][0], "value": value, "imported_at": now}
               for key, value in wanted.items() if key in existing and existing[key][1] != value]
    if new:
        await session.execute(insert(MonthlyPlan), new)
    if changed:
        await session.execute(update(MonthlyPlan), changed)
    return Counts(new=len(new), updated=len(changed), unchanged=len(wanted) - len(new) - len(changed))


def _event_row(record: EventRecord, clients: dict[str, int], employees: dict[str, int],
               now: datetime) -> dict[str, Any]:
    return {"client_id": clients[record.client_external_id], "kind": record.kind,
            "occurred_on": record.occurred_on, "amount_rub": record.amount_rub,
            "employee_id": employees[record.employee_login] if record.employee_login else None,
            "note": record.note, "imported_at": now, "row_key": record.row_key}


async def _ids(session: AsyncSession, table: Table, key: str, values: set[str], error: type[Exception],
               what: str) -> dict[str, int]:
    ids = await ids_by(session, table, key, values)
    unknown = sorted(values - ids.keys())
    if unknown:
        raise error(f"{what} " + ", ".join(f"«{value}»" for value in unknown[:10]))
    return ids
