"""The rows behind one figure of the comparison for one segment (GET /compare/rows, issue 17): the events,
trainings, acts, requests or clients a figure was counted from, each counted in the segment it was in on
its day, as the table counts them (service/compare/report.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from service.compare.definitions import TRAINED_WITHIN, Period, SegmentHistory, clients_in, segment_on
from service.compare.records import CHANNEL_LABELS
from service.days import day_bounds
from service.db.engine import SessionMaker
from service.db.models import Act, BusinessEvent, Client, ClientContact, ClientRequest, SeminarVisit, Training

SHOWN = 500  # rows on the page; the total is counted in full
EVENT_LABELS = {"client_disconnected": "Отключение клиента", "competitor_lost": "Уход к конкуренту",
                "seminar_sold": "Продажа семинара"}
EVENT_FIGURES = {"churn": ("client_disconnected", "competitor_lost"), "churn_competitors": ("competitor_lost",),
                 "paid_webinars": ("seminar_sold",)}
CLIENT_FIGURES = frozenset({"collection_completeness", "prepayment_share", "requests_per_client", "st_attendance"})


@dataclass(frozen=True, slots=True)
class RowsTable:
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]  # the first SHOWN, newest first
    total: int | None  # None: not counted (requests: the table's figure says how many)
    client_codes: list[str]  # each shown row's client, for its link


class CompareRowsRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def rows(self, figure: str, segment: str, period: Period, history: SegmentHistory,
                   tz: ZoneInfo) -> RowsTable:
        """The rows behind `figure` of `segment` over `period`; KeyError for an unknown figure."""
        def then(client: int, day: date) -> bool:
            return segment_on(history.get(client, ()), day) == segment

        if figure in EVENT_FIGURES:
            return await self._events(EVENT_FIGURES[figure], period, then)
        if figure in ("trained_per_month", "trained_share"):
            return await self._trainings(figure, segment, period, history, then)
        if figure == "acts_on_time":
            return await self._acts(period, then)
        if figure == "requests":
            return await self._requests(period, then, tz)
        if figure in CLIENT_FIGURES:
            return await self._clients(figure, clients_in(history, segment, period.last), period)
        raise KeyError(figure)

    async def _events(self, kinds: tuple[str, ...], period: Period, then: Callable[[int, date], bool]) -> RowsTable:
        e = BusinessEvent
        query = (select(e.client_id, e.occurred_on, Client.external_id, Client.name, e.kind, e.note)
                 .join(Client, Client.id == e.client_id)
                 .where(e.occurred_on >= period.first, e.occurred_on <= period.last, e.kind.in_(kinds))
                 .order_by(e.occurred_on.desc(), e.id.desc()))
        found = [row for row in await self._all(query) if then(row[0], row[1])]
        return _table(("Дата", "Клиент", "Событие", "Примечание"), found,
                      lambda r: (f"{r[1]:%d.%m.%Y}", f"{r[3]} ({r[2]})", EVENT_LABELS.get(r[4], r[4]), r[5] or ""))

    async def _trainings(self, figure: str, segment: str, period: Period, history: SegmentHistory,
                         then: Callable[[int, date], bool]) -> RowsTable:
        share = figure == "trained_share"
        first = period.last - TRAINED_WITHIN + timedelta(days=1) if share else period.first
        query = (select(Training.client_id, Training.day, Client.external_id, Client.name, ClientContact.full_name,
                        Training.kind)
                 .join(Client, Client.id == Training.client_id)
                 .join(ClientContact, (ClientContact.external_id == Training.contact_external_id)
                       & (ClientContact.client_id == Training.client_id) & ClientContact.is_user)
                 .where(Training.day >= first, Training.day <= period.last)
                 .order_by(Training.day.desc(), Training.id.desc()))
        at_end = clients_in(history, segment, period.last) if share else set()
        found = [row for row in await self._all(query) if (row[0] in at_end if share else then(row[0], row[1]))]
        return _table(("Дата", "Клиент", "Пользователь", "Вид обучения"), found,
                      lambda r: (f"{r[1]:%d.%m.%Y}", f"{r[3]} ({r[2]})", r[4], r[5] or ""))

    async def _acts(self, period: Period, then: Callable[[int, date], bool]) -> RowsTable:
        query = (select(Act.client_id, Act.due_on, Client.external_id, Client.name, Act.period, Act.returned_on)
                 .join(Client, Client.id == Act.client_id)
                 .where(Act.due_on >= period.first, Act.due_on <= period.last)
                 .order_by(Act.due_on.desc(), Client.external_id))
        found = [row for row in await self._all(query) if then(row[0], row[1])]
        return _table(("Срок", "Клиент", "Период", "Возвращён", "Вовремя"), found,
                      lambda r: (f"{r[1]:%d.%m.%Y}", f"{r[3]} ({r[2]})", f"{r[4]:%m.%Y}",
                                 f"{r[5]:%d.%m.%Y}" if r[5] else "не возвращён",
                                 "да" if r[5] is not None and r[5] <= r[1] else "нет"))

    async def _requests(self, period: Period, then: Callable[[int, date], bool], tz: ZoneInfo) -> RowsTable:
        # A million a year: read newest first until a page is found; the table's figure is the count.
        start, end = day_bounds(period.first, tz)[0], day_bounds(period.last, tz)[1]
        query = (select(ClientRequest.client_id, ClientRequest.created_at, Client.external_id, Client.name,
                        ClientRequest.channel)
                 .join(Client, Client.id == ClientRequest.client_id)
                 .where(ClientRequest.created_at >= start, ClientRequest.created_at < end)
                 .order_by(ClientRequest.created_at.desc()))
        found: list[tuple[Any, ...]] = []
        async with self._sessions() as session:
            async for row in await session.stream(query.execution_options(yield_per=2000)):
                if then(row[0], row[1].astimezone(tz).date()):
                    found.append(tuple(row))
                    if len(found) >= SHOWN:
                        break
        table = _table(("Дата и время", "Клиент", "Канал"), found,
                       lambda r: (f"{r[1].astimezone(tz):%d.%m.%Y %H:%M}", f"{r[3]} ({r[2]})",
                                  CHANNEL_LABELS.get(r[4], r[4])))
        return RowsTable(table.columns, table.rows, None, table.client_codes)

    async def _clients(self, figure: str, clients: set[int], period: Period) -> RowsTable:
        visits = (select(SeminarVisit.client_id, func.count()).where(SeminarVisit.day >= period.first,
                                                                     SeminarVisit.day <= period.last)
                  .group_by(SeminarVisit.client_id))
        query = (select(Client.id, Client.external_id, Client.name, Client.collection_completeness,
                        Client.prepaid_months).order_by(Client.name, Client.external_id))
        came = dict(await self._all(visits))
        found = [(*row, came.get(row[0], 0)) for row in await self._all(query) if row[0] in clients]
        # Those the figure counted first (found trying it: the 27 of 40 who came to a СТ were lost among the 40).
        first = {"st_attendance": lambda r: -r[5], "prepayment_share": lambda r: -(r[4] or 0),
                 "collection_completeness": lambda r: -(r[3] or 0)}.get(figure)
        if first is not None:
            found.sort(key=first)
        return _table(("Клиент", "Полнота сбора", "Предоплата, мес.", "Посещений СТ за период"),
                      [(row[0], None, *row[1:]) for row in found],
                      lambda r: (f"{r[3]} ({r[2]})", _share(r[4]), "" if r[5] is None else str(r[5]), str(r[6])),
                      code_at=2)

    async def _all(self, query: Any) -> list[tuple[Any, ...]]:
        async with self._sessions() as session:
            return [tuple(row) for row in await session.execute(query)]


def _share(value: Decimal | None) -> str:
    return "" if value is None else f"{value.quantize(Decimal('0.01'))}".replace(".", ",")


def _table(columns: tuple[str, ...], found: list[tuple[Any, ...]], shown: Callable[[tuple[Any, ...]], Iterable[str]],
           code_at: int = 2) -> RowsTable:
    page = found[:SHOWN]
    return RowsTable(columns, [tuple(shown(row)) for row in page], len(found), [str(row[code_at]) for row in page])
