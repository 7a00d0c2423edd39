"""The client directory: organisations and their contacts, upserted by CRM external id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.numbers import normalise_number
from service.db.bulk import chunks, ids_by, session_scope, upsert_by_key
from service.db.compare_inputs import write_keyed
from service.db.engine import SessionMaker
from service.db.models import Client, ClientContact, Expert, SegmentChange
from service.db.records import ClientRecord, ContactRecord, Counts
from service.db.upsert import dialect_name, insert_for
from service.errors import UnknownClientError, UnknownExpertError

DS = "ДС"
_CLIENTS = cast(Table, Client.__table__)
_CONTACTS = cast(Table, ClientContact.__table__)
_EXPERTS = cast(Table, Expert.__table__)
SEARCH_CHARS = 100


@dataclass(frozen=True, slots=True)
class ContactChoice:
    index: int  # position in the brief's contact list (demo contacts have no CRM id)
    full_name: str
    position: str | None


@dataclass(frozen=True, slots=True)
class ClientChoice:
    """A client the script preview may be rendered for, with its contacts in the brief's order."""

    external_id: str
    name: str
    expert_name: str | None
    contacts: list[ContactChoice]

    def as_json(self) -> dict[str, Any]:
        return {"external_id": self.external_id, "name": self.name, "expert_name": self.expert_name,
                "contacts": [{"index": c.index, "full_name": c.full_name, "position": c.position}
                             for c in self.contacts]}


class ClientsRepository:
    """Clients and contacts by external id; a method given `session` uses the caller's transaction."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def upsert_clients(self, records: Sequence[ClientRecord], session: AsyncSession | None = None,
                             today: date | None = None) -> Counts:
        """Create or update by external id; an unknown expert_login raises UnknownExpertError.

        A known client whose segment changes gets the change recorded (segment_changes), dated its
        `ds_since` when it moves to ДС with one given (not in the future), else `today`: the
        comparison counts a client in the segment it was in then (service/compare/segments.py)."""
        counts = Counts()
        async with session_scope(self._sessions, session) as s:
            for chunk in chunks(records):
                experts = await _ids_or_raise(s, _EXPERTS, "login",
                                              {r.expert_login for r in chunk if r.expert_login},
                                              UnknownExpertError, "Expert with login")
                rows = [_client_row(r, experts) for r in chunk]
                before = await _segments(s, [r.external_id for r in chunk])
                counts += await upsert_by_key(s, _CLIENTS, "external_id", rows)
                await _record_segment_changes(s, chunk, before, today or datetime.now(UTC).date())
        return counts

    async def upsert_contacts(self, records: Sequence[ContactRecord],
                              session: AsyncSession | None = None) -> Counts:
        """Create or update by external id (a contact may move to another client)."""
        counts = Counts()
        async with session_scope(self._sessions, session) as s:
            for chunk in chunks(records):
                clients = await _ids_or_raise(s, _CLIENTS, "external_id",
                                              {r.client_external_id for r in chunk},
                                              UnknownClientError, "client with external id")
                rows = [_contact_row(r, clients) for r in chunk]
                counts += await upsert_by_key(s, _CONTACTS, "external_id", rows)
        return counts

    async def client_ids(self, session: AsyncSession | None = None) -> dict[str, int]:
        """external id → id of every client (imports check references against it)."""
        async with session_scope(self._sessions, session) as s:
            return {ext: client_id for ext, client_id
                    in await s.execute(select(Client.external_id, Client.id))}

    async def contact_owners(self, session: AsyncSession | None = None) -> dict[str, str]:
        """Contact external id → its client's external id, for every contact that has one."""
        query = (select(ClientContact.external_id, Client.external_id)
                 .join(Client, Client.id == ClientContact.client_id)
                 .where(ClientContact.external_id.is_not(None)))
        async with session_scope(self._sessions, session) as s:
            return {cast(str, contact): client for contact, client in await s.execute(query)}

    async def preview_choices(self, text: str, limit: int) -> list[ClientChoice]:
        """Up to `limit` clients by name whose name or external id contains `text` (every client when empty)."""
        async with self._sessions() as session:
            clients = (await session.execute(_clients_matching(text, limit))).all()
            contacts = (await session.execute(
                select(ClientContact.client_id, ClientContact.full_name, ClientContact.position)
                .where(ClientContact.client_id.in_([row.id for row in clients]))
                # The brief's order, so an index picks the same person there.
                .order_by(ClientContact.client_id, ClientContact.is_user.desc(), ClientContact.full_name))).all()
        by_client: dict[int, list[ContactChoice]] = {}
        for client_id, full_name, position in contacts:
            people = by_client.setdefault(client_id, [])
            people.append(ContactChoice(len(people), full_name, position))
        return [ClientChoice(external_id, name, expert_name, by_client.get(client_id, []))
                for client_id, external_id, name, expert_name in clients]

    async def upsert_client(self, external_id: str, name: str) -> int:
        """Create the client or rename it; returns its database id."""
        async with self._sessions.begin() as session:
            insert = insert_for(dialect_name(session), _CLIENTS)
            statement = insert.values(external_id=external_id, name=name).on_conflict_do_update(
                index_elements=[_CLIENTS.c.external_id], set_={"name": insert.excluded.name}
            ).returning(_CLIENTS.c.id)
            return int((await session.execute(statement)).scalar_one())

    async def add_contact(self, client_external_id: str, full_name: str, phone: str | None) -> int:
        """Add a contact (idempotent: the same name and phone twice is one contact); returns its id."""
        phone_e164 = normalise_number(phone)
        async with self._sessions.begin() as session:
            client_id = await _client_id(session, client_external_id)
            existing = await session.scalar(select(ClientContact.id).where(
                ClientContact.client_id == client_id,
                ClientContact.full_name == full_name,
                ClientContact.phone_e164.is_(None) if phone_e164 is None
                else ClientContact.phone_e164 == phone_e164,
            ))
            if existing is not None:
                return existing
            contact = ClientContact(client_id=client_id, full_name=full_name, phone_e164=phone_e164)
            session.add(contact)
            await session.flush()
            return contact.id


