"""What the ДС-versus-КС comparison reads for a range of days (issue 17; service/compare/report.py).

One query per source. Requests are many (a million a year): they are counted per client and month
in SQL, and read one by one only for a client whose segment changed inside a month (its requests
count in the segment it was in on each one's day).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.compare.definitions import Period, SegmentIndex, segment_on
from service.compare.report import Comparison, Facts, compare, months_of
from service.compare.segments import histories
from service.compare.survey import SurveyMapping
from service.days import day_bounds
from service.db.bulk import chunks
from service.db.engine import SessionMaker
from service.db.figures_queries import tuned
from service.db.models import (
    Act,
    BusinessEvent,
    Client,
    ClientContact,
    ClientRequest,
    Mailing,
    SeminarVisit,
    SurveyResponse,
    Training,
)
from service.db.segments import SegmentsRepository
from service.selection.listing import collector_paused

DISCONNECTIONS = ("client_disconnected", "competitor_lost")
COMPETITOR, WEBINAR = "competitor_lost", "seminar_sold"
TRAINED_WITHIN_DAYS = 366  # the trained share looks back 12 months from each period's end


class CompareRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def facts(self, period: Period, tz: ZoneInfo) -> Facts:
        """Everything the table and its monthly series need for `period` (days in the organisation's zone)."""
        with collector_paused():  # ~1.5M rows as tuples: no cycles, and each collection walked them all again
            return await self._facts(period, tz)

    async def _facts(self, period: Period, tz: ZoneInfo) -> Facts:
        history = SegmentIndex(histories(await SegmentsRepository(self._sessions).facts()))
        since = date.fromordinal(period.first.toordinal() - TRAINED_WITHIN_DAYS)
        async with self._sessions() as session:
            if await tuned(session) == "postgresql":
                # The requests' count (a million rows, a CASE per month) costs over jit_above_cost: PostgreSQL
                # spent ~180 ms compiling it at 100,000 clients (bench/compare.py).
                await session.execute(text("SET LOCAL jit = off"))
            events = await _rows(session, select(BusinessEvent.client_id, BusinessEvent.occurred_on,
                                                 BusinessEvent.kind, BusinessEvent.note)
                                 .where(BusinessEvent.occurred_on >= period.first,
                                        BusinessEvent.occurred_on <= period.last,
                                        BusinessEvent.kind.in_((*DISCONNECTIONS, WEBINAR))))
            users = dict(await _rows(session, select(ClientContact.id, ClientContact.client_id)
                                     .where(ClientContact.is_user)))
            trainings = await _rows(session, select(ClientContact.id, Training.day)
                                    .join(ClientContact, (ClientContact.external_id == Training.contact_external_id)
                                          & (ClientContact.client_id == Training.client_id))
                                    .where(Training.day >= since, Training.day <= period.last))
            clients = await _rows(session, select(Client.id, Client.prepaid_months, Client.collection_completeness))
            acts = await _rows(session, select(Act.client_id, Act.due_on, Act.returned_on)
                               .where(Act.due_on >= period.first, Act.due_on <= period.last))
            visits = await _rows(session, select(SeminarVisit.client_id, SeminarVisit.day)
                                 .where(SeminarVisit.day >= period.first, SeminarVisit.day <= period.last))
            counts, singly = await _requests(session, history, period, tz)
        return Facts(
            history=history,
            disconnections=[(c, day) for c, day, kind, _ in events if kind in DISCONNECTIONS],
            competitor_losses=[(c, day, _competitor(note)) for c, day, kind, note in events if kind == COMPETITOR],
            users=users,
            trainings=trainings,
            prepaid_months={c: months for c, months, _ in clients},
            completeness={c: Decimal(share) for c, _, share in clients if share is not None},
            acts=acts,
            requests=singly,
            request_counts=counts,
            seminar_visits=visits,
            webinars_sold=[(c, day) for c, day, kind, _ in events if kind == WEBINAR],
        )

    async def mailings(self, period: Period) -> list[tuple[str, int, int, int]]:
        """(kind, delivered, opened, clicked) of each campaign sent in the period."""
        query = (select(Mailing.kind, Mailing.delivered, Mailing.opened, Mailing.clicked)
                 .where(Mailing.sent_on >= period.first, Mailing.sent_on <= period.last))
        async with self._sessions() as session:
            return [(kind, delivered, opened, clicked)
                    for kind, delivered, opened, clicked in await session.execute(query)]

    async def survey(self, period: Period) -> list[dict[str, str]]:
        """The answers of each respondent who answered in the period."""
        query = select(SurveyResponse.answers).where(SurveyResponse.answered_on >= period.first,
                                                     SurveyResponse.answered_on <= period.last)
        async with self._sessions() as session:
            return [dict(answers) for answers in (await session.scalars(query))]

    async def churned(self, period: Period) -> list[tuple[str, str, date, str, str | None]]:
        """The clients behind churn: (code, name, day, kind, note) of each disconnection in the period."""
        query = (select(Client.external_id, Client.name, BusinessEvent.occurred_on, BusinessEvent.kind,
                        BusinessEvent.note)
                 .join(Client, Client.id == BusinessEvent.client_id)
                 .where(BusinessEvent.occurred_on >= period.first, BusinessEvent.occurred_on <= period.last,
                        BusinessEvent.kind.in_(DISCONNECTIONS))
                 .order_by(BusinessEvent.occurred_on, Client.external_id))
        async with self._sessions() as session:
            return [tuple(row) for row in await session.execute(query)]  # type: ignore[misc]


def _competitor(note: str | None) -> str:
    return " ".join((note or "").split())[:80]


async def _rows(session: AsyncSession, query: Any) -> list[Any]:
    return [tuple(row) for row in await _execute(session, query)]


async def _execute(session: AsyncSession, query: Any) -> Sequence[Any]:
    """A plain column select's rows, read on the session's connection and fetched at once: the same rows
    without the ORM's row loading or a fetch per row, which cost more than the database for the hundreds of
    thousands of rows read here (bench/compare.py)."""
    return (await (await session.connection()).execute(query)).all()


async def _requests(session: AsyncSession, history: Mapping[int, Sequence[tuple[date, str]]], period: Period,
                    tz: ZoneInfo) -> tuple[dict[tuple[str, date], int], list[tuple[int, date]]]:
    """((segment, month) → requests of clients in one segment all month; each request of the others).

    Counted in SQL per client, a column per month: a client in one segment all period (most of them) adds
    its row to its segment's sums; another one's months are looked at one by one."""
    months = months_of(period)
    bounds = [day_bounds(month.first, tz)[0] for month in months] + [day_bounds(period.last, tz)[1]]
    bucket = case(*((ClientRequest.created_at < bound, index) for index, bound in enumerate(bounds[1:])))
    bucketed = (select(ClientRequest.client_id.label("client_id"), bucket.label("bucket"))
                .where(ClientRequest.created_at >= bounds[0], ClientRequest.created_at < bounds[-1])).subquery()
    query = (select(bucketed.c.client_id, *(func.count(case((bucketed.c.bucket == index, 1)))
                                            for index in range(len(months))))
             .group_by(bucketed.c.client_id))
    counts: dict[tuple[str, date], int] = {}
    steady: dict[str, list[Sequence[int]]] = {}
    changing: dict[int, list[int]] = {}
    for client, *per_month in await _execute(session, query):
        changes = history.get(client, ())
        segment = segment_on(changes, period.first)
        if segment is not None and not any(period.first < since <= period.last for since, _ in changes):
            steady.setdefault(segment, []).append(per_month)  # the same segment every month
            continue
        for index, count in enumerate(per_month):
            if not count:
                continue
            month = months[index]
            segment = segment_on(changes, month.first)
            if segment is not None and segment == segment_on(changes, month.last) and \
                    not any(month.first < since <= month.last for since, _ in changes):
                counts[(segment, month.first)] = counts.get((segment, month.first), 0) + count
            else:
                changing.setdefault(client, []).append(index)
    for segment, rows in steady.items():
        for month, count in zip(months, map(sum, zip(*rows, strict=True)), strict=True):
            if count:
                counts[(segment, month.first)] = counts.get((segment, month.first), 0) + count
    singly = []
    for chunk in chunks(list(changing), 1000):
        found = select(ClientRequest.client_id, ClientRequest.created_at).where(
            ClientRequest.client_id.in_(chunk), ClientRequest.created_at >= bounds[0],
            ClientRequest.created_at < bounds[-1])
        singly += [(client, _local_day(moment, tz)) for client, moment in await _execute(session, found)
                   if any(months[i].first <= _local_day(moment, tz) <= months[i].last for i in changing[client])]
    return counts, singly


def _local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


async def comparison(sessions: SessionMaker, period: Period, tz: ZoneInfo, mapping: SurveyMapping) -> Comparison:
    """The page's (and `dsdesk compare`'s) whole comparison for `period`."""
    repo = CompareRepository(sessions)
    facts = await repo.facts(period, tz)
    mailings, survey = await repo.mailings(period), await repo.survey(period)
    with collector_paused():
        return compare(facts, period, mailings, survey, mapping)
