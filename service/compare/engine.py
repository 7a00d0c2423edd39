"""Every figure of the comparison, for both segments, the whole period and each of its months, in one
pass over the facts. Pure.

definitions.py says what each figure is, one segment and one period at a time, and report.figures
computes a period that way. A page asks for 2 segments × 13 periods over 100,000 clients, a million
requests and hundreds of thousands of acts (a year in ≤ 2 s, bench/compare.py): here each fact is
looked at once (its segment on its day, its month), and who is in a segment on a day is summed from
prefix sums over the clients sorted by the day they are known from. tests/service/test_compare_engine.py
checks that this and report.figures agree on every figure of random departments.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import repeat

from service.compare.definitions import TRAINED_WITHIN, Period, Ratio, SegmentHistory, segment_on

SEGMENTS = ("ДС", "КС")


class Lookup:
    """A client's segment on a day: most clients were in one segment since they are known."""

    def __init__(self, history: SegmentHistory) -> None:
        self.single: dict[int, tuple[date, str]] = {}
        self.multi: dict[int, Sequence[tuple[date, str]]] = {}
        for client, changes in history.items():
            if len(changes) == 1:
                self.single[client] = changes[0]
            elif changes:
                self.multi[client] = changes

    def settled(self, day: date) -> dict[int, str]:
        """The clients whose segment is the same on every day from `day` on (their last change is by then)."""
        found = {client: segment for client, (since, segment) in self.single.items() if since <= day}
        found.update((client, changes[-1][1]) for client, changes in self.multi.items() if changes[-1][0] <= day)
        return found

    def segment(self, client: int, day: date) -> str | None:
        found = self.single.get(client)
        if found is not None:
            return found[1] if found[0] <= day else None
        changes = self.multi.get(client)
        return segment_on(changes, day) if changes else None


@dataclass(frozen=True, slots=True)
class Totals:
    """Summed over a segment's clients on a day."""

    clients: int = 0
    users: int = 0
    prepaid: int = 0  # paying ahead (prepaid_months ≥ 1)
    completeness: Decimal = Decimal(0)  # the sum of their Полнота сбора
    with_completeness: int = 0  # how many have one


class Members:
    """Who is in a segment on a day (from `settled_by` on), as totals.

    The clients settled by then (nearly all: their last change is before the period) are summed once. For
    the others each stretch of a history adds its weights to its segment on the day it begins and takes them
    away on the day the next begins; prefix sums over those days answer any day with one binary search."""

    def __init__(self, lookup: Lookup, settled: Mapping[int, str], settled_by: date, users: Mapping[int, int],
                 prepaid: Mapping[int, int | None], completeness: Mapping[int, Decimal]) -> None:
        self._settled_by = settled_by
        self._base: dict[str, Totals] = {}
        for segment in SEGMENTS:
            clients = [client for client, seg in settled.items() if seg == segment]
            shares = [share for share in map(completeness.get, clients) if share is not None]
            self._base[segment] = Totals(len(clients), sum(map(users.get, clients, repeat(0))),
                                         sum(1 for months in map(prepaid.get, clients) if (months or 0) >= 1),
                                         sum(shares, Decimal(0)), len(shares))
        # Per segment: (day, +1 or -1, client) of each unsettled stretch's start and end, sorted by day.
        steps: dict[str, list[tuple[date, int, int]]] = {segment: [] for segment in SEGMENTS}
        for client, changes in (*((c, (h,)) for c, h in lookup.single.items()), *lookup.multi.items()):
            if client in settled:
                continue
            for index, (since, segment) in enumerate(changes):
                if segment in steps:
                    steps[segment].append((since, 1, client))
                    if index + 1 < len(changes):
                        steps[segment].append((changes[index + 1][0], -1, client))
        self._days: dict[str, list[date]] = {}
        self._sums: dict[str, list[Totals]] = {}
        for segment, found in steps.items():
            found.sort(key=lambda step: step[0])
            self._days[segment] = [day for day, _, _ in found]
            total, sums = Totals(), [Totals()]
            for _, sign, client in found:
                share = completeness.get(client)
                total = Totals(total.clients + sign, total.users + sign * users.get(client, 0),
                               total.prepaid + (sign if (prepaid.get(client) or 0) >= 1 else 0),
                               total.completeness + (0 if share is None else sign * share),
                               total.with_completeness + (0 if share is None else sign))
                sums.append(total)
            self._sums[segment] = sums

    def on(self, day: date) -> dict[str, Totals]:
        """Each segment's totals on `day` (not before `settled_by`)."""
        assert day >= self._settled_by, (day, self._settled_by)
        found = {}
        for segment in SEGMENTS:
            base, more = self._base[segment], self._sums[segment][bisect_right(self._days[segment], day)]
            found[segment] = Totals(base.clients + more.clients, base.users + more.users, base.prepaid + more.prepaid,
                                    base.completeness + more.completeness,
                                    base.with_completeness + more.with_completeness)
        return found


@dataclass(frozen=True, slots=True)
class Counted:
    """One segment's raw counts for one period, before they are made into the page's values."""

    lost: int
    clients_at_start: int
    competitors: int
    trained: int
    trained_within: int  # users trained in the 12 months up to the period's end (of its clients then)
    at_end: Totals
    acts_due: int
    acts_on_time: int
    requests: int
    came_to_st: int
    webinars: int

    @property
    def churn(self) -> Ratio:
        return Ratio(self.lost, self.clients_at_start)


