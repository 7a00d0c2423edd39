"""The facts each client's segment history is derived from (service/compare/segments.py): the clients'
segment and dates, the campaign's latest «переведён» date and the recorded segment changes, in three
queries for every client."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from service.compare.segments import ClientSegmentFacts
from service.db.engine import SessionMaker
from service.db.models import BusinessEvent, Client, ClientTransition, SegmentChange

MOVED = "moved"
LOST = ("client_disconnected", "competitor_lost")  # the CRM's events that end a client's service
RESTORED = "client_restored"


class SegmentsRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def facts(self) -> list[ClientSegmentFacts]:
        moved = (select(ClientTransition.client_id, func.max(ClientTransition.until))
                 .where(ClientTransition.status == MOVED).group_by(ClientTransition.client_id))
        clients = select(Client.id, Client.segment, Client.client_since, Client.ds_since).order_by(Client.id)
        lost = (select(BusinessEvent.client_id, BusinessEvent.occurred_on, BusinessEvent.kind)
                .where(BusinessEvent.kind.in_((*LOST, RESTORED))))
        changes = (select(SegmentChange.client_id, SegmentChange.since, SegmentChange.segment, SegmentChange.previous)
                   .order_by(SegmentChange.client_id, SegmentChange.since))
        async with self._sessions() as session:
            # On the connection, fetched at once: 100,000 clients without the ORM's row loading (bench/compare.py).
            connection = await session.connection()
            moved_on = dict((await connection.execute(moved)).all())
            recorded: dict[int, list[tuple[date, str, str]]] = {}
            for client_id, since, segment, previous in (await connection.execute(changes)).all():
                recorded.setdefault(client_id, []).append((since, segment, previous))
            gone: dict[int, list[tuple[date, bool]]] = {}
            for client_id, day, kind in (await connection.execute(lost)).all():
                gone.setdefault(client_id, []).append((day, kind in LOST))
            return [ClientSegmentFacts(client_id, segment, since, ds_since, moved_on.get(client_id),
                                       tuple(recorded.get(client_id, ())), tuple(gone.get(client_id, ())))
                    for client_id, segment, since, ds_since in (await connection.execute(clients)).all()]
