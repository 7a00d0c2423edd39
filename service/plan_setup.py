"""Builds the planner and its scheduled jobs from settings (used by the app and the CLI)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime

from scheduler.figures_refresh import FiguresRefreshJob
from scheduler.jobs import PlanJobs
from scheduler.planning import BuildReport, Planner
from scheduler.retention import Clock, RetentionJob
from scheduler.schedule import DailySchedule
from scheduler.visit_plan_job import VisitPlanJob
from scheduler.works_export import WorksExportJob
from service.db.engine import SessionMaker
from service.db.figures_summary import FiguresSummary
from service.db.job_runs import JobRunsRepository
from service.db.plan import PlanRepository
from service.db.recordings import RecordingsRepository
from service.db.visit_plan import VisitPlanRepository
from service.exports.export import write_day
from service.settings import Settings


def build_planner(settings: Settings, sessions: SessionMaker) -> Planner:
    return Planner(PlanRepository(sessions), settings.plan.calendar(), settings.plan.rules(),
                   settings.organisation.tz)


def build_plan_jobs(settings: Settings, sessions: SessionMaker) -> PlanJobs:
    schedule = DailySchedule(at=settings.plan.build_at, tz=settings.organisation.tz,
                             end_of_day=settings.plan.end_of_day)
    return PlanJobs(build_planner(settings, sessions), schedule, settings.plan.calendar(),
                    JobRunsRepository(sessions),
                    extra_jobs=(build_retention_job(settings, sessions),
                                FiguresRefreshJob(FiguresSummary(sessions), settings.organisation.tz),
                                VisitPlanJob(lambda now: build_visit_plans(settings, sessions, now), schedule),
                                build_works_export_job(settings, sessions)))


def build_works_export_job(settings: Settings, sessions: SessionMaker,
                           clock: Clock = lambda: datetime.now(UTC)) -> WorksExportJob:
    """The nightly «Работы» file for the CRM in `exports.dir` (docs/exports.md)."""
    async def export(day: date) -> str:
        return (await write_day(sessions, settings, day)).summary()

    return WorksExportJob(export, JobRunsRepository(sessions), settings.exports.at, settings.organisation.tz, clock)


def build_retention_job(settings: Settings, sessions: SessionMaker,
                        clock: Clock = lambda: datetime.now(UTC)) -> RetentionJob:
    """Nightly deletion of recordings older than `recordings.retention_days` (0: never)."""
    recordings = settings.recordings
    return RetentionJob(RecordingsRepository(sessions), JobRunsRepository(sessions), recordings.inside_path,
                        recordings.retention_days, settings.organisation.tz, clock)


async def build_demo_plan(settings: Settings, sessions: SessionMaker, now: datetime) -> BuildReport:
    """A newcomer sees a full plan at once, even on a weekend: today's, or the next working day's.

    Today's is built as the morning's job would have built it (at `plan.build_at`): built at the
    current time, the hours already past hold no calls, and a demo started at 14:00 showed an
    Expert 10 calls instead of 15-17 (found by CI running at midday).
    """
    tz = settings.organisation.tz
    today = now.astimezone(tz).date()
    calendar = settings.plan.calendar()
    day = today if calendar.is_working_day(today) else calendar.next_working_day(today)
    morning = datetime.combine(day, settings.plan.build_at, tzinfo=tz)
    return await build_planner(settings, sessions).build_day(day, min(now, morning))


async def build_visit_plans(settings: Settings, sessions: SessionMaker, now: datetime,
                            month: date | None = None, logins: Collection[str] | None = None) -> int:
    """Top up the PMs' visit plans for `month` (default: `now`'s), with the reasons as of today (or
    the month's first working day, for a month ahead); how many visits were added."""
    tz = settings.organisation.tz
    calendar = settings.plan.calendar()
    today = now.astimezone(tz).date()
    first = month or today.replace(day=1)
    day = today if first <= today else first
    if not calendar.is_working_day(day):
        day = calendar.next_working_day(day)
    if day.replace(day=1) != first:  # the month has no working day left
        return 0
    counts = await VisitPlanRepository(sessions).build_month(
        day, tz, calendar, settings.plan.rules(), settings.targets.pm_visits_planned_max, now, logins)
    return counts.new

