"""Reads and writes of the selection for ДС (issue 15): the clients' facts, the manual scores' history.

The scoring is pure (service/selection/scoring.py); this module hands it `ClientFacts` and the
latest manual score per client and criterion, in a bounded number of statements whatever the
number of clients (a department's 100,000 organisations are scored in one pass, bench/selection.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, func, insert, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.bulk import chunks, ids_by, session_scope
from service.db.engine import SessionMaker
from service.db.models import Client, ClientContact, Expert, SelectionScore
from service.db.records import Counts, SelectionRecord
from service.errors import UnknownClientError, UnknownExpertError
from service.selection.scoring import ClientFacts, ManualScore

_CLIENTS: Table = Client.__table__  # type: ignore[assignment]
_EXPERTS: Table = Expert.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class SelectionClient:
    """A client as the candidate list shows it, with the facts its scores are computed from."""

    id: int
    external_id: str
    name: str
    territory: str | None
    sio: str | None
    expert_id: int | None
    facts: ClientFacts


@dataclass(frozen=True, slots=True)
class ScoreEntry:
    """One row of a client's manual-score history."""

    criterion: str
    value: str
    note: str | None
    author: str | None
    source: str
    at: datetime


class SelectionRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def add_scores(self, records: Sequence[SelectionRecord], source: str, now: datetime,
                         session: AsyncSession | None = None) -> Counts:
        """Append the manual scores; a score equal to the latest one of its client and criterion (value,
        note and author) is unchanged, so importing a file again adds nothing. History is never edited."""
        counts = Counts()
        async with session_scope(self._sessions, session) as s:
            for chunk in chunks(records):
                clients = await _ids_or_raise(s, _CLIENTS, "external_id", {r.client_external_id for r in chunk},
                                              UnknownClientError, "нет клиента")
                authors = await _ids_or_raise(s, _EXPERTS, "login", {r.author_login for r in chunk},
                                              UnknownExpertError, "нет пользователя")
                latest = await _latest_rows(s, set(clients.values()))
                for record in chunk:
                    client_id, author_id = clients[record.client_external_id], authors[record.author_login]
                    before = latest.get((client_id, record.criterion))
                    if before is not None and (before.value, before.note, before.author_id) == (
                            record.value, record.note, author_id):
                        counts += Counts(unchanged=1)
                        continue
                    await s.execute(insert(SelectionScore).values(
                        client_id=client_id, criterion=record.criterion, value=record.value, note=record.note,
                        author_id=author_id, source=source, at=now))
                    latest[(client_id, record.criterion)] = _Latest(record.value, record.note, author_id)
                    counts += Counts(updated=1) if before is not None else Counts(new=1)
        return counts

    async def latest_manual(self, client_ids: Collection[int] | None = None) -> dict[int, dict[str, ManualScore]]:
        """client id → criterion → its latest manual score (None: every client's)."""
        newest = select(SelectionScore.client_id, SelectionScore.criterion,
                        func.max(SelectionScore.id).label("id")).group_by(SelectionScore.client_id,
                                                                         SelectionScore.criterion)
        if client_ids is not None:
            newest = newest.where(SelectionScore.client_id.in_(list(client_ids)))
        latest = newest.subquery()
        query = (select(SelectionScore.client_id, SelectionScore.criterion, SelectionScore.value,
                        SelectionScore.note, SelectionScore.at, Expert.full_name)
                 .join(latest, latest.c.id == SelectionScore.id)
                 .outerjoin(Expert, Expert.id == SelectionScore.author_id))
        found: dict[int, dict[str, ManualScore]] = {}
        async with self._sessions() as session:
            for client_id, criterion, value, note, at, author in await session.execute(query):
                found.setdefault(client_id, {})[criterion] = ManualScore(criterion, value, author or "—", at, note)
        return found

    async def history(self, client_id: int) -> list[ScoreEntry]:
        """Every manual score of the client, newest first."""
        query = (select(SelectionScore.criterion, SelectionScore.value, SelectionScore.note, Expert.full_name,
                        SelectionScore.source, SelectionScore.at)
                 .outerjoin(Expert, Expert.id == SelectionScore.author_id)
                 .where(SelectionScore.client_id == client_id)
                 .order_by(SelectionScore.at.desc(), SelectionScore.id.desc()))
        async with self._sessions() as session:
            return [ScoreEntry(*row) for row in await session.execute(query)]

    async def clients(self, client_ids: Collection[int] | None = None) -> list[SelectionClient]:
        """Every client (or those of `client_ids`) with its selection facts, users counted in SQL."""
        users = (select(ClientContact.client_id, func.count().label("users"))
                 .where(ClientContact.is_user == true()).group_by(ClientContact.client_id).subquery())
        query = (select(Client.id, Client.external_id, Client.name, Client.territory, Client.sio, Client.expert_id,
                        Client.segment, Client.version, Client.ip_possible, Client.client_since, Client.debt_rub,
                        Client.online_logins_30d, func.coalesce(users.c.users, 0), Client.prepaid_months,
                        Client.services, Client.distance_km, Client.came_from)
                 .outerjoin(users, users.c.client_id == Client.id).order_by(Client.name, Client.id))
        if client_ids is not None:
            query = query.where(Client.id.in_(list(client_ids)))
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [_selection_client(row) for row in rows]


@dataclass(frozen=True, slots=True)
class _Latest:
    value: str
    note: str | None
    author_id: int | None


async def _latest_rows(session: AsyncSession, client_ids: set[int]) -> dict[tuple[int, str], _Latest]:
    if not client_ids:
        return {}
    newest = (select(func.max(SelectionScore.id).label("id")).where(SelectionScore.client_id.in_(client_ids))
              .group_by(SelectionScore.client_id, SelectionScore.criterion).subquery())
    rows = await session.execute(select(SelectionScore.client_id, SelectionScore.criterion, SelectionScore.value,
                                        SelectionScore.note, SelectionScore.author_id)
                                 .join(newest, and_(newest.c.id == SelectionScore.id)))
    return {(client_id, criterion): _Latest(value, note, author_id)
            for client_id, criterion, value, note, author_id in rows}


async def _ids_or_raise(session: AsyncSession, table: Table, key: str, values: set[str],
                        error: type[Exception], what: str) -> dict[str, int]:
    ids = await ids_by(session, table, key, values)
    unknown = sorted(values - ids.keys())
    if unknown:
        raise error(f"{what} " + ", ".join(f"«{value}»" for value in unknown[:10]))
    return ids


def _selection_client(row: Any) -> SelectionClient:
    (client_id, external_id, name, territory, sio, expert_id, segment, version, ip_possible, since, debt, logins,
     users, prepaid, services, distance, came_from) = row
    facts = ClientFacts(client_id=external_id, segment=segment, version=version, ip_possible=ip_possible,
                        client_since=since, debt_rub=Decimal(debt or 0), online_logins_30d=logins, users=int(users),
                        prepaid_months=prepaid, services=tuple(services or ()), distance_km=distance,
                        came_from=came_from)
    return SelectionClient(client_id, external_id, name, territory, sio, expert_id, facts)
