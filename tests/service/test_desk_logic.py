"""The Expert's screen as pure logic: wrap-up validation and meaning, the queue's next row and progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.model import PlanState
from service.desk.queue import QueueRow, next_row, ordered, progress
from service.desk.wrapup import FieldError, WrapUpInput, WrapUpResult, parse_wrapup, suggested_result

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 11:00 in Moscow
TOPICS = ("Обучение", "Обзор новостей и изменений")


def parse(**form: str) -> WrapUpInput | list[FieldError]:
    return parse_wrapup(form, topics=TOPICS, tz=MSK, now=NOW)


def test_a_contact_made_keeps_every_judgement() -> None:
    result = parse(result="contact_made", topic="Обучение", logged_in="1", productive="on",
                   comment="  показала Онлайн-сервис  ")
    assert result == WrapUpInput(WrapUpResult.CONTACT_MADE, "Обучение", True, True, "показала Онлайн-сервис", None)


@pytest.mark.parametrize(("raw", "contact", "productive_allowed"), [
    ("refused", True, False),  # SPEC-NOTES: a refusal is a contact, not productive
    ("wrong_number", False, False),  # not a contact at all
    ("not_reached", False, False),
    ("contact_made", True, True),
])
def test_only_a_contact_made_can_be_productive(raw: str, contact: bool, productive_allowed: bool) -> None:
    result = parse(result=raw, logged_in="1", productive="1")
    if not productive_allowed:  # refused with the reason, never dropped silently (issue 13)
        assert result == [FieldError("productive", "Результативным может быть только звонок с итогом "
                                                   "«Контакт состоялся»")]
        result = parse(result=raw, logged_in="1")
    assert isinstance(result, WrapUpInput)
    assert result.result.is_contact is contact
    assert result.logged_in is contact
    assert result.productive is productive_allowed


@pytest.mark.parametrize(("talk_s", "allowed"), [(119.0, False), (120.0, True), (600.0, True), (6.0, False)])
def test_productive_needs_the_talk_time_at_the_threshold(talk_s: float, allowed: bool) -> None:
    result = parse_wrapup({"result": "contact_made", "productive": "1"}, topics=TOPICS, tz=MSK, now=NOW,
                          talk_s=talk_s, min_productive_talk_s=120.0)
    if allowed:
        assert isinstance(result, WrapUpInput) and result.productive
    else:
        minutes = f"{int(round(talk_s)) // 60}:{int(round(talk_s)) % 60:02d}"
        assert result == [FieldError("productive", f"Разговор длился {minutes}: результативным считается "
                                                   "разговор не короче 2:00")]


def test_callback_needs_a_future_time_in_organisation_time() -> None:
    assert parse(result="callback") == [FieldError("next_contact", "Укажите, когда перезвонить")]
    result = parse(result="callback", next_contact="2026-03-03T15:30")
    assert isinstance(result, WrapUpInput)
    assert result.next_contact_at == datetime(2026, 3, 3, 15, 30, tzinfo=MSK)
    assert result.result.plan_state is PlanState.CALLBACK


def test_every_problem_is_listed_and_nothing_is_half_accepted() -> None:
    errors = parse(result="maybe", topic="Погода", next_contact="вчера", comment="x" * 4001)
    assert isinstance(errors, list)
    assert {e.field for e in errors} == {"result", "topic", "next_contact", "comment"}


@pytest.mark.parametrize("raw", ["9999-12-31T23:59", "0001-01-01T00:00", "2027-06-01", "9999-12-31"])
def test_a_next_contact_beyond_a_year_is_refused(raw: str) -> None:
    """Found by the hostile probe's classes (issue 10): year 1 and 9999 reached UTC arithmetic."""
    errors = parse(result="contact_made", next_contact=raw)
    assert isinstance(errors, list) and [e.field for e in errors] == ["next_contact"]


def test_past_next_contact_is_refused() -> None:
    errors = parse(result="contact_made", next_contact="2026-03-02T10:59")
    assert errors == [FieldError("next_contact", "Следующий контакт должен быть в будущем")]


