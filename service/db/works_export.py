"""Reads for the works export (service/exports/): a day's finished calls with their wrap-ups, and its visits.

One day at a time, so a range of days streams day by day and never loads a table: the calls are an
indexed range read by `started_at`; the visits are a PM's few dozen a month, read by `day`. The
planned item a call is on follows the one rule of service/db/plan_links.py; «клиент заходил в
систему» comes both ways, measured (`call_logins`) and ticked (the wrap-up), and
service/exports/works.py chooses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.days import day_bounds
from service.db.engine import SessionMaker
from service.db.models import Call, CallLogin, Client, ClientContact, Expert, PlannedCall, Visit, WrapUp
from service.db.plan_links import on_item
from service.exports.works import CallWork, VisitWork

DayWorks = tuple[date, list[CallWork], list[VisitWork]]


class WorksExportRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def day(self, day: date, tz: ZoneInfo) -> tuple[list[CallWork], list[VisitWork]]:
        """The calls started on `day` (organisation time) that have ended, and the visits of `day`."""
        async with self._sessions() as session:
            return await _calls(session, day, tz), await _visits(session, day)

    async def days(self, days: Iterable[date], tz: ZoneInfo) -> AsyncIterator[DayWorks]:
        """Day by day, in the order given: each day is read in a session of its own."""
        for day in days:
            calls, visits = await self.day(day, tz)
            yield day, calls, visits


async def _calls(session: AsyncSession, day: date, tz: ZoneInfo) -> list[CallWork]:
    lo, hi = day_bounds(day, tz)
    owner, wrapper = aliased(Expert), aliased(Expert)
    wrap_contact, item_contact = aliased(ClientContact), aliased(ClientContact)
    query = (
        select(Call.linkedid, Call.direction, Call.started_at, Call.outcome, Call.talk_s, Call.guessed,
               Call.recording.is_not(None), PlannedCall.id.is_not(None), Call.client_id,
               func.coalesce(wrap_contact.external_id, item_contact.external_id),
               func.coalesce(owner.login, wrapper.login), func.coalesce(owner.role, wrapper.role),
               WrapUp.result, func.coalesce(WrapUp.topic, PlannedCall.topic), WrapUp.comment, WrapUp.logged_in,
               CallLogin.measured)
        .outerjoin(WrapUp, WrapUp.call_id == Call.id)
        .outerjoin(CallLogin, CallLogin.call_id == Call.id)
        .outerjoin(PlannedCall, on_item(Call, PlannedCall))
        .outerjoin(wrap_contact, wrap_contact.id == WrapUp.contact_id)
        .outerjoin(item_contact, item_contact.id == PlannedCall.contact_id)
        .outerjoin(owner, owner.id == Call.expert_id)
        .outerjoin(wrapper, wrapper.id == WrapUp.expert_id)
        .where(Call.started_at >= lo, Call.started_at < hi, Call.ended_at.is_not(None))
        .order_by(Call.started_at, Call.id))
    return [_call(row) for row in await session.execute(query)]


def _call(row: Any) -> CallWork:
    (linkedid, direction, started_at, outcome, talk_s, guessed, has_recording, planned, client, contact, login,
     role, result, topic, comment, ticked, measured) = row
    return CallWork(linkedid=linkedid, direction=direction, started_at=started_at, outcome=outcome or "",
                    talk_s=float(talk_s or 0.0), guessed=bool(guessed), has_recording=bool(has_recording),
                    planned=bool(planned), client_external_id=client, contact_external_id=contact,
                    employee_login=login, employee_role=role, result=result, topic=topic, comment=comment,
                    ticked=None if result is None else bool(ticked),
                    measured=None if measured is None else bool(measured))


async def _visits(session: AsyncSession, day: date) -> list[VisitWork]:
    query = (
        select(Visit.id, Visit.day, Visit.planned, Visit.result, Client.external_id, Expert.login, Visit.contacts_met,
               Visit.topic, Visit.comment)
        .join(Client, Client.id == Visit.client_id)
        .join(Expert, Expert.id == Visit.employee_id)
        .where(Visit.day == day)
        .order_by(Visit.id))
    return [VisitWork(visit_id=row[0], day=row[1], planned=bool(row[2]), result=row[3], client_external_id=row[4],
                      employee_login=row[5], contacts_met=row[6], topic=row[7], comment=row[8])
            for row in await session.execute(query)]
