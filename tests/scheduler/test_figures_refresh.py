"""The figures summary's keep-warm job: it builds the month of `now` and then rebuilds what changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.figures_refresh import FIGURES_JOB, FiguresRefreshJob
from service.db.engine import SessionMaker
from service.db.figures import FiguresRepository
from service.db.figures_summary import FiguresSummary
from service.figures.model import Period, PeriodKind, Scope, ScopeKind
from tests.service.test_figures_db import MSK, WED, seed_figures


async def test_the_job_builds_the_month_of_now_then_only_what_changed(db_sessions: SessionMaker) -> None:
    await seed_figures(db_sessions)
    now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    job = FiguresRefreshJob(FiguresSummary(db_sessions), MSK, clock=lambda: now)
    month = Period.around(PeriodKind.MONTH, WED)
    assert await job.run(now) == [day for day in month.days if day < WED]  # today is reported live
    assert await job.run(now + timedelta(minutes=1)) == []
    repo, department = FiguresRepository(db_sessions), Scope(ScopeKind.DEPARTMENT)
    until_yesterday = Period(PeriodKind.DAY, month.first, WED - timedelta(days=1))
    assert (await repo.summary.day_aggregates(department, until_yesterday)
            == await repo.day_aggregates(department, until_yesterday, MSK))


def test_the_job_runs_every_minute() -> None:
    now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    scheduler = AsyncIOScheduler(timezone=MSK)
    FiguresRefreshJob(FiguresSummary(None), MSK, clock=lambda: now).add_to(scheduler)  # type: ignore[arg-type]  # never run
    job = scheduler.get_job(FIGURES_JOB)
    assert job is not None and job.trigger.interval == timedelta(minutes=1)
    assert job.coalesce and job.max_instances == 1