def test_a_bare_date_means_ten_in_the_morning() -> None:
    result = parse(result="not_reached", next_contact="2026-03-04")
    assert isinstance(result, WrapUpInput)
    assert result.next_contact_at == datetime(2026, 3, 4, 10, 0, tzinfo=MSK)


def test_plan_states_feed_the_retry_rules() -> None:
    assert WrapUpResult.NOT_REACHED.plan_state is PlanState.NOT_REACHED
    assert WrapUpResult.WRONG_NUMBER.plan_state is PlanState.NOT_REACHED
    assert WrapUpResult.REFUSED.plan_state is PlanState.CONTACT_MADE


@pytest.mark.parametrize(("outcome", "expected"), [
    ("answered", WrapUpResult.CONTACT_MADE), ("no_answer", WrapUpResult.NOT_REACHED),
    ("busy", WrapUpResult.NOT_REACHED), (None, WrapUpResult.NOT_REACHED),
    ("expert_no_answer", None),  # the Expert's own miss: nothing that uses up a client's attempt (issue 13)
])
def test_prefill_follows_the_pbx_outcome(outcome: str | None, expected: WrapUpResult | None) -> None:
    assert suggested_result(outcome) is expected


def row(public_id: str | None, minutes: int, state: str | None = "planned", *, productive: bool = False,
        started: int | None = None) -> QueueRow:
    base = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    return QueueRow(
        public_id=public_id, slot=base + timedelta(minutes=minutes) if public_id else None, state=state,
        client_id="C-1", client_name="ООО «Ромашка»", contact_id="K-1", contact_name="Ольга", phone="7911",
        reasons=(), topic=None, comment=None, productive=productive,
        started_at=None if started is None else base + timedelta(minutes=started),
        linkedid=None if public_id else f"L{minutes}",
    )


def test_progress_counts_finished_planned_items_and_their_productive_ones() -> None:
    rows = [
        row("PC-1", 0, PlanState.CONTACT_MADE, productive=True),
        row("PC-2", 25, PlanState.NOT_REACHED),
        row("PC-3", 50, PlanState.CALLBACK),
        row("PC-4", 75, PlanState.IN_PROGRESS),
        row("PC-5", 100),
        row("PC-6", 125, PlanState.CANCELLED),  # not planned any more
        row(None, 0, None, started=30),  # an unplanned call: not in "из N"
    ]
    p = progress(rows, target=16)
    assert (p.planned, p.finished, p.productive, p.unplanned) == (5, 3, 1, 1)
    assert p.text == "3 из 5, результативных 1"


def test_the_next_call_is_the_one_in_progress_else_the_earliest_planned() -> None:
    rows = [row("PC-2", 50), row("PC-1", 25), row("PC-0", 0, PlanState.CONTACT_MADE)]
    assert next_row(rows) is rows[1]
    rows.append(row("PC-9", 200, PlanState.IN_PROGRESS))
    assert next_row(rows) is rows[-1]
    assert next_row([row("PC-0", 0, PlanState.NOT_REACHED)]) is None


def test_unplanned_calls_sit_among_planned_items_by_time() -> None:
    rows = [row("PC-2", 50), row(None, 0, None, started=30), row("PC-1", 25)]
    assert [r.public_id or r.linkedid for r in ordered(rows)] == ["PC-1", "L0", "PC-2"]


@pytest.mark.parametrize("result", ["contact_made", "refused", "wrong_number"])
def test_a_call_nobody_answered_cannot_be_a_contact(result: str) -> None:
    """Issue 13: a contact cannot be claimed for a call the PBX saw unanswered (it counted in the figures)."""
    parsed = parse_wrapup({"result": result}, topics=TOPICS, tz=MSK, now=NOW, answered=False)
    assert isinstance(parsed, list) and [e.field for e in parsed] == ["result"]
    assert "Клиент не ответил (по данным АТС разговора не было)" in parsed[0].message


@pytest.mark.parametrize("result", ["not_reached", "callback"])
def test_a_call_nobody_answered_may_be_not_reached_or_called_back(result: str) -> None:
    form = {"result": result, "next_contact": "2026-03-03T10:00"}
    assert not isinstance(parse_wrapup(form, topics=TOPICS, tz=MSK, now=NOW, answered=False), list)
