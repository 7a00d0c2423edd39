"""Keeps the control figures' summary warm: every minute, refresh it and build the current month.

Reports refresh the summary themselves before reading (service/db/figures_summary.py), so this
job is not needed for correct figures; it moves the work off the supervisor's request: the days
written to in the last minute are rebuilt here, and the month is built at start-up instead of on
its first report (seconds at 10,000,000 calls). A failed run is only logged: the next minute retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

FIGURES_JOB = "figures-summary"
EVERY = timedelta(minutes=1)
Clock = Callable[[], datetime]


class SummaryStore(Protocol):
    async def keep_warm(self, tz: ZoneInfo, now: datetime) -> list[date]:
        """Refresh, building the month of `now` if needed; the days (re)built."""
        ...


class FiguresRefreshJob:
    """`run(now)` is the job body; `add_to` schedules it every minute, the first a minute after start."""

    def __init__(self, summary: SummaryStore, tz: ZoneInfo, clock: Clock = lambda: datetime.now(UTC)) -> None:
        self._summary, self._tz, self._clock = summary, tz, clock

    def add_to(self, scheduler: AsyncIOScheduler) -> None:
        scheduler.add_job(self._fire, IntervalTrigger(seconds=EVERY.total_seconds(), timezone=self._tz),
                          id=FIGURES_JOB, name="refresh the figures summary",
                          # A minute after start, not at once: start-up (catch-up plan builds,
                          # reconcile with the PBX) comes first.
                          next_run_time=self._clock() + EVERY,
                          misfire_grace_time=int(EVERY.total_seconds()), coalesce=True, max_instances=1,
                          replace_existing=True)

    async def _fire(self) -> None:
        await self.run(self._clock())

    async def run(self, now: datetime) -> list[date]:
        days = await self._summary.keep_warm(self._tz, now)
        if days:
            log.debug("figures summary: %d days rebuilt", len(days))
        return days
