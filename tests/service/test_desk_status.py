"""The Expert's declared status and its time (service/desk/status.py): a table of days with pauses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.desk.status import (
    DeskStatus,
    PauseTime,
    StatusEntry,
    current_pause,
    current_status,
    pause_time,
    status_problem,
)

DAY = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 09:00 Moscow
END = DAY + timedelta(hours=9)
REASONS = ("Обед", "Обучение", "Работа в ВЭ")


def at(minutes: float, status: DeskStatus, reason: str | None = None) -> StatusEntry:
    return StatusEntry(DAY + timedelta(minutes=minutes), status, reason)


R, P, OFF = DeskStatus.READY, DeskStatus.PAUSE, DeskStatus.OFF


@pytest.mark.parametrize(("status", "reason", "problem"), [
    ("ready", "", None),
    ("pause", "Обед", None),
    ("pause", "Работа в ВЭ", None),
    ("pause", "Сон", "Нет такой причины паузы: «Сон». Можно: «Обед», «Обучение», «Работа в ВЭ»"),
    ("pause", "", "Нет такой причины паузы: «». Можно: «Обед», «Обучение», «Работа в ВЭ»"),
    ("pause", "обед", "Нет такой причины паузы: «обед». Можно: «Обед», «Обучение», «Работа в ВЭ»"),
    ("off", "", "Неизвестный статус: нужен «Готов» или «Пауза»"),
    ("", "", "Неизвестный статус: нужен «Готов» или «Пауза»"),
])
def test_a_status_change_is_checked(status: str, reason: str, problem: str | None) -> None:
    assert status_problem(status, reason, REASONS) == problem


def test_a_long_unknown_reason_is_cut_in_the_message() -> None:
    message = status_problem("pause", "х" * 10_000, REASONS)
    assert message is not None and len(message) < 200 and "…" in message


# entries → (total pause s, by reason)
TABLE: list[tuple[str, list[StatusEntry], float, dict[str, float]]] = [
    ("no status all day", [], 0.0, {}),
    ("ready all day", [at(0, R)], 0.0, {}),
    ("lunch 13:00–13:45", [at(0, R), at(240, P, "Обед"), at(285, R)], 45 * 60, {"Обед": 45 * 60}),
    ("lunch then training, two pauses in a row",
     [at(240, P, "Обед"), at(280, P, "Обучение"), at(340, R)], 100 * 60, {"Обед": 40 * 60, "Обучение": 60 * 60}),
    ("two lunches add up", [at(60, P, "Обед"), at(70, R), at(240, P, "Обед"), at(270, R)], 40 * 60,
     {"Обед": 40 * 60}),
    ("a pause still on runs to the end of the span", [at(480, P, "Работа в ВЭ")], 60 * 60,
     {"Работа в ВЭ": 60 * 60}),
    ("signing out ends a pause", [at(400, P, "Обед"), at(410, OFF)], 10 * 60, {"Обед": 10 * 60}),
    ("yesterday's pause does not carry over", [StatusEntry(DAY - timedelta(hours=10), P, "Обед")], 0.0, {}),
    ("an entry after the span is not in it", [at(600, P, "Обед")], 0.0, {}),
]


@pytest.mark.parametrize(("entries", "total", "by_reason"), [row[1:] for row in TABLE],
                         ids=[row[0] for row in TABLE])
def test_time_on_a_pause(entries: list[StatusEntry], total: float, by_reason: dict[str, float]) -> None:
    assert pause_time(entries, DAY, END) == PauseTime(total, by_reason)


def test_entries_out_of_order_are_taken_in_time_order() -> None:
    entries = [at(285, R), at(240, P, "Обед"), at(0, R)]
    assert pause_time(entries, DAY, END).total_s == 45 * 60


def test_today_so_far_ends_at_now() -> None:
    assert pause_time([at(60, P, "Обед")], DAY, DAY + timedelta(minutes=75)).total_s == 15 * 60
    assert pause_time([at(60, P, "Обед")], DAY, DAY - timedelta(minutes=1)).total_s == 0.0


def test_the_current_status_is_the_days_latest() -> None:
    entries = [StatusEntry(DAY - timedelta(hours=10), P, "Обед"), at(10, R), at(20, P, "Обучение")]
    assert current_status(entries, DAY) == at(20, P, "Обучение")
    assert current_pause(entries, DAY) == at(20, P, "Обучение")
    assert current_pause([*entries, at(30, R)], DAY) is None
    assert current_status(entries[:1], DAY) is None  # a pause left on overnight is over
    assert at(20, P, "Обучение").label == "Пауза: Обучение" and at(0, R).label == "Готов"
