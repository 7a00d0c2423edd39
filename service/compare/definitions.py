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

from collections.abc import Iterable, Mapping, Sequence
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
    return {client for client, changes in history.items() if segment_on(changes, day) == segment}


def _in_segment_then(history: SegmentHistory, segment: str, client: int, day: date) -> bool:
    return segment_on(history.get(client, ()), day) == segment


def churn(history: SegmentHistory, segment: str, period: Period,
          disconnections: Iterable[tuple[int, date]]) -> Ratio:
    lost = {client for client, day in disconnections
            if day in period and _in_segment_then(history, segment, client, day)}
    return Ratio(len(lost), len(clients_in(history, segment, period.first)))


def trained_share(history: SegmentHistory, segment: str, period: Period, user_counts: Mapping[int, int],
                  trainings: Iterable[tuple[int, int, date]]) -> Ratio:
    """`user_counts`: client id → its users (contacts marked users); `trainings`: (user id, its client id, day)
    of users."""
    clients = clients_in(history, segment, period.last)
    since = period.last - TRAINED_WITHIN
    trained = {user for user, client, day in trainings if client in clients and since < day <= period.last}
    return Ratio(len(trained), sum(user_counts.get(client, 0) for client in clients))


def prepayment_share(history: SegmentHistory, segment: str, period: Period,
                     prepaid_months: Mapping[int, int | None]) -> Ratio:
    clients = clients_in(history, segment, period.last)
    ahead = {client for client in clients if (prepaid_months.get(client) or 0) >= 1}
    return Ratio(len(ahead), len(clients))


def acts_on_time(history: SegmentHistory, segment: str, period: Period,
                 acts: Iterable[tuple[int, date, date | None]]) -> Ratio:
    """`acts`: (client id, due on, returned on or None)."""
    due = [(client, due_on, returned) for client, due_on, returned in acts
           if due_on in period and _in_segment_then(history, segment, client, due_on)]
    on_time = [1 for _, due_on, returned in due if returned is not None and returned <= due_on]
    return Ratio(len(on_time), len(due))


def requests_per_client(history: SegmentHistory, segment: str, period: Period,
                        requests: Iterable[tuple[int, date]]) -> tuple[int, int, Decimal | None]:
    """(requests, clients at the period's end, requests per client to two places; None without clients)."""
    count = sum(1 for client, day in requests if day in period and _in_segment_then(history, segment, client, day))
    clients = len(clients_in(history, segment, period.last))
    per_client = (Decimal(count) / clients).quantize(Decimal("0.01"), ROUND_HALF_UP) if clients else None
    return count, clients, per_client


def st_attendance(history: SegmentHistory, segment: str, period: Period,
                  visits: Iterable[tuple[int, date]]) -> Ratio:
    clients = clients_in(history, segment, period.last)
    came = {client for client, day in visits if client in clients and day in period}
    return Ratio(len(came), len(clients))


def paid_webinars(history: SegmentHistory, segment: str, period: Period, sold: Iterable[tuple[int, date]]) -> int:
    return sum(1 for client, day in sold if day in period and _in_segment_then(history, segment, client, day))
