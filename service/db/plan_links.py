"""Which call is on which planned item: the one rule every query linking the ledger to the plan uses.

A call keeps the PLANNED_CALL_ID the PBX reported (`calls.planned_call_id`, any string: data). It
is *on* the item with that public id only when the call's owner (`calls.expert_id`, who held the
extension when the call was recorded) is the item's Expert, or a supervisor or admin who called on
the item. Anything else — another Expert's call carrying the id, an id no item has, a call nobody
owns — leaves the call unplanned: it is never attached to the item (its desk, its wrap-up, its
plan state, the figures), and the ledger logs the mismatch when it writes the call
(`log_foreign_items`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.model import PlanState
from service.db.models import Expert, PlannedCall

log = logging.getLogger(__name__)

SUPERVISOR_ROLES = ("supervisor", "admin")


def on_item(call: Any, item: Any) -> ColumnElement[bool]:
    """SQL: the call is on the item (`call`: Call or the calls table's `.c`; `item`: PlannedCall or `.c`)."""
    supervisors = select(Expert.id).where(Expert.role.in_(SUPERVISOR_ROLES))
    return and_(call.planned_call_id == item.public_id,
                or_(call.expert_id == item.expert_id, call.expert_id.in_(supervisors)))


def unplanned(call: Any) -> ColumnElement[bool]:
    """SQL: the call is on no planned item (no PLANNED_CALL_ID, or one that is not its owner's)."""
    return or_(call.planned_call_id.is_(None), ~exists(select(PlannedCall.id).where(on_item(call, PlannedCall))))


def planned(call: Any) -> ColumnElement[bool]:
    """SQL: the call is on a planned item."""
    return exists(select(PlannedCall.id).where(on_item(call, PlannedCall)))


async def log_foreign_items(session: AsyncSession, calls: Iterable[tuple[str, str | None, int | None]]) -> int:
    """Log each call (linkedid, PLANNED_CALL_ID, owner) whose id names an item of another Expert's
    while its owner is no supervisor: kept on the call as data, never attached. Returns how many.

    One query when every id is its owner's (the usual case), two otherwise.
    """
    calls = [(linkedid, public_id, owner) for linkedid, public_id, owner in calls if public_id]
    if not calls:
        return 0
    items = dict((await session.execute(select(PlannedCall.public_id, PlannedCall.expert_id)
                                        .where(PlannedCall.public_id.in_({c[1] for c in calls})))).all())
    odd = [(linkedid, public_id, owner) for linkedid, public_id, owner in calls
           if public_id in items and owner != items[public_id]]
    supervisors = await _supervisors(session, {owner for _, _, owner in odd if owner is not None})
    foreign = [(linkedid, public_id, owner) for linkedid, public_id, owner in odd if owner not in supervisors]
    for linkedid, public_id, owner in foreign:
        log.warning("call %s carries PLANNED_CALL_ID %s, an item of user %s, but belongs to user %s: "
                    "kept as data, not attached to the item", linkedid, public_id, items[public_id], owner)
    return len(foreign)


async def _supervisors(session: AsyncSession, user_ids: Collection[int]) -> set[int]:
    if not user_ids:
        return set()
    rows = await session.execute(
        select(Expert.id).where(Expert.id.in_(list(user_ids)), Expert.role.in_(SUPERVISOR_ROLES)))
    return {row[0] for row in rows}


async def release_missed_items(session: AsyncSession, calls: Iterable[tuple[str | None, int | None]],
                               now: datetime) -> int:
    """Items whose call ended «Эксперт не снял трубку» go back to planned for another try the same
    day (issue 13): the miss was the Expert's own, so it is no result and uses no client attempt.
    `calls`: (PLANNED_CALL_ID, owner) of such calls; only the owner's own item moves. Returns how many."""
    owned = [(public_id, owner) for public_id, owner in calls if public_id and owner is not None]
    if not owned:
        return 0
    result = await session.execute(
        update(PlannedCall)
        .where(PlannedCall.state == PlanState.IN_PROGRESS.value,
               or_(*(and_(PlannedCall.public_id == public_id, PlannedCall.expert_id == owner)
                     for public_id, owner in owned)))
        .values(state=PlanState.PLANNED.value, updated_at=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
