"""The import's database side: what rows may refer to, and one batch written per kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.db import compare_inputs
from service.db.clients import ClientsRepository
from service.db.engine import SessionMaker
from service.db.experts import ExpertsRepository
from service.db.history import HistoryRepository
from service.db.logins import Measured, cover_days, covered_until, measure_days, upsert_logins
from service.db.month import MonthRepository
from service.db.records import Counts, LoginRecord
from service.db.selection import SelectionRepository
from service.db.visits import VisitsRepository
from service.errors import ClosedMonthError
from service.figures.freshness import runs
from service.imports.errors import ImportFailed
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
    "selection": ("clients", "roles"),
    "events": ("clients", "roles"),
    "plans": ("roles", "closed_months"),
    "visits": ("clients", "roles"),
    "trainings": ("clients", "contacts"),
    "seminars": ("clients", "contacts"),
    "acts": ("clients",),
    "requests": ("clients",),
    "mailings": (),
    "survey": ("clients",),
}


async def load_references(kind: str, sessions: SessionMaker) -> References:
    """The Expert logins, client ids and contact owners rows of `kind` may refer to."""
    needs = _NEEDS[kind]
    experts: frozenset[str] = frozenset()
    clients: frozenset[str] = frozenset()
    contacts: dict[str, str] = {}
    closed: frozenset[date] = frozenset()
    roles: dict[str, str] = {}
    async with sessions() as session:
        if "experts" in needs:
            experts = frozenset(await ExpertsRepository(sessions).expert_ids(session))
        if "clients" in needs:
            clients = frozenset(await ClientsRepository(sessions).client_ids(session))
        if "contacts" in needs:
            contacts = await ClientsRepository(sessions).contact_owners(session)
        if "closed_months" in needs:
            closed = await MonthRepository(sessions).closed_months(session)
        if "roles" in needs:
            roles = await VisitsRepository(sessions).roles(session)
    return References(experts=experts, clients=clients, contacts=contacts, closed_months=closed, roles=roles)


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


async def _selection(sessions: SessionMaker, batch: Sequence[Any], session: AsyncSession) -> Counts:
    return await SelectionRepository(sessions).add_scores(batch, "import", datetime.now(UTC), session)


async def _events(sessions: SessionMaker, batch: Sequence[Any], session: AsyncSession) -> Counts:
    return await MonthRepository(sessions).add_events(batch, datetime.now(UTC), session)


async def _plans(sessions: SessionMaker, batch: Sequence[Any], session: AsyncSession) -> Counts:
    try:
        return await MonthRepository(sessions).upsert_plans(batch, datetime.now(UTC), session)
    except ClosedMonthError as e:  # closed since the file was checked: the import's transaction rolls back
        raise ImportFailed(f"{e}; ничего не импортировано") from e


async def _visits(sessions: SessionMaker, batch: Sequence[Any], session: AsyncSession) -> Counts:
    return await VisitsRepository(sessions).upsert_visits(batch, "import", datetime.now(UTC), session)


def _compare_writer(write: Callable[[AsyncSession, Sequence[Any]], Awaitable[Counts]]) -> Writer:
    async def written(sessions: SessionMaker, batch: Sequence[Any], session: AsyncSession) -> Counts:
        return await write(session, batch)
    return written


WRITERS: dict[str, Writer] = {
    "experts": _experts,
    "absences": _absences,
    "clients": _clients,
    "contacts": _contacts,
    "history": _history,
    "signals": _signals,
    "logins": _logins,
    "selection": _selection,
    "events": _events,
    "plans": _plans,
    "visits": _visits,
    **{kind: _compare_writer(write) for kind, write in (
        ("trainings", compare_inputs.write_trainings), ("seminars", compare_inputs.write_seminar_visits),
        ("acts", compare_inputs.write_acts), ("requests", compare_inputs.write_requests),
        ("mailings", compare_inputs.write_mailings), ("survey", compare_inputs.write_survey))},
}


def summary_of(kind: str, batch: Sequence[Any], context: ImportContext) -> dict[date, datetime]:
    """What a written batch means for after_import: each organisation-time day its logins begin on,
    with the latest moment the batch knows of on that day."""
    reach: dict[date, datetime] = {}
    if kind != "logins":
        return reach
    for record in batch:
        if isinstance(record, LoginRecord):
            day = record.started_at.astimezone(context.tz).date()
            latest = max(record.started_at, record.ended_at or record.started_at)
            reach[day] = max(reach.get(day, latest), latest)
    return reach


async def after_import(kind: str, summaries: Sequence[dict[date, datetime]], session: AsyncSession,
                       context: ImportContext) -> Measured | None:
    """In the import's transaction: logins cover the days they begin on (only those: one stray row of
    last year covers no day in between; a day not over yet only up to its latest login), and the
    calls of those days are measured again."""
    reach: dict[date, datetime] = {}
    for summary in summaries:
        for day, latest in summary.items():
            reach[day] = max(reach.get(day, latest), latest)
    if kind != "logins" or not reach:
        return None
    now = context.clock()
    await cover_days(session, {day: covered_until(day, latest, context.tz, now) for day, latest in reach.items()},
                     now)
    total: Measured | None = None
    for first, last in runs(sorted(reach)):
        measured = await measure_days(session, first, last, context.tz, context.login_grace_s, now)
        total = measured if total is None else total + measured
    return total
