"""Working days from the Russian production calendar (`holidays`, RU) plus config.yaml overrides.

Transferred days matter both ways: a weekday can be a day off («Выходной (перенесено с …)»,
e.g. 31.12.2026) and a Saturday can be a working day (20.02.2027). `holidays` keeps the latter
in `weekend_workdays`, filled while it populates the substituted days of a year; we read it
year by year and cache the result, so a `WorkCalendar` is cheap to query in the builder's loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import holidays

_SEARCH_LIMIT_DAYS = 366 * 2  # no real calendar has a longer run of days off


class WorkCalendar:
    """Answers "is this a working day?" for the organisation; immutable after construction."""

    def __init__(
        self,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        self._extra_off = frozenset(extra_days_off)
        self._extra_working = frozenset(extra_working_days)
        both = sorted(self._extra_off & self._extra_working)
        if both:
            listed = ", ".join(d.isoformat() for d in both)
            raise ValueError(f"dates both extra days off and extra working days: {listed}")
        # year -> (days off that are not weekends, weekend days that are working days)
        self._years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}

    def is_working_day(self, d: date) -> bool:
        if d in self._extra_off:
            return False
        if d in self._extra_working:
            return True
        holidays_off, weekend_working = self._year(d.year)
        if d.weekday() >= 5:
            return d in weekend_working
        return d not in holidays_off

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        candidate = d
        for _ in range(_SEARCH_LIMIT_DAYS):
            candidate += timedelta(days=1)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {_SEARCH_LIMIT_DAYS} days after {d.isoformat()}")

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]: 1 from a day to the next working day; negative when b < a."""
        if b < a:
            return -self.working_days_between(b, a)
        days = (b - a).days
        return sum(1 for n in range(1, days + 1) if self.is_working_day(a + timedelta(days=n)))

    def _year(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = _load_year(year)
        return cached


def _load_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    # The neighbours are loaded too: a transfer may cross the New Year (from a day of one year
    # to a day of the next), and `holidays` records it only when both years are populated.
    ru = holidays.country_holidays("RU", years=range(year - 1, year + 2))
    days_off = frozenset(d for d in ru if d.year == year)
    weekend_working = frozenset(d for d in ru.weekend_workdays if d.year == year)
    return days_off, weekend_working
