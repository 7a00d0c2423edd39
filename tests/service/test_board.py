"""The live board's pure rules: an Expert's state from calls, wrap-up, presence and absence; progress and pacing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from service.board import (
    BoardState,
    ExpertBoardState,
    board_state,
    calls_by_extension,
    day_progress,
)
from service.desk.queue import QueueRow
from service.desk.status import DeskStatus, StatusEntry

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
MSK = ZoneInfo("Europe/Moscow")


def call(state: str, linkedid: str = "L1", *, ext: str = "101", answered: bool = False,
         client_name: str | None = "ООО «Ромашка»", number: str = "79115550101",
         direction: str = "outbound") -> dict[str, Any]:
    answered_at = (T0 + timedelta(seconds=8)).isoformat() if answered else None
    return {"linkedid": linkedid, "state": state, "at": (T0 + timedelta(seconds=5)).isoformat(),
            "expert_ext": ext, "direction": direction, "client_number": number, "client_name": client_name,
            "answered_at": answered_at}


S = BoardState
# calls up, needs wrap-up, present, absent → state
TABLE: list[tuple[str, list[dict[str, Any]], bool, bool, bool, BoardState]] = [
    ("nothing on, screen open", [], False, True, False, S.AVAILABLE),
    ("screen closed", [], False, False, False, S.AWAY),
    ("absent today, screen open", [], False, True, True, S.AWAY),
    ("the Expert's own phone rings (click-to-call)", [call("dialling")], False, True, False, S.RINGING),
    ("the client's phone rings", [call("ringing")], False, True, False, S.RINGING),
    ("an inbound call is offered", [call("ringing", direction="inbound")], False, True, False, S.RINGING),
    ("talking", [call("talking", answered=True)], False, True, False, S.TALKING),
    ("talking without a screen open (a call is a fact)", [call("talking", answered=True)], False, False, False,
     S.TALKING),
    ("a new call while the previous one is not wrapped up", [call("ringing")], True, True, False, S.RINGING),
    ("the last call ended, no wrap-up yet", [], True, True, False, S.WRAPUP),
    ("wrap-up owed with the screen closed", [], True, False, False, S.WRAPUP),
    ("wrap-up saved", [], False, True, False, S.AVAILABLE),
    ("an ended call is not up", [call("ended")], False, True, False, S.AVAILABLE),
    ("talking on one call while another rings", [call("ringing", "L2"), call("talking", "L1", answered=True)],
     False, True, False, S.TALKING),
]


@pytest.mark.parametrize(("calls", "needs_wrapup", "present", "absent", "expected"),
                         [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_board_state(calls: list[dict[str, Any]], needs_wrapup: bool, present: bool, absent: bool,
                     expected: BoardState) -> None:
    assert board_state(calls, needs_wrapup=needs_wrapup, present=present, absent=absent).state is expected


LUNCH = StatusEntry(T0 - timedelta(minutes=20), DeskStatus.PAUSE, "Обед")
# calls up, needs wrap-up, present, absent, pause → state
PAUSE_TABLE: list[tuple[str, list[dict[str, Any]], bool, bool, bool, BoardState]] = [
    ("on a pause, screen open", [], False, True, False, S.PAUSE),
    ("on a pause, screen closed (lunch: the laptop is shut)", [], False, False, False, S.PAUSE),
    ("an inbound call reaches her on a pause", [call("ringing", direction="inbound")], False, True, False, S.RINGING),
    ("talking wins over a pause", [call("talking", answered=True)], False, True, False, S.TALKING),
    ("a wrap-up owed wins over a pause", [], True, True, False, S.WRAPUP),
    ("absent today: away, whatever she declared", [], False, True, True, S.AWAY),
]


@pytest.mark.parametrize(("calls", "needs_wrapup", "present", "absent", "expected"),
                         [row[1:] for row in PAUSE_TABLE], ids=[row[0] for row in PAUSE_TABLE])
def test_board_state_with_a_pause(calls: list[dict[str, Any]], needs_wrapup: bool, present: bool, absent: bool,
                                  expected: BoardState) -> None:
    shown = board_state(calls, needs_wrapup=needs_wrapup, present=present, absent=absent, pause=LUNCH)
    assert shown.state is expected


def test_a_pause_shows_its_reason_and_time_and_a_long_wrapup_turns_amber() -> None:
    paused = board_state([], needs_wrapup=False, present=True, absent=False, pause=LUNCH)
    assert paused.label == "пауза: Обед" and paused.elapsed_s(T0) == 20 * 60
    ended = T0 - timedelta(minutes=6)
    wrapup = board_state([], needs_wrapup=True, present=True, absent=False, wrapup_since=ended)
    assert wrapup.elapsed_s(T0) == 360 and wrapup.overdue(T0, 300) and not wrapup.overdue(T0, 400)
    assert not paused.overdue(T0, 300)  # only a wrap-up is ever amber


@pytest.mark.parametrize(("state", "label"), [
    (S.AVAILABLE, "свободен"), (S.RINGING, "вызов"), (S.TALKING, "разговор"), (S.WRAPUP, "итоги звонка"),
    (S.PAUSE, "пауза"), (S.AWAY, "нет на месте")])
def test_russian_labels(state: BoardState, label: str) -> None:
    assert ExpertBoardState(state).label == label


def test_talking_times_from_the_answer_and_names_the_client() -> None:
    shown = board_state([call("talking", answered=True)], needs_wrapup=False, present=True, absent=False)
    assert shown.since == T0 + timedelta(seconds=8)
    assert shown.elapsed_s(T0 + timedelta(seconds=68)) == 60.0
    assert shown.elapsed_s(T0) == 0.0  # a browser clock behind the PBX's never shows a negative timer
    assert (shown.client, shown.linkedid, shown.direction) == ("ООО «Ромашка»", "L1", "outbound")


def test_an_unnamed_caller_shows_the_number_and_ringing_times_from_its_event() -> None:
    shown = board_state([call("ringing", client_name=None, direction="inbound")], needs_wrapup=False,
                        present=True, absent=False)
    assert shown.client == "79115550101" and shown.since == T0 + timedelta(seconds=5)
    assert board_state([], needs_wrapup=False, present=True, absent=False).elapsed_s(T0) is None


def test_calls_are_grouped_by_extension_and_calls_without_one_are_dropped() -> None:
    grouped = calls_by_extension([call("talking", "a"), call("ringing", "b", ext="102"),
                                  {**call("ringing", "c"), "expert_ext": None}, call("dialling", "d")])
    assert {ext: [c["linkedid"] for c in calls] for ext, calls in grouped.items()} == {"101": ["a", "d"],
                                                                                      "102": ["b"]}


def row(public_id: str, hour: int, state: str, *, productive: bool = False) -> QueueRow:
    return QueueRow(public_id=public_id, slot=datetime(2026, 11, 27, hour, 0, tzinfo=MSK), state=state,
                    client_id="C-1", client_name=None, contact_id=None, contact_name=None, phone=None, reasons=(),
                    topic=None, comment=None, productive=productive)


def unplanned() -> QueueRow:
    return QueueRow(public_id=None, slot=None, state=None, client_id=None, client_name=None, contact_id=None,
                    contact_name=None, phone=None, reasons=(), topic=None, comment=None, linkedid="U1")


def test_progress_and_pacing_at_two_in_the_afternoon() -> None:
    rows = [row("PC-1", 9, "contact_made", productive=True), row("PC-2", 10, "not_reached"),
            row("PC-3", 11, "planned"), row("PC-4", 12, "planned"), row("PC-5", 13, "cancelled"),
            row("PC-6", 13, "planned"), row("PC-7", 15, "planned"), unplanned()]
    now = datetime(2026, 11, 27, 14, 0, 20, tzinfo=MSK)
    shown = day_progress(rows, 15, now, MSK)
    assert shown.text == "2 из 6, результативных 1"  # cancelled is not planned; unplanned is not progress
    assert (shown.pacing.due, shown.pacing.finished, shown.pacing.behind) == (5, 2, 3)
    assert shown.pacing.text == "к 14:00 отстаёт на 3 звонка"
    assert shown.as_json()["behind"] == 3 and shown.as_json()["pacing"] == shown.pacing.text


def test_on_plan_and_a_day_off_showing_the_next_days_plan() -> None:
    rows = [row("PC-1", 9, "contact_made"), row("PC-2", 10, "planned")]
    assert day_progress(rows, 15, datetime(2026, 11, 27, 9, 30, tzinfo=MSK), MSK).pacing.text == "идёт по плану"
    late = datetime(2026, 11, 27, 18, 0, tzinfo=MSK)
    assert day_progress(rows, 15, late, MSK, is_today=False).pacing.behind == 0
