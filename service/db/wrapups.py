"""The wrap-up of a call: what the form is pre-filled from, and saving it with its consequences.

One wrap-up per ledger call (unique `call_id`): saving again updates it, so nothing is counted
twice. A planned item takes the result's plan state (not reached → the retry rules) — only from a
call on it (service/db/plan_links.py); an unplanned call with a known client becomes a history
row; a next contact becomes a callback promise; a step of the campaign for ДС goes through the
status machine in the same transaction (refused: nothing of the wrap-up is saved either).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import SessionMaker
from service.db.models import (
    Call,
    CallbackPromise,
    Client,
    ClientContact,
    Expert,
    HistoryEntry,
    PlannedCall,
    WrapUp,
)
from service.db.plan_links import on_item
from service.db.transitions import change_status
from service.db.upsert import dialect_name, insert_for
from service.desk.wrapup import WrapUpInput
from service.transition.machine import DEFAULT_DECLINE_REASONS
from service.webhooks.events import WRAPUP_SAVED, Event, WrapUpFacts, wrapup_event
from service.webhooks.outbox import enqueue, subscribers

_WRAPUPS = cast(Table, WrapUp.__table__)
_HISTORY = cast(Table, HistoryEntry.__table__)
_CALLBACKS = cast(Table, CallbackPromise.__table__)


class CallStillUp(Exception):
    """The ledger has not closed the call yet: its outcome and duration are not known."""


@dataclass(frozen=True, slots=True)
class WrapUpContext:
    """Everything the wrap-up form shows: the PBX's facts (read-only) and what was saved before."""

    call_id: int
    linkedid: str
    expert_ext: str | None
    expert_id: int | None  # the call's owner
    direction: str
    client_number: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_s: float
    talk_s: float
    outcome: str | None
    has_recording: bool
    planned_public_id: str | None
    planned_id: int | None
    planned_topic: str | None
    client_db_id: int | None
    client_external_id: str | None
    client_name: str | None
    contact_db_id: int | None
    contact_name: str | None
    saved: WrapUp | None
    client_timezone: str | None = None  # None: the organisation's zone
    call_from: time | None = None  # the contact's own window (the callback's hours), client's local time
    call_to: time | None = None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class WrapUpRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def context(self, linkedid: str) -> WrapUpContext | None:
        async with self._sessions() as session:
            return await _context(session, linkedid)

    async def save(self, linkedid: str, expert_id: int, wrapup: WrapUpInput, local_day: Any,
                   now: datetime, *, today: date | None = None,
                   decline_reasons: Sequence[str] = DEFAULT_DECLINE_REASONS) -> WrapUpContext:
        """Save (or update) the wrap-up and its consequences in one transaction.

        `today` (the organisation's; default `local_day`) and `decline_reasons` check the campaign's
        step; a TransitionError (service/transition/errors.py) leaves everything unsaved."""
        async with self._sessions.begin() as session:
            ctx = await _context(session, linkedid)
            if ctx is None:
                raise LookupError(linkedid)
            if ctx.is_open:
                raise CallStillUp(linkedid)
            wrapup_id = await _upsert_wrapup(session, ctx, expert_id, wrapup, now)
            if ctx.planned_id is not None:
                if await _is_latest_call_of_item(session, ctx):
                    await _update_item(session, ctx.planned_id, wrapup, now)
            elif ctx.client_db_id is not None:
                await _upsert_history(session, ctx, wrapup, local_day)
            await _set_callback(session, ctx, expert_id, wrapup_id, wrapup)
            if wrapup.transition is not None and ctx.client_db_id is not None:
                step = wrapup.transition
                await change_status(session, ctx.client_db_id, step.status, expert_id, now,
                                    today=today or local_day, reason=step.reason, until=step.until,
                                    call_id=ctx.call_id, decline_reasons=decline_reasons)
            hooks = await subscribers(session)
            if hooks.wants(WRAPUP_SAVED):
                await enqueue(session, [await _wrapup_event(session, ctx, expert_id, wrapup, now)], now, hooks)
            return ctx


