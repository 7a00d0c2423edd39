"""Experts and their absences: upserts by login, absences added once, listed by login; who is on the desk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.bulk import chunks, ids_by, session_scope, upsert_by_key
from service.db.engine import SessionMaker
from service.db.models import Expert, ExpertAbsence
from service.db.records import AbsenceRecord, Counts, ExpertRecord
from service.db.upsert import dialect_name, insert_for
from service.errors import UnknownExpertError

_EXPERTS = cast(Table, Expert.__table__)
_ABSENCES = cast(Table, ExpertAbsence.__table__)


@dataclass(frozen=True, slots=True)
class ExpertProfile:
    """An Expert as the desk, the team page and the board show them."""

    id: int
    login: str
    full_name: str
    extension: str | None
    daily_target: int | None


_PROFILE = (Expert.id, Expert.login, Expert.full_name, Expert.extension, Expert.daily_target)


class ExpertsRepository:
    """Experts by login; a method given `session` runs in the caller's transaction."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def upsert_experts(self, records: Sequence[ExpertRecord],
                             session: AsyncSession | None = None) -> Counts:
        """Create or update by login; only the imported columns are written."""
        counts = Counts()
        async with session_scope(self._sessions, session) as s:
            for chunk in chunks(records):
                counts += await upsert_by_key(s, _EXPERTS, "login", [r.row() for r in chunk])
        return counts

    async def expert_ids(self, session: AsyncSession | None = None) -> dict[str, int]:
        """login → id of every Expert (imports check references against it)."""
        async with session_scope(self._sessions, session) as s:
            return {login: expert_id for login, expert_id
                    in await s.execute(select(Expert.login, Expert.id))}

    async def active_experts(self, extension: str | None = None) -> list[ExpertProfile]:
        """Active Experts (role expert) by name; one extension's only when it is given."""
        query = select(*_PROFILE).where(Expert.role == "expert", Expert.active)
        if extension is not None:
            query = query.where(Expert.extension == extension)
        async with self._sessions() as session:
            rows = await session.execute(query.order_by(Expert.full_name, Expert.login))
            return [ExpertProfile(*row) for row in rows]

    async def profile(self, login: str) -> ExpertProfile | None:
        """Anyone's profile by login (a supervisor opening an Expert's desk)."""
        async with self._sessions() as session:
            row = (await session.execute(select(*_PROFILE).where(Expert.login == login))).first()
        return None if row is None else ExpertProfile(*row)

    async def daily_target(self, expert_id: int) -> int | None:
        """The Expert's own daily target; None: the configured one (or no such Expert)."""
        async with self._sessions() as session:
            target: int | None = await session.scalar(select(Expert.daily_target).where(Expert.id == expert_id))
            return target

    async def extension_choices(self) -> list[tuple[str, str]]:
        """(extension, name) of every active user with an extension, by name: the call log's Expert filter."""
        query = (select(Expert.extension, Expert.full_name)
                 .where(Expert.extension.is_not(None), Expert.active).order_by(Expert.full_name))
        async with self._sessions() as session:
            return [(cast(str, ext), name) for ext, name in await session.execute(query)]

    async def add_absence(self, login: str, from_date: date, to_date: date) -> bool:
        """Record an absence; False when exactly this one was already there."""
        counts = await self.add_absences([AbsenceRecord(login, from_date, to_date)])
        return counts.new == 1

    async def add_absences(self, records: Sequence[AbsenceRecord],
                           session: AsyncSession | None = None) -> Counts:
        """Insert the absences not yet recorded; an unknown login raises UnknownExpertError."""
        counts = Counts()
        async with session_scope(self._sessions, session) as s:
            for chunk in chunks(records):
                counts += await _insert_absences(s, chunk)
        return counts

    async def list_absences(self, login: str | None = None,
                            ending_on_or_after: date | None = None) -> list[AbsenceRecord]:
        """Absences (of one Expert, or still running on a day), by login and start."""
        query = (select(Expert.login, ExpertAbsence.from_date, ExpertAbsence.to_date)
                 .join(Expert, Expert.id == ExpertAbsence.expert_id)
                 .order_by(Expert.login, ExpertAbsence.from_date, ExpertAbsence.to_date))
        if login is not None:
            query = query.where(Expert.login == login)
        if ending_on_or_after is not None:
            query = query.where(ExpertAbsence.to_date >= ending_on_or_after)
        async with self._sessions() as session:
            return [AbsenceRecord(*row) for row in await session.execute(query)]


async def _insert_absences(session: AsyncSession, records: Sequence[AbsenceRecord]) -> Counts:
    ids = await ids_by(session, _EXPERTS, "login", (r.login for r in records))
    unknown = sorted({r.login for r in records} - ids.keys())
    if unknown:
        raise UnknownExpertError("нет Эксперта с логином " + ", ".join(f"«{login}»" for login in unknown))
    rows = list({(ids[r.login], r.from_date, r.to_date) for r in records})
    statement = insert_for(dialect_name(session), _ABSENCES).on_conflict_do_nothing(
        index_elements=["expert_id", "from_date", "to_date"]).returning(_ABSENCES.c.id)
    inserted = len((await session.execute(statement, [
        {"expert_id": e, "from_date": f, "to_date": t} for e, f, t in rows])).all())
    return Counts(new=inserted, unchanged=len(records) - inserted)
