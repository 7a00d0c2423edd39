"""Control-figure aggregates on SQLite and PostgreSQL against a hand-made, hand-computed dataset.

The department (Europe/Moscow, UTC+3): maria (101) and anna (102) in «Группа 1», pavel (103) in
«Группа 2»; olga (201) is a supervisor whose calls never count; extension 999 belongs to nobody.
The week is Mon 02.03.2026 – Sun 08.03.2026. Edges: a day with no calls (maria, Wed), unplanned
calls (inbound and from a client card), calls without a wrap-up, and calls around midnight in the
organisation's zone (23:59 and 00:00 Moscow; a call on Sunday in UTC that is Monday in Moscow).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from service.db.engine import SessionMaker
from service.db.figures import FiguresRepository
from service.db.models import Call, Client, ClientContact, Expert, PlannedCall, WrapUp
from service.figures.compute import FigureTargets, figure_rows, totals
from service.figures.errors import UnknownScope
from service.figures.model import DayAggregate, Period, PeriodKind, Scope, ScopeKind, Status

MSK = ZoneInfo("Europe/Moscow")
MON, TUE, WED, THU = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5)
WEEK = Period.around(PeriodKind.WEEK, WED)
MONTH = Period.around(PeriodKind.MONTH, WED)
DEPARTMENT = Scope(ScopeKind.DEPARTMENT)
GROUP_1 = Scope(ScopeKind.GROUP, "Группа 1")

EXPERTS = [  # id, login, name, role, extension, group
    (1, "maria", "Орлова Мария", "expert", "101", "Группа 1"),
    (2, "anna", "Белова Анна", "expert", "102", "Группа 1"),
    (3, "pavel", "Зайцев Павел", "expert", "103", "Группа 2"),
    (4, "olga", "Смирнова Ольга", "supervisor", "201", None),
]
# public id, Expert id, day, slot (Moscow hour), state
PLANNED = [
    ("PC-1", 1, MON, 9, "contact_made"), ("PC-2", 1, MON, 10, "not_reached"),
    ("PC-3", 1, MON, 11, "cancelled"), ("PC-4", 1, MON, 12, "rolled_over"),
    ("PC-5", 1, TUE, 9, "planned"), ("PC-6", 1, TUE, 10, "callback"), ("PC-7", 1, TUE, 15, "planned"),
    ("PC-8", 2, MON, 9, "contact_made"),
    ("PC-9", 3, THU, 9, "not_reached"), ("PC-10", 3, THU, 10, "not_reached"),
]


@dataclass(frozen=True)
class C:
    """A ledger call and its wrap-up (result None: no wrap-up)."""

    linkedid: str
    ext: str
    started: datetime  # UTC
    direction: str = "outbound"
    outcome: str | None = "answered"
    planned: str | None = None
    talk_s: float = 0.0
    result: str | None = None
    productive: bool = False
    logged_in: bool = False
    topic: str | None = None
    wrapup_after_s: float = 45.0  # the wrap-up's first save after the call's end


def msk(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MSK).astimezone(UTC)


CALLS = [
    # maria, Monday
    C("c1", "101", msk(MON, 9, 5), planned="PC-1", talk_s=600, result="contact_made", productive=True,
      logged_in=True, topic="Обучение"),
    C("c2", "101", msk(MON, 10, 5), outcome="no_answer", planned="PC-2", result="not_reached"),
    C("c3", "101", msk(MON, 12, 5), outcome="expert_no_answer", planned="PC-4"),
    C("c4", "101", msk(MON, 13, 0), direction="inbound", talk_s=300, result="contact_made", topic="Обучение"),
    C("c5", "101", msk(MON, 14, 0), talk_s=720, result="contact_made", productive=True, topic="Комплект SMART",
      wrapup_after_s=3 * 3600),  # saved 3 hours later: counts 30 minutes «в итогах»
    C("c6", "101", msk(MON, 15, 0), outcome="busy", planned="PC-2"),
    C("c7", "101", msk(MON, 23, 59), talk_s=660, result="contact_made", productive=True, logged_in=True,
      topic="Обучение"),
    # maria, Tuesday 00:00 Moscow (still Monday 21:00 in UTC)
    C("c8", "101", msk(TUE, 0, 0), outcome="rejected"),
    # anna, Monday
    C("c9", "102", msk(MON, 9, 10), planned="PC-8", talk_s=480, result="contact_made", productive=True,
      logged_in=True, topic="Комплект SMART"),
    C("c10", "102", msk(MON, 16, 0), direction="inbound", outcome="missed"),
    # pavel, Thursday: a refusal is a contact made, not a productive one (SPEC-NOTES)
    C("c11", "103", msk(THU, 9, 0), outcome="congestion", planned="PC-9", result="not_reached"),
    C("c12", "103", msk(THU, 10, 0), planned="PC-10", talk_s=30, result="refused", topic="Задолженность"),
    # Monday 09.03 00:30 Moscow = Sunday 08.03 21:30 UTC: in March, not in the week
    C("c13", "101", msk(date(2026, 3, 9), 0, 30), talk_s=540, result="contact_made", productive=True),
    # never counted: a supervisor's call and an unknown extension
    C("c14", "201", msk(MON, 11, 0), talk_s=900, result="contact_made", productive=True, logged_in=True),
    C("c15", "999", msk(MON, 11, 30), talk_s=100),
]


async def seed_figures(sessions: SessionMaker) -> None:
    """The dataset above (the web tests reuse it)."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    async with sessions.begin() as s:
        await s.execute(insert(Expert), [
            {"id": i, "login": login, "full_name": name, "role": role, "extension": ext, "group_name": group}
            for i, login, name, role, ext, group in EXPERTS])
        await s.execute(insert(Client), [{"id": 1, "external_id": "C-1", "name": "ООО «Ромашка»"}])
        await s.execute(insert(ClientContact), [
            {"id": i, "client_id": 1, "full_name": f"Контакт {i}"} for i in range(1, len(PLANNED) + 1)])
        await s.execute(insert(PlannedCall), [
            {"id": i, "public_id": pid, "plan_date": day, "expert_id": expert, "client_id": 1,
             "contact_id": i, "slot": msk(day, hour), "state": state, "reasons": [],
             "created_at": now, "updated_at": now}
            for i, (pid, expert, day, hour, state) in enumerate(PLANNED, start=1)])
        await s.execute(insert(Call), [_call_row(i, c, now) for i, c in enumerate(CALLS, start=1)])
        wrapups = [_wrapup_row(i, c, now) for i, c in enumerate(CALLS, start=1) if c.result]
        await s.execute(insert(WrapUp), wrapups)


