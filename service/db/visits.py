"""Reads and writes of the personal managers' visits (issue 16, item 1; service/db/models_visits.py).

A visit is written by its natural key (employee, client, day, planned): a new key is inserted, a
known one updated only when something differs, so the same import twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.bulk import chunks, ids_by, session_scope
from service.db.engine import SessionMaker
from service.db.models import Call, Client, Expert, Visit
from service.db.records import Counts
from service.errors import UnknownClientError, UnknownExpertError
from service.visits.rules import VisitRecord, VisitResult

_CLIENTS = cast(Table, Client.__table__)
_EXPERTS = cast(Table, Expert.__table__)
_BATCH = 1000  # four key values each in the IN list of existing rows
_VALUES = ("contacts_met", "result", "topic", "comment", "source")
Key = tuple[int, int, date, bool]


@dataclass(frozen=True, slots=True)
class VisitRow:
    """A stored visit with its client's code and name, for the page."""

    id: int
    day: date
    planned: bool
    result: str
    client_external_id: str
    client_name: str
    contacts_met: str | None
    topic: str | None
    comment: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    login: str
    full_name: str


class VisitsRepository:
    """A method given `session` works in the caller's transaction; otherwise in its own."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def upsert_visits(self, records: Sequence[VisitRecord], source: str, now: datetime,
                            session: AsyncSession | None = None) -> Counts:
        """Write the visits by their key (the same key twice: the later row counts); returns the counts."""
        counts = Counts()
        async with session_scope(self._sessions, session) as s:
            for chunk in chunks(records, _BATCH):
                employees = await _ids(s, _EXPERTS, "login", {r.employee_login for r in chunk},
                                       UnknownExpertError, "нет сотрудника")
                clients = await _ids(s, _CLIENTS, "external_id", {r.client_external_id for r in chunk},
                                     UnknownClientError, "нет клиента")
                wanted = {(employees[r.employee_login], clients[r.client_external_id], r.day, r.planned):
                          _values(r, source) for r in chunk}
                counts += Counts(unchanged=len(chunk) - len(wanted))
                counts += await _write(s, wanted, now)
        return counts

    async def record(self, employee_id: int, client_id: int, record: VisitRecord, now: datetime) -> bool:
        """The /visits form's visit; True when it is new, False when it updated the same key."""
        async with self._sessions.begin() as session:
            counts = await _write(session, {(employee_id, client_id, record.day, record.planned):
                                            _values(record, "web")}, now)
        return counts.new == 1

    async def month_visits(self, employee_id: int, first: date, after: date) -> list[VisitRow]:
        """Her visits on days first..after (excluded), newest first."""
        query = (select(Visit.id, Visit.day, Visit.planned, Visit.result, Client.external_id, Client.name,
                        Visit.contacts_met, Visit.topic, Visit.comment, Visit.source)
                 .join(Client, Client.id == Visit.client_id)
                 .where(Visit.employee_id == employee_id, Visit.day >= first, Visit.day < after)
                 .order_by(Visit.day.desc(), Visit.id.desc()))
        async with self._sessions() as session:
            return [VisitRow(*cast(tuple[Any, ...], row)) for row in await session.execute(query)]

    async def done_counts(self, employee_ids: Collection[int], first: date,
                          after: date) -> dict[int, tuple[int, int]]:
        """employee id → (planned, unplanned) visits that took place on days first..after (excluded)."""
        query = (select(Visit.employee_id, Visit.planned, func.count())
                 .where(Visit.employee_id.in_(list(employee_ids)), Visit.day >= first, Visit.day < after,
                        Visit.result == VisitResult.DONE.value)
                 .group_by(Visit.employee_id, Visit.planned))
        found: dict[int, tuple[int, int]] = {}
        async with self._sessions() as session:
            for employee_id, planned, count in await session.execute(query):
                done, other = found.get(employee_id, (0, 0))
                found[employee_id] = (count, other) if planned else (done, count)
        return found

    async def call_counts(self, employee_ids: Collection[int], start: datetime, end: datetime) -> dict[int, int]:
        """employee id → calls she owns in the ledger that started in [start, end) (UTC)."""
        query = (select(Call.expert_id, func.count())
                 .where(Call.expert_id.in_(list(employee_ids)), Call.started_at >= start, Call.started_at < end)
                 .group_by(Call.expert_id))
        async with self._sessions() as session:
            return {expert_id: count for expert_id, count in await session.execute(query) if expert_id is not None}

    async def portfolio(self, employee_id: int) -> list[tuple[int, str, str]]:
        """Her clients (id, code, name) by name: whom the form lets her choose."""
        query = (select(Client.id, Client.external_id, Client.name).where(Client.expert_id == employee_id)
                 .order_by(Client.name, Client.external_id))
        async with self._sessions() as session:
            return [(client_id, code, name) for client_id, code, name in await session.execute(query)]

    async def managers(self) -> list[Person]:
        """The active ПМ по ДС by name."""
        query = (select(Expert.id, Expert.login, Expert.full_name).where(Expert.role == "pm", Expert.active)
                 .order_by(Expert.full_name, Expert.login))
        async with self._sessions() as session:
            return [Person(*row) for row in await session.execute(query)]

    async def roles(self, session: AsyncSession | None = None) -> dict[str, str]:
        """login → role of every user (the import refuses visits of anyone but a PM)."""
        async with session_scope(self._sessions, session) as s:
            return {login: role for login, role in await s.execute(select(Expert.login, Expert.role))}


def _values(record: VisitRecord, source: str) -> dict[str, Any]:
    return {"contacts_met": record.contacts_met or None, "result": record.result, "topic": record.topic or None,
            "comment": record.comment or None, "source": source}


async def _write(session: AsyncSession, wanted: dict[Key, dict[str, Any]], now: datetime) -> Counts:
    keys = list(wanted)
    existing = {(e, c, d, p): (visit_id, dict(zip(_VALUES, rest, strict=True)))
                for visit_id, e, c, d, p, *rest in await session.execute(
                    select(Visit.id, Visit.employee_id, Visit.client_id, Visit.day, Visit.planned,
                           *(getattr(Visit, name) for name in _VALUES))
                    .where(tuple_(Visit.employee_id, Visit.client_id, Visit.day, Visit.planned).in_(keys)))}
    new = [{"employee_id": e, "client_id": c, "day": d, "planned": p, **values, "created_at": now}
           for (e, c, d, p), values in wanted.items() if (e, c, d, p) not in existing]
    changed = [{"id": existing[key][0], **values} for key, values in wanted.items()
               if key in existing and _differs(existing[key][1], values)]
    if new:
        await session.execute(insert(Visit), new)
    if changed:
        await session.execute(update(Visit), changed)
    return Counts(new=len(new), updated=len(changed), unchanged=len(wanted) - len(new) - len(changed))


def _differs(stored: dict[str, Any], wanted: dict[str, Any]) -> bool:
    # The source alone does not make a change: the same visit imported after it was typed in is the same visit.
    return any(stored[name] != wanted[name] for name in _VALUES if name != "source")


async def _ids(session: AsyncSession, table: Table, key: str, values: set[str], error: type[Exception],
               what: str) -> dict[str, int]:
    ids = await ids_by(session, table, key, values)
    unknown = sorted(values - ids.keys())
    if unknown:
        raise error(f"{what} " + ", ".join(f"«{value}»" for value in unknown[:10]))
    return ids
