"""Keeps the PMs' visit plans for the month built: every working morning with the call plan, and a
minute after start (a service started mid-month, or the first day of a month missed while it was down).

Building only tops a plan up (service/db/visit_plan.py), so running it again changes nothing, and a
failed run is only logged: the next one retries.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.schedule import DailySchedule

log = logging.getLogger(__name__)

VISIT_PLAN_JOB = "visit-plan"
START_DELAY = timedelta(minutes=1)
Clock = Callable[[], datetime]
Build = Callable[[datetime], Awaitable[int]]  # builds for `now`'s month; how many visits were added


class VisitPlanJob:
    def __init__(self, build: Build, schedule: DailySchedule, clock: Clock = lambda: datetime.now(UTC)) -> None:
        self._build, self._schedule, self._clock = build, schedule, clock

    def add_to(self, scheduler: AsyncIOScheduler) -> None:
        scheduler.add_job(self._fire, self._schedule.trigger(), id=VISIT_PLAN_JOB, name="build the PMs' visit plans",
                          next_run_time=self._clock() + START_DELAY, misfire_grace_time=3600, coalesce=True,
                          max_instances=1, replace_existing=True)

    async def _fire(self) -> None:
        try:
            await self.run(self._clock())
        except Exception:  # logged; the next run retries (the plan is only topped up)
            log.exception("the visit plan build failed")

    async def run(self, now: datetime) -> int:
        added = await self._build(now)
        if added:
            log.info("visit plans: %d visits added", added)
        return added