def _call_row(i: int, c: C, now: datetime) -> dict[str, Any]:
    """The row the ledger writes: its owner is whoever held the extension (999: nobody)."""
    ended = c.started + timedelta(seconds=c.talk_s + 10)
    owner = next((e[0] for e in EXPERTS if e[4] == c.ext), None)
    return {"id": i, "linkedid": c.linkedid, "direction": c.direction, "expert_ext": c.ext, "expert_id": owner,
            "client_number": "79115550001", "started_at": c.started, "ended_at": ended,
            "duration_s": c.talk_s + 10, "talk_s": c.talk_s, "outcome": c.outcome,
            "planned_call_id": c.planned, "client_id": "C-1", "quality": [],
            "created_at": now, "updated_at": now}


def _wrapup_row(i: int, c: C, now: datetime) -> dict[str, Any]:
    expert = next(e[0] for e in EXPERTS if e[4] == c.ext) if c.ext != "999" else 1
    saved = c.started + timedelta(seconds=c.talk_s + 10 + c.wrapup_after_s)
    return {"call_id": i, "expert_id": expert, "result": c.result, "topic": c.topic,
            "logged_in": c.logged_in, "productive": c.productive, "created_at": saved, "updated_at": now}


@pytest.fixture
async def repo(db_sessions: SessionMaker) -> FiguresRepository:
    await seed_figures(db_sessions)
    return FiguresRepository(db_sessions)


def agg(expert: int, day: date, **counts: Any) -> DayAggregate:
    return DayAggregate(expert, day, **counts)


