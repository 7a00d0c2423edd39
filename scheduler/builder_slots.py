"""Time for calls: the Expert's slot grid, the contact's call window, and who gets which slot.

The grid is laid in the Expert's zone (working hours without lunch, one slot per call, around
the calls already fixed); a call window is in the client's zone and is moved into the Expert's
day once per zone pair. Slots are given by bipartite matching, so a narrow window never loses
its only slot to a call that could have gone anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from scheduler.calling_hours import call_window
from scheduler.rules import PlanRules


@cache
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError) as e:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {name!r}") from e


_DAY_S = 24 * 3600
_ROUND_S = 5 * 60  # a top-up during the day starts its slots on a round minute


def seconds_of_day(moment: datetime | time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


@dataclass(frozen=True, slots=True)
class DayGrid:
    """The free slots of one Expert's day: aware starts in the Expert's zone, earliest first."""

    slots: tuple[datetime, ...]
    seconds: tuple[int, ...]  # each slot's second of the Expert's day, for window tests
    lunch_start: int  # second of the day; slots starting before it are in the morning
    length: timedelta

    def is_morning(self, index: int) -> bool:
        return self.seconds[index] < self.lunch_start

    def inside(self, window: tuple[int, int] | None) -> list[int]:
        """Indices of the slots that start inside a window (see `SlotBook.window`)."""
        if window is None:
            return list(range(len(self.slots)))
        start, span = window
        return [i for i, s in enumerate(self.seconds) if (s - start) % _DAY_S < span]


def free_grid(
    day: date, zone_name: str, rules: PlanRules, taken: Iterable[datetime], not_before: datetime
) -> DayGrid:
    """Slots laid from the start of each working period, stepping over calls already fixed.

    Laying them around the fixed calls (rather than on one fixed grid) loses no time to a
    callback promised at 11:10: the slot before it ends by 11:10, the next starts at 11:35.
    """
    tz = zone(zone_name)
    length = rules.slot_minutes * 60
    busy = sorted(seconds_of_day(t.astimezone(tz)) for t in taken if t.astimezone(tz).date() == day)
    first = _first_second(day, tz, not_before)
    starts: list[int] = []
    for begin, end in ((rules.day_start, rules.lunch_start), (rules.lunch_end, rules.day_end)):
        cursor, stop = max(seconds_of_day(begin), first), seconds_of_day(end)
        while cursor + length <= stop:
            clash = next((b for b in busy if b < cursor + length and cursor < b + length), None)
            if clash is None:
                starts.append(cursor)
                cursor += length
            else:
                cursor = clash + length
    slots = tuple(datetime.combine(day, time(s // 3600, s % 3600 // 60, s % 60), tz) for s in starts)
    return DayGrid(slots, tuple(starts), seconds_of_day(rules.lunch_start), rules.slot_length)


def _first_second(day: date, tz: ZoneInfo, not_before: datetime) -> int:
    local = not_before.astimezone(tz)
    if local.date() < day:
        return 0
    if local.date() > day:
        return _DAY_S  # the day is over: nothing left to plan
    return -(-seconds_of_day(local) // _ROUND_S) * _ROUND_S


class SlotBook:
    """Call windows moved into the Expert's day, memoised for one build per zone pair.

    Russia keeps no daylight saving, so the offset between two zones holds for the whole day
    (it is taken at noon); a portfolio has thousands of contacts but few distinct windows.
    """

    def __init__(self, day: date, client_hours: tuple[time, time]) -> None:
        self._day = day
        self._client_hours = client_hours
        self._windows: dict[tuple[str, str, time | None, time | None], tuple[int, int] | None] = {}

    def window(
        self, expert_zone: str, client_zone: str, call_from: time | None, call_to: time | None
    ) -> tuple[int, int] | None:
        """(start second in the Expert's day, length in seconds); None: any time will do.

        A contact without a window of its own gets the client's business hours (calling_hours), so a
        Moscow Expert never plans a Novosibirsk client at 20:30 its time."""
        key = (expert_zone, client_zone, call_from, call_to)
        if key not in self._windows:
            self._windows[key] = self._shift(expert_zone, client_zone, call_from, call_to)
        return self._windows[key]

    def _shift(
        self, expert_zone: str, client_zone: str, call_from: time | None, call_to: time | None
    ) -> tuple[int, int] | None:
        window = call_window(call_from, call_to, self._client_hours)
        start, end = seconds_of_day(window.start), seconds_of_day(window.end)
        span = (end - start) % _DAY_S  # a window over midnight wraps
        noon = datetime.combine(self._day, time(12), zone(expert_zone))
        ahead = noon.astimezone(zone(client_zone)).utcoffset() - noon.utcoffset()  # type: ignore[operator]  # aware: never None
        return ((start - int(ahead.total_seconds())) % _DAY_S, span)


class SlotMatcher:
    """Calls matched to slots, one call per slot; adding a call re-seats others if it must.

    Kuhn's augmenting paths: adding succeeds exactly when all calls so far can be seated, so
    the builder can ask, call by call, "does this one still fit?" at O(calls × slots) cost.
    """

    def __init__(self) -> None:
        self._owner: dict[int, int] = {}
        self._allowed: list[Sequence[int]] = []

    def __len__(self) -> int:
        return len(self._allowed)

    def try_add(self, allowed: Sequence[int]) -> bool:
        self._allowed.append(allowed)
        if self._seat(len(self._allowed) - 1, set()):
            return True
        self._allowed.pop()
        return False

    def slot_of(self) -> list[int]:
        """The slot index of each call, in the order they were added."""
        seats = [-1] * len(self._allowed)
        for slot, call in self._owner.items():
            seats[call] = slot
        return seats

    def _seat(self, call: int, seen: set[int]) -> bool:
        allowed = self._allowed[call]
        # A free slot first (earliest wins): keeps earlier-added calls where they are.
        for slot in allowed:
            if slot not in self._owner and slot not in seen:
                seen.add(slot)
                self._owner[slot] = call
                return True
        for slot in allowed:
            if slot in seen:
                continue
            seen.add(slot)
            if self._seat(self._owner[slot], seen):
                self._owner[slot] = call
                return True
        return False


def spread(allowed: Sequence[Sequence[int]], total: int) -> list[int]:
    """Seat calls (in priority order) on slots spread evenly over the free part of the day.

    Tries an evenly spaced subset of exactly as many slots as calls, then larger subsets; the
    last try is every free slot, which the caller has already proven to fit.
    """
    for size in range(len(allowed), total + 1):
        chosen = {(i * total) // size for i in range(size)}
        matcher = SlotMatcher()
        if all(matcher.try_add([s for s in a if s in chosen]) for a in allowed):
            return matcher.slot_of()
    raise ValueError("calls do not fit the free slots")
