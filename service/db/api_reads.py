"""The API's reads: keyset pages in SQL (never OFFSET: page 20,000 of the calls costs what page 1 does)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import RowMapping, Select, select, tuple_
from sqlalchemy.orm import aliased

from service.days import day_bounds
from service.db.engine import SessionMaker
from service.db.models import Call, Client, ClientContact, Expert, PlannedCall, WrapUp


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ends: the sort key's value and the row id (the tie-break)."""

    at: datetime | int
    id: int


@dataclass(frozen=True, slots=True)
class CallFilter:
    day: date | None = None
    expert_login: str | None = None
    client_id: str | None = None
    updated_since: datetime | None = None  # the incremental sync: ordered by (updated_at, id)
    updated_before: datetime | None = None  # rows younger than this wait for the next page (commits settle)


AnySelect = Select[*tuple[Any, ...]]


# What the API shows of a call (not tracker_state, not the recording's path).
CALL_COLUMNS = (Call.id, Call.linkedid, Call.direction, Call.expert_ext, Call.client_id, Call.client_name,
                Call.client_number, Call.planned_call_id, Call.started_at, Call.answered_at, Call.ended_at,
                Call.duration_s, Call.talk_s, Call.outcome, Call.hangup_cause, Call.guessed, Call.quality,
                (Call.recording.is_not(None) & Call.recording_purged_at.is_(None)).label("has_recording"),
                Call.updated_at)


class ApiReads:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def calls(self, where: CallFilter, tz: tzinfo, after: Position | None, limit: int) -> list[RowMapping]:
        """The page's rows: only the columns the API shows (not the ORM objects: a 500-row page spent as long
        building them as PostgreSQL took to find the rows), with the owner's login as `expert`."""
        by_update = where.updated_since is not None or where.updated_before is not None
        key = Call.updated_at if by_update else Call.started_at
        query = select(*CALL_COLUMNS, Expert.login.label("expert")).outerjoin(Expert, Expert.id == Call.expert_id)
        if after is not None:
            # The cursor implies `updated_at >= updated_since`: said twice, PostgreSQL misjudged the rows left
            # and sorted 100,000 of them instead of reading the index up to the limit.
            where = dataclasses.replace(where, updated_since=None)
            query = query.where(tuple_(key, Call.id) > tuple_(after.at, after.id))
        query = _call_filters(query, where, tz).order_by(key, Call.id).limit(limit)
        async with self._sessions() as s:
            return list((await s.execute(query)).mappings().all())

    async def call(self, linkedid: str) -> RowMapping | None:
        query = (select(*CALL_COLUMNS, Call.recording, Expert.login.label("expert"))
                 .outerjoin(Expert, Expert.id == Call.expert_id).where(Call.linkedid == linkedid))
        async with self._sessions() as s:
            return (await s.execute(query)).mappings().first()

    async def wrapups(self, where: CallFilter, tz: tzinfo, after: Position | None,
                      limit: int) -> list[tuple[Any, ...]]:
        contact = aliased(ClientContact)
        query = (
            select(WrapUp, Call.linkedid, Expert.login, Client.external_id, contact.external_id, PlannedCall.public_id)
            .join(Call, Call.id == WrapUp.call_id).join(Expert, Expert.id == WrapUp.expert_id)
            .outerjoin(Client, Client.id == WrapUp.client_id).outerjoin(contact, contact.id == WrapUp.contact_id)
            .outerjoin(PlannedCall, PlannedCall.id == WrapUp.planned_call_id))
        query = _call_filters(query, CallFilter(where.day, where.expert_login, where.client_id), tz,
                              expert_column=None)
        if where.expert_login is not None:
            query = query.where(Expert.login == where.expert_login)
        if where.updated_since is not None:
            query = query.where(WrapUp.updated_at >= where.updated_since)
        if where.updated_before is not None:
            query = query.where(WrapUp.updated_at < where.updated_before)
        if after is not None:
            query = query.where(tuple_(WrapUp.updated_at, WrapUp.id) > tuple_(after.at, after.id))
        query = query.order_by(WrapUp.updated_at, WrapUp.id).limit(limit)
        async with self._sessions() as s:
            return [tuple(row) for row in (await s.execute(query)).all()]

    async def clients(self, expert_login: str | None, after_id: int, limit: int) -> list[tuple[Client, str | None]]:
        query = (select(Client, Expert.login).outerjoin(Expert, Expert.id == Client.expert_id)
                              .where(Client.id > after_id).order_by(Client.id).limit(limit))
        if expert_login is not None:
            query = query.where(Expert.login == expert_login)
        async with self._sessions() as s:
            return [(c, login) for c, login in (await s.execute(query)).all()]

    async def client(self, external_id: str) -> tuple[Client, str | None, list[ClientContact]] | None:
        query = (select(Client, Expert.login).outerjoin(Expert, Expert.id == Client.expert_id)
                 .where(Client.external_id == external_id))
        async with self._sessions() as s:
            row = (await s.execute(query)).first()
            if row is None:
                return None
            contacts = (await s.execute(select(ClientContact).where(ClientContact.client_id == row[0].id)
                                        .order_by(ClientContact.id))).scalars().all()
        return row[0], row[1], list(contacts)

    async def contacts(self, client_id: str | None, after_id: int,
                       limit: int) -> list[tuple[ClientContact, str]]:
        query = (select(ClientContact, Client.external_id).join(Client, Client.id == ClientContact.client_id)
                 .where(ClientContact.id > after_id).order_by(ClientContact.id).limit(limit))
        if client_id is not None:
            query = query.where(Client.external_id == client_id)
        async with self._sessions() as s:
            return [(c, ext) for c, ext in (await s.execute(query)).all()]

    async def experts(self, include_inactive: bool) -> Sequence[Expert]:
        query = select(Expert).order_by(Expert.login)
        if not include_inactive:
            query = query.where(Expert.active.is_(True))
        async with self._sessions() as s:
            return (await s.execute(query)).scalars().all()

    async def active_caller(self, login: str) -> tuple[int, str | None] | None:
        """An active employee's id and extension, by login."""
        query = select(Expert.id, Expert.extension).where(Expert.login == login, Expert.active.is_(True))
        async with self._sessions() as s:
            row = (await s.execute(query)).first()
        return (row[0], row[1]) if row is not None else None

    async def expert_exists(self, login: str) -> bool:
        async with self._sessions() as s:
            return (await s.execute(select(Expert.id).where(Expert.login == login))).first() is not None


def _call_filters(query: AnySelect, where: CallFilter, tz: tzinfo, *, expert_column: Any = Expert.login) -> AnySelect:
    if where.day is not None:
        start, end = day_bounds(where.day, tz)
        query = query.where(Call.started_at >= start, Call.started_at < end)
    if where.expert_login is not None and expert_column is not None:
        query = query.where(expert_column == where.expert_login)
    if where.client_id is not None:
        query = query.where(Call.client_id == where.client_id)
    if where.updated_since is not None:
        query = query.where(Call.updated_at >= where.updated_since)
    if where.updated_before is not None:
        query = query.where(Call.updated_at < where.updated_before)
    return query

