"""Reads for the Expert's queue: today's planned items and unplanned calls, with calls and wrap-ups."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select

from service.days import day_bounds
from service.db.engine import SessionMaker
from service.db.models import Call, Client, ClientContact, PlannedCall, WrapUp
from service.db.plan_links import on_item, unplanned
from service.desk.queue import QueueRow


class DeskQueueRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def queue(self, expert_id: int, day: date, tz: ZoneInfo) -> list[QueueRow]:
        """The Expert's planned items for `day` and their unplanned calls that day (unordered).

        A call of theirs carrying another Expert's PLANNED_CALL_ID is one of their unplanned calls.
        """
        return (await self.queues([expert_id], day, tz))[expert_id]

    async def queues(self, expert_ids: Collection[int], day: date, tz: ZoneInfo) -> dict[int, list[QueueRow]]:
        """Each Expert's queue for `day`, as `queue`; three statements whatever the number of Experts."""
        queues: dict[int, list[QueueRow]] = {expert_id: [] for expert_id in expert_ids}
        if not queues:
            return queues
        async with self._sessions() as session:
            planned = (await session.execute(_planned_items(queues.keys(), day))).all()
            calls = await _calls_of_items(session, queues.keys(), day) if planned else {}
            unplanned = (await session.execute(_unplanned_calls(queues.keys(), *day_bounds(day, tz)))).all()
        for row in planned:
            queues[row.expert_id].append(_planned_row(row, calls.get(row.public_id)))
        for row in unplanned:
            queues[row.expert_id].append(_unplanned_row(row))
        return queues

    async def item_owner(self, public_id: str) -> tuple[int, str, str | None, str | None] | None:
        """(expert id, client external id, contact external id, dialled phone) of a planned item."""
        async with self._sessions() as session:
            row = (await session.execute(
                select(PlannedCall.expert_id, Client.external_id, ClientContact.external_id,
                       ClientContact.phone_e164)
                .join(Client, Client.id == PlannedCall.client_id)
                .join(ClientContact, ClientContact.id == PlannedCall.contact_id)
                .where(PlannedCall.public_id == public_id))).first()
        return None if row is None else (row[0], row[1], row[2], row[3])


def _planned_items(expert_ids: Collection[int], day: date) -> Any:
    return (
        select(PlannedCall.expert_id, PlannedCall.public_id, PlannedCall.slot, PlannedCall.state,
               PlannedCall.reasons, PlannedCall.topic, PlannedCall.comment, Client.external_id.label("client_id"),
               Client.name.label("client_name"), ClientContact.external_id.label("contact_id"),
               ClientContact.full_name.label("contact_name"),
               ClientContact.phone_e164.label("phone_e164"), ClientContact.phone.label("phone"))
        .join(Client, Client.id == PlannedCall.client_id)
        .join(ClientContact, ClientContact.id == PlannedCall.contact_id)
        .where(PlannedCall.expert_id.in_(list(expert_ids)), PlannedCall.plan_date == day)
    )


_CALL_COLUMNS = (Call.linkedid, Call.direction, Call.outcome, Call.started_at, Call.talk_s,
                 WrapUp.result.label("wrapup_result"), WrapUp.productive)


async def _calls_of_items(session: Any, expert_ids: Collection[int], day: date) -> dict[str, Any]:
    """The latest call on each of the Experts' planned items for `day` (a retry replaces the earlier one).

    Only calls on the item (service/db/plan_links.py): another Expert's call carrying its id is not.
    """
    rows = (await session.execute(
        select(Call.planned_call_id, *_CALL_COLUMNS).select_from(Call)
        .join(PlannedCall, on_item(Call, PlannedCall))
        .outerjoin(WrapUp, WrapUp.call_id == Call.id)
        .where(PlannedCall.expert_id.in_(list(expert_ids)), PlannedCall.plan_date == day)
        .order_by(Call.started_at))).all()
    return {row.planned_call_id: row for row in rows}  # later rows overwrite earlier ones


def _unplanned_calls(expert_ids: Collection[int], start: datetime, end: datetime) -> Any:
    return (
        select(Call.expert_id, *_CALL_COLUMNS, Call.client_id, Call.client_number, Call.client_name,
               Client.name.label("directory_name"))
        .outerjoin(WrapUp, WrapUp.call_id == Call.id)
        .outerjoin(Client, Client.external_id == Call.client_id)
        .where(and_(Call.expert_id.in_(list(expert_ids)), unplanned(Call),
                    Call.started_at >= start, Call.started_at < end))
    )


def _planned_row(row: Any, call: Any | None) -> QueueRow:
    return QueueRow(
        public_id=row.public_id, slot=row.slot, state=row.state, client_id=row.client_id,
        client_name=row.client_name, contact_id=row.contact_id, contact_name=row.contact_name,
        phone=row.phone_e164 or row.phone, reasons=tuple(r.get("text", "") for r in row.reasons or ()),
        topic=row.topic, comment=row.comment, **_call_fields(call),
    )


def _unplanned_row(row: Any) -> QueueRow:
    return QueueRow(
        public_id=None, slot=None, state=None, client_id=row.client_id,
        client_name=row.directory_name or row.client_name, contact_id=None, contact_name=None,
        phone=row.client_number, reasons=(), topic=None, comment=None, **_call_fields(row),
    )


def _call_fields(call: Any | None) -> dict[str, Any]:
    if call is None:
        return {}
    return {"linkedid": call.linkedid, "direction": call.direction, "outcome": call.outcome,
            "started_at": call.started_at, "talk_s": call.talk_s,
            "wrapup_result": call.wrapup_result, "productive": bool(call.productive)}