async def test_day_aggregates_of_the_week_per_expert_and_moscow_day(repo: FiguresRepository) -> None:
    assert await repo.day_aggregates(DEPARTMENT, WEEK, MSK) == [
        # Time in state: talk 600+300+720+660; on a call each talk + 10 s; wrap-ups 45 s each, c5's 30 min.
        agg(1, MON, planned=3, finished=2, calls=7, made=5, unplanned=3, wrapped=5, contacts=4,
            productive=3, productive_talk_s=1980.0, logged_in=2, talk_total_s=2280.0, on_call_s=2350.0,
            wrapup_s=4 * 45.0 + 1800.0),
        agg(1, TUE, planned=3, finished=1, calls=1, made=1, unplanned=1, on_call_s=10.0),
        agg(2, MON, planned=1, finished=1, calls=2, made=1, unplanned=1, wrapped=1, contacts=1,
            productive=1, productive_talk_s=480.0, logged_in=1, talk_total_s=480.0, on_call_s=500.0, wrapup_s=45.0),
        agg(3, THU, planned=2, finished=2, calls=2, made=2, wrapped=2, contacts=1, talk_total_s=30.0, on_call_s=50.0,
            wrapup_s=90.0),
    ]


async def test_department_week_figures_against_targets(repo: FiguresRepository) -> None:
    t = totals(await repo.day_aggregates(DEPARTMENT, WEEK, MSK))
    assert (t.expert_days, t.planned, t.finished, t.calls, t.made, t.unplanned) == (4, 9, 6, 12, 9, 5)
    assert (t.wrapped, t.contacts, t.productive, t.productive_talk_s, t.logged_in) == (8, 6, 4, 2460.0, 3)
    rows = {r.key: r for r in figure_rows(t, FigureTargets())}
    assert (rows["planned"].per_day, rows["planned"].status) == (2.25, Status.LOW)
    assert (rows["calls_per_day"].total, rows["calls_per_day"].status) == (2.25, Status.LOW)
    assert (rows["productive"].per_day, rows["productive"].status) == (1.0, Status.LOW)
    assert (rows["avg_productive"].total, rows["avg_productive"].status) == (615.0, Status.OK)  # 10:15
    # 3 of 6: the refusal is a contact in which nobody logged in
    assert (rows["login_share"].total, rows["login_share"].status) == (0.5, Status.LOW)


async def test_the_month_takes_the_call_that_is_monday_in_moscow_but_sunday_in_utc(repo: FiguresRepository) -> None:
    month = await repo.day_aggregates(DEPARTMENT, MONTH, MSK)
    assert agg(1, date(2026, 3, 9), calls=1, made=1, unplanned=1, wrapped=1, contacts=1, productive=1,
               productive_talk_s=540.0, talk_total_s=540.0, on_call_s=550.0, wrapup_s=45.0) in month
    t = totals(month)
    assert (t.expert_days, t.calls, t.made, t.productive, t.productive_talk_s) == (5, 13, 10, 5, 3000.0)


async def test_a_single_day_and_a_day_without_calls(repo: FiguresRepository) -> None:
    tuesday = await repo.day_aggregates(DEPARTMENT, Period.around(PeriodKind.DAY, TUE), MSK)
    assert tuesday == [agg(1, TUE, planned=3, finished=1, calls=1, made=1, unplanned=1, on_call_s=10.0)]
    assert await repo.day_aggregates(DEPARTMENT, Period.around(PeriodKind.DAY, WED), MSK) == []
    rows = {r.key: r for r in figure_rows(totals([]), FigureTargets())}
    assert rows["planned"].per_day is None and rows["planned"].status is Status.NONE
    assert rows["avg_productive"].total is None and rows["login_share"].total is None


async def test_group_and_expert_scopes(repo: FiguresRepository) -> None:
    group = totals(await repo.day_aggregates(GROUP_1, WEEK, MSK))
    assert (group.expert_days, group.planned, group.made, group.contacts, group.productive) == (3, 7, 7, 5, 4)
    pavel = await repo.day_aggregates(Scope(ScopeKind.EXPERT, "pavel"), WEEK, MSK)
    assert pavel == [agg(3, THU, planned=2, finished=2, calls=2, made=2, wrapped=2, contacts=1, talk_total_s=30.0,
                         on_call_s=50.0, wrapup_s=90.0)]
    assert [e.login for e in await repo.experts(GROUP_1)] == ["anna", "maria"]
    assert await repo.groups() == ["Группа 1", "Группа 2"]
    with pytest.raises(UnknownScope, match="Нет группы"):
        await repo.experts(Scope(ScopeKind.GROUP, "Группа 9"))
    with pytest.raises(UnknownScope, match="Нет Эксперта"):
        await repo.experts(Scope(ScopeKind.EXPERT, "nobody"))


