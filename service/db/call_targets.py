"""What a click-to-call dials: a planned item or a contact card, with whose client it is and the phone.

The desk's originate view asks here (one query), then tells the plan the item's call has begun.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import select, update

from service.db.engine import SessionMaker
from service.db.models import Client, ClientContact, PlannedCall


@dataclass(frozen=True, slots=True)
class CallTarget:
    owner_id: int | None  # the Expert whose item or client it is
    client_id: str  # the client's external id
    phone: str | None  # E.164, None when the contact has none
    planned_call_id: str | None  # the item's public id; None for a call from a contact card
    client_timezone: str | None = None  # None: the organisation's zone
    call_from: time | None = None  # the contact's window, the client's local time
    call_to: time | None = None


class CallTargetsRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def planned_item(self, public_id: str) -> CallTarget | None:
        query = (select(PlannedCall.expert_id, Client.external_id, ClientContact.phone_e164, Client.timezone,
                        ClientContact.call_from, ClientContact.call_to)
                 .join(Client, Client.id == PlannedCall.client_id)
                 .join(ClientContact, ClientContact.id == PlannedCall.contact_id)
                 .where(PlannedCall.public_id == public_id))
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        return None if row is None else CallTarget(row[0], row[1], row[2], public_id, *row[3:])

    async def contact(self, contact_external_id: str) -> CallTarget | None:
        query = (select(Client.expert_id, Client.external_id, ClientContact.phone_e164, Client.timezone,
                        ClientContact.call_from, ClientContact.call_to)
                 .join(Client, Client.id == ClientContact.client_id)
                 .where(ClientContact.external_id == contact_external_id))
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        return None if row is None else CallTarget(row[0], row[1], row[2], None, *row[3:])

    async def mark_started(self, public_id: str, now: datetime) -> None:
        """A planned item's call began: «в работе», unless it already moved on (a second call to it)."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(PlannedCall).where(PlannedCall.public_id == public_id, PlannedCall.state == "planned")
                .values(state="in_progress", updated_at=now))
