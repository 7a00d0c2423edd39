"""The nightly «Работы» file for the CRM: every day at `exports.at`, the day's works written to a file.

The pure part says which day a run exports and which runs were missed (`export_day_for`,
`missed_fire_times`); `WorksExportJob` is the thin shell that calls the export (service/exports/,
given as a function: this package imports nothing of the service) and writes the job-run log,
failures with their message. Each run writes the day before's file again: a call that started
after the export time, or a wrap-up saved the next morning, reaches the CRM too, and a file whose
rows did not change is left as it was.

A night missed while the service was down is caught up shortly after the next start (the
in-memory job store remembers nothing across restarts), each missed night in turn, the last
MAX_CATCH_UP of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from scheduler.jobs import RunLog

log = logging.getLogger(__name__)

WORKS_EXPORT_JOB = "works-export"
CATCH_UP_JOB = f"{WORKS_EXPORT_JOB}-catch-up"
MISFIRE_GRACE_S = 6 * 3600
CATCH_UP_AFTER = timedelta(minutes=2)  # after the start-up's own work (plan catch-up, PBX reconcile)
MAX_CATCH_UP = 7  # nights; older days can be downloaded (or exported by `dsdesk exports works`)
NOON = time(12, 0)
Clock = Callable[[], datetime]
Export = Callable[[date], Awaitable[str]]  # writes one day's file; what it wrote, for the log


# ---- pure ---------------------------------------------------------------------------------
def export_day_for(fire_time: datetime, at: time, tz: ZoneInfo) -> date:
    """The day a run scheduled at `fire_time` exports: that day, or the day before for a run before noon."""
    day = fire_time.astimezone(tz).date()
    return day - timedelta(days=1) if at < NOON else day


def trigger(at: time, tz: ZoneInfo) -> CronTrigger:
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=tz)


def latest_fire_time(at: time, tz: ZoneInfo, now: datetime) -> datetime:
    """The last scheduled time at or before `now` (a run that APScheduler started late stands for it)."""
    local = now.astimezone(tz)
    fire = datetime.combine(local.date(), at, tzinfo=tz)
    if fire > local:
        fire = datetime.combine(local.date() - timedelta(days=1), at, tzinfo=tz)
    return fire


def missed_fire_times(at: time, tz: ZoneInfo, last_run: datetime | None, now: datetime,
                      limit: int = MAX_CATCH_UP) -> list[datetime]:
    """Scheduled times in (last_run, now], oldest first, at most the last `limit`; with no run ever, the latest one."""
    latest = latest_fire_time(at, tz, now)
    if last_run is None:
        return [latest]
    missed: list[datetime] = []
    fire = latest
    while fire > last_run and len(missed) < limit:
        missed.append(fire)
        fire = latest_fire_time(at, tz, fire - timedelta(seconds=1))
    return missed[::-1]


# ---- the shell ----------------------------------------------------------------------------
class WorksExportJob:
    """`run(fire_time)` is the job body; `add_to` schedules it nightly and a catch-up after start."""

    def __init__(self, export: Export, runs: RunLog, at: time, tz: ZoneInfo,
                 clock: Clock = lambda: datetime.now(UTC)) -> None:
        self._export, self._runs, self._at, self._tz, self._clock = export, runs, at, tz, clock
        self.last_error: str | None = None
        # The catch-up and the nightly run are two jobs: started just before the export time, both
        # could write the same file at once.
        self._one_at_a_time = asyncio.Lock()

    def add_to(self, scheduler: AsyncIOScheduler) -> None:
        scheduler.add_job(self._fire, trigger(self._at, self._tz), id=WORKS_EXPORT_JOB,
                          name="write the day's works for the CRM", misfire_grace_time=MISFIRE_GRACE_S,
                          coalesce=True, max_instances=1, replace_existing=True)
        scheduler.add_job(self._catch_up, DateTrigger(self._clock() + CATCH_UP_AFTER), id=CATCH_UP_JOB,
                          name="write the works of missed nights", misfire_grace_time=None, replace_existing=True)

    async def _fire(self) -> None:
        async with self._one_at_a_time:
            await self.run(latest_fire_time(self._at, self._tz, self._clock()))

    async def _catch_up(self) -> None:
        async with self._one_at_a_time:
            await self.catch_up(self._clock())

    async def catch_up(self, now: datetime) -> list[datetime]:
        """Run each night missed since the last successful run; a failure stops the catch-up (logged)."""
        missed = missed_fire_times(self._at, self._tz, await self._runs.last_success(WORKS_EXPORT_JOB), now)
        for fire_time in missed:
            log.info("the works export due at %s was missed; writing it now", fire_time.isoformat())
            try:
                await self.run(fire_time)
            except Exception:  # logged and in the job-run log; the next start or night tries again
                break
        return missed

    async def run(self, fire_time: datetime) -> str:
        """Write the day's file and the day before's again; the run and its outcome go to the job-run log."""
        run_id = await self._runs.started(WORKS_EXPORT_JOB, fire_time)
        day = export_day_for(fire_time, self._at, self._tz)
        try:
            detail = "; ".join([await self._export(day), await self._export(day - timedelta(days=1))])
        except Exception as e:
            self.last_error = f"{type(e).__name__}: {e}"
            log.exception("the works export for %s failed", day.isoformat())
            await self._runs.finished(run_id, False, f"{day:%d.%m.%Y}: {e}")
            raise
        self.last_error = None
        log.info("works export: %s", detail)
        await self._runs.finished(run_id, True, detail)
        return detail
