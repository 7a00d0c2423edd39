"""The import's database side: what rows may refer to, and one batch written per kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.clients import ClientsRepository
from service.db.engine import SessionMaker
from service.db.experts import ExpertsRepository
from service.db.history import HistoryRepository
from service.db.logins import Measured, cover_days, measure_days, upsert_logins
from service.db.records import Counts, LoginRecord
from service.figures.freshness import runs
from service.imports.schemas import ImportContext
from service.imports.validation import References

Writer = Callable[[SessionMaker, Sequence[Any], AsyncSession], Awaitable[Counts]]

# Which references each kind's rows need (loading 250k contacts for an Expert file is waste).
_NEEDS: dict[str, tuple[str, ...]] = {
    "experts": (),
    "absences": ("experts",),
    "clients": ("experts",),
    "contacts": ("clients",),
    "history": ("clients", "contacts"),
    "signals": ("clients", "contacts"),
    "logins": ("clients", "contacts"),
}


async def load_references(kind: str, sessions: SessionMaker) -> References:
    """The Expert logins, client ids and contact owners rows of `kind` may refer to."""
    needs = _NEEDS[kind]
    experts: frozenset[str] = frozenset()
    clients: frozenset[str] = frozenset()
    contacts: dict[str, str] = {}
    async with sessions() as session:
        if "experts" in needs:
            experts = frozenset(await ExpertsRepository(sessions).expert_ids(session))
        if "clients" in needs:
            clients = frozenset(await ClientsRepository(sessions).client_ids(session))
        if "contacts" in needs:
            contacts = await ClientsRepository(sessions).contact_owners(session)
    return References(experts=experts, clients=clients, contacts=contacts)


async def _experts(sessions: SessionMaker, batch: Sequence[Any], session: AsyncSession) -> Counts:
    return await ExpertsRepository(sessions).upsert_experts(batch, session)


async def _absences(sessions: SessionMaker, batch: Sequence[Any], session: AsyncSession) -> Counts:
    return await ExpertsRepository(sessions).add_absences(batch, session)


async def _clients(sessions: SessionMaker, batch: Sequence[Any], session: AsyncSession) -> Counts:
    return await ClientsRepository(sessions).upsert_clients(batch, session)


async def _contacts(sessions: SessionMaker, batch: Sequence[Any], session: AsyncSession) -> Counts:
    return await ClientsRepository(sessions).upsert_contacts(batch, session)


async def _history(sessions: SessionMaker, batch: Sequence[Any], session: AsyncSession) -> Counts:
    return await HistoryRepository(sessions).add_history(batch, session)


async def _signals(sessions: SessionMaker, batch: Sequence[Any], session: AsyncSession) -> Counts:
    return await HistoryRepository(sessions).add_signals(batch, session)


async def _logins(sessions: SessionMaker, batch: Sequence[Any], session: AsyncSession) -> Counts:
    return await upsert_logins(session, batch, datetime.now(UTC))


WRITERS: dict[str, Writer] = {
    "experts": _experts,
    "absences": _absences,
    "clients": _clients,
    "contacts": _contacts,
    "history": _history,
    "signals": _signals,
    "logins": _logins,
}


def summary_of(kind: str, batch: Sequence[Any], context: ImportContext) -> set[date]:
    """What a written batch means for after_import: the organisation-time days of a logins batch."""
    if kind != "logins":
        return set()
    return {record.started_at.astimezone(context.tz).date() for record in batch if isinstance(record, LoginRecord)}


async def after_import(kind: str, summaries: Sequence[set[date]], session: AsyncSession,
                       context: ImportContext) -> Measured | None:
    """In the import's transaction: logins cover the days they fall on (only those: one stray row of
    last year covers no day in between), and the calls of those days are measured again."""
    days = sorted(set().union(*summaries)) if summaries else []
    if kind != "logins" or not days:
        return None
    now = context.clock()
    await cover_days(session, days, now)
    total: Measured | None = None
    for first, last in runs(days):
        measured = await measure_days(session, first, last, context.tz, context.login_grace_s, now)
        total = measured if total is None else total + measured
    return total
