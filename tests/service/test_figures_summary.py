"""The figures summary stays equal to a from-scratch compute through every kind of write.

Each scenario writes through the real code path (the ledger's upsert, the wrap-up save, the plan
repository), checks that the stored summary is now stale (so the scenario matters: without the
refresh the test fails), then reports (which refreshes) and compares the summary with
FiguresRepository's from-scratch SQL for every scope and period, on SQLite and PostgreSQL.
The data is test_figures_db's hand-made week (Europe/Moscow, March 2026).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, text, update

from dialer.records import CallRecord, Direction, Outcome
from scheduler.model import ExpertPlan, Plan, PlanItem, PlanState, Reason, ReasonCode
from service.db.engine import SessionMaker
from service.db.figures import FiguresRepository
from service.db.ledger import LedgerRepository
from service.db.models import ClientContact, Expert, FiguresBuiltDay, FiguresCount, FiguresDaily
from service.db.plan import PlanRepository
from service.db.wrapups import WrapUpRepository
from service.desk.wrapup import WrapUpInput, WrapUpResult
from service.figures.compute import FigureTargets
from service.figures.freshness import (
    SAFETY_LAG,
    changes_since,
    days_of_hours,
    days_to_rebuild,
    runs,
    stored_and_live,
)
from service.figures.model import Period, PeriodKind, Scope, ScopeKind
from tests.service.test_figures_db import MON, MONTH, MSK, THU, TUE, WED, WEEK, msk, seed_figures

DEPARTMENT = Scope(ScopeKind.DEPARTMENT)
SCOPES = [DEPARTMENT, Scope(ScopeKind.GROUP, "Группа 1"), Scope(ScopeKind.GROUP, "Группа 2"),
          Scope(ScopeKind.EXPERT, "maria"), Scope(ScopeKind.EXPERT, "anna")]
PERIODS = [WEEK, MONTH, Period.around(PeriodKind.DAY, TUE), Period.around(PeriodKind.WEEK, date(2026, 3, 9))]


# ---- pure -----------------------------------------------------------------------------------
def test_the_hours_of_changed_calls_become_organisation_days() -> None:
    late = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 23:00–23:59 Moscow, Monday
    assert days_of_hours([late], MSK) == {MON}
    # Kolkata is UTC+5:30: the hour 18:00–19:00 UTC is 23:30–00:30 local, on both days
    assert days_of_hours([datetime(2026, 3, 2, 18, 0, tzinfo=UTC)], ZoneInfo("Asia/Kolkata")) == {MON, TUE}
    assert days_of_hours([], MSK) == set()


def test_the_days_to_rebuild_are_the_wanted_unbuilt_and_the_touched_built() -> None:
    later = date(2030, 1, 1)
    assert days_to_rebuild([MON, TUE], built={TUE, WED}, touched={WED, THU}, today=later) == [MON, WED]
    assert days_to_rebuild([], built=set(), touched={MON}, today=later) == []  # an unbuilt day waits for its report
    # Today and later are computed live, never stored.
    assert days_to_rebuild([MON, TUE, WED], built={TUE}, touched={TUE}, today=TUE) == [MON]


def test_a_period_splits_into_stored_days_and_live_ones() -> None:
    assert stored_and_live(MON, THU, today=WED) == ((MON, TUE), (WED, THU))
    assert stored_and_live(MON, TUE, today=WED) == ((MON, TUE), None)
    assert stored_and_live(WED, THU, today=WED) == (None, (WED, THU))
    assert stored_and_live(MON, MON, today=TUE) == ((MON, MON), None)


def test_runs_join_consecutive_days_up_to_a_limit() -> None:
    days = [MON, TUE, WED, date(2026, 3, 6), date(2026, 3, 7)]
    assert runs(days) == [(MON, WED), (date(2026, 3, 6), date(2026, 3, 7))]
    assert runs([MON, TUE, WED], max_days=2) == [(MON, TUE), (WED, WED)]
    assert runs([]) == []


def test_changes_are_read_from_before_the_watermark() -> None:
    mark = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert changes_since(mark) == mark - SAFETY_LAG
    assert changes_since(None) is None


# ---- against the database ---------------------------------------------------------------------
@pytest.fixture
async def repo(db_sessions: SessionMaker) -> FiguresRepository:
    await seed_figures(db_sessions)
    async with db_sessions.begin() as s:  # a contact the plan can name (the seed's have no CRM id)
        await s.execute(insert(ClientContact), [{"id": 50, "client_id": 1, "full_name": "Новый контакт",
                                                "external_id": "K-50", "phone_e164": "79115550050"}])
        if s.get_bind().dialect.name == "postgresql":  # the seed gave ids by hand: move the sequences on
            for table in ("experts", "client_contacts", "planned_calls", "calls", "wrapups"):
                await s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))"))
    return FiguresRepository(db_sessions)


@pytest.fixture
def t0() -> datetime:
    """The clock the scenarios move forward from (the ledger stamps its writes with the real one)."""
    return datetime.now(UTC)


async def report(repo: FiguresRepository, now: datetime, period: Period = MONTH) -> None:
    await repo.report(DEPARTMENT, period, MSK, now, FigureTargets())


async def fresh(repo: FiguresRepository) -> bool:
    """Whether the stored summary equals the from-scratch compute for every scope and period."""
    for scope in SCOPES:
        for period in PERIODS:
            stored = await repo.summary.day_aggregates(scope, period)
            topics, outcomes = await repo.summary.distributions(scope, period)
            if (stored != await repo.day_aggregates(scope, period, MSK)
                    or topics != await repo.topics(scope, period, MSK)
                    or outcomes != await repo.outcomes(scope, period, MSK)):
                return False
    return True


async def built(repo: FiguresRepository, t0: datetime) -> None:
    await report(repo, t0)
    await report(repo, t0, Period.around(PeriodKind.MONTH, date(2026, 4, 1)))  # a second, empty month
    assert await fresh(repo)


async def summary_rows(sessions: SessionMaker) -> tuple[list[Any], list[Any]]:
    async with sessions() as s:
        daily = (await s.execute(select(FiguresDaily.__table__)
                                 .order_by(FiguresDaily.day, FiguresDaily.expert_id))).all()
        counts = (await s.execute(select(FiguresCount.day, FiguresCount.expert_id, FiguresCount.kind,
                                         FiguresCount.key, FiguresCount.n)
                                  .order_by(FiguresCount.day, FiguresCount.expert_id, FiguresCount.kind,
                                            FiguresCount.key))).all()
    return [tuple(r) for r in daily], [tuple(r) for r in counts]


def record(linkedid: str, ext: str, started: datetime, *, closed: bool, talk_s: float = 0.0,
           outcome: Outcome | None = Outcome.ANSWERED, planned: str | None = None) -> CallRecord:
    ended = started + timedelta(seconds=talk_s + 10) if closed else None
    return CallRecord(
        linkedid=linkedid, direction=Direction.OUTBOUND, expert_ext=ext, client_number="79115550001",
        started_at=started, answered_at=started + timedelta(seconds=10) if talk_s else None, ended_at=ended,
        duration_s=talk_s + 10 if closed else 0.0, talk_s=talk_s, outcome=outcome if closed else None,
        hangup_cause=16 if closed else None, recording=None, planned_call_id=planned, client_id="C-1")


async def test_the_report_reads_the_summary_built_for_its_period(repo: FiguresRepository, t0: datetime) -> None:
    days = await repo.summary.refresh(MSK, t0, WEEK)
    assert days == WEEK.days
    assert await repo.summary.day_aggregates(DEPARTMENT, WEEK) == await repo.day_aggregates(DEPARTMENT, WEEK, MSK)
    await built(repo, t0)


async def test_a_new_call_and_then_its_close(repo: FiguresRepository, db_sessions: SessionMaker,
                                             t0: datetime) -> None:
    await built(repo, t0)
    ledger = LedgerRepository(db_sessions)
    await ledger.upsert_calls([record("n1", "102", msk(TUE, 11), closed=False)])
    assert not await fresh(repo)
    await report(repo, t0 + timedelta(minutes=1))
    assert await fresh(repo)
    await ledger.upsert_calls([record("n1", "102", msk(TUE, 11), closed=True, talk_s=400)])
    assert not await fresh(repo)
    await report(repo, t0 + timedelta(minutes=2))
    assert await fresh(repo)


async def test_a_wrapup_edited_days_later(repo: FiguresRepository, db_sessions: SessionMaker, t0: datetime) -> None:
    await built(repo, t0)
    later = t0 + timedelta(days=3)
    edit = WrapUpInput(result=WrapUpResult.REFUSED, topic="Задолженность", logged_in=False, productive=False,
                       comment="передумал", next_contact_at=None)
    await WrapUpRepository(db_sessions).save("c5", 1, edit, MON, later)
    assert not await fresh(repo)
    await report(repo, later + timedelta(minutes=1))
    assert await fresh(repo)


async def test_a_plan_item_finished(repo: FiguresRepository, db_sessions: SessionMaker, t0: datetime) -> None:
    await built(repo, t0)
    await PlanRepository(db_sessions).set_state("PC-5", PlanState.CONTACT_MADE, now=t0 + timedelta(minutes=5))
    assert not await fresh(repo)
    await report(repo, t0 + timedelta(minutes=6))
    assert await fresh(repo)


async def test_a_roll_over_and_the_next_days_plan(repo: FiguresRepository, db_sessions: SessionMaker,
                                                  t0: datetime) -> None:
    await built(repo, t0)
    plans = PlanRepository(db_sessions)
    evening = t0 + timedelta(hours=8)
    rolled = await plans.roll_over(WED, evening)
    assert {item.public_id for item in rolled} >= {"PC-5", "PC-7"}
    item = PlanItem("maria", "C-1", "K-50", msk(WED, 9), (Reason(ReasonCode.ROLLED_OVER, "перенесён"),), "Обучение")
    await plans.save_plan(Plan(WED, (ExpertPlan("maria", WED, (item,)),)), evening)
    assert not await fresh(repo)  # Wednesday now has a planned item
    await report(repo, evening + timedelta(minutes=1))
    assert await fresh(repo)


async def test_an_extension_passed_on_keeps_its_old_calls_with_their_owner(
        repo: FiguresRepository, db_sessions: SessionMaker, t0: datetime) -> None:
    await built(repo, t0)
    async with db_sessions.begin() as s:
        await s.execute(update(Expert).where(Expert.login == "anna").values(extension=None))
        await s.execute(insert(Expert), [{"id": 5, "login": "nina", "full_name": "Новикова Нина", "role": "expert",
                                          "extension": "102", "group_name": "Группа 1"}])
    ledger = LedgerRepository(db_sessions)
    await ledger.upsert_calls([record("n2", "102", msk(TUE, 12), closed=True, talk_s=100)])
    # a replay of anna's old call after the extension passed on: it stays anna's
    await ledger.upsert_calls([record("c9", "102", msk(MON, 9, 10), closed=True, talk_s=480, planned="PC-8")])
    assert not await fresh(repo)
    await report(repo, t0 + timedelta(minutes=1))
    assert await fresh(repo)
    by_expert = {(a.expert_id, a.day): a.calls for a in await repo.summary.day_aggregates(DEPARTMENT, WEEK)}
    assert by_expert[(5, TUE)] == 1 and by_expert[(2, MON)] == 2


async def test_a_call_answered_on_another_extension_leaves_no_trace_with_the_first(
        repo: FiguresRepository, db_sessions: SessionMaker, t0: datetime) -> None:
    """The owner changes while the call is up: the whole day is rebuilt, not only the new owner's."""
    await built(repo, t0)
    ledger = LedgerRepository(db_sessions)
    await ledger.upsert_calls([record("n3", "101", msk(TUE, 13), closed=False)])
    await report(repo, t0 + timedelta(minutes=1))
    await ledger.upsert_calls([record("n3", "102", msk(TUE, 13), closed=True, talk_s=60)])
    assert not await fresh(repo)
    await report(repo, t0 + timedelta(minutes=2))
    assert await fresh(repo)


