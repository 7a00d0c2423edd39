"""The ДС-versus-КС comparison's figures (issue 17, item 4), each for one segment and one period. Pure.

A client counts in the segment it was in *then* (item 2): the segment history says which segment a
client was in on each day, so a client that moved from КС to ДС inside the period is a КС client
for what happened before the move and a ДС client after it. Every share is a `Ratio` whose value is
None when there is nothing to divide by (the page says «нет данных», never 0 %).

Definitions (docs/compare.md):
- churn: clients disconnected in the period (counted in the segment they were in on that day) ÷
  clients in the segment at the period's start;
- trained share: users (of clients in the segment at the period's end) with a training in the 12
  months up to the period's end ÷ those users;
- prepayment share: clients in the segment at the period's end paying ahead (`prepaid_months` ≥ 1)
  ÷ those clients;
- acts on time: acts due in the period (client in the segment on the due day) returned by their due
  day ÷ acts due in the period;
- requests per client: requests in the period (client in the segment on the request's day) ÷ clients
  in the segment at the period's end;
- СТ attendance: clients in the segment at the period's end with at least one СТ visit in the period
  ÷ those clients;
- paid webinars: events of that kind in the period, client in the segment on the event's day.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

TRAINED_WITHIN = timedelta(days=365)  # «users with a training in the last 12 months»

# client id → its segment changes, (since, segment), oldest first; the first one's `since` is when it
# is first known (before that day the client is in no segment).
SegmentHistory = Mapping[int, Sequence[tuple[date, str]]]


@dataclass(frozen=True, slots=True)
class Ratio:
    part: int
    whole: int

    @property
    def value(self) -> Decimal | None:
        """part ÷ whole to four places; None when there is nothing to divide by."""
        if not self.whole:
            return None
        return (Decimal(self.part) / Decimal(self.whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date  # both inclusive

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last


def segment_on(changes: Sequence[tuple[date, str]], day: date) -> str | None:
    """The segment in force on `day` (the last change on or before it); None before the first."""
    current = None
    for since, segment in changes:
        if since > day:
            break
        current = segment
    return current


def clients_in(history: SegmentHistory, segment: str, day: date) -> set[int]:
    if isinstance(history, SegmentIndex):
        return history.members(segment, day)
    return {client for client, changes in history.items() if segment_on(changes, day) == segment}


class SegmentIndex(dict[int, Sequence[tuple[date, str]]]):
    """A history that remembers who was in which segment on a day it was asked about: a page asks
    about the same few days (each month's first and last) for 100,000 clients many times over."""

    def __init__(self, history: SegmentHistory) -> None:
        super().__init__(history)
        self._members: dict[tuple[str, date], set[int]] = {}
        # From its latest change on, a client is in that change's segment whatever the day: each
        # client's (latest change's day, segment), and the clients in the order of that day.
        self._settled = {client: (max(since for since, _ in changes), changes[-1][1])
                         for client, changes in history.items() if changes}
        order = sorted((latest, client) for client, (latest, _) in self._settled.items())
        self._latest = [latest for latest, _ in order]
        self._by_latest = [client for _, client in order]
        self._settled_in: dict[str, tuple[list[date], list[int]]] = {}
        for latest, client in order:
            days, clients = self._settled_in.setdefault(self._settled[client][1], ([], []))
            days.append(latest)
            clients.append(client)

    def members(self, segment: str, day: date) -> set[int]:
        found = self._members.get((segment, day))
        if found is None:
            self._remember(day)
            found = self._members.setdefault((segment, day), set())
        return found

    def _remember(self, day: date) -> None:
        """Every segment's clients on `day` in one pass: those settled by then from the order of their latest
        change, each of the others from its history."""
        on_day = {segment: set(clients[:bisect_right(days, day)])
                  for segment, (days, clients) in self._settled_in.items()}
        for client in self._by_latest[bisect_right(self._latest, day):]:
            segment = segment_on(self[client], day)
            if segment is not None:
                on_day.setdefault(segment, set()).add(client)
        for segment, clients in on_day.items():
            self._members.setdefault((segment, day), clients)

    def segment_then(self, client: int, day: date) -> str | None:
        """segment_on(self.get(client, ()), day), without the loop once the client's latest change is past."""
        settled = self._settled.get(client)
        if settled is not None and settled[0] <= day:
            return settled[1]
        return segment_on(self.get(client, ()), day)


def segment_lookup(history: SegmentHistory) -> Callable[[int, date], str | None]:
    """(client, day) → the segment the client was in that day."""
    if isinstance(history, SegmentIndex):
        return history.segment_then
    return lambda client, day: segment_on(history.get(client, ()), day)


def churn(history: SegmentHistory, segment: str, period: Period,
          disconnections: Iterable[tuple[int, date]]) -> Ratio:
    then, first, last = segment_lookup(history), period.first, period.last
    lost = {client for client, day in disconnections if first <= day <= last and then(client, day) == segment}
    return Ratio(len(lost), len(clients_in(history, segment, period.first)))


def trained_share(history: SegmentHistory, segment: str, period: Period, users: Mapping[int, int],
                  trainings: Iterable[tuple[int, date]]) -> Ratio:
    """`users`: user (contact) id → its client id; `trainings`: (user id, day)."""
    clients = clients_in(history, segment, period.last)
    counted = {user for user, client in users.items() if client in clients}
    since = period.last - TRAINED_WITHIN
    trained = {user for user, day in trainings if user in counted and since < day <= period.last}
    return Ratio(len(trained), len(counted))


def prepayment_share(history: SegmentHistory, segment: str, period: Period,
                     prepaid_months: Mapping[int, int | None]) -> Ratio:
    clients = clients_in(history, segment, period.last)
    ahead = {client for client in clients if (prepaid_months.get(client) or 0) >= 1}
    return Ratio(len(ahead), len(clients))


def acts_on_time(history: SegmentHistory, segment: str, period: Period,
                 acts: Iterable[tuple[int, date, date | None]]) -> Ratio:
    """`acts`: (client id, due on, returned on or None)."""
    then, first, last = segment_lookup(history), period.first, period.last
    due = [(client, due_on, returned) for client, due_on, returned in acts
           if first <= due_on <= last and then(client, due_on) == segment]
    on_time = [1 for _, due_on, returned in due if returned is not None and returned <= due_on]
    return Ratio(len(on_time), len(due))


def requests_per_client(history: SegmentHistory, segment: str, period: Period,
                        requests: Iterable[tuple[int, date]]) -> tuple[int, int, Decimal | None]:
    """(requests, clients at the period's end, requests per client to two places; None without clients)."""
    then, first, last = segment_lookup(history), period.first, period.last
    count = sum(1 for client, day in requests if first <= day <= last and then(client, day) == segment)
    clients = len(clients_in(history, segment, period.last))
    per_client = (Decimal(count) / clients).quantize(Decimal("0.01"), ROUND_HALF_UP) if clients else None
    return count, clients, per_client


def st_attendance(history: SegmentHistory, segment: str, period: Period,
                  visits: Iterable[tuple[int, date]]) -> Ratio:
    clients = clients_in(history, segment, period.last)
    first, last = period.first, period.last
    came = {client for client, day in visits if client in clients and first <= day <= last}
    return Ratio(len(came), len(clients))


def paid_webinars(history: SegmentHistory, segment: str, period: Period, sold: Iterable[tuple[int, date]]) -> int:
    then, first, last = segment_lookup(history), period.first, period.last
    return sum(1 for client, day in sold if first <= day <= last and then(client, day) == segment)