async def _wrapup_event(session: AsyncSession, ctx: WrapUpContext, expert_id: int, wrapup: WrapUpInput,
                        now: datetime) -> Event:
    """wrapup.saved (webhooks), ordered after the call's own events (the same subject)."""
    login = (await session.execute(select(Expert.login).where(Expert.id == expert_id))).scalar_one_or_none()
    return wrapup_event(WrapUpFacts(
        linkedid=ctx.linkedid, expert_login=login, client_id=ctx.client_external_id, contact_name=ctx.contact_name,
        planned_call_id=ctx.planned_public_id, result=wrapup.result.value, topic=wrapup.topic,
        logged_in=wrapup.logged_in, productive=wrapup.productive, comment=wrapup.comment,
        next_contact_at=wrapup.next_contact_at,
        transition=None if wrapup.transition is None else wrapup.transition.status.value, saved_at=now))


async def _context(session: AsyncSession, linkedid: str) -> WrapUpContext | None:
    call = (await session.execute(select(Call).where(Call.linkedid == linkedid))).scalar_one_or_none()
    if call is None:
        return None
    item = None
    if call.planned_call_id is not None:  # the item only if the call is on it (plan_links.on_item)
        item = (await session.execute(
            select(PlannedCall.id, PlannedCall.topic, PlannedCall.contact_id, ClientContact.full_name,
                   PlannedCall.client_id)
            .join(ClientContact, ClientContact.id == PlannedCall.contact_id)
            .join(Call, on_item(Call, PlannedCall))
            .where(Call.id == call.id))).first()
    client = None
    if call.client_id is not None:
        client = (await session.execute(
            select(Client.id, Client.name, Client.timezone).where(Client.external_id == call.client_id))).first()
    contact = (item[2], item[3]) if item is not None else await _contact_by_phone(
        session, client[0] if client else None, call.client_number)
    saved = (await session.execute(select(WrapUp).where(WrapUp.call_id == call.id))).scalar_one_or_none()
    window = (None, None)
    if contact is not None:
        window = tuple((await session.execute(select(ClientContact.call_from, ClientContact.call_to)
                                               .where(ClientContact.id == contact[0]))).one())  # type: ignore[assignment]
    return WrapUpContext(
        call_id=call.id, linkedid=call.linkedid, expert_ext=call.expert_ext, expert_id=call.expert_id,
        direction=call.direction,
        client_number=call.client_number, started_at=call.started_at, answered_at=call.answered_at,
        ended_at=call.ended_at, duration_s=call.duration_s, talk_s=call.talk_s, outcome=call.outcome,
        has_recording=call.recording is not None,
        planned_public_id=call.planned_call_id if item is not None else None,
        planned_id=item[0] if item is not None else None,
        planned_topic=item[1] if item is not None else None,
        client_db_id=client[0] if client else (item[4] if item is not None else None),
        client_external_id=call.client_id, client_name=client[1] if client else call.client_name,
        contact_db_id=contact[0] if contact else None, contact_name=contact[1] if contact else None,
        saved=saved, client_timezone=client[2] if client else None, call_from=window[0], call_to=window[1],
    )


async def _contact_by_phone(session: AsyncSession, client_id: int | None,
                            number: str | None) -> tuple[int, str] | None:
    if client_id is None or not number:
        return None
    row = (await session.execute(
        select(ClientContact.id, ClientContact.full_name)
        .where(ClientContact.client_id == client_id, ClientContact.phone_e164 == number)
        .order_by(ClientContact.id).limit(1))).first()
    return None if row is None else (row[0], row[1])


