"""The daily plan in the database: inputs for the builder, idempotent top-up, roll-over, listing."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, Table, and_, func, literal_column, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.records import iso_ms
from scheduler.inputs import ExistingItem, PlanInputs
from scheduler.model import Plan, PlanItem, PlanState, Reason
from scheduler.planning import SaveResult
from service.db import models as m
from service.db.bulk import chunks, ids_by, session_scope
from service.db.engine import SessionMaker
from service.db.plan_inputs import (
    existing_item,
    existing_items_query,
    load_plan_inputs,
    reason,
    rolled_over_pending,
)
from service.db.upsert import dialect_name, insert_for
from service.errors import LedgerError, UnknownClientError, UnknownExpertError
from service.webhooks.events import PLAN_BUILT, plan_event
from service.webhooks.outbox import enqueue, subscribers

_PLANNED = cast(Table, m.PlannedCall.__table__)
_NOTES = cast(Table, m.PlanNote.__table__)
_EXPERTS = cast(Table, m.Expert.__table__)
PUBLIC_ID_OFFSET = 1000  # the first item is PC-1001
UNFINISHED = (PlanState.PLANNED.value, PlanState.IN_PROGRESS.value)
_ITEM_BATCH = 1000


@dataclass(frozen=True, slots=True)
class PlannedCallView:
    """A stored plan item as shown to people and the CLI (external ids, not database ids)."""

    public_id: str
    plan_date: date
    expert_login: str
    client_external_id: str
    contact_external_id: str | None
    slot: datetime  # aware UTC
    state: PlanState
    reasons: tuple[Reason, ...]
    topic: str | None
    comment: str | None  # the previous contact's comment
    result_comment: str | None
    rolled_from: str | None  # public id of the item this one continues


class PlanRepository:
    """Plan items and notes; a method given `session` runs in the caller's transaction."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def load_plan_inputs(self, day: date, tz: ZoneInfo,
                               expert_logins: Collection[str] | None = None) -> PlanInputs:
        """The builder's inputs for `day` (all Experts, or only the given logins).

        Two connections: the summaries are computed while the rest is loaded.
        """
        async with self._sessions() as session, self._sessions() as summaries_session:
            return await load_plan_inputs(session, day, tz, expert_logins, summaries_session)

    async def save_plan(self, plan: Plan, now: datetime | None = None,
                        session: AsyncSession | None = None) -> SaveResult:
        """Insert the plan's new items; never a second item for a (day, contact), never an edit.

        Idempotent: saving the same plan again inserts nothing. An item continues (rolled_from)
        the contact's latest earlier item when that one was rolled over.
        """
        now = now or datetime.now(UTC)
        async with session_scope(self._sessions, session) as s:
            rows = await _item_rows(s, plan, now, token=uuid4().hex[:12])
            await _link_rolled_over(s, plan.day, rows)
            new_ids = await _insert_items(s, rows)
            await _assign_public_ids(s, new_ids)
            notes = await _insert_notes(s, plan)
            await _enqueue_plan_built(s, plan, new_ids, now)
        created = tuple(public_id_of(i) for i in new_ids)
        return SaveResult(created=created, kept=len(rows) - len(new_ids), notes_added=notes)

    async def roll_over(self, day: date, now: datetime | None = None,
                        session: AsyncSession | None = None) -> list[ExistingItem]:
        """Mark unfinished items of earlier days rolled over; return those not yet re-planned.

        The result also holds items rolled over by an earlier run that no later item continues
        (the service stopped before the plan was saved, or the builder deferred them again).
        """
        now = now or datetime.now(UTC)
        p = _PLANNED
        async with session_scope(self._sessions, session) as s:
            await s.execute(update(p).where(p.c.plan_date < day, p.c.state.in_(UNFINISHED))
                            .values(state=PlanState.ROLLED_OVER.value, updated_at=now))
            rows = await s.execute(existing_items_query(rolled_over_pending(day)))
            return [existing_item(row) for row in rows]

    async def list_plan(self, day: date, expert_login: str | None = None) -> list[PlannedCallView]:
        """The day's items (of one Expert, or all), by Expert and slot."""
        p, prev = m.PlannedCall, _PLANNED.alias("prev")
        query = (
            select(p.public_id, p.plan_date, m.Expert.login, m.Client.external_id,
                   m.ClientContact.external_id, p.slot, p.state, p.reasons, p.topic, p.comment,
                   p.result_comment, prev.c.public_id)
            .join(m.Expert, m.Expert.id == p.expert_id)
            .join(m.Client, m.Client.id == p.client_id)
            .join(m.ClientContact, m.ClientContact.id == p.contact_id)
            .outerjoin(prev, prev.c.id == p.rolled_from)
            .where(p.plan_date == day)
            .order_by(m.Expert.login, p.slot, p.id))
        if expert_login is not None:
            query = query.where(m.Expert.login == expert_login)
        async with self._sessions() as session:
            return [_view(row) for row in await session.execute(query)]

    async def list_notes(self, day: date, expert_login: str | None = None) -> list[tuple[str, str]]:
        """(login, text) of the day's plan notes."""
        query = (select(m.Expert.login, m.PlanNote.text)
                 .join(m.Expert, m.Expert.id == m.PlanNote.expert_id)
                 .where(m.PlanNote.plan_date == day).order_by(m.Expert.login, m.PlanNote.id))
        if expert_login is not None:
            query = query.where(m.Expert.login == expert_login)
        async with self._sessions() as session:
            return [(login, text) for login, text in await session.execute(query)]

    async def set_state(self, public_id: str, state: PlanState, result_comment: str | None = None,
                        now: datetime | None = None) -> None:
        """Record what became of an item (the wrap-up); an unknown public id raises LookupError."""
        values: dict[str, Any] = {"state": state.value, "updated_at": now or datetime.now(UTC)}
        if result_comment is not None:
            values["result_comment"] = result_comment
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(_PLANNED).where(_PLANNED.c.public_id == public_id).values(values))
            if cast(Any, result).rowcount == 0:
                raise LookupError(f"no planned call {public_id!r}")

    async def add_callback(self, contact_external_id: str, expert_login: str, at: datetime,
                           topic: str | None = None, comment: str | None = None) -> int:
        """Promise a callback at `at` (aware); returns its id."""
        async with self._sessions.begin() as session:
            contacts = await _contacts(session, [contact_external_id])
            experts = await _expert_ids(session, [expert_login])
            contact_id, client_id, _ = contacts[contact_external_id]
            callback = m.CallbackPromise(contact_id=contact_id, client_id=client_id,
                                         expert_id=experts[expert_login], at=at,
                                         topic=topic, comment=comment, done=False)
            session.add(callback)
            await session.flush()
            return callback.id


