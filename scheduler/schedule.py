"""When the daily-plan job fires, and which run was missed while the service was down. Pure.

APScheduler's triggers take `now` as an argument, so the catch-up decision is a plain function
of (last successful run, now) and is tested without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from scheduler.calendar import WorkCalendar


@dataclass(frozen=True, slots=True)
class DailySchedule:
    at: time  # organisation time, e.g. 06:30
    tz: ZoneInfo
    end_of_day: time = time(23, 0)  # unfinished items roll over after this

    def trigger(self) -> CronTrigger:
        return CronTrigger(hour=self.at.hour, minute=self.at.minute, timezone=self.tz)

    def rollover_trigger(self) -> CronTrigger:
        return CronTrigger(hour=self.end_of_day.hour, minute=self.end_of_day.minute, timezone=self.tz)


def missed_fire_time(schedule: DailySchedule, last_run: datetime | None, now: datetime) -> datetime | None:
    """The latest scheduled time in (last_run, now], if any: the run the service missed.

    Several missed days collapse into one run (coalesce): building today's plan covers them,
    because owed calls and unfinished items roll forward by themselves. Only today's run is
    caught up: a plan for a day already over helps nobody (today's own run is still ahead).
    """
    trigger = schedule.trigger()
    local_now = now.astimezone(schedule.tz)
    today_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(last_run, today_start) if last_run is not None else today_start
    fire = trigger.get_next_fire_time(None, start + timedelta(microseconds=1))
    missed = None
    while fire is not None and fire <= now:
        missed = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return missed


def plan_day_for(fire_time: datetime, schedule: DailySchedule, calendar: WorkCalendar) -> date | None:
    """The day a run at `fire_time` builds: that day if it is a working day, else none."""
    day = fire_time.astimezone(schedule.tz).date()
    return day if calendar.is_working_day(day) else None
