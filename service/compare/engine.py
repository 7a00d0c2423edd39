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
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import accumulate

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
    """Who is in a segment on a day, as totals: prefix sums over the one-segment clients sorted by the
    day they are known from, plus the few clients whose segment changed, one by one."""

    def __init__(self, lookup: Lookup, users: Mapping[int, int], prepaid: Mapping[int, int | None],
                 completeness: Mapping[int, Decimal]) -> None:
        self._lookup = lookup
        self._weights = {client: (users.get(client, 0), 1 if (prepaid.get(client) or 0) >= 1 else 0,
                                  completeness.get(client)) for client in (*lookup.single, *lookup.multi)}
        self._days: dict[str, list[date]] = {}
        self._sums: dict[str, tuple[list[int], list[int], list[int], list[Decimal], list[int]]] = {}
        for segment in SEGMENTS:
            known = sorted((since, client) for client, (since, seg) in lookup.single.items() if seg == segment)
            weights = [self._weights[client] for _, client in known]
            self._days[segment] = [since for since, _ in known]
            self._sums[segment] = (
                list(accumulate((1 for _ in weights), initial=0)),
                list(accumulate((w[0] for w in weights), initial=0)),
                list(accumulate((w[1] for w in weights), initial=0)),
                list(accumulate((w[2] or Decimal(0) for w in weights), initial=Decimal(0))),
                list(accumulate((1 if w[2] is not None else 0 for w in weights), initial=0)))
        self._cache: dict[date, dict[str, Totals]] = {}

    def on(self, day: date) -> dict[str, Totals]:
        """Each segment's totals on `day`."""
        found = self._cache.get(day)
        if found is None:
            found = self._cache[day] = self._totals(day)
        return found

    def _totals(self, day: date) -> dict[str, Totals]:
        counts = {segment: [0, 0, 0, 0] for segment in SEGMENTS}  # clients, users, prepaid, with a share
        shares = dict.fromkeys(SEGMENTS, Decimal(0))
        for client, changes in self._lookup.multi.items():
            segment = segment_on(changes, day)
            if segment in counts:
                users, prepaid, share = self._weights[client]
                tally = counts[segment]
                tally[0] += 1
                tally[1] += users
                tally[2] += prepaid
                if share is not None:
                    shares[segment] += share
                    tally[3] += 1
        found = {}
        for segment in SEGMENTS:
            n = bisect_right(self._days[segment], day)
            sums, more = self._sums[segment], counts[segment]
            found[segment] = Totals(sums[0][n] + more[0], sums[1][n] + more[1], sums[2][n] + more[2],
                                    sums[3][n] + shares[segment], sums[4][n] + more[3])
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
    users: Mapping[int, int]
    trainings: Sequence[tuple[int, date]]
    acts: Sequence[tuple[int, date, date | None]]
    requests: Sequence[tuple[int, date]]
    request_counts: Mapping[tuple[str, date], int]
    seminar_visits: Sequence[tuple[int, date]]
    webinars_sold: Sequence[tuple[int, date]]


def count_all(lookup: Lookup, members: Members, facts: Inputs, periods: Sequence[Period]) -> list[dict[str, Counted]]:
    """Counted per segment for each of `periods`: the whole period first, then its months in order (they
    partition it, so a day of the whole is in exactly one month)."""
    whole, months = periods[0], periods[1:]
    starts = [m.first for m in months]

    def slots(day: date) -> tuple[int, int] | None:
        if not whole.first <= day <= whole.last:
            return None
        return 0, bisect_right(starts, day)  # the month's slot: 1 + its index

    def counts() -> list[dict[str, int]]:
        return [dict.fromkeys(SEGMENTS, 0) for _ in periods]

    def sets() -> list[dict[str, set[int]]]:
        return [{segment: set() for segment in SEGMENTS} for _ in periods]

    lost, trained = sets(), sets()
    came: list[set[int]] = [set() for _ in periods]  # who came to a СТ; their segment is taken at each period's end
    competitors, webinars, due, on_time, requests = counts(), counts(), counts(), counts(), counts()
    for rows, into in ((facts.disconnections, lost), (facts.trainings, trained)):
        for key, day in rows:
            found = slots(day)
            client = key if into is lost else facts.users.get(key, -1)
            segment = lookup.segment(client, day) if found else None
            if found and segment in SEGMENTS:
                for slot in found:
                    into[slot][segment].add(key)
    for rows, tally in ((facts.competitor_losses, competitors), (facts.webinars_sold, webinars),
                        (facts.requests, requests)):
        for client, day in rows:
            found = slots(day)
            segment = lookup.segment(client, day) if found else None
            if found and segment in SEGMENTS:
                for slot in found:
                    tally[slot][segment] += 1
    for client, due_on, returned in facts.acts:
        found = slots(due_on)
        segment = lookup.segment(client, due_on) if found else None
        if found and segment in SEGMENTS:
            for slot in found:
                due[slot][segment] += 1
                if returned is not None and returned <= due_on:
                    on_time[slot][segment] += 1
    for (segment, month), count in facts.request_counts.items():
        found = slots(month)
        if found and segment in SEGMENTS:
            for slot in found:
                requests[slot][segment] += count
    for client, day in facts.seminar_visits:
        found = slots(day)
        if found:
            for slot in found:
                came[slot].add(client)
    by_day = sorted(facts.trainings, key=lambda t: t[1])
    training_days = [day for _, day in by_day]
    result = []
    for slot, period in enumerate(periods):
        at_start, at_end = members.on(period.first), members.on(period.last)
        window = by_day[bisect_right(training_days, period.last - TRAINED_WITHIN):
                        bisect_right(training_days, period.last)]
        within: dict[str, set[int]] = {segment: set() for segment in SEGMENTS}
        for user, _ in window:
            segment = lookup.segment(facts.users.get(user, -1), period.last)
            if segment in within:
                within[segment].add(user)
        st = dict.fromkeys(SEGMENTS, 0)
        for client in came[slot]:
            segment = lookup.segment(client, period.last)
            if segment in st:
                st[segment] += 1
        result.append({segment: Counted(
            len(lost[slot][segment]), at_start[segment].clients, competitors[slot][segment],
            len(trained[slot][segment]), len(within[segment]), at_end[segment], due[slot][segment],
            on_time[slot][segment], requests[slot][segment], st[segment], webinars[slot][segment])
            for segment in SEGMENTS})
    return result