def _view(row: Sequence[Any]) -> PlannedCallView:
    (public_id, plan_date, login, client, contact, slot, state, reasons, topic, comment,
     result_comment, rolled_from) = row
    return PlannedCallView(
        public_id=public_id, plan_date=plan_date, expert_login=login, client_external_id=client,
        contact_external_id=contact, slot=slot, state=PlanState(state),
        reasons=tuple(reason(r) for r in reasons or ()),
        topic=topic, comment=comment, result_comment=result_comment, rolled_from=rolled_from,
    )


async def _item_rows(session: AsyncSession, plan: Plan, now: datetime,
                     token: str) -> list[dict[str, Any]]:
    items = [item for expert_plan in plan.experts for item in expert_plan.items]
    experts = await _expert_ids(session, {i.expert_login for i in items})
    contacts = await _contacts(session, {i.contact_external_id for i in items})
    rows: dict[int, dict[str, Any]] = {}
    for item in items:
        contact_id, client_id, client_ext = contacts[item.contact_external_id]
        if client_ext != item.client_external_id:
            raise LedgerError(f"contact {item.contact_external_id!r} belongs to client "
                              f"{client_ext!r}, not {item.client_external_id!r}")
        # A contact at most once a day: the first item for it wins, as in the database.
        rows.setdefault(contact_id, _item_row(plan.day, item, experts[item.expert_login],
                                              contact_id, client_id, now, token))
    return list(rows.values())


def _item_row(day: date, item: PlanItem, expert_id: int, contact_id: int, client_id: int,
              now: datetime, token: str) -> dict[str, Any]:
    return {
        # A placeholder replaced by PC-<id> in the same transaction; the per-save token keeps a
        # concurrent save's placeholders distinct, so only (day, contact) can ever conflict.
        "public_id": f"new:{token}:{contact_id}",
        "plan_date": day, "expert_id": expert_id, "client_id": client_id, "contact_id": contact_id,
        "slot": item.slot, "state": PlanState.PLANNED.value,
        "reasons": [{"code": r.code.value, "text": r.text} for r in item.reasons],
        "topic": item.topic, "comment": item.previous_comment, "result_comment": None,
        "rolled_from": None, "created_at": now, "updated_at": now,
    }


