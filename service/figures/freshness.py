"""Which days of the figures summary a refresh rebuilds. Pure.

The summary (service/db/figures_summary.py) holds whole organisation-time days. A refresh rebuilds
the days a report asks for that were never built, and the built days that something was written
to since the last refresh. "Since" is read from `updated_at`, which the writers stamp with their
own clock before they commit: a refresh looks back SAFETY_LAG before its watermark so that a
transaction stamped before the last refresh but committed after it is still seen.

Today (and any later day) is never stored: it changes all day long, so every refresh would rebuild
it whole (0.7 s for 20,000 calls at 10,000,000). Reports compute it from scratch (one day, cheap)
and it is built once it is over, the first time a report asks for it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

# Longer than any writer's stamp-to-commit time: the daily plan's build stamps its items with its
# start and commits ~30 s later at full size; ledger and wrap-up writes take milliseconds.
SAFETY_LAG = timedelta(minutes=15)
# Days rebuilt by one statement: a month's calls (~440,000 at 10M) is what PostgreSQL groups in
# memory with the figures' work_mem; a two-year first build is cut into such runs.
MAX_RUN_DAYS = 31


def changes_since(watermark: datetime | None) -> datetime | None:
    """Rows with `updated_at` after this may be unseen by the summary; None: nothing is built yet."""
    return None if watermark is None else watermark - SAFETY_LAG


def days_of_hours(hours: Iterable[datetime], tz: ZoneInfo) -> set[date]:
    """The `tz` days that the hours [h, h + 1 h) starting at these UTC instants overlap.

    The refresh learns when changed calls started to the hour only (a few rows, not one per
    call); an hour can straddle local midnight in a zone with a half-hour offset, so both ends count.
    """
    last = timedelta(hours=1) - timedelta(microseconds=1)
    return {moment.astimezone(tz).date() for hour in hours for moment in (hour, hour + last)}


def days_to_rebuild(wanted: Iterable[date], built: Collection[date], touched: Iterable[date],
                    today: date) -> list[date]:
    """The wanted days not built yet, and the built days something was written to; before `today` only."""
    built_set = set(built)
    return sorted(d for d in (set(wanted) - built_set) | (set(touched) & built_set) if d < today)


def stored_and_live(first: date, last: date, today: date) -> tuple[tuple[date, date] | None,
                                                                    tuple[date, date] | None]:
    """[first, last] split into the days read from the summary (before `today`) and those computed live."""
    stored = (first, min(last, today - timedelta(days=1))) if first < today else None
    live = (max(first, today), last) if last >= today else None
    return stored, live


def runs(days: Sequence[date], max_days: int = MAX_RUN_DAYS) -> list[tuple[date, date]]:
    """Sorted days joined into runs [first, last] of consecutive days, at most `max_days` long."""
    out: list[tuple[date, date]] = []
    for day in days:
        if out and day == out[-1][1] + timedelta(days=1) and (day - out[-1][0]).days < max_days:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out