async def test_a_second_refresh_changes_nothing(repo: FiguresRepository, db_sessions: SessionMaker,
                                                t0: datetime) -> None:
    await built(repo, t0)
    await LedgerRepository(db_sessions).upsert_calls([record("n4", "103", msk(THU, 15), closed=True, talk_s=30)])
    await report(repo, t0 + timedelta(minutes=1))
    before = await summary_rows(db_sessions)
    again = await repo.summary.refresh(MSK, t0 + timedelta(minutes=1))
    assert again == [THU]  # still inside the safety lag: rebuilt, to the same rows
    assert await summary_rows(db_sessions) == before
    later = t0 + SAFETY_LAG + timedelta(minutes=5)
    await repo.summary.refresh(MSK, later)  # reads back from the previous watermark: THU once more
    assert await repo.summary.refresh(MSK, later + timedelta(minutes=1)) == []  # the write is behind it now
    assert await summary_rows(db_sessions) == before and await fresh(repo)


async def test_two_refreshes_at_once_build_each_day_once(repo: FiguresRepository, db_sessions: SessionMaker,
                                                         t0: datetime) -> None:
    await asyncio.gather(*(repo.summary.refresh(MSK, t0, MONTH) for _ in range(3)))
    async with db_sessions() as s:
        days = (await s.execute(select(func.count()).select_from(FiguresBuiltDay))).scalar_one()
    assert days == len(MONTH.days)
    assert await fresh(repo)