@dataclass(frozen=True, slots=True)
class Inputs:
    """The facts the engine reads (report.Facts, without the history)."""

    disconnections: Sequence[tuple[int, date]]
    competitor_losses: Sequence[tuple[int, date]]
    user_counts: Mapping[int, int]  # client → its users
    trainings: Sequence[tuple[int, int, date]]  # (user, its client, day)
    acts: Sequence[tuple[int, date, date | None]]
    requests: Sequence[tuple[int, date]]
    request_counts: Mapping[tuple[str, date], int]
    seminar_visits: Sequence[tuple[int, date]]
    webinars_sold: Sequence[tuple[int, date]]
    act_counts: Mapping[tuple[str, date], tuple[int, int]] = field(default_factory=dict)  # → (due, on time)
    prepaid_months: Mapping[int, int | None] = field(default_factory=dict)
    completeness: Mapping[int, Decimal] = field(default_factory=dict)


def count_all(lookup: Lookup, facts: Inputs, periods: Sequence[Period]) -> list[dict[str, Counted]]:
    """Counted per segment for each of `periods`: the whole period first, then its calendar months in order
    (cut to it: a day of the whole is in exactly one, slot = months since the first month + 1)."""
    whole = periods[0]
    first, last, n = whole.first, whole.last, len(periods)
    base = first.year * 12 + first.month - 1
    index = {segment: i for i, segment in enumerate(SEGMENTS)}
    single, multi = lookup.single.get, lookup.multi.get

    def segment_of(client: int, day: date) -> int:
        """The segment's index on the day; -1 for none (or VIP)."""
        known = single(client)
        if known is not None:
            return index.get(known[1], -1) if known[0] <= day else -1
        changes = multi(client)
        return index.get(segment_on(changes, day) or "", -1) if changes else -1

    def counts() -> list[list[int]]:
        return [[0] * n for _ in SEGMENTS]

    def sets() -> list[list[set[int]]]:
        return [[set() for _ in range(n)] for _ in SEGMENTS]

    lost, trained = sets(), sets()
    competitors, webinars, due, on_time, requests = counts(), counts(), counts(), counts(), counts()
    came: list[set[int]] = [set() for _ in range(n)]  # who came to a СТ; their segment is taken at each period's end
    for client, day in facts.disconnections:
        if first <= day <= last and (si := segment_of(client, day)) >= 0:
            slot = day.year * 12 + day.month - base
            lost[si][0].add(client)
            lost[si][slot].add(client)
    for user, client, day in facts.trainings:
        if first <= day <= last and (si := segment_of(client, day)) >= 0:
            slot = day.year * 12 + day.month - base
            trained[si][0].add(user)
            trained[si][slot].add(user)
    for rows, tally in ((facts.competitor_losses, competitors), (facts.webinars_sold, webinars),
                        (facts.requests, requests)):
        for client, day in rows:
            if first <= day <= last and (si := segment_of(client, day)) >= 0:
                tally[si][0] += 1
                tally[si][day.year * 12 + day.month - base] += 1
    for client, due_on, returned in facts.acts:  # the most: hundreds of thousands a year
        if first <= due_on <= last and (si := segment_of(client, due_on)) >= 0:
            slot = due_on.year * 12 + due_on.month - base
            due[si][0] += 1
            due[si][slot] += 1
            if returned is not None and returned <= due_on:
                on_time[si][0] += 1
                on_time[si][slot] += 1
    for (segment, month), count in facts.request_counts.items():
        if first <= month <= last and segment in index:
            requests[index[segment]][0] += count
            requests[index[segment]][month.year * 12 + month.month - base] += count
    for (segment, month), (due_count, on_time_count) in facts.act_counts.items():
        if first <= month <= last and segment in index:
            for slot in (0, month.year * 12 + month.month - base):
                due[index[segment]][slot] += due_count
                on_time[index[segment]][slot] += on_time_count
    for client, day in facts.seminar_visits:
        if first <= day <= last:
            came[0].add(client)
            came[day.year * 12 + day.month - base].add(client)
    # Most clients' segment is settled before the period: whole sets of them are counted at once.
    settled = lookup.settled(first)
    members = Members(lookup, settled, first, facts.user_counts, facts.prepaid_months, facts.completeness)
    settled_clients: list[set[int]] = [set() for _ in SEGMENTS]
    for client, segment in settled.items():
        if segment in index:
            settled_clients[index[segment]].add(client)
    user_client = {user: client for user, client, _ in facts.trainings}
    settled_users: list[set[int]] = [set() for _ in SEGMENTS]
    for user, client in user_client.items():
        si = index.get(settled.get(client, ""), -1)
        if si >= 0:
            settled_users[si].add(user)
    all_settled_users, all_settled_clients = set().union(*settled_users), set().union(*settled_clients)
    by_day = sorted((day, user) for user, _, day in facts.trainings)
    training_days, training_users = [day for day, _ in by_day], [user for _, user in by_day]
    result = []
    for slot, period in enumerate(periods):
        at_start, at_end, end = members.on(period.first), members.on(period.last), period.last
        window = set(training_users[bisect_right(training_days, end - TRAINED_WITHIN):
                                    bisect_right(training_days, end)])
        within = [len(window & users) for users in settled_users]
        for user in window - all_settled_users:
            if (si := segment_of(user_client[user], end)) >= 0:
                within[si] += 1
        st = [len(came[slot] & clients) for clients in settled_clients]
        for client in came[slot] - all_settled_clients:
            if (si := segment_of(client, end)) >= 0:
                st[si] += 1
        result.append({segment: Counted(
            len(lost[si][slot]), at_start[segment].clients, competitors[si][slot], len(trained[si][slot]),
            within[si], at_end[segment], due[si][slot], on_time[si][slot], requests[si][slot], st[si],
            webinars[si][slot]) for segment, si in index.items()})
    return result
