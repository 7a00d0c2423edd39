"""The business events behind a monthly report's figure (GET /month/events): one page, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from service.db.engine import SessionMaker
from service.db.models import Client, Expert
from service.db.models_month import BusinessEvent
from service.db.month_report import client_disconnected_then

EVENTS_PAGE = 500  # rows shown; the page says how many there are in all


@dataclass(frozen=True, slots=True)
class EventLine:
    occurred_on: date
    kind: str
    client_external_id: str
    client_name: str
    amount_rub: Decimal | None
    employee: str | None  # the full name
    note: str | None


class MonthEventsRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def page(self, first: date, last: date, employee_id: int | None, kind: str | None,
                   disconnected: bool | None = None) -> tuple[list[EventLine], int]:
        """(the newest EVENTS_PAGE events of days first..last, of the employee and kind when given; their count).

        `disconnected`: only events whose client was (True) or was not (False) disconnected on their day,
        as the report splits debt collected."""
        e = BusinessEvent
        where = [e.occurred_on >= first, e.occurred_on <= last]
        if disconnected is not None:
            then = client_disconnected_then()
            where.append(then if disconnected else ~then)
        if employee_id is not None:
            where.append(e.employee_id == employee_id)
        if kind is not None:
            where.append(e.kind == kind)
        rows = (select(e.occurred_on, e.kind, Client.external_id, Client.name, e.amount_rub, Expert.full_name, e.note)
                .join(Client, Client.id == e.client_id).outerjoin(Expert, Expert.id == e.employee_id)
                .where(*where).order_by(e.occurred_on.desc(), e.id.desc()).limit(EVENTS_PAGE))
        async with self._sessions() as session:
            lines = [EventLine(*row) for row in await session.execute(rows)]
            total = int(await session.scalar(select(func.count()).select_from(e).where(*where)) or 0)
        return lines, total
