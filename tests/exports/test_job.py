"""The nightly works file: which day a run writes, which nights a start catches up, the scheduler's
settings, and a run against the database — the files written, the job-run log, a failure in it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.works_export import (
    CATCH_UP_AFTER,
    CATCH_UP_JOB,
    MAX_CATCH_UP,
    WORKS_EXPORT_JOB,
    WorksExportJob,
    export_day_for,
    latest_fire_time,
    missed_fire_times,
)
from service.db.engine import SessionMaker
from service.db.job_runs import JobRunsRepository
from service.plan_setup import build_plan_jobs, build_works_export_job
from service.settings import Settings
from tests.exports.reading import read_works
from tests.exports.seeding import DAY, EXPECTED, MSK, seed_day

EVENING = time(23, 30)


def msk(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY + timedelta(days=day_offset), time(hour, minute), tzinfo=MSK)


# ---- pure -----------------------------------------------------------------------------------------
def test_an_evening_run_writes_its_day_a_morning_run_the_day_before() -> None:
    assert export_day_for(msk(0, 23, 30), EVENING, MSK) == DAY
    assert export_day_for(msk(1, 0, 30), time(0, 30), MSK) == DAY
    assert export_day_for(msk(0, 23, 30).astimezone(UTC), EVENING, MSK) == DAY  # 20:30 UTC, same Moscow day


def test_the_latest_scheduled_time_stands_for_a_late_run() -> None:
    assert latest_fire_time(EVENING, MSK, msk(0, 23, 29)) == msk(-1, 23, 30)
    assert latest_fire_time(EVENING, MSK, msk(0, 23, 30)) == msk(0, 23, 30)
    assert latest_fire_time(EVENING, MSK, msk(1, 1, 15)) == msk(0, 23, 30)  # started late after midnight


def test_the_nights_a_start_catches_up() -> None:
    now = msk(1, 9)
    assert missed_fire_times(EVENING, MSK, None, now) == [msk(0, 23, 30)]  # never ran: the last night only
    assert missed_fire_times(EVENING, MSK, msk(0, 23, 30), now) == []
    assert missed_fire_times(EVENING, MSK, msk(-2, 23, 30), now) == [msk(-1, 23, 30), msk(0, 23, 30)]
    long_ago = missed_fire_times(EVENING, MSK, msk(-30, 23, 30), now)
    assert len(long_ago) == MAX_CATCH_UP and long_ago[-1] == msk(0, 23, 30) and long_ago == sorted(long_ago)


async def test_the_job_is_scheduled_with_an_explicit_grace_and_a_catch_up(db_sessions: SessionMaker,
                                                                          tmp_path: Path) -> None:
    now = msk(0, 12)
    job = build_works_export_job(Settings(), db_sessions, clock=lambda: now)
    scheduler = AsyncIOScheduler(timezone=MSK)
    job.add_to(scheduler)
    nightly, catch_up = scheduler.get_job(WORKS_EXPORT_JOB), scheduler.get_job(CATCH_UP_JOB)
    assert nightly is not None and catch_up is not None
    assert nightly.misfire_grace_time >= 3600 and nightly.coalesce is True and nightly.max_instances == 1
    assert str(nightly.trigger.fields[5]) == "23" and str(nightly.trigger.fields[6]) == "30"  # hour, minute
    assert catch_up.trigger.run_date == now + CATCH_UP_AFTER
    # The app's scheduler carries it beside the other nightly jobs.
    assert any(isinstance(extra, WorksExportJob) for extra in build_plan_jobs(Settings(), db_sessions).extra_jobs)


# ---- against the database --------------------------------------------------------------------------
@pytest.fixture
def settings(migrated_db: str, tmp_path: Path) -> Settings:
    return Settings.model_validate({"database": {"url": migrated_db}, "exports": {"dir": str(tmp_path / "exports")}})


async def test_a_run_writes_the_day_and_the_day_before_and_logs_it(db_sessions: SessionMaker,
                                                                    settings: Settings) -> None:
    await seed_day(db_sessions)
    job = build_works_export_job(settings, db_sessions)
    detail = await job.run(msk(0, 23, 30))
    directory = settings.exports.dir
    assert sorted(p.name for p in directory.iterdir()) == ["works-2026-12-06.csv", "works-2026-12-07.csv"]
    assert [r["ID работы"] for r in read_works((directory / "works-2026-12-07.csv").read_bytes(), "csv")][
        :len(EXPECTED)] == list(EXPECTED)
    assert detail.startswith("07.12.2026: 11 работ → ") and "06.12.2026: 0 работ → " in detail
    runs = await JobRunsRepository(db_sessions).recent(job=WORKS_EXPORT_JOB)
    assert [(r.status, r.detail, r.fire_time) for r in runs] == [("ok", detail, msk(0, 23, 30))]
    assert job.last_error is None
    # The next night: the 7th is written again, unchanged, and says so.
    later = await job.run(msk(1, 23, 30))
    assert "07.12.2026: 11 работ → " in later and later.endswith("(без изменений)")


async def test_an_unwritable_directory_is_a_failed_run_in_the_log(db_sessions: SessionMaker, settings: Settings,
                                                                  tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("not a directory")
    settings = settings.model_copy(update={"exports": settings.exports.model_copy(
        update={"dir": tmp_path / "blocker" / "exports"})})
    job = build_works_export_job(settings, db_sessions)
    with pytest.raises(OSError):
        await job.run(msk(0, 23, 30))
    run = (await JobRunsRepository(db_sessions).recent(job=WORKS_EXPORT_JOB))[0]
    assert run.status == "failed"
    assert run.detail == f"07.12.2026: папка выгрузки {tmp_path / 'blocker' / 'exports'} недоступна для записи: " \
                         "часть пути — не папка"
    assert job.last_error is not None and "ExportsDirError" in job.last_error
    # The catch-up at the next start tries again (nothing succeeded), stops at the failure, and the service goes on.
    assert await job.catch_up(msk(1, 9)) == [msk(0, 23, 30)]
    assert [r.status for r in await JobRunsRepository(db_sessions).recent(job=WORKS_EXPORT_JOB)] == ["failed"] * 2


async def test_a_start_catches_up_the_missed_nights_once(db_sessions: SessionMaker, settings: Settings) -> None:
    await seed_day(db_sessions)
    job = build_works_export_job(settings, db_sessions)
    await job.run(msk(-2, 23, 30))  # the last night that ran
    assert await job.catch_up(msk(1, 9)) == [msk(-1, 23, 30), msk(0, 23, 30)]
    assert (settings.exports.dir / "works-2026-12-07.csv").is_file()
    assert await job.catch_up(msk(1, 9)) == []  # logged: a second start writes nothing
    assert len(await JobRunsRepository(db_sessions).recent(job=WORKS_EXPORT_JOB)) == 3
