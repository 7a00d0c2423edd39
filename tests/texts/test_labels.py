"""Every code the enums of dialer/, scheduler/ and service/ can store has its Russian label in texts/; the helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import pytest

from dialer import records
from dialer.actions import SPY_OPTIONS
from dialer.records import Direction, Outcome
from scheduler.model import PlanState, SignalKind, Version
from service.board import BoardState
from service.desk.wrapup import WrapUpResult
from service.figures.model import PeriodKind, Status
from service.web.keys import ROLES
from texts import labels, plan
from texts.labels import call_timeline, hangup_cause_label, quality_label, queue_state_label
from texts.words import decimal, dmy, minutes_seconds, plural, short_name

COVERED: list[tuple[type[StrEnum], dict[str, str]]] = [
    (Outcome, labels.OUTCOME_LABELS),
    (Direction, labels.DIRECTION_LABELS),
    (WrapUpResult, labels.RESULT_LABELS),
    (PlanState, labels.PLAN_STATE_LABELS),
    (SignalKind, labels.SIGNAL_KIND_LABELS),
    (SignalKind, plan.SIGNAL_TOPICS),
    (Version, labels.VERSION_LABELS),
    (BoardState, labels.BOARD_STATE_LABELS),
    (Status, labels.FIGURE_STATUS_LABELS),
    (PeriodKind, labels.PERIOD_LABELS),
]


@pytest.mark.parametrize(("codes", "table"), COVERED, ids=[f"{c.__name__}" for c, _ in COVERED])
def test_every_code_has_a_label(codes: type[StrEnum], table: dict[str, str]) -> None:
    assert set(table) == {c.value for c in codes}
    assert all(table[c] == table[c.value] for c in codes)  # a member finds its value's label


def test_every_quality_flag_spy_mode_and_role_has_a_label() -> None:
    flags = {value for name, value in vars(records).items() if name.startswith("Q_") and isinstance(value, str)}
    assert flags and set(labels.QUALITY_LABELS) == flags
    assert not any(quality_label(flag).startswith("Отметка качества") for flag in flags)
    assert set(labels.SPY_MODE_LABELS) == set(SPY_OPTIONS)
    assert set(labels.ROLE_LABELS) == set(ROLES)


def test_call_labels() -> None:
    assert hangup_cause_label(None) == "—" and hangup_cause_label(21) == "21 (вызов отклонён)"
    assert hangup_cause_label(99) == "99" and quality_label("new_flag") == "Отметка качества: new_flag"
    at = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    moments = {"started_at": at, "ringing_at": None, "answered_at": at, "ended_at": at}
    assert call_timeline("inbound", "expert", moments) == [
        ("Начало", at), ("Ответ", at), ("Конец: трубку положил Эксперт", at)]


def test_queue_state_label_prefers_the_wrapup_then_the_call() -> None:
    assert queue_state_label("planned", None, None) == "запланирован"
    assert queue_state_label("in_progress", "busy", None) == "звонок: занято, без итога"
    assert queue_state_label("not_reached", "busy", "callback") == "Просили перезвонить"
    assert queue_state_label(None, None, None) == ""


@pytest.mark.parametrize(("n", "word"), [(1, "день"), (2, "дня"), (5, "дней"), (11, "дней"), (12, "дней"),
                                         (21, "день"), (22, "дня"), (111, "дней"), (0, "дней")])
def test_plural(n: int, word: str) -> None:
    assert plural(n, "день", "дня", "дней") == word


def test_numbers_dates_and_names() -> None:
    assert decimal(2.0) == "2" and decimal(2.345) == "2,3" and decimal(2.345, 2) == "2,35"
    assert minutes_seconds(725.4) == "12:05" and dmy(datetime(2026, 1, 5).date()) == "05.01.2026"
    assert short_name("Иванова Ольга Петровна") == "Иванова О. П." and short_name(" Ольга ") == "Ольга"