async def test_another_zone_rebuilds_the_days(repo: FiguresRepository, t0: datetime) -> None:
    await built(repo, t0)
    ny = ZoneInfo("America/New_York")
    await repo.summary.refresh(ny, t0 + timedelta(minutes=1), WEEK)
    assert await repo.summary.day_aggregates(DEPARTMENT, WEEK) == await repo.day_aggregates(DEPARTMENT, WEEK, ny)
    assert await repo.summary.day_aggregates(DEPARTMENT, MONTH) == await repo.day_aggregates(DEPARTMENT, WEEK, ny)


async def test_today_is_reported_live_and_stored_once_it_is_over(repo: FiguresRepository,
                                                                 db_sessions: SessionMaker) -> None:
    """Stored, today would be rebuilt whole on every refresh while Experts call (0.7 s at 10M)."""
    wed_noon = msk(WED, 12)
    week = WEEK
    ledger = LedgerRepository(db_sessions)
    await ledger.upsert_calls([record("t1", "102", msk(WED, 11), closed=True, talk_s=300)])
    figures = await repo.figures(DEPARTMENT, week, MSK, wed_noon)
    assert figures[0] == await repo.day_aggregates(DEPARTMENT, week, MSK)
    assert (figures[1], figures[2]) == (await repo.topics(DEPARTMENT, week, MSK),
                                        await repo.outcomes(DEPARTMENT, week, MSK))
    async with db_sessions() as s:
        stored_days = set((await s.execute(select(FiguresBuiltDay.day))).scalars())
    assert stored_days and all(day < WED for day in stored_days)
    # A call later that day shows at once, no refresh of stored days needed.
    await ledger.upsert_calls([record("t2", "102", msk(WED, 13), closed=True, talk_s=700)])
    later = await repo.figures(DEPARTMENT, week, MSK, msk(WED, 14))
    assert later[0] == await repo.day_aggregates(DEPARTMENT, week, MSK)
    # The next day Wednesday is over: built from scratch on first need, with everything of it.
    next_day = await repo.figures(DEPARTMENT, week, MSK, msk(THU, 9))
    assert next_day[0] == await repo.day_aggregates(DEPARTMENT, week, MSK)
    async with db_sessions() as s:
        assert WED in set((await s.execute(select(FiguresBuiltDay.day))).scalars())
    assert await repo.summary.day_aggregates(DEPARTMENT, Period(PeriodKind.DAY, WED, WED)) == \
        await repo.day_aggregates(DEPARTMENT, Period(PeriodKind.DAY, WED, WED), MSK)


async def test_a_refresh_with_an_older_clock_does_not_undo_a_newer_one(repo: FiguresRepository) -> None:
    """Found in review: the minute job firing at 23:59:59 but locking after a 00:00:01 report
    un-built the day that had just ended, and that report showed it empty."""
    after_midnight = msk(THU, 0, 1)
    await repo.summary.refresh(MSK, after_midnight, Period(PeriodKind.DAY, WED, WED))
    await repo.summary.refresh(MSK, msk(WED, 23, 59))  # its clock was read before the lock
    assert (await repo.summary.day_aggregates(DEPARTMENT, Period(PeriodKind.DAY, WED, WED))
            == await repo.day_aggregates(DEPARTMENT, Period(PeriodKind.DAY, WED, WED), MSK))
    async with repo.summary._sessions() as s:
        assert WED in set((await s.execute(select(FiguresBuiltDay.day))).scalars())
