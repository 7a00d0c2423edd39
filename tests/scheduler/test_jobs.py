"""The scheduled plan jobs with time as an input: catch-up after downtime, idempotency, roll-over."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import OperationalError

from scheduler.calendar import WorkCalendar
from scheduler.jobs import PLAN_JOB, PlanJobs
from scheduler.model import PlanState, ReasonCode
from scheduler.planning import Planner
from scheduler.rules import PlanRules
from scheduler.schedule import DailySchedule, missed_fire_time
from service.db.engine import SessionMaker, create_engine, create_sessionmaker
from service.db.job_runs import JobRunsRepository
from service.db.plan import PlanRepository
from service.demo_data import seed_demo_department

MSK = ZoneInfo("Europe/Moscow")
SCHEDULE = DailySchedule(at=time(6, 30), tz=MSK)
MONDAY = date(2026, 11, 30)


def msk(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), MSK)


@pytest.mark.parametrize(
    ("last_run", "now", "missed"),
    [
        (None, msk(MONDAY, 7), msk(MONDAY, 6, 30)),  # first start after 06:30: build today's now
        (None, msk(MONDAY, 6), None),  # first start before 06:30: today's run is still ahead
        (msk(date(2026, 11, 26), 6, 30), msk(date(2026, 11, 28), 5), None),  # a past day is not rebuilt
        (msk(date(2026, 11, 29), 6, 30), msk(MONDAY, 6, 29), None),  # not yet due
        (msk(date(2026, 11, 29), 6, 30), msk(MONDAY, 6, 30), msk(MONDAY, 6, 30)),  # exactly due
        (msk(date(2026, 11, 25), 6, 30), msk(MONDAY, 9), msk(MONDAY, 6, 30)),  # days down: one run
        (msk(MONDAY, 6, 30), msk(MONDAY, 17), None),  # ran today already
    ],
)
def test_missed_fire_time(last_run: datetime | None, now: datetime, missed: datetime | None) -> None:
    assert missed_fire_time(SCHEDULE, last_run, now) == missed


@pytest.fixture
async def sessions(migrated_db: str):
    engine = create_engine(migrated_db)
    yield create_sessionmaker(engine)
    await engine.dispose()


def jobs_for(sessions: SessionMaker, clock_now: datetime) -> PlanJobs:
    planner = Planner(PlanRepository(sessions), WorkCalendar(), PlanRules(), MSK)
    return PlanJobs(planner, SCHEDULE, WorkCalendar(), JobRunsRepository(sessions), clock=lambda: clock_now)


async def test_catch_up_at_start_up_builds_once_and_is_idempotent(sessions: SessionMaker) -> None:
    await seed_demo_department(sessions, MONDAY)
    now = msk(MONDAY, 8)  # the service was down at 06:30
    jobs = jobs_for(sessions, now)
    assert await jobs.catch_up(now) == msk(MONDAY, 6, 30)
    plan = await PlanRepository(sessions).list_plan(MONDAY)
    per_expert = {login: sum(1 for i in plan if i.expert_login == login) for login in ("maria", "anna", "pavel")}
    assert all(15 <= n <= 17 for n in per_expert.values()), per_expert
    assert await jobs.catch_up(now) is None  # the run is logged: a restart does not build again
    again = await jobs.run_plan(msk(MONDAY, 6, 30), now)  # even a forced rebuild only tops up
    assert "0 new items" in again or "already planned" in again
    assert len({(i.plan_date, i.contact_external_id) for i in await PlanRepository(sessions).list_plan(MONDAY)}) \
        == len(await PlanRepository(sessions).list_plan(MONDAY))
    assert (await JobRunsRepository(sessions).recent())[0].status == "ok"


async def test_scheduler_starts_in_the_loop_with_the_next_run_at_0630(sessions: SessionMaker) -> None:
    jobs = jobs_for(sessions, msk(MONDAY, 5))
    await jobs.start()
    try:
        scheduler = jobs._scheduler  # noqa: SLF001 - checking the real wiring
        assert scheduler is not None
        job = scheduler.get_job(PLAN_JOB)
        assert job.misfire_grace_time >= 3600 and job.coalesce is True
        assert job.next_run_time.astimezone(MSK).time() == time(6, 30)
    finally:
        await jobs.stop()


async def test_non_working_day_builds_nothing(sessions: SessionMaker) -> None:
    await seed_demo_department(sessions, MONDAY)
    holiday = date(2026, 12, 31)
    detail = await jobs_for(sessions, msk(holiday, 7)).run_plan(msk(holiday, 6, 30), msk(holiday, 7))
    assert "not a working day" in detail
    assert await PlanRepository(sessions).list_plan(holiday) == []


async def test_day_end_rolls_unfinished_calls_over(sessions: SessionMaker) -> None:
    await seed_demo_department(sessions, MONDAY)
    jobs = jobs_for(sessions, msk(MONDAY, 7))
    await jobs.run_plan(msk(MONDAY, 6, 30), msk(MONDAY, 7))
    monday = await PlanRepository(sessions).list_plan(MONDAY, "maria")
    await PlanRepository(sessions).set_state(monday[0].public_id, PlanState.CONTACT_MADE)
    everyone = await PlanRepository(sessions).list_plan(MONDAY)
    rolled = await jobs.roll_over_after(msk(MONDAY, 23))
    assert rolled == len(everyone) - 1
    tuesday = date(2026, 12, 1)
    await jobs.run_plan(msk(tuesday, 6, 30), msk(tuesday, 7))
    carried = [i for i in await PlanRepository(sessions).list_plan(tuesday, "maria")
               if any(r.code is ReasonCode.ROLLED_OVER for r in i.reasons)]
    assert carried and all(i.rolled_from for i in carried)
    assert all("перенесён" in i.reasons[0].text for i in carried)


async def test_a_failing_build_is_logged_and_visible(sessions: SessionMaker, tmp_path) -> None:
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path}/not-migrated.db")
    planner = Planner(PlanRepository(create_sessionmaker(broken)), WorkCalendar(), PlanRules(), MSK)
    jobs = PlanJobs(planner, SCHEDULE, WorkCalendar(), JobRunsRepository(sessions))
    with pytest.raises(OperationalError, match="no such table"):
        await jobs.run_plan(msk(MONDAY, 6, 30), msk(MONDAY, 7))
    await broken.dispose()
    assert jobs.last_error
    [run] = await JobRunsRepository(sessions).recent()
    assert run.status == "failed" and "no such table" in (run.detail or "")


async def test_the_demo_started_in_the_afternoon_still_gives_a_full_day(sessions: SessionMaker) -> None:
    # Found by CI at midday: built at the current time, the hours already past held no calls and
    # the demo's Expert saw 10 calls. The demo builds today's plan as the 06:30 job would have.
    from service.plan_setup import build_demo_plan
    from service.settings import Settings

    await seed_demo_department(sessions, MONDAY)
    settings = Settings.model_validate({"database": {"url": "sqlite+aiosqlite:///unused.db"}})
    report = await build_demo_plan(settings, sessions, msk(MONDAY, 16))
    assert report.day == MONDAY
    plan = await PlanRepository(sessions).list_plan(MONDAY)
    per_expert = {login: sum(1 for i in plan if i.expert_login == login) for login in ("maria", "anna", "pavel")}
    assert all(15 <= n <= 17 for n in per_expert.values()), per_expert
