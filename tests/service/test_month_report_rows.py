"""The monthly reports' rows (issue 16, item 3), each computed from the facts it names: a table per row."""

from __future__ import annotations

from decimal import Decimal

import pytest

from service.month.report import (
    DEBT_ACTIVE,
    DEBT_DISCONNECTED,
    EXPERT_TITLE,
    MAILINGS_MISSING,
    PM_TITLE,
    CallFacts,
    Column,
    Drill,
    EventFacts,
    PersonFacts,
    Row,
    Targets,
    Unit,
    expert_rows,
    expert_table,
    pm_rows,
    pm_table,
    sum_facts,
)

TARGETS = Targets(Decimal("0.6"), (30, 32), (10, 12), (20, 50))
CALLS = CallFacts(planned=16, calls=20, unplanned=5, contacts=12, productive=9, logged_in=7, guessed=1)
EXPERT = PersonFacts(clients=30, users=75, calls=CALLS, topics={"Обучение": 6, "СМАРТ-комплект": 3, None: 3})
PM = PersonFacts(
    clients=40, visits_planned_plan=Decimal(31), visits_planned_done=29, visits_unplanned_done=11, pm_calls=35,
    events={"terms_renewed": EventFacts(4, 4, Decimal(0)), "prepay_long": EventFacts(6, 5, Decimal(0)),
            "prepay_monthly": EventFacts(2, 2, Decimal(0)), "gk_subscription": EventFacts(3, 3, Decimal(0)),
            "seminar_sold": EventFacts(2, 2, Decimal("9000")), "sale": EventFacts(1, 1, Decimal("150000.50")),
            "upsell": EventFacts(2, 2, Decimal("20000")), "problem_registered": EventFacts(5, 4, Decimal(0)),
            "problem_solved": EventFacts(3, 3, Decimal(0)), DEBT_ACTIVE: EventFacts(2, 2, Decimal("5000")),
            DEBT_DISCONNECTED: EventFacts(1, 1, Decimal("12000.10")),
            "client_disconnected": EventFacts(1, 1, Decimal(0)), "client_restored": EventFacts(1, 1, Decimal(0)),
            "competitor_lost": EventFacts(1, 1, Decimal(0)), "competitor_won": EventFacts(2, 2, Decimal(0))})


def values(row: Row) -> dict[str, Decimal | None]:
    return {f.label: f.value for f in row.figures}


def test_the_expert_report_has_the_presentations_rows_in_order() -> None:
    titles = [r.title for r in expert_rows(EXPERT, TARGETS)]
    assert titles == [
        "кол-во организаций и кол-во пользователей", "плановое кол-во звонков/Работ",
        "плановое кол-во звонков с заходом в систему (60 %)", "факт выполненных звонков/работ",
        "кол-во плановых и неплановых звонков", "количество звонков с заходом в систему",
        "распределение звонков по основному инфоповоду",
        "кол-во и темы рассылок/целевая аудитория/кол-во отправлений/открыто и переходов по ссылкам или "
        "скачиваний (кол-во и %)"]


@pytest.mark.parametrize(("index", "expected"), [
    (0, {"организаций": 30, "пользователей": 75}),
    (1, {"плановых звонков": 16}),
    (2, {"план звонков с заходом": 10}),  # 16 × 0,6 = 9,6 → 10
    (3, {"контакт состоялся": 12, "из них результативных": 9}),
    (4, {"плановых": 15, "неплановых": 5}),
    (5, {"с заходом": 7, "доля от состоявшихся контактов": Decimal("0.5833")}),
    (6, {"Обучение": 6, "Обучение: доля": Decimal("0.5"), "СМАРТ-комплект": 3,
         "СМАРТ-комплект: доля": Decimal("0.25"), "без инфоповода": 3, "без инфоповода: доля": Decimal("0.25")}),
    (7, {"рассылок": None}),
])
def test_each_expert_row_is_computed_from_its_facts(index: int, expected: dict[str, object]) -> None:
    assert values(expert_rows(EXPERT, TARGETS)[index]) == expected


def test_the_login_plan_rounds_half_up_and_follows_the_target() -> None:
    facts = PersonFacts(calls=CallFacts(planned=15))
    assert values(expert_rows(facts, TARGETS)[2]) == {"план звонков с заходом": 9}  # 9,0
    assert values(expert_rows(PersonFacts(calls=CallFacts(planned=5)), TARGETS)[2]) == {"план звонков с заходом": 3}
    half = Targets(Decimal("0.5"), (30, 32), (10, 12), (20, 50))
    row = expert_rows(PersonFacts(calls=CallFacts(planned=5)), half)[2]
    assert row.title.endswith("(50 %)") and values(row) == {"план звонков с заходом": 3}  # 2,5 → 3


def test_a_share_without_a_base_is_no_data_never_zero() -> None:
    rows = expert_rows(PersonFacts(), TARGETS)
    share = rows[5].figures[1]
    assert share.value is None and share.missing == "нет контактов за период"
    assert rows[6].figures[0].label == "звонков с итогом" and rows[6].figures[0].value == 0
    mailing = rows[7].figures[0]
    assert mailing.value is None and mailing.missing == MAILINGS_MISSING


def test_the_expert_rows_link_to_the_calls_behind_them() -> None:
    rows = expert_rows(EXPERT, TARGETS)
    assert rows[3].figures[0].drill == (Drill.CALLS, {"result": "contact"})
    assert rows[4].figures[0].drill == (Drill.CALLS, {"planned": "yes"})
    assert rows[4].figures[1].drill == (Drill.CALLS, {"planned": "no"})
    assert rows[5].figures[0].drill == (Drill.CALLS, {"result": "contact", "logged_in": "yes"})
    assert rows[6].figures[0].drill == (Drill.CALLS, {"topic": "Обучение"})
    assert rows[6].figures[4].drill is None  # «без инфоповода»: the call log has no such filter


