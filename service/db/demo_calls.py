"""The demo Experts' side of the ledger: their finished calls still waiting for a wrap-up."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select

from dialer.records import CallRecord, Outcome
from service.db.engine import SessionMaker
from service.db.ledger import row_to_record
from service.db.models import Call, WrapUp


async def calls_to_wrap_up(sessions: SessionMaker, extensions: Collection[str], since: datetime,
                           ended_before: datetime) -> list[tuple[int, CallRecord]]:
    """(owner id, call) of the extensions' calls started since `since`, ended before `ended_before`,
    with an owner, no wrap-up yet and something to wrap up (not the Expert's own miss); oldest first."""
    query = (select(Call).outerjoin(WrapUp, WrapUp.call_id == Call.id)
             .where(Call.expert_ext.in_(list(extensions)), Call.started_at >= since, Call.ended_at.is_not(None),
                    Call.ended_at < ended_before, Call.expert_id.is_not(None), WrapUp.id.is_(None),
                    Call.outcome != Outcome.EXPERT_NO_ANSWER.value)  # her own miss: nothing to wrap up
             .order_by(Call.started_at))
    async with sessions() as session:
        calls = (await session.scalars(query)).all()
    return [(call.expert_id, row_to_record(call)) for call in calls if call.expert_id is not None]