async def _upsert_wrapup(session: AsyncSession, ctx: WrapUpContext, expert_id: int,
                         wrapup: WrapUpInput, now: datetime) -> int:
    values = {
        "call_id": ctx.call_id, "planned_call_id": ctx.planned_id, "expert_id": expert_id,
        "client_id": ctx.client_db_id, "contact_id": ctx.contact_db_id, "result": wrapup.result.value,
        "topic": wrapup.topic, "logged_in": wrapup.logged_in, "productive": wrapup.productive,
        "comment": wrapup.comment, "next_contact_at": wrapup.next_contact_at,
        "created_at": now, "updated_at": now,
    }
    changing = {k: v for k, v in values.items() if k not in ("call_id", "created_at")}
    statement = (insert_for(dialect_name(session), _WRAPUPS).values(values)
                 .on_conflict_do_update(index_elements=["call_id"], set_=changing)
                 .returning(_WRAPUPS.c.id))
    return cast(int, (await session.execute(statement)).scalar_one())


async def _is_latest_call_of_item(session: AsyncSession, ctx: WrapUpContext) -> bool:
    """An item called twice takes the state of its latest call on it: an older call's wrap-up saved
    (or re-saved) afterwards must not undo it, and another Expert's call carrying its id is none of its."""
    latest = (await session.execute(
        select(Call.id).join(PlannedCall, on_item(Call, PlannedCall)).where(PlannedCall.id == ctx.planned_id)
        .order_by(Call.started_at.desc(), Call.id.desc()).limit(1))).scalar_one_or_none()
    return latest is None or latest == ctx.call_id


async def _update_item(session: AsyncSession, planned_id: int, wrapup: WrapUpInput, now: datetime) -> None:
    values: dict[str, Any] = {"state": wrapup.result.plan_state.value, "result_comment": wrapup.comment,
                              "updated_at": now}
    if wrapup.topic:
        values["topic"] = wrapup.topic  # the next plan shows what was actually talked about
    await session.execute(update(PlannedCall).where(PlannedCall.id == planned_id).values(values))


async def _upsert_history(session: AsyncSession, ctx: WrapUpContext, wrapup: WrapUpInput, day: Any) -> None:
    """An unplanned call enters the client's history, keyed by its call: re-saving updates it."""
    values = {
        "client_id": ctx.client_db_id, "contact_id": ctx.contact_db_id, "date": day,
        "result": "contact_made" if wrapup.result.is_contact else "not_reached",
        "topic": wrapup.topic, "comment": wrapup.comment, "row_key": history_key(ctx.linkedid),
    }
    changing = {k: v for k, v in values.items() if k != "row_key"}
    await session.execute(insert_for(dialect_name(session), _HISTORY).values(values)
                          .on_conflict_do_update(index_elements=["row_key"], set_=changing))


def history_key(linkedid: str) -> str:
    """Imported rows hash their content; a wrap-up's row is named by its call instead."""
    return hashlib.sha256(f"wrapup:{linkedid}".encode()).hexdigest()


async def _set_callback(session: AsyncSession, ctx: WrapUpContext, expert_id: int, wrapup_id: int,
                        wrapup: WrapUpInput) -> None:
    if wrapup.next_contact_at is None or ctx.contact_db_id is None or ctx.client_db_id is None:
        await session.execute(delete(CallbackPromise).where(CallbackPromise.wrapup_id == wrapup_id))
        return
    values = {"contact_id": ctx.contact_db_id, "client_id": ctx.client_db_id, "expert_id": expert_id,
              "at": wrapup.next_contact_at, "topic": wrapup.topic, "comment": wrapup.comment,
              "done": False, "wrapup_id": wrapup_id}
    changing = {k: v for k, v in values.items() if k != "wrapup_id"}
    promised_before = (await session.execute(
        select(CallbackPromise.at).where(CallbackPromise.wrapup_id == wrapup_id))).scalar_one_or_none()
    if promised_before == wrapup.next_contact_at:
        del changing["done"]  # a re-save with the same time keeps a callback already made as made
    await session.execute(insert_for(dialect_name(session), _CALLBACKS).values(values)
                          .on_conflict_do_update(index_elements=["wrapup_id"], set_=changing))
