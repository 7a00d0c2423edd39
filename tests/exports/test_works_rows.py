"""Building «Работы» rows from plain records (pure): every state mapping, guessed calls, visits,
unplanned inbound calls, a missing contact, the login columns, the fixed order; the period checks."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from service.exports.errors import BadPeriod
from service.exports.period import Days, check_days, read_days
from service.exports.works import (
    DEFAULT_STATES,
    HEADERS,
    STATE_CODES,
    CallWork,
    VisitWork,
    WorksConfig,
    call_link,
    call_row,
    day_rows,
    is_work,
    visit_row,
    whole_seconds,
)
from service.settings import Settings

MSK = ZoneInfo("Europe/Moscow")
CONFIG = WorksConfig(tz=MSK, public_url="https://dsdesk.example/", states=DEFAULT_STATES)
STARTED = datetime(2026, 12, 7, 7, 5, 9, 750000, tzinfo=UTC)  # 10:05:09.75 in Moscow


def call(**changes: Any) -> CallWork:
    base = CallWork(linkedid="1765000000.42", direction="outbound", started_at=STARTED, outcome="answered",
                    talk_s=612.5, guessed=False, has_recording=True, planned=True, client_external_id="C-1",
                    contact_external_id="K-1", employee_login="ivanova", employee_role="expert",
                    result="contact_made", topic="Обучение", comment="Показала поиск", ticked=True, measured=None)
    return dataclasses.replace(base, **changes)


def visit(**changes: Any) -> VisitWork:
    base = VisitWork(visit_id=17, day=date(2026, 12, 7), planned=True, result="done", client_external_id="C-4",
                     employee_login="irina", contacts_met="Галина", topic="Продление финансовых условий",
                     comment="Подписали")
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(("result", "outcome", "state", "shown"), [
    ("contact_made", "answered", "контакт состоялся", "Контакт состоялся"),
    ("refused", "answered", "контакт состоялся", "Отказ от разговора"),
    ("callback", "answered", "перезвонить", "Просили перезвонить"),
    ("not_reached", "no_answer", "не дозвонились", "Не дозвонились"),
    ("wrong_number", "answered", "не дозвонились", "Неверный номер"),
    (None, "answered", "контакт состоялся", "без итога Эксперта: состоялся"),
    (None, "no_answer", "не дозвонились", "без итога Эксперта: нет ответа"),
    (None, "busy", "не дозвонились", "без итога Эксперта: занято"),
    (None, "rejected", "не дозвонились", "без итога Эксперта: отклонён"),
    (None, "congestion", "не дозвонились", "без итога Эксперта: сеть недоступна"),
    (None, "cancelled", "не дозвонились", "без итога Эксперта: отменён"),
    (None, "missed", "перезвонить", "без итога Эксперта: пропущен"),
])
def test_each_result_and_outcome_has_its_state(result: str | None, outcome: str, state: str, shown: str) -> None:
    row = call_row(call(result=result, outcome=outcome, ticked=None if result is None else False), CONFIG)
    assert (row.state, row.result) == (state, shown)


@pytest.mark.parametrize(("result", "state"), [("done", "контакт состоялся"), ("not_done", "не состоялся"),
                                               ("moved", "перенесён")])
def test_each_visit_result_has_its_state(result: str, state: str) -> None:
    assert visit_row(visit(result=result), CONFIG).state == state


def test_every_code_is_mapped_and_a_configured_state_is_used() -> None:
    assert set(DEFAULT_STATES) == set(STATE_CODES)
    settings = Settings.model_validate({"exports": {"states": {"not_reached": "  недозвон ", "moved": "перенос"}}})
    states = settings.exports.states
    assert (states["not_reached"], states["moved"], states["contact_made"]) == ("недозвон", "перенос",
                                                                                "контакт состоялся")
    config = dataclasses.replace(CONFIG, states=states)
    assert call_row(call(result="not_reached", outcome="no_answer"), config).state == "недозвон"


def test_a_call_row_in_full() -> None:
    row = call_row(call(), CONFIG)
    assert row.cells() == (
        "DS-1765000000.42", "исходящий звонок", "C-1", "K-1", "Дистанционный сервис_обзвонка", "ivanova",
        "07.12.2026", "10:05:09", "контакт состоялся", "Контакт состоялся", "Обучение", "Показала поиск", 613,
        "да", "по отметке эксперта", "да", "", "https://dsdesk.example/calls/1765000000.42")
    assert len(row.cells()) == len(HEADERS)


def test_a_guessed_call_is_exported_and_marked_inferred() -> None:
    row = call_row(call(guessed=True), CONFIG)
    assert row.inferred == "да" and row.state == "контакт состоялся"
    assert call_row(call(), CONFIG).inferred == ""


def test_an_unplanned_inbound_call_of_an_unknown_number() -> None:
    row = call_row(call(direction="inbound", planned=False, client_external_id=None, contact_external_id=None,
                        result=None, topic=None, comment=None, ticked=None, has_recording=False), CONFIG)
    assert (row.kind, row.planned, row.client_id, row.contact_id, row.comment, row.link) == (
        "входящий звонок", "нет", "", "", "", "")
    assert row.state == "контакт состоялся" and row.result == "без итога Эксперта: состоялся"


def test_a_missing_contact_and_a_missing_employee_are_empty_cells() -> None:
    row = call_row(call(contact_external_id=None, employee_login=None, employee_role=None), CONFIG)
    assert (row.contact_id, row.employee, row.assignment) == ("", "", "Дистанционный сервис_обзвонка")


def test_a_pms_call_and_visit_are_her_assignment_type() -> None:
    assert call_row(call(employee_login="irina", employee_role="pm"), CONFIG).assignment == "Дистанционный сервис"
    row = visit_row(visit(), CONFIG)
    assert row.cells() == (
        "DS-V-17", "визит", "C-4", "", "Дистанционный сервис", "irina", "07.12.2026", "", "контакт состоялся",
        "визит состоялся", "Продление финансовых условий", "Встречались: Галина. Подписали", None, "", "", "да",
        "", "")
    assert visit_row(visit(contacts_met=None, comment=None, planned=False), CONFIG).comment == ""
    assert visit_row(visit(contacts_met="Галина", comment=None), CONFIG).comment == "Встречались: Галина"


@pytest.mark.parametrize(("changes", "logged_in", "source"), [
    ({"measured": True, "ticked": False}, "да", "по статистике онлайн-версии"),
    ({"measured": False, "ticked": True}, "нет", "по статистике онлайн-версии"),
    ({"measured": None, "ticked": True}, "да", "по отметке эксперта"),
    ({"measured": None, "ticked": False}, "нет", "по отметке эксперта"),
    ({"result": "refused", "measured": None, "ticked": False}, "нет", "по отметке эксперта"),
    ({"result": None, "ticked": None, "measured": True}, "да", "по статистике онлайн-версии"),
    ({"result": None, "ticked": None, "measured": None}, "", ""),
    # not a contact: no login, whatever was ticked or measured
    ({"result": "not_reached", "outcome": "no_answer", "ticked": True, "measured": True}, "", ""),
    ({"result": "wrong_number", "ticked": True}, "", ""),
    ({"result": None, "outcome": "busy", "ticked": None, "measured": False}, "", ""),
])
def test_login_during_the_call_says_how_it_is_known(changes: dict[str, object], logged_in: str,
                                                    source: str) -> None:
    row = call_row(call(**changes), CONFIG)
    assert (row.logged_in, row.login_source) == (logged_in, source)


def test_the_experts_own_missed_phone_is_no_work_unless_wrapped_up() -> None:
    assert not is_work(call(outcome="expert_no_answer", result=None))
    assert is_work(call(outcome="expert_no_answer", result="not_reached"))
    rows = day_rows([call(outcome="expert_no_answer", result=None)], [], CONFIG)
    assert rows == []


def test_a_day_is_calls_by_start_then_visits_by_id() -> None:
    later = call(linkedid="B", started_at=STARTED.replace(hour=9))
    same_time = call(linkedid="A")
    first = call(linkedid="C", started_at=STARTED.replace(hour=5))
    rows = day_rows([later, same_time, first, call(linkedid="D")], [visit(visit_id=9), visit(visit_id=3)], CONFIG)
    assert [r.work_id for r in rows] == ["DS-C", "DS-A", "DS-D", "DS-B", "DS-V-3", "DS-V-9"]


def test_the_day_and_time_are_the_organisations() -> None:
    late = call(started_at=datetime(2026, 12, 7, 21, 30, tzinfo=UTC))  # 00:30 on the 8th in Moscow
    row = call_row(late, CONFIG)
    assert (row.day, row.at) == (date(2026, 12, 8), time(0, 30))
    ekb = call_row(late, dataclasses.replace(CONFIG, tz=ZoneInfo("Asia/Yekaterinburg")))
    assert (ekb.day, ekb.at) == (date(2026, 12, 8), time(2, 30))


def test_links_and_seconds() -> None:
    assert call_link("http://127.0.0.1:8080", "a b/c") == "http://127.0.0.1:8080/calls/a%20b%2Fc"
    assert call_link("https://x.example/dsdesk/", "1.2") == "https://x.example/dsdesk/calls/1.2"
    assert [whole_seconds(s) for s in (0.0, 0.49, 0.5, 60.25, -3.0)] == [0, 0, 1, 60, 0]


# ---- the days asked for -----------------------------------------------------------------------
def test_both_date_forms_and_an_empty_end() -> None:
    assert read_days("2026-12-01", "07.12.2026", 93) == Days(date(2026, 12, 1), date(2026, 12, 7))
    assert read_days(" 07.12.2026 ", "", 93) == Days(date(2026, 12, 7), date(2026, 12, 7))
    days = Days(date(2026, 12, 1), date(2026, 12, 3))
    assert (list(days), len(days), days.stem, str(days)) == (
        [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)], 3, "works-2026-12-01--2026-12-03",
        "01.12.2026–03.12.2026")
    assert Days(date(2026, 12, 7), date(2026, 12, 7)).stem == "works-2026-12-07"


@pytest.mark.parametrize(("first", "last", "message"), [
    ("", "", "Укажите начало периода"),
    ("завтра", "", "Начало периода «завтра» — не дата"),
    ("31.02.2026", "", "Начало периода «31.02.2026» — не дата"),
    ("2026-12-07", "x" * 100, "Конец периода «" + "x" * 40 + "…» — не дата"),
    ("08.12.2026", "07.12.2026", "Начало периода 08.12.2026 позже его конца 07.12.2026"),
    ("0001-01-01", "07.12.2026", "Дата 01.01.0001 вне 2000–2100 годов"),
    ("2026-01-01", "2026-12-31", "Период 01.01.2026–31.12.2026 — 365 дней; за один раз можно выгрузить не больше "
                                 "93 дней"),
])
def test_a_bad_period_says_why_in_russian(first: str, last: str, message: str) -> None:
    with pytest.raises(BadPeriod) as caught:
        read_days(first, last, 93)
    assert str(caught.value).startswith(message), str(caught.value)


def test_the_longest_period_allowed() -> None:
    assert len(check_days(date(2026, 1, 1), date(2026, 4, 3), 93)) == 93
    with pytest.raises(BadPeriod, match="не больше 1 дня"):
        check_days(date(2026, 1, 1), date(2026, 1, 2), 1)
