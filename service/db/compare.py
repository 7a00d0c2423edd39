"""What the ДС-versus-КС comparison reads for a range of days (issue 17; service/compare/report.py).

One query per source. Requests are many (a million a year): they are counted per client and month
in SQL, and read one by one only for a client whose segment changed inside a month (its requests
count in the segment it was in on each one's day).
"""

from __future__ import annotations

import asyncio
import dataclasses
from bisect import bisect_right
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import CTE, and_, case, func, null, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.compare.definitions import Period, segment_on
from service.compare.report import Comparison, Facts, compare, months_of
from service.compare.segments import DS, GONE, KNOWN_FROM, histories
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
    ClientTransition,
    Mailing,
    SegmentChange,
    SeminarVisit,
    SurveyResponse,
    Training,
)
from service.db.segments import LOST, MOVED, RESTORED, SegmentsRepository
from service.selection.listing import collector_paused

T = TypeVar("T")
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
        # Three connections at once: the database counts the requests while Python reads the histories.
        steady = steady_clients(period.first)
        facts, (request_counts, by_client), others = await asyncio.gather(
            SegmentsRepository(self._sessions).facts(), self._in_session(_count_requests, period, tz, steady),
            self._in_session(_others, period, steady))
        history = histories(facts)
        counts, singly = await self._in_session(_split_requests, period, tz, history, request_counts, by_client)
        return dataclasses.replace(others, history=history, requests=singly, request_counts=counts)

    async def _in_session(self, read: Callable[..., Awaitable[T]], *args: Any) -> T:
        async with self._sessions() as session:
            if await tuned(session) == "postgresql":
                # The requests' count (a million rows, a CASE per month) costs over jit_above_cost: PostgreSQL
                # spent ~180 ms compiling it at 100,000 clients (bench/compare.py).
                await session.execute(text("SET LOCAL jit = off"))
            return await read(session, *args)

    async def mailings(self, period: Period) -> list[tuple[str, int, int, int]]:
        """(kind, delivered, opened, clicked) of each campaign sent in the period."""
        query = (select(Mailing.kind, Mailing.delivered, Mailing.opened, Mailing.clicked)
                 .where(Mailing.sent_on >= period.first, Mailing.sent_on <= period.last))
        async with self._sessions() as session:
            return [(kind, delivered, opened, clicked)
                    for kind, delivered, opened, clicked in await session.execute(query)]

    async def survey(self, period: Period) -> list[tuple[dict[str, str], int | None, date]]:
        """(answers, client or None, day) of each respondent who answered in the period."""
        query = select(SurveyResponse.answers, SurveyResponse.client_id, SurveyResponse.answered_on).where(
            SurveyResponse.answered_on >= period.first, SurveyResponse.answered_on <= period.last)
        async with self._sessions() as session:
            return [(dict(answers), client, day) for answers, client, day in await session.execute(query)]

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


async def _others(session: AsyncSession, period: Period, steady: CTE) -> Facts:
    """Every fact but the histories and the requests."""
    since = date.fromordinal(period.first.toordinal() - TRAINED_WITHIN_DAYS)
    events = await _rows(session, select(BusinessEvent.client_id, BusinessEvent.occurred_on, BusinessEvent.kind,
                                         BusinessEvent.note)
                         .where(BusinessEvent.occurred_on >= period.first, BusinessEvent.occurred_on <= period.last,
                                BusinessEvent.kind.in_((*DISCONNECTIONS, WEBINAR))))
    trainings = await _rows(session, select(ClientContact.id, Training.client_id, Training.day)
                            .join(ClientContact, (ClientContact.external_id == Training.contact_external_id)
                                  & (ClientContact.client_id == Training.client_id) & ClientContact.is_user)
                            .where(Training.day >= since, Training.day <= period.last))
    users = (select(ClientContact.client_id, func.count().label("users")).where(ClientContact.is_user)
             .group_by(ClientContact.client_id).subquery())
    clients = await _rows(session, select(Client.id, Client.prepaid_months, Client.collection_completeness,
                                          users.c.users).outerjoin(users, users.c.client_id == Client.id))
    act_counts, acts = await _acts(session, period, steady)
    visits = await _rows(session, select(SeminarVisit.client_id, SeminarVisit.day)
                         .where(SeminarVisit.day >= period.first, SeminarVisit.day <= period.last))
    event_days = await _rows(session, select(BusinessEvent.occurred_on).distinct().where(
        BusinessEvent.occurred_on >= period.first, BusinessEvent.occurred_on <= period.last))
    return Facts(
        history={},
        disconnections=[(c, day) for c, day, kind, _ in events if kind in DISCONNECTIONS],
        competitor_losses=[(c, day, _competitor(note)) for c, day, kind, note in events if kind == COMPETITOR],
        user_counts={c: users for c, _, _, users in clients if users},
        trainings=trainings,
        prepaid_months={c: months for c, months, _, _ in clients},
        completeness={c: Decimal(share) for c, _, share, _ in clients if share is not None},
        acts=acts,
        act_counts=act_counts,
        seminar_visits=visits,
        webinars_sold=[(c, day) for c, day, kind, _ in events if kind == WEBINAR],
        event_months=frozenset(day.replace(day=1) for day, in event_days),
    )


