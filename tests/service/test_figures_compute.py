"""The control figures' pure maths: periods, totals, targets, distributions, pacing, query parsing."""

from __future__ import annotations

from datetime import date, time

import pytest

from service.figures.compute import (
    NO_TOPIC,
    NO_WRAPUP,
    FigureTargets,
    expert_breakdown,
    figure_rows,
    outcome_distribution,
    pacing,
    topic_distribution,
    totals,
)
from service.figures.errors import BadFiguresQuery
from service.figures.model import (
    DayAggregate,
    ExpertInfo,
    Period,
    PeriodKind,
    Scope,
    ScopeKind,
    Status,
    Target,
)
from service.figures.params import call_log_url, parse_query
from service.figures.report import pace_of
from texts.words import plural

D1, D2, D3 = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)


@pytest.mark.parametrize(("kind", "day", "first", "last"), [
    (PeriodKind.DAY, date(2026, 3, 4), date(2026, 3, 4), date(2026, 3, 4)),
    (PeriodKind.WEEK, date(2026, 3, 4), date(2026, 3, 2), date(2026, 3, 8)),
    (PeriodKind.WEEK, date(2026, 3, 8), date(2026, 3, 2), date(2026, 3, 8)),  # Sunday ends the week
    (PeriodKind.MONTH, date(2026, 2, 14), date(2026, 2, 1), date(2026, 2, 28)),
    (PeriodKind.MONTH, date(2028, 2, 29), date(2028, 2, 1), date(2028, 2, 29)),
    (PeriodKind.MONTH, date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31)),
])
def test_periods(kind: PeriodKind, day: date, first: date, last: date) -> None:
    period = Period.around(kind, day)
    assert (period.first, period.last) == (first, last)
    assert len(period.days) == (last - first).days + 1


@pytest.mark.parametrize(("target", "value", "status"), [
    (Target(15, 17), 14.99, Status.LOW), (Target(15, 17), 15, Status.OK), (Target(15, 17), 17, Status.OK),
    (Target(15, 17), 17.5, Status.HIGH), (Target(12, None), 30, Status.OK), (Target(12, None), 11, Status.LOW),
    (Target(0.6, None), 0.6, Status.OK), (Target(0.6, None), 0.59, Status.LOW),
    (Target(10, 12), None, Status.NONE), (Target(None, None), 5, Status.NONE),
])
def test_target_status(target: Target, value: float | None, status: Status) -> None:
    assert target.status(value) is status


# Two Experts over three days, computed by hand:
#   Expert 1: D1 16 planned / 15 made / 12 productive (7,800 s) / 10 contacts, 6 logged in;
#             D2 only an unplanned inbound call (a working day: a call); D3 nothing at all.
#   Expert 2: D1 15 planned, 0 calls (still a working day: a planned item).
AGGREGATES = [
    DayAggregate(1, D1, planned=16, finished=15, calls=17, made=15, unplanned=2, wrapped=15, contacts=13,
                 productive=12, productive_talk_s=12 * 650.0, logged_in=8),
    DayAggregate(1, D2, calls=1, unplanned=1),
    DayAggregate(1, D3),
    DayAggregate(2, D1, planned=15),
]


def test_totals_count_expert_days_with_a_planned_item_or_a_call() -> None:
    t = totals(AGGREGATES)
    assert (t.expert_days, t.planned, t.finished, t.calls, t.made, t.unplanned) == (3, 31, 15, 18, 15, 3)
    assert (t.contacts, t.productive, t.productive_talk_s, t.logged_in) == (13, 12, 7800.0, 8)


def test_figure_rows_beside_their_targets() -> None:
    rows = {r.key: r for r in figure_rows(totals(AGGREGATES), FigureTargets(), {"expert": "101"})}
    expected = {  # key: (total, per day, status)
        "planned": (31, 31 / 3, Status.LOW),
        "finished": (15, 5.0, Status.NONE),
        "made": (15, 5.0, Status.NONE),
        "calls_per_day": (5.0, None, Status.LOW),
        "contacts": (13, 13 / 3, Status.NONE),
        "productive": (12, 4.0, Status.LOW),
        "unplanned": (3, 1.0, Status.NONE),
        "avg_productive": (650.0, None, Status.OK),  # 10:50
        "login_share": (8 / 13, None, Status.OK),
    }
    assert {k: (r.total, r.per_day, r.status) for k, r in rows.items()} == expected
    assert rows["productive"].drill == {"expert": "101", "productive": "yes", "guessed": "no"}
    assert rows["login_share"].drill == {"expert": "101", "result": "contact", "logged_in": "yes"}
    assert rows["unplanned"].drill["planned"] == "no"


def test_one_productive_expert_day_meets_every_target() -> None:
    day = DayAggregate(1, D1, planned=16, finished=16, calls=16, made=16, contacts=13, productive=12,
                       productive_talk_s=12 * 13 * 60.0, logged_in=8)
    rows = {r.key: r for r in figure_rows(totals([day]), FigureTargets())}
    assert [rows[k].status for k in ("planned", "calls_per_day", "productive", "login_share")] == [Status.OK] * 4
    assert rows["avg_productive"].status is Status.HIGH  # 13 minutes > 12