async def _insert_items(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    statement = insert_for(dialect_name(session), _PLANNED).on_conflict_do_nothing(
        index_elements=["plan_date", "contact_id"]).returning(_PLANNED.c.id)
    new_ids: list[int] = []
    for chunk in chunks(rows, _ITEM_BATCH):
        new_ids.extend(row_id for (row_id,) in await session.execute(statement, chunk))
    return sorted(new_ids)


async def _link_rolled_over(session: AsyncSession, day: date, rows: list[dict[str, Any]]) -> None:
    """Set `rolled_from`: the contact's latest item before `day`, if that one was rolled over.

    Looked up before the insert, by contact (an index seek each): a correlated UPDATE after it
    made PostgreSQL scan every rolled-over item for every new one (6–8 s at full size).
    """
    p = _PLANNED
    by_contact = {row["contact_id"]: row for row in rows}
    for chunk in chunks(by_contact):
        latest = (select(p.c.contact_id, func.max(p.c.plan_date).label("plan_date"))
                  .where(p.c.contact_id.in_(chunk), p.c.plan_date < day)
                  .group_by(p.c.contact_id).subquery("latest"))
        query = (select(p.c.contact_id, p.c.id)
                 .join(latest, and_(latest.c.contact_id == p.c.contact_id,
                                    latest.c.plan_date == p.c.plan_date))
                 .where(p.c.state == PlanState.ROLLED_OVER.value))
        for contact_id, item_id in await session.execute(query):
            by_contact[contact_id]["rolled_from"] = item_id


async def _assign_public_ids(session: AsyncSession, new_ids: list[int]) -> None:
    p = _PLANNED
    public_id: ColumnElement[str] = literal_column("'PC-'") + sql_cast(p.c.id + PUBLIC_ID_OFFSET, String)
    for chunk in chunks(new_ids):
        await session.execute(update(p).where(p.c.id.in_(chunk)).values(public_id=public_id))


async def _enqueue_plan_built(session: AsyncSession, plan: Plan, new_ids: list[int], now: datetime) -> None:
    """plan.built (webhooks): one event per Expert whose day got new items, listing them."""
    if not new_ids:
        return
    hooks = await subscribers(session)
    if not hooks.wants(PLAN_BUILT):
        return
    p = m.PlannedCall
    by_login: dict[str, list[dict[str, Any]]] = {}
    for chunk in chunks(new_ids):
        rows = await session.execute(
            select(m.Expert.login, p.public_id, p.slot, m.Client.external_id, m.ClientContact.external_id, p.topic,
                   p.reasons)
            .join(m.Expert, m.Expert.id == p.expert_id).join(m.Client, m.Client.id == p.client_id)
            .join(m.ClientContact, m.ClientContact.id == p.contact_id).where(p.id.in_(chunk)))
        for login, public_id, slot, client, contact, topic, reasons in rows:
            by_login.setdefault(login, []).append({
                "public_id": public_id, "slot": iso_ms(slot), "client_id": client, "contact_id": contact,
                "topic": topic, "reasons": [r.get("code") for r in reasons or ()]})
    notes = {e.expert_login: list(dict.fromkeys(e.notes)) for e in plan.experts}
    events = [plan_event(plan.day, login, sorted(items, key=lambda i: (i["slot"], i["public_id"])),
                         notes.get(login, [])) for login, items in sorted(by_login.items())]
    await enqueue(session, events, now, hooks)


def public_id_of(item_id: int) -> str:
    """The public id the database gives the item with id `item_id` (see `_assign_public_ids`)."""
    return f"PC-{item_id + PUBLIC_ID_OFFSET}"


async def _insert_notes(session: AsyncSession, plan: Plan) -> int:
    experts = await _expert_ids(session, {e.expert_login for e in plan.experts if e.notes})
    rows = [{"expert_id": experts[e.expert_login], "plan_date": plan.day, "text": note}
            for e in plan.experts for note in dict.fromkeys(e.notes)]
    if not rows:
        return 0
    statement = insert_for(dialect_name(session), _NOTES).on_conflict_do_nothing(
        index_elements=["expert_id", "plan_date", "text"]).returning(_NOTES.c.id)
    return len((await session.execute(statement, rows)).all())


async def _expert_ids(session: AsyncSession, logins: Collection[str]) -> dict[str, int]:
    ids = await ids_by(session, _EXPERTS, "login", logins)
    unknown = sorted(set(logins) - ids.keys())
    if unknown:
        raise UnknownExpertError(f"no Expert with login {', '.join(map(repr, unknown[:10]))}")
    return ids


async def _contacts(session: AsyncSession, external_ids: Collection[str],
                    ) -> dict[str, tuple[int, int, str]]:
    """Contact external id → (contact id, client id, client external id)."""
    found: dict[str, tuple[int, int, str]] = {}
    for chunk in chunks(set(external_ids)):
        rows = await session.execute(
            select(m.ClientContact.external_id, m.ClientContact.id, m.Client.id, m.Client.external_id)
            .join(m.Client, m.Client.id == m.ClientContact.client_id)
            .where(m.ClientContact.external_id.in_(chunk)))
        found.update({cast(str, ext): (contact_id, client_id, client)
                      for ext, contact_id, client_id, client in rows})
    unknown = sorted(set(external_ids) - found.keys())
    if unknown:
        raise UnknownClientError(f"no contact with external id {', '.join(map(repr, unknown[:10]))}")
    return found
