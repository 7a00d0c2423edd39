"""APScheduler wiring: build the plan at the configured time on working days; catch up at start-up.

APScheduler 3.x pitfalls handled here: the AsyncIOScheduler is created and started inside the
running loop; `misfire_grace_time` and `coalesce` are set explicitly (the default 1 s grace
silently skips a run missed while the service was down); job exceptions are only logged by
APScheduler, so each run is also written to the job-run log with its error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.calendar import WorkCalendar
from scheduler.planning import Planner
from scheduler.schedule import DailySchedule, missed_fire_time, plan_day_for

log = logging.getLogger(__name__)

PLAN_JOB = "daily-plan"
ROLLOVER_JOB = "day-end-rollover"
MISFIRE_GRACE_S = 12 * 3600
Clock = Callable[[], datetime]


class RunLog(Protocol):
    async def started(self, job: str, fire_time: datetime) -> int: ...
    async def finished(self, run_id: int, ok: bool, detail: str) -> None: ...
    async def last_success(self, job: str) -> datetime | None: ...


class ExtraJob(Protocol):
    """Another nightly job sharing this scheduler (e.g. recording retention)."""

    def add_to(self, scheduler: AsyncIOScheduler) -> None: ...


class PlanJobs:
    """Owns the scheduler; `run_plan(fire_time, now)` is the job body, callable directly in tests."""

    def __init__(self, planner: Planner, schedule: DailySchedule, calendar: WorkCalendar, runs: RunLog,
                 clock: Clock = lambda: datetime.now(UTC), extra_jobs: Sequence[ExtraJob] = ()) -> None:
        self._planner, self._schedule, self._calendar, self._runs = planner, schedule, calendar, runs
        self._clock = clock
        self.extra_jobs = tuple(extra_jobs)
        self._scheduler: AsyncIOScheduler | None = None
        self.last_error: str | None = None

    async def start(self) -> None:
        """Call inside the running loop (the app's cleanup context)."""
        scheduler = AsyncIOScheduler(timezone=self._schedule.tz)
        scheduler.add_job(self._fire, self._schedule.trigger(), id=PLAN_JOB, name="build the daily plan",
                          misfire_grace_time=MISFIRE_GRACE_S, coalesce=True, max_instances=1,
                          replace_existing=True)
        scheduler.add_job(self._day_end, self._schedule.rollover_trigger(), id=ROLLOVER_JOB,
                          name="roll unfinished calls over", misfire_grace_time=MISFIRE_GRACE_S,
                          coalesce=True, max_instances=1, replace_existing=True)
        for job in self.extra_jobs:
            job.add_to(scheduler)
        scheduler.add_listener(self._on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        scheduler.start()
        self._scheduler = scheduler
        await self.catch_up(self._clock())

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def catch_up(self, now: datetime) -> datetime | None:
        """Run the build the service missed while it was down (once, however many days)."""
        missed = missed_fire_time(self._schedule, await self._runs.last_success(PLAN_JOB), now)
        if missed is not None:
            log.info("the daily plan due at %s was missed; building it now", missed.isoformat())
            await self.run_plan(missed, now)
        return missed

    async def run_plan(self, fire_time: datetime, now: datetime) -> str:
        run_id = await self._runs.started(PLAN_JOB, fire_time)
        try:
            day = plan_day_for(fire_time, self._schedule, self._calendar)
            detail = (f"{fire_time.date().isoformat()} is not a working day" if day is None
                      else (await self._planner.build_day(day, now)).summary())
        except Exception as e:
            self.last_error = f"{type(e).__name__}: {e}"
            log.exception("building the daily plan failed")
            await self._runs.finished(run_id, False, self.last_error)
            raise
        self.last_error = None
        await self._runs.finished(run_id, True, detail)
        return detail

    async def _fire(self) -> None:
        now = self._clock()
        await self.run_plan(now, now)

    async def roll_over_after(self, now: datetime) -> int:
        """Day end: today's unfinished items become «перенесён» (re-planned by the next build)."""
        today = now.astimezone(self._schedule.tz).date()
        rolled = await self._planner.roll_over_until(self._calendar.next_working_day(today), now)
        log.info("day end %s: %d unfinished planned calls rolled over", today.isoformat(), rolled)
        return rolled

    async def _day_end(self) -> None:
        await self.roll_over_after(self._clock())

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("scheduled job %s missed its run at %s", event.job_id, event.scheduled_run_time)
        else:
            log.error("scheduled job %s failed: %s", event.job_id, event.exception)

