"""Reads for the Expert's queue: today's planned items and unplanned calls, with calls and wrap-ups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select

from service.db.engine import SessionMaker
from service.db.models import Call, Client, ClientContact, PlannedCall, WrapUp
from service.desk.queue import QueueRow


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The organisation-time day as an aware [start, end) interval (SPEC-NOTES: day of a call)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


class DeskQueueRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def queue(self, expert_id: int, day: date, tz: ZoneInfo) -> list[QueueRow]:
        """The Expert's planned items for `day` and their unplanned calls that day (unordered)."""
        async with self._sessions() as session:
            planned = (await session.execute(_planned_items(expert_id, day))).all()
            calls = await _calls_of_items(session, [row.public_id for row in planned])
            unplanned = (await session.execute(_unplanned_calls(expert_id, *day_bounds(day, tz)))).all()
        return [_planned_row(row, calls.get(row.public_id)) for row in planned] + [
            _unplanned_row(row) for row in unplanned]

    async def item_owner(self, public_id: str) -> tuple[int, str, str, str | None] | None:
        """(expert id, client external id, contact external id, dialled phone) of a planned item."""
        async with self._sessions() as session:
            row = (await session.execute(
                select(PlannedCall.expert_id, Client.external_id, ClientContact.external_id,
                       ClientContact.phone_e164)
                .join(Client, Client.id == PlannedCall.client_id)
                .join(ClientContact, ClientContact.id == PlannedCall.contact_id)
                .where(PlannedCall.public_id == public_id))).first()
        return None if row is None else (row[0], row[1], row[2], row[3])


def _planned_items(expert_id: int, day: date) -> Any:
    return (
        select(PlannedCall.public_id, PlannedCall.slot, PlannedCall.state, PlannedCall.reasons,
               PlannedCall.topic, PlannedCall.comment, Client.external_id.label("client_id"),
               Client.name.label("client_name"), ClientContact.external_id.label("contact_id"),
               ClientContact.full_name.label("contact_name"),
               ClientContact.phone_e164.label("phone_e164"), ClientContact.phone.label("phone"))
        .join(Client, Client.id == PlannedCall.client_id)
        .join(ClientContact, ClientContact.id == PlannedCall.contact_id)
        .where(PlannedCall.expert_id == expert_id, PlannedCall.plan_date == day)
    )


_CALL_COLUMNS = (Call.linkedid, Call.direction, Call.outcome, Call.started_at, Call.talk_s,
                 WrapUp.result.label("wrapup_result"), WrapUp.productive)


async def _calls_of_items(session: Any, public_ids: Sequence[str]) -> dict[str, Any]:
    """The latest call of each planned item (a retry the same day replaces the earlier one)."""
    if not public_ids:
        return {}
    rows = (await session.execute(
        select(Call.planned_call_id, *_CALL_COLUMNS)
        .outerjoin(WrapUp, WrapUp.call_id == Call.id)
        .where(Call.planned_call_id.in_(public_ids))
        .order_by(Call.started_at))).all()
    return {row.planned_call_id: row for row in rows}  # later rows overwrite earlier ones


def _unplanned_calls(expert_id: int, start: datetime, end: datetime) -> Any:
    return (
        select(*_CALL_COLUMNS, Call.client_id, Call.client_number, Call.client_name,
               Client.name.label("directory_name"))
        .outerjoin(WrapUp, WrapUp.call_id == Call.id)
        .outerjoin(Client, Client.external_id == Call.client_id)
        .where(and_(Call.expert_id == expert_id, Call.planned_call_id.is_(None),
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