def _competitor(note: str | None) -> str:
    return " ".join((note or "").split())[:80]


async def _rows(session: AsyncSession, query: Any) -> list[Any]:
    return [tuple(row) for row in await _execute(session, query)]


async def _execute(session: AsyncSession, query: Any) -> Sequence[Any]:
    """A plain column select's rows, read on the session's connection and fetched at once: the same rows
    without the ORM's row loading or a fetch per row, which cost more than the database for the hundreds of
    thousands of rows read here (bench/compare.py)."""
    return (await (await session.connection()).execute(query)).all()


def steady_clients(first: date) -> CTE:
    """Each client's id and, when its segment cannot have changed from `first` on, that segment (else NULL).

    The same rule as service/compare/segments.history, on the clients' own columns. Steady in its segment: no
    recorded change, no disconnection or restoration from the day before `first` on, not gone at `first`, known
    since `first` or earlier, and not a ДС client whose move (the campaign's «переведён», else `ds_since`) comes
    after `first`. Steady out of any segment (GONE): its last disconnection before then not followed by a
    restoration. A client it leaves out is looked at one by one: erring that way costs time, not correctness
    (tests/service/test_compare_report.py compares both ways)."""
    moved = (select(ClientTransition.client_id, func.max(ClientTransition.until).label("moved_on"))
             .where(ClientTransition.status == MOVED).group_by(ClientTransition.client_id).subquery())
    e, eve = BusinessEvent, first - timedelta(days=1)
    changing = (select(SegmentChange.client_id)
                .union(select(e.client_id).where(e.kind.in_((*LOST, RESTORED)), e.occurred_on >= eve))
                .subquery())
    lost = (select(e.client_id, func.max(e.occurred_on).label("day")).where(e.kind.in_(LOST), e.occurred_on < eve)
            .group_by(e.client_id).subquery())
    back = (select(e.client_id, func.max(e.occurred_on).label("day")).where(e.kind == RESTORED, e.occurred_on < eve)
            .group_by(e.client_id).subquery())
    # A loss and a restoration on one day: the loss is the later (segments._gaps sorts the restoration first).
    gone = and_(lost.c.day.is_not(None), or_(back.c.day.is_(None), lost.c.day >= back.c.day))
    move = func.coalesce(moved.c.moved_on, Client.ds_since)
    steady = and_(func.coalesce(Client.client_since, KNOWN_FROM) <= first,
                  or_(Client.segment != DS, move.is_(None), move <= first))
    segment = case((changing.c.client_id.is_not(None), null()), (gone, GONE), (steady, Client.segment), else_=null())
    # MATERIALIZED: worked out once per client, not once per request joined to it (PostgreSQL would inline it
    # into the million rows' grouping keys, and spill the grouping to disk).
    return (select(Client.id.label("client_id"), segment.label("segment"))
            .outerjoin(moved, moved.c.client_id == Client.id)
            .outerjoin(changing, changing.c.client_id == Client.id)
            .outerjoin(lost, lost.c.client_id == Client.id)
            .outerjoin(back, back.c.client_id == Client.id)).cte("steady").prefix_with("MATERIALIZED")


def _month_of(column: Any, bounds: Sequence[Any]) -> Any:
    """The index of the month (of the period's months_of) a moment or a day falls in, by the months' bounds."""
    return case(*((column < bound, index) for index, bound in enumerate(bounds[1:])))


RequestCounts = dict[tuple[str, date], int]  # (segment, month's 1st) → requests