async def test_topic_and_outcome_distributions(repo: FiguresRepository) -> None:
    assert await repo.topics(DEPARTMENT, WEEK, MSK) == {
        "Обучение": 3, "Комплект SMART": 2, "Задолженность": 1, None: 2}
    assert await repo.outcomes(DEPARTMENT, WEEK, MSK) == {
        "answered": 6, "no_answer": 1, "expert_no_answer": 1, "busy": 1, "rejected": 1, "missed": 1,
        "congestion": 1}


async def test_pacing_counts_items_due_before_now_and_finished(repo: FiguresRepository) -> None:
    # Tuesday 14:00 Moscow: PC-5 (09:00, open) and PC-6 (10:00, callback) are due; PC-7 (15:00) is not.
    assert await repo.pacing(DEPARTMENT, TUE, msk(TUE, 14)) == {1: (2, 1)}
    assert await repo.pacing(DEPARTMENT, MON, msk(MON, 11, 30)) == {1: (2, 2), 2: (1, 1)}  # PC-3 cancelled


async def test_days_follow_the_zone_across_a_dst_change(db_sessions: SessionMaker) -> None:
    """New York moves to UTC-4 on 08.03.2026: 23:30 local is 04:30 UTC before and 03:30 UTC after."""
    ny = ZoneInfo("America/New_York")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    starts = [datetime(2026, 3, 8, 4, 30, tzinfo=UTC), datetime(2026, 3, 9, 3, 30, tzinfo=UTC),
              datetime(2026, 3, 9, 4, 30, tzinfo=UTC)]
    async with db_sessions.begin() as s:
        await s.execute(insert(Expert), [{"id": 1, "login": "maria", "full_name": "М", "extension": "101"}])
        await s.execute(insert(Call), [_call_row(i, C(f"n{i}", "101", start), now)
                                       for i, start in enumerate(starts, start=1)])
    week = Period(PeriodKind.WEEK, date(2026, 3, 7), date(2026, 3, 9))
    days = [(a.day, a.calls) for a in await FiguresRepository(db_sessions).day_aggregates(DEPARTMENT, week, ny)]
    assert days == [(date(2026, 3, 7), 1), (date(2026, 3, 8), 1), (date(2026, 3, 9), 1)]


async def test_the_experts_import_reads_the_group(db_sessions: SessionMaker) -> None:
    from service.imports.runner import import_rows

    await import_rows("experts", [
        {"login": "maria", "full_name": "Орлова Мария", "extension": "101", "group": " Группа 1 "},
        {"login": "anna", "full_name": "Белова Анна", "extension": "102", "group": ""},
    ], db_sessions)
    repo = FiguresRepository(db_sessions)
    assert [(e.login, e.group_name) for e in await repo.experts(DEPARTMENT)] == [("anna", None), ("maria", "Группа 1")]


@pytest.mark.parametrize(("zone", "first", "last", "offset"), [
    ("Europe/Moscow", date(2026, 3, 1), date(2026, 3, 31), "+03:00"),
    ("Asia/Kolkata", date(2026, 3, 1), date(2026, 3, 31), "+05:30"),
    ("America/St_Johns", date(2026, 1, 1), date(2026, 1, 31), "-03:30"),
    ("America/New_York", date(2026, 3, 1), date(2026, 3, 7), "-05:00"),
    ("America/New_York", date(2026, 3, 2), date(2026, 3, 8), None),  # DST starts on 08.03 at 02:00
    ("Europe/Berlin", date(2026, 10, 1), date(2026, 10, 31), None),
])
def test_a_fixed_offset_only_when_the_zone_keeps_it_over_the_period(zone: str, first: date, last: date,
                                                                    offset: str | None) -> None:
    from service.db.figures_queries import fixed_offset

    assert fixed_offset(Period(PeriodKind.MONTH, first, last), ZoneInfo(zone)) == offset


async def test_one_experts_narrowed_reading_equals_her_scope(repo: FiguresRepository) -> None:
    """The desk strip reads one Expert's calls only (expert_id): the same numbers as her scope."""
    for expert_id, login, *_ in EXPERTS:
        scope = Scope(ScopeKind.EXPERT, login)
        assert await repo.day_aggregates(scope, WEEK, MSK, expert_id=expert_id) == \
            await repo.day_aggregates(scope, WEEK, MSK)
