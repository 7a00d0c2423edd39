"""A small repository for the client directory (demo and test data; a later issue extends it)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import SessionMaker
from service.db.models import Client, ClientContact
from service.db.upsert import dialect_name, insert_for
from service.errors import UnknownClientError
from dialer.numbers import normalise_number

_CLIENTS = cast(Table, Client.__table__)


class ClientsRepository:
    """Clients by external id, and their contacts' phones."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

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


async def _client_id(session: AsyncSession, external_id: str) -> int:
    client_id = await session.scalar(select(Client.id).where(Client.external_id == external_id))
    if client_id is None:
        raise UnknownClientError(f"no client with external id {external_id!r}")
    return client_id