def test_a_guessed_call_is_said_apart() -> None:
    assert "звонки с достроенными данными (1) в результативные не входят" in expert_rows(EXPERT, TARGETS)[3].source
    assert "достроенными" not in expert_rows(PersonFacts(), TARGETS)[3].source


@pytest.mark.parametrize(("index", "expected"), [
    (0, {"план": 31, "факт (состоялись)": 29}),
    (1, {"неплановых визитов": 11}),
    (2, {"звонков": 35}),
    (3, {"продлений": 4}),
    (4, {"на длинную предоплату: клиентов": 5, "на длинную предоплату: доля": Decimal("0.125"),
         "вернулись на ежемесячную: клиентов": 2, "вернулись на ежемесячную: доля": Decimal("0.05")}),
    (5, {"подписок на ГК": 3, "продаж семинаров": 2, "продаж": 1, "сумма продаж": Decimal("150000.50"),
         "допродаж": 2, "сумма допродаж": Decimal("20000")}),
    (6, {"проблем зарегистрировано": 5, "проблем решено": 3, "задолженность погашена: действующие": 2,
         "сумма: действующие": Decimal("5000"), "задолженность погашена: отключённые": 1,
         "сумма: отключённые": Decimal("12000.10"), "отключено клиентов": 1, "восстановлено клиентов": 1,
         "ушли к конкурентам": 1, "пришли от конкурентов": 2}),
])
def test_each_pm_row_is_computed_from_its_facts(index: int, expected: dict[str, object]) -> None:
    rows = pm_rows(PM, TARGETS)
    assert len(rows) == 7
    assert values(rows[index]) == expected


def test_the_pm_rows_say_what_is_missing_and_the_norms() -> None:
    rows = pm_rows(PersonFacts(), TARGETS)
    plan = rows[0].figures[0]
    assert plan.value is None and plan.missing == "план визитов за период не импортирован"
    assert plan.target == "норма 30–32" and rows[1].figures[0].target == "норма 10–12"
    assert rows[2].figures[0].target == "норма 20–50"
    share = rows[4].figures[1]
    assert share.value is None and share.missing == "в портфеле нет клиентов"
    quarter = Targets(Decimal("0.6"), (30, 32), (10, 12), (20, 50), months=3)
    assert pm_rows(PM, quarter)[0].figures[0].target == "норма 90–96"


def test_the_pm_rows_link_to_visits_and_events() -> None:
    rows = pm_rows(PM, TARGETS)
    assert rows[0].figures[1].drill == (Drill.VISITS, {"planned": "yes"})
    assert rows[3].figures[0].drill == (Drill.EVENTS, {"kind": "terms_renewed"})
    debt = rows[6].figures[2]
    assert debt.drill == (Drill.EVENTS, {"kind": "debt_collected", "disconnected": "no"}) and debt.unit is Unit.COUNT
    assert rows[6].figures[4].drill == (Drill.EVENTS, {"kind": "debt_collected", "disconnected": "yes"})
    assert rows[6].figures[3].unit is Unit.RUB


def test_the_department_sums_people_and_takes_its_own_event_counts() -> None:
    department_events = {"prepay_long": EventFacts(6, 4, Decimal(0))}  # one client moved by both PMs
    total = sum_facts([PM, PM], department_events)
    assert (total.clients, total.visits_planned_plan, total.visits_planned_done, total.pm_calls) == (80, 62, 58, 70)
    assert total.events == department_events
    # A plan summed over only some PMs would read as the whole department's (found trying it): none then.
    partial = sum_facts([PM, PersonFacts()])
    assert partial.visits_planned_plan is None
    assert pm_rows(partial, TARGETS)[0].figures[0].missing == "план визитов загружен не у всех ПМ или не за все месяцы"
    nothing = sum_facts([PersonFacts(), PersonFacts()])
    assert nothing.visits_planned_plan is None and nothing.visits_plan_gap is None
    gap = PersonFacts(visits_plan_gap="план визитов загружен за 1 из 2 мес. периода")
    assert pm_rows(gap, TARGETS)[0].figures[0].missing == "план визитов загружен за 1 из 2 мес. периода"
    assert sum_facts([EXPERT, EXPERT]).calls == CALLS + CALLS
    assert sum_facts([EXPERT, EXPERT]).topics == {"Обучение": 12, "СМАРТ-комплект": 6, None: 6}


def test_the_tables_align_every_column_on_the_departments_topics() -> None:
    other = PersonFacts(topics={"Решение проблемы": 2})
    people = [(Column("Орлова Мария Сергеевна", "maria"), EXPERT), (Column("Белова Анна", "anna"), other)]
    table = expert_table(people, TARGETS, sum_facts([EXPERT, other]))
    assert table.title == EXPERT_TITLE
    assert [c.login for c in table.columns] == ["maria", "anna", None]
    topics = table.rows[6]
    labels = [line.label for line in topics.lines]
    assert labels[0::2] == ["Обучение", "СМАРТ-комплект", "Решение проблемы", "без инфоповода"]
    by_label = {line.label: [c.value for c in line.cells] for line in topics.lines}
    assert by_label["Решение проблемы"] == [0, 2, 2]
    assert by_label["Обучение"] == [6, 0, 6]
    assert by_label["Обучение: доля"] == [Decimal("0.5"), Decimal(0), Decimal("0.4286")]
    pms = pm_table([(Column("Петрова", "petrova"), PM)], TARGETS)
    assert pms.title == PM_TITLE and len(pms.columns) == 1 and len(pms.rows) == 7
