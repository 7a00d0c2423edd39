"""Reads for the live board and the desk: who is absent today, whose latest call still needs a
wrap-up (and since when), and the call an Expert still owes a wrap-up for (desk.forced_wrapup)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from service.days import day_bounds
from service.db.engine import SessionMaker
from service.db.models import Call, ExpertAbsence, WrapUp


@dataclass(frozen=True, slots=True)
class LatestCall:
    """An Expert's latest call of the day in the ledger and whether it has a wrap-up."""

    linkedid: str
    ended: bool
    wrapped_up: bool
    ended_at: datetime | None = None
    outcome: str | None = None

    @property
    def needs_wrapup(self) -> bool:
        """Ended without a wrap-up; the Expert's own miss (her phone not answered) needs none
        (service/desk/queue.py QueueRow.needs_wrapup)."""
        return self.ended and not self.wrapped_up and self.outcome != "expert_no_answer"


@dataclass(frozen=True, slots=True)
class OwedWrapUp:
    """A call of the Expert's that ended today without a wrap-up."""

    linkedid: str
    client_name: str | None
    client_number: str | None
    started_at: datetime
    ended_at: datetime | None = None  # the wrap-up's time runs from here (the desk's «Итоги звонка»)


class BoardRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def absent_ids(self, day: date) -> set[int]:
        """Experts with an absence covering `day` (both ends inclusive)."""
        async with self._sessions() as session:
            rows = await session.execute(select(ExpertAbsence.expert_id).where(
                ExpertAbsence.from_date <= day, ExpertAbsence.to_date >= day))
        return {row[0] for row in rows}

    async def latest_calls(self, extensions: Collection[str], day: date, tz: ZoneInfo) -> dict[str, LatestCall]:
        """Extension → its latest call started on `day` (organisation time), with its wrap-up status."""
        if not extensions:
            return {}
        query = (select(Call.expert_ext, Call.linkedid, Call.ended_at, WrapUp.id, Call.outcome)
                 .outerjoin(WrapUp, WrapUp.call_id == Call.id)
                 .where(Call.expert_ext.in_(list(extensions)), Call.started_at >= day_bounds(day, tz)[0],
                        Call.started_at < day_bounds(day, tz)[1])
                 .order_by(Call.started_at, Call.id))
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        # Later rows overwrite earlier ones: a day is a few dozen calls per Expert.
        return {ext: LatestCall(linkedid, ended_at is not None, wrapup_id is not None, ended_at, outcome)
                for ext, linkedid, ended_at, wrapup_id, outcome in rows
                if ext is not None}  # never false (IN above): it narrows the type

    async def owed_wrapup(self, expert_id: int, day: date, tz: ZoneInfo) -> OwedWrapUp | None:
        """The Expert's earliest call of `day` that ended without a wrap-up (her own misses aside)."""
        start, end = day_bounds(day, tz)
        query = (select(Call.linkedid, Call.client_name, Call.client_number, Call.started_at, Call.ended_at)
                 .outerjoin(WrapUp, WrapUp.call_id == Call.id)
                 .where(Call.expert_id == expert_id, Call.started_at >= start, Call.started_at < end,
                        Call.ended_at.is_not(None), WrapUp.id.is_(None),
                        or_(Call.outcome.is_(None), Call.outcome != "expert_no_answer"))
                 .order_by(Call.started_at, Call.id).limit(1))
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        return None if row is None else OwedWrapUp(*row)


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """The organisation-time date of a moment (the day of a call, SPEC-NOTES)."""
    return moment.astimezone(tz).date()