def test_breakdown_lists_every_expert_of_the_scope_even_without_data() -> None:
    experts = [ExpertInfo(2, "anna", "Белова Анна", "102", "Группа 1"),
               ExpertInfo(1, "maria", "Орлова Мария", "101", "Группа 1"),
               ExpertInfo(3, "pavel", "Зайцев Павел", None, None)]
    rows = expert_breakdown(experts, AGGREGATES, FigureTargets())
    assert [r.expert.login for r in rows] == ["anna", "pavel", "maria"]
    anna, pavel, maria = rows
    assert anna.rows["planned"].per_day == 15 and anna.rows["planned"].status is Status.OK
    assert anna.rows["made"].drill == {"expert": "102", "direction": "outbound", "dialled": "yes", "guessed": "no"}
    assert pavel.rows["made"].total == 0 and pavel.rows["made"].per_day is None
    assert maria.rows["made"].per_day == 7.5


def test_topic_distribution_with_calls_without_a_wrapup() -> None:
    shares = topic_distribution({"Обучение": 3, None: 1, "Комплект SMART": 4}, unwrapped=2, drill={"expert": "101"})
    assert [(s.label, s.count, s.share) for s in shares] == [
        ("Комплект SMART", 4, 0.4), ("Обучение", 3, 0.3), (NO_TOPIC, 1, 0.1), (NO_WRAPUP, 2, 0.2)]
    assert shares[0].drill == {"expert": "101", "topic": "Комплект SMART"}
    assert shares[2].drill == {} and shares[3].drill == {"expert": "101", "result": "none"}
    assert topic_distribution({}, unwrapped=0) == []


def test_outcome_distribution_labels_in_russian() -> None:
    shares = outcome_distribution({"answered": 3, "busy": 1, None: 0})
    assert [(s.label, s.count, s.share, s.drill) for s in shares] == [
        ("состоялся", 3, 0.75, {"outcome": "answered"}), ("занято", 1, 0.25, {"outcome": "busy"})]


@pytest.mark.parametrize(("n", "word"), [
    (1, "звонок"), (2, "звонка"), (4, "звонка"), (5, "звонков"), (11, "звонков"), (12, "звонков"),
    (14, "звонков"), (21, "звонок"), (22, "звонка"), (25, "звонков"), (101, "звонок"), (111, "звонков"),
])
def test_plural(n: int, word: str) -> None:
    assert plural(n, "звонок", "звонка", "звонков") == word


@pytest.mark.parametrize(("due", "finished", "text", "behind"), [
    (8, 4, "к 14:00 отстаёт на 4 звонка", 4),
    (6, 5, "к 14:00 отстаёт на 1 звонок", 1),
    (12, 0, "к 14:00 отстаёт на 12 звонков", 12),
    (5, 5, "идёт по плану", 0),
    (3, 6, "идёт по плану", 0),
    (0, 0, "идёт по плану", 0),
])
def test_pacing(due: int, finished: int, text: str, behind: int) -> None:
    result = pacing(due, finished, time(14, 0, 37))
    assert (result.text, result.behind) == (text, behind)


@pytest.mark.parametrize(("counts", "text", "judged"), [
    (None, "плана на сегодня нет", False),  # an Expert with nothing planned today: no «0 из 0 … идёт по плану»
    ((0, 0), "идёт по плану", True),  # a plan whose first slot has not come yet
    ((4, 1), "к 14:00 отстаёт на 3 звонка", True),
])
def test_no_plan_gets_no_pace_verdict(counts: tuple[int, int] | None, text: str, judged: bool) -> None:
    result = pace_of(counts, time(14, 0))
    assert (result.text, result.judged) == (text, judged)


def test_query_defaults_and_parsing() -> None:
    today = date(2026, 3, 4)
    q = parse_query({}, today)
    assert q.scope == Scope(ScopeKind.DEPARTMENT) and q.period == Period.around(PeriodKind.MONTH, today)
    q = parse_query({"scope": "group:Группа 1", "period": "week", "date": "2026-03-08"}, today)
    assert q.scope == Scope(ScopeKind.GROUP, "Группа 1") and q.period.first == date(2026, 3, 2)
    assert q.params() == {"scope": "group:Группа 1", "period": "week", "date": "2026-03-02"}
    assert parse_query({"scope": "expert:maria", "period": "day"}, today).scope.name == "maria"


@pytest.mark.parametrize(("query", "message"), [
    ({"scope": "team"}, "Непонятный срез"), ({"scope": "expert:"}, "Непонятный срез"),
    ({"period": "year"}, "Непонятный период"), ({"date": "04.03.2026"}, "Непонятная дата"),
    ({"date": "2026-02-30"}, "Непонятная дата"),
    ({"date": "0001-01-01"}, "вне 2000–2100"),
])
def test_bad_queries_get_a_russian_message(query: dict[str, str], message: str) -> None:
    with pytest.raises(BadFiguresQuery, match=message):
        parse_query(query, date(2026, 3, 4))


def test_call_log_links_use_the_call_logs_filter_names() -> None:
    week = Period.around(PeriodKind.WEEK, date(2026, 3, 4))
    assert call_log_url(week, {"productive": "yes", "expert": "101"}) == (
        "/calls?expert=101&from=2026-03-02&to=2026-03-08&productive=yes")
    assert call_log_url(week, {"topic": "Комплект SMART"}).endswith("&topic=%D0%9A%D0%BE%D0%BC%D0%BF%D0%BB"
                                                                     "%D0%B5%D0%BA%D1%82+SMART")
