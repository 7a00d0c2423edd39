"""A calendar day in a time zone as an interval of instants. Pure.

The ledger stores UTC; a day is the organisation's (or a client's) calendar day. One function turns
the one into the other for every query by day: the call log, the Expert's queue, the board, the
figures, the plan's callbacks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the calendar `day` in `tz`, as aware UTC datetimes (DST days are 23 or 25 hours)."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)
