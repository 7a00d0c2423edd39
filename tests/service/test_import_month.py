"""`dsdesk import events` and `dsdesk import plans` (issue 16): the month's business events and each person's
monthly plans, through the real import on SQLite and PostgreSQL — Russian headers and kinds, re-imports, bad
rows, closed months, money as Decimal to kopecks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.db.engine import SessionMaker
from service.db.models import BusinessEvent, Expert, MonthlyPlan
from service.db.month import MonthRepository
from service.errors import ClosedMonthError, UnknownClientError
from service.imports import month_cells
from service.imports.cells import CellError
from service.imports.errors import ImportFailed, RowsRejected
from service.imports.named import kind_of as kind_of_file
from service.imports.runner import import_file, import_rows
from service.imports.validation import PLAN_ROLES
from service.imports.writers import WRITERS
from service.month.kinds import EVENT_NAMES, PLAN_NAMES, month_after
from service.month.records import EventRecord, PlanRecord
from tests.service.importing import write_table as write_rows
from tests.service.test_import_errors import REPO, run_cli

NOW = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
EXPERTS = [{"login": "ivanova", "full_name": "Иванова Мария Сергеевна", "extension": "101"},
           {"login": "petrov", "full_name": "Петров Павел Андреевич", "extension": "102", "role": "pm"}]
CLIENTS = [{"external_id": "C-501", "name": "ООО «Ромашка»", "segment": "ДС"},
           {"external_id": "C-502", "name": "АО «Вектор»", "segment": "ДС"}]
# As the CRM exports them: Russian column names, Russian kinds, money with a space and a comma.
EVENTS_RU = [
    {"Код клиента": "C-501", "Вид события": "Продление фин. условий", "Дата": "03.03.2026", "Сумма": "",
     "Логин сотрудника": "ivanova", "Примечание": "на 12 месяцев"},
    {"Код клиента": "C-502", "Вид события": "продажа семинара", "Дата": "2026-03-10", "Сумма": "4 500,5",
     "Логин сотрудника": "petrov", "Примечание": "«Отпуска и больничные»"},
    {"Код клиента": "C-502", "Вид события": "Уход к конкуренту", "Дата": "31.03.2026", "Сумма": "",
     "Логин сотрудника": "", "Примечание": "ушли на Главбух"},
]
PLANS_RU = [
    {"Логин сотрудника": "ivanova", "Месяц": "2026-03", "Показатель": "Обучение", "Значение": "12"},
    {"Логин сотрудника": "ivanova", "Месяц": "03.2026", "Показатель": "Приглашения на СТ", "Значение": "20"},
    {"Логин сотрудника": "ivanova", "Месяц": "март 2026", "Показатель": "Баланс ВКСП", "Значение": "-1,5"},
    {"Логин сотрудника": "ivanova", "Месяц": "15.03.2026", "Показатель": "Полнота сбора", "Значение": "80 %"},
    {"Логин сотрудника": "petrov", "Месяц": "2026-03", "Показатель": "pm_visits_planned", "Значение": "31"},
]


def write_table(directory: Path, name: str, rows: list[dict[str, str]], fmt: str = "csv-cp1251-semicolon") -> Path:
    """Rows as dicts (columns: every key, in first-seen order; a missing cell is empty)."""
    header = list(dict.fromkeys(key for row in rows for key in row))
    return write_rows(directory, name, (header, [[row.get(k, "") for k in header] for row in rows]), fmt)


async def seed(sessions: SessionMaker, tmp_path: Path) -> None:
    for kind, rows in (("experts", EXPERTS), ("clients", CLIENTS)):
        await import_file(kind, write_table(tmp_path, kind, rows), sessions, progress=False)


async def imported(sessions: SessionMaker, kind: str, path: Path) -> tuple[int, int, int]:
    counts = (await import_file(kind, path, sessions, progress=False)).counts
    return counts.new, counts.updated, counts.unchanged


async def ids(sessions: SessionMaker) -> dict[str, int]:
    async with sessions() as session:
        return {login: expert_id for login, expert_id in await session.execute(select(Expert.login, Expert.id))}


async def count(sessions: SessionMaker, model: type[BusinessEvent] | type[MonthlyPlan]) -> int:
    async with sessions() as session:
        return int((await session.scalar(select(func.count()).select_from(model))) or 0)


async def rejected(sessions: SessionMaker, kind: str, path: Path) -> list[str]:
    with pytest.raises(RowsRejected) as failed:
        await import_file(kind, path, sessions, progress=False)
    return [str(error) for error in failed.value.errors]


# events


@pytest.mark.parametrize("fmt", ["csv-cp1251-semicolon", "xlsx"])
async def test_events_with_russian_names_and_a_second_import_changes_nothing(db_sessions: SessionMaker,
                                                                            tmp_path: Path, fmt: str) -> None:
    await seed(db_sessions, tmp_path)
    path = write_table(tmp_path, "events", EVENTS_RU, fmt)
    assert await imported(db_sessions, "events", path) == (3, 0, 0)
    assert await imported(db_sessions, "events", path) == (0, 0, 3)
    assert await count(db_sessions, BusinessEvent) == 3
    people = await ids(db_sessions)
    events = await MonthRepository(db_sessions).events(date(2026, 3, 1), date(2026, 3, 31))
    assert [(e.kind, e.occurred_on, e.amount_rub, e.employee_id, e.note) for e in events] == [
        ("terms_renewed", date(2026, 3, 3), None, people["ivanova"], "на 12 месяцев"),
        ("seminar_sold", date(2026, 3, 10), Decimal("4500.50"), people["petrov"], "«Отпуска и больничные»"),
        ("competitor_lost", date(2026, 3, 31), None, None, "ушли на Главбух"),
    ]
    assert str(events[1].amount_rub) == "4500.50"  # kopecks kept, on SQLite too


async def test_every_russian_spelling_of_every_event_kind(db_sessions: SessionMaker, tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    spelled = {f"{name}": code for code, names in EVENT_NAMES.items() for name in (code, *names)}
    rows = [{"client_external_id": "C-501", "kind": name.upper() if n % 2 else name, "occurred_on": "2026-03-02",
             "note": name} for n, name in enumerate(spelled)]
    assert await imported(db_sessions, "events", write_table(tmp_path, "events", rows, "csv-utf8-comma")) == (
        len(spelled), 0, 0)
    events = await MonthRepository(db_sessions).events(date(2026, 3, 1), date(2026, 3, 1))
    assert {e.note: e.kind for e in events} == spelled
    assert {e.kind for e in events} == set(EVENT_NAMES)


async def test_an_event_is_the_same_row_however_its_cells_are_spelled(db_sessions: SessionMaker,
                                                                       tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    row = {"client_external_id": "C-501", "kind": "sale", "occurred_on": "2026-03-02", "amount_rub": "1234.5",
           "employee_login": "ivanova", "note": "лицензия"}
    respelled = {**row, "kind": " Продажа ", "occurred_on": "02.03.2026", "amount_rub": "1 234,50",
                 "note": " лицензия "}
    other = {**row, "amount_rub": "1234.51"}
    path = write_table(tmp_path, "events", [row, respelled, other])
    assert await imported(db_sessions, "events", path) == (2, 0, 1)
    amounts = [e.amount_rub for e in await MonthRepository(db_sessions).events(date(2026, 3, 1), date(2026, 3, 1))]
    assert amounts == [Decimal("1234.50"), Decimal("1234.51")]


@pytest.mark.parametrize(("cells", "column", "reason"), [
    ({"client_external_id": "C-404"}, "client_external_id", "нет такого клиента (сначала импортируйте clients)"),
    ({"employee_login": "nobody"}, "employee_login", "нет такого сотрудника (сначала импортируйте experts)"),
    ({"kind": "скидка"}, "kind", "допустимо одно из: terms_renewed, prepay_long"),
    ({"amount_rub": "12,3,4"}, "amount_rub", "не число"),
    ({"amount_rub": "1,5.0"}, "amount_rub", "не число (копейки — после одной запятой или точки"),
    ({"amount_rub": "-100"}, "amount_rub", "сумма не может быть отрицательной"),
    ({"amount_rub": "1000000000000"}, "amount_rub", "слишком большая сумма"),
    ({"occurred_on": "31.02.2026"}, "occurred_on", "нет такой даты"),
    # Found trying it: an event of 2031 was taken (an event is what has happened).
    ({"occurred_on": "01.01.2099"}, "occurred_on", "в будущем (сегодня "),
])
async def test_a_bad_event_row_is_refused_and_nothing_is_written(db_sessions: SessionMaker, tmp_path: Path,
                                                                 cells: dict[str, str], column: str,
                                                                 reason: str) -> None:
    await seed(db_sessions, tmp_path)
    good = {"client_external_id": "C-501", "kind": "sale", "occurred_on": "2026-03-02", "amount_rub": "100",
            "employee_login": "ivanova"}
    errors = await rejected(db_sessions, "events", write_table(tmp_path, "events", [good, {**good, **cells}]))
    assert len(errors) == 1 and errors[0].startswith(f"строка 3, столбец «{column}», значение «"), errors
    assert reason in errors[0]
    assert await count(db_sessions, BusinessEvent) == 0


async def test_a_russian_column_is_named_in_the_error(db_sessions: SessionMaker, tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    rows = [{**EVENTS_RU[0], "Сумма": "сто"}]
    assert await rejected(db_sessions, "events", write_table(tmp_path, "events", rows)) == [
        "строка 2, столбец «Сумма» (amount_rub), значение «сто»: не число"]


async def test_events_are_read_by_months_and_employees(db_sessions: SessionMaker, tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    rows = [{"client_external_id": "C-501", "kind": "upsell", "occurred_on": day, "employee_login": login}
            for day, login in (("2026-01-31", "ivanova"), ("2026-02-01", "ivanova"), ("2026-03-31", "petrov"),
                               ("2026-04-01", "ivanova"), ("2026-02-15", ""))]
    await import_file("events", write_table(tmp_path, "events", rows), db_sessions, progress=False)
    people = await ids(db_sessions)
    month = MonthRepository(db_sessions)
    assert [e.occurred_on for e in await month.events(date(2026, 2, 10), date(2026, 3, 5))] == [
        date(2026, 2, 1), date(2026, 2, 15), date(2026, 3, 31)]
    assert [e.occurred_on for e in await month.events(date(2026, 1, 1), date(2026, 4, 1), [people["ivanova"]])] == [
        date(2026, 1, 31), date(2026, 2, 1), date(2026, 4, 1)]
    assert await month.events(date(2026, 2, 1), date(2026, 2, 1), []) == []


async def test_the_repository_refuses_an_unknown_client_directly(db_sessions: SessionMaker) -> None:
    with pytest.raises(UnknownClientError, match="«C-404»"):
        await MonthRepository(db_sessions).add_events([EventRecord("C-404", "sale", date(2026, 3, 2))], NOW)


# plans


async def plans_of(sessions: SessionMaker, month: date) -> dict[tuple[str, str], Decimal]:
    logins = {expert_id: login for login, expert_id in (await ids(sessions)).items()}
    return {(logins[p.employee_id], p.kind): p.value for p in await MonthRepository(sessions).plans(month)}


@pytest.mark.parametrize("fmt", ["csv-cp1251-semicolon", "xlsx"])
async def test_plans_with_russian_names_update_by_person_month_and_kind(db_sessions: SessionMaker, tmp_path: Path,
                                                                        fmt: str) -> None:
    await seed(db_sessions, tmp_path)
    path = write_table(tmp_path, "plans", PLANS_RU, fmt)
    assert await imported(db_sessions, "plans", path) == (5, 0, 0)
    assert await imported(db_sessions, "plans", path) == (0, 0, 5)
    march = {("ivanova", "training"): Decimal("12.00"), ("ivanova", "st_invitations"): Decimal("20.00"),
             ("ivanova", "vksp_balance"): Decimal("-1.50"), ("ivanova", "collection_completeness"): Decimal("0.80"),
             ("petrov", "pm_visits_planned"): Decimal("31.00")}
    assert await plans_of(db_sessions, date(2026, 3, 17)) == march
    changed = [{**PLANS_RU[0], "Значение": "14"}, {**PLANS_RU[1], "Месяц": "2026-04"}]
    assert await imported(db_sessions, "plans", write_table(tmp_path, "plans2", changed, fmt)) == (1, 1, 0)
    assert await plans_of(db_sessions, date(2026, 3, 1)) == {**march, ("ivanova", "training"): Decimal("14.00")}
    assert await plans_of(db_sessions, date(2026, 4, 1)) == {("ivanova", "st_invitations"): Decimal("20.00")}
    assert await count(db_sessions, MonthlyPlan) == 6


async def test_every_russian_spelling_of_every_plan_kind(db_sessions: SessionMaker, tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    spelled = [(name, code) for code, names in PLAN_NAMES.items() for name in (code, *names)]
    months, month = [], date(2020, 1, 1)
    for _ in spelled:  # one month per spelling: the same kind twice in a month would be a repeat
        months.append(month)
        month = month_after(month)
    def whose(code: str) -> str:  # a PM's plan kinds are the PM's (service/imports/validation.PLAN_ROLES)
        return "petrov" if PLAN_ROLES.get(code) == "pm" else "ivanova"

    rows = [{"employee_login": whose(code), "month": f"{first:%Y-%m}", "kind": name, "value": "0,5"}
            for (name, code), first in zip(spelled, months, strict=True)]
    assert await imported(db_sessions, "plans", write_table(tmp_path, "plans", rows, "csv-utf8-comma")) == (
        len(spelled), 0, 0)
    for (_, code), first in zip(spelled, months, strict=True):
        assert await plans_of(db_sessions, first) == {(whose(code), code): Decimal("0.50")}


@pytest.mark.parametrize(("row", "column", "reason"), [
    # Found trying it: a supervisor's plan, an Expert's PM plan and a PM's СТ plan were taken, and counted nowhere.
    ({"employee_login": "smirnova"}, "employee_login", "только Эксперта или ПМ по ДС, а «smirnova» — руководитель"),
    ({"kind": "pm_calls"}, "kind", "этот план — только для роли «ПМ по ДС», а «ivanova» — эксперт"),
    ({"employee_login": "petrov", "kind": "st_invitations"}, "kind", "только для роли «эксперт», а «petrov» — ПМ"),
])
async def test_a_plan_of_the_wrong_person_is_refused(db_sessions: SessionMaker, tmp_path: Path, row: dict[str, str],
                                                     column: str, reason: str) -> None:
    await seed(db_sessions, tmp_path)
    await import_rows("experts", [{"login": "smirnova", "full_name": "Смирнова Ольга", "role": "supervisor"}],
                      db_sessions)
    good = {"employee_login": "ivanova", "month": "2026-03", "kind": "training", "value": "1"}
    errors = await rejected(db_sessions, "plans", write_table(tmp_path, "plans", [good, {**good, **row}]))
    assert len(errors) == 1 and f"«{column}»" in errors[0] and reason in errors[0], errors


@pytest.mark.parametrize(("cells", "column", "reason"), [
    ({"employee_login": "nobody"}, "employee_login", "нет такого сотрудника (сначала импортируйте experts)"),
    ({"kind": "план продаж"}, "kind", "допустимо одно из: training, st_invitations"),
    ({"month": "весна 2026"}, "month", "не месяц (ГГГГ-ММ, ММ.ГГГГ или дата)"),
    ({"month": "2026-13"}, "month", "нет такого месяца"),
    ({"month": "30.02.2026"}, "month", "нет такой даты"),
    ({"value": "много"}, "value", "не число"),
    ({"value": "-1"}, "value", "не может быть отрицательным (ниже нуля — только баланс ВКСП)"),
    ({"value": "80 %"}, "value", "в процентах — только полнота сбора"),
    ({"kind": "Полнота сбора", "value": "80"}, "value", "полнота сбора — доля от 0 до 1: 0,8 или 80 %"),
    ({"kind": "training", "month": "01.03.2026"}, "kind", "повтор: те же employee_login, month и kind, что в строке 2"),
])
async def test_a_bad_plan_row_is_refused_and_nothing_is_written(db_sessions: SessionMaker, tmp_path: Path,
                                                                cells: dict[str, str], column: str,
                                                                reason: str) -> None:
    await seed(db_sessions, tmp_path)
    good = {"employee_login": "ivanova", "month": "2026-03", "kind": "training", "value": "12"}
    errors = await rejected(db_sessions, "plans",
                            write_table(tmp_path, "plans", [good, {**good, "kind": "st_invitations", **cells}]))
    assert len(errors) == 1 and errors[0].startswith(f"строка 3, столбец «{column}», значение «"), errors
    assert reason in errors[0]
    assert await count(db_sessions, MonthlyPlan) == 0


async def test_a_plan_for_a_closed_month_is_refused_with_nothing_written(db_sessions: SessionMaker,
                                                                         tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    month = MonthRepository(db_sessions)
    assert await month.close_month(date(2026, 2, 14), (await ids(db_sessions))["petrov"], NOW) is True
    assert await month.close_month(date(2026, 2, 1), None, NOW) is False
    assert await month.closed_months() == frozenset({date(2026, 2, 1)})
    rows = [{"Логин": "ivanova", "Месяц": "2026-03", "Показатель": "Обучение", "Значение": "12"},
            {"Логин": "ivanova", "Месяц": "28.02.2026", "Показатель": "Обучение", "Значение": "10"}]
    assert await rejected(db_sessions, "plans", write_table(tmp_path, "plans", rows)) == [
        "строка 3, столбец «Месяц» (month), значение «02.2026»: "
        "месяц февраль 2026 закрыт: его планы и показатели больше не меняются"]
    assert await count(db_sessions, MonthlyPlan) == 0


async def test_the_repository_refuses_a_closed_month_before_writing_anything(db_sessions: SessionMaker) -> None:
    """Also when the month was closed after the file was checked: the import then fails as a whole."""
    month = MonthRepository(db_sessions)
    async with db_sessions.begin() as session:
        session.add(Expert(login="ivanova", full_name="Иванова Мария", last_name="Иванова", first_name="Мария"))
    await month.close_month(date(2026, 2, 1), None, NOW)
    records = [PlanRecord("ivanova", date(2026, 3, 1), "training", Decimal(12)) for _ in range(3000)]
    records.append(PlanRecord("ivanova", date(2026, 2, 1), "training", Decimal(10)))  # in the second batch
    with pytest.raises(ClosedMonthError, match="февраль 2026"):
        await month.upsert_plans(records, NOW)
    with pytest.raises(ImportFailed, match="месяц закрыт, его планы не меняются: февраль 2026; ничего не"):
        async with db_sessions.begin() as session:
            await WRITERS["plans"](db_sessions, records[-1:], session)
    assert await count(db_sessions, MonthlyPlan) == 0


async def test_the_cli_refuses_a_closed_month_in_russian(db_sessions: SessionMaker, migrated_db: str,
                                                         tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    await MonthRepository(db_sessions).close_month(date(2026, 3, 1), None, NOW)
    path = write_table(tmp_path, "plans", PLANS_RU)
    result = run_cli("import", "plans", str(path), url=migrated_db)
    assert result.returncode == 2 and result.stdout == "", result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"dsdesk import plans: {path}: ошибок: 5; ничего не импортировано"
    assert lines[1] == ("  строка 2, столбец «Месяц» (month), значение «03.2026»: месяц март 2026 закрыт: "
                        "его планы и показатели больше не меняются")
    events = write_table(tmp_path, "events", EVENTS_RU)
    result = run_cli("import", "events", str(events), url=migrated_db)  # events of a closed month are facts
    assert (result.returncode, result.stdout) == (
        0, "events: импортировано строк: 3 (новых 3, изменённых 0, без изменений 0)\n"), result.stderr


# pure


@pytest.mark.parametrize(("raw", "month"), [
    ("2026-03", date(2026, 3, 1)), ("03.2026", date(2026, 3, 1)), ("3.2026", date(2026, 3, 1)),
    ("Март 2026", date(2026, 3, 1)), ("декабрь 2025 г.", date(2025, 12, 1)), ("15.03.2026", date(2026, 3, 1)),
    ("2026-03-31", date(2026, 3, 1)), (date(2026, 3, 9), date(2026, 3, 1)),
    (datetime(2026, 3, 9, 12, 0), date(2026, 3, 1)),
])
def test_a_month_is_read_in_every_documented_form(raw: object, month: date) -> None:
    assert month_cells.month(raw) == month


def test_a_plan_value_in_per_cent_is_a_share_kept_to_four_places() -> None:
    assert month_cells.plan_value("80 %") == (Decimal("0.80"), True)
    assert month_cells.plan_value("82,5%") == (Decimal("0.825"), True)  # exact: no threshold crossed by rounding
    assert month_cells.plan_value("0,695") == (Decimal("0.695"), False)
    assert month_cells.plan_value(0.8) == (Decimal("0.80"), False)
    assert month_cells.plan_value("1 234,567") == (Decimal("1234.567"), False)
    assert month_cells.plan_value("0,12345") == (Decimal("0.1235"), False)
    with pytest.raises(CellError, match="не число"):
        month_cells.plan_value("%")


def test_the_drop_folder_knows_the_files_by_name() -> None:
    assert (kind_of_file("events-2026-03.csv"), kind_of_file("plans_2026-03.xlsx")) == ("events", "plans")


def test_the_docs_list_every_kind_with_its_russian_names() -> None:
    docs = (REPO / "docs" / "import.md").read_text(encoding="utf-8")
    for section, names in (("## events\n", EVENT_NAMES), ("## plans\n", PLAN_NAMES)):
        text = docs.split(section, 1)[1].split("\n## ", 1)[0]
        table = text.split("| kind | also written |", 1)[1].split("\n\n", 1)[0]
        rows = {line.split("|")[1].strip(" `"): line.split("|")[2].strip()
                for line in table.splitlines() if line.startswith("| `")}
        assert rows == {code: ", ".join(f"«{name}»" for name in spelled) for code, spelled in names.items()}