def _clients_matching(text: str, limit: int) -> Any:
    """SQLite's LIKE folds only Latin case, so the text goes in its common cases."""
    text = " ".join(text.split())[:SEARCH_CHARS]
    query = (select(Client.id, Client.external_id, Client.name, Expert.full_name)
             .outerjoin(Expert, Expert.id == Client.expert_id).order_by(Client.name).limit(limit))
    if not text:
        return query
    variants = {text, text.lower(), text.upper(), text.capitalize()}
    return query.where(or_(*(column.icontains(variant, autoescape=True)
                             for variant in variants for column in (Client.name, Client.external_id))))


async def _client_id(session: AsyncSession, external_id: str) -> int:
    client_id = await session.scalar(select(Client.id).where(Client.external_id == external_id))
    if client_id is None:
        raise UnknownClientError(f"no client with external id {external_id!r}")
    return client_id


async def _segments(session: AsyncSession, codes: list[str]) -> dict[str, tuple[int, str]]:
    query = select(Client.external_id, Client.id, Client.segment).where(Client.external_id.in_(codes))
    return {code: (client_id, segment) for code, client_id, segment in await session.execute(query)}


async def _record_segment_changes(session: AsyncSession, records: Sequence[ClientRecord],
                                  before: dict[str, tuple[int, str]], today: date) -> None:
    changes = {}
    for record in records:
        if record.external_id not in before or before[record.external_id][1] == record.segment:
            continue
        client_id, previous = before[record.external_id]
        moved = record.ds_since if record.segment == DS and record.ds_since and record.ds_since <= today else None
        changes[(client_id, moved or today)] = {"segment": record.segment, "previous": previous}
    if changes:
        await write_keyed(session, SegmentChange, ("client_id", "since"),
                          [{"client_id": client_id, "since": since, **values, "recorded_at": datetime.now(UTC)}
                           for (client_id, since), values in changes.items()])


def _shallow(record: Any) -> dict[str, Any]:
    """The record's fields as a dict; not asdict(), which deep-copies every value (0.5 s per 10,000 clients)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _client_row(record: ClientRecord, experts: dict[str, int]) -> dict[str, Any]:
    row = _shallow(record)
    login = row.pop("expert_login")
    row["expert_id"] = experts[login] if login else None
    return row


def _contact_row(record: ContactRecord, clients: dict[str, int]) -> dict[str, Any]:
    row = _shallow(record)
    row["client_id"] = clients[row.pop("client_external_id")]
    return row


async def _ids_or_raise(session: AsyncSession, table: Table, key: str, values: set[str],
                        error: type[Exception], what: str) -> dict[str, int]:
    ids = await ids_by(session, table, key, values)
    unknown = sorted(values - ids.keys())
    if unknown:
        raise error(f"no {what} {', '.join(map(repr, unknown[:10]))}")
    return ids