async def _count_requests(session: AsyncSession, period: Period, tz: ZoneInfo, steady: CTE,
                          ) -> tuple[RequestCounts, list[tuple[int, int, int]]]:
    """In one pass over the period's requests: the steady clients' per segment and month, the others' per
    client and month (client, month's index, requests)."""
    months = months_of(period)
    bounds = _request_bounds(period, tz)
    month = _month_of(ClientRequest.created_at, bounds)
    whose = case((steady.c.segment.is_(None), ClientRequest.client_id), else_=null())
    query = (select(steady.c.segment, whose, month, func.count())
             .join(steady, steady.c.client_id == ClientRequest.client_id)
             .where(ClientRequest.created_at >= bounds[0], ClientRequest.created_at < bounds[-1])
             .group_by(steady.c.segment, whose, month))
    counts: RequestCounts = {}
    by_client = []
    for segment, client, index, count in await _execute(session, query):
        if segment is not None:
            counts[(segment, months[index].first)] = count
        else:
            by_client.append((client, index, count))
    return counts, by_client


def _request_bounds(period: Period, tz: ZoneInfo) -> list[datetime]:
    return [day_bounds(month.first, tz)[0] for month in months_of(period)] + [day_bounds(period.last, tz)[1]]


async def _split_requests(session: AsyncSession, period: Period, tz: ZoneInfo,
                          history: Mapping[int, Sequence[tuple[date, str]]], counts: RequestCounts,
                          by_client: Sequence[tuple[int, int, int]]) -> tuple[RequestCounts, list[tuple[int, date]]]:
    """The other clients' requests: a month the client stayed in one segment adds to it; a month it changed
    segment in (or became a client in) is read one by one (each request counts in the segment of its day)."""
    months, bounds = months_of(period), _request_bounds(period, tz)
    starts = [month.first for month in months]
    counts = dict(counts)
    unsettled: dict[int, set[int]] = {}  # client → the months it changed segment inside
    changing: dict[int, list[int]] = {}  # month → the clients to read one by one
    for client, index, count in by_client:
        changes = history.get(client, ())
        if client not in unsettled:
            unsettled[client] = {bisect_right(starts, since) - 1 for since, _ in changes
                                 if period.first < since <= period.last and since not in starts}
        segment = segment_on(changes, starts[index])
        if segment is not None and index not in unsettled[client]:
            counts[(segment, starts[index])] = counts.get((segment, starts[index]), 0) + count
        else:
            changing.setdefault(index, []).append(client)
    singly = []
    for index, clients in changing.items():
        for chunk in chunks(clients, 1000):
            found = select(ClientRequest.client_id, ClientRequest.created_at).where(
                ClientRequest.client_id.in_(chunk), ClientRequest.created_at >= bounds[index],
                ClientRequest.created_at < bounds[index + 1])
            singly += [(client, moment.astimezone(tz).date()) for client, moment in await _execute(session, found)]
    return counts, singly


async def _acts(session: AsyncSession, period: Period, steady: CTE,
                ) -> tuple[dict[tuple[str, date], tuple[int, int]], list[tuple[int, date, date | None]]]:
    """((segment, month) → (acts due, returned on time) of the steady clients; each act of the others)."""
    months = months_of(period)
    bounds = [month.first for month in months] + [period.last + timedelta(days=1)]
    month = _month_of(Act.due_on, bounds)
    within = (Act.due_on >= period.first, Act.due_on <= period.last)
    on_time = func.sum(case((Act.returned_on <= Act.due_on, 1), else_=0))
    by_segment = (select(steady.c.segment, month.label("month"), func.count(), on_time)
                  .join(steady, steady.c.client_id == Act.client_id)
                  .where(steady.c.segment.is_not(None), *within).group_by(steady.c.segment, month))
    counts = {(segment, months[index].first): (int(due), int(in_time or 0))
              for segment, index, due, in_time in await _execute(session, by_segment)}
    others = (select(Act.client_id, Act.due_on, Act.returned_on).join(steady, steady.c.client_id == Act.client_id)
              .where(steady.c.segment.is_(None), *within))
    return counts, [tuple(row) for row in await _execute(session, others)]


async def comparison(sessions: SessionMaker, period: Period, tz: ZoneInfo, mapping: SurveyMapping) -> Comparison:
    """The page's (and `dsdesk compare`'s) whole comparison for `period`."""
    repo = CompareRepository(sessions)
    facts = await repo.facts(period, tz)
    mailings, survey = await repo.mailings(period), await repo.survey(period)
    # «Срез удовлетворенности ДС»: the answers of ДС clients (on the day they answered) and of respondents who
    # named no client; a КС client's answer is left out and counted (found trying it: it lowered «Довольны ДС»).
    kept = [answers for answers, client, day in survey
            if client is None or segment_on(facts.history.get(client, ()), day) == DS]
    with collector_paused():
        return compare(facts, period, mailings, kept, mapping, survey_left_out=len(survey) - len(kept))
