"""The board's card (issue 14): whom a wrap-up is for, a pause taken with a wrap-up owed, no plan today.

The rules in service/web/board.py as tables (pure), then over HTTP on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from service.app import create_app
from service.board import (
    BoardState,
    DayProgress,
    ExpertBoardState,
    day_progress,
    no_plan_text,
    paused_after,
    wrapup_client,
)
from service.db.engine import SessionMaker
from service.db.expert_status import ExpertStatusRepository
from service.db.experts import ExpertProfile
from service.db.ledger import LedgerRepository
from service.db.models import Expert
from service.db.plan import PlanRepository
from service.desk.queue import QueueRow
from service.desk.status import DeskStatus, StatusEntry
from service.figures.model import Pacing
from service.passwords import use_hasher
from service.settings import Settings
from service.web.board import BoardCard
from tests.service.builders import closed_call
from tests.service.planning import at, item, plan
from tests.service.web_helpers import (
    HTML_ACCEPT,
    JSON_ACCEPT,
    add_user,
    seed_signed_in_portfolio,
    sign_in,
    use_cheap_hashes,
)

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# ---- pure ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("pause_at", "ended_at", "paused"), [
    (None, T, False),  # no pause: the wrap-up shows
    (T + timedelta(minutes=2), T, True),  # lunch after the call: the pause shows, the wrap-up noted
    (T, T, True),
    (T - timedelta(minutes=10), T, False),  # on a pause, an inbound call reached her: its wrap-up is her work
    (T, None, False),  # nothing owed
])
def test_a_pause_declared_after_the_owed_call_ended_shows_instead_of_the_wrapup(
        pause_at: datetime | None, ended_at: datetime | None, paused: bool) -> None:
    pause = None if pause_at is None else StatusEntry(pause_at, DeskStatus.PAUSE, "Обед")
    assert paused_after(pause, ended_at) is paused


def _row(linkedid: str | None, client: str | None, contact: str | None, phone: str | None) -> QueueRow:
    return QueueRow("PC-1" if contact else None, None, None, None, client, None, contact, phone, (), None, None,
                    linkedid=linkedid)


@pytest.mark.parametrize(("rows", "shown"), [
    ([_row("L-1", "ООО «Ромашка»", "Ольга", "+79115550001")], "ООО «Ромашка» · Ольга"),
    ([_row("L-0", "АО «Вектор»", "Ирина", None), _row("L-1", "ООО «Ромашка»", None, "+79115550001")],
     "ООО «Ромашка»"),  # an unplanned call of a known client: no contact
    ([_row("L-1", None, None, "+79115550001")], "+79115550001"),  # an unknown number
    ([_row("L-2", "ООО «Ромашка»", "Ольга", None)], None),  # not in the day's queue
])
def test_the_wrapup_names_its_client_and_contact_from_the_queue(rows: list[QueueRow], shown: str | None) -> None:
    assert wrapup_client(rows, "L-1") == shown


def _card(planned: int, finished: int, behind: int, *, state: BoardState = BoardState.AVAILABLE,
          wrapup_since: datetime | None = None) -> BoardCard:
    expert = ExpertProfile(1, "maria", "Орлова Мария", "101", None)
    pacing = Pacing(finished + behind, finished, "идёт по плану" if behind <= 0 else f"к 11:00 отстаёт на {behind}")
    progress = DayProgress(f"{finished} из {planned}, результативных 0", planned, finished, 0, pacing)
    return BoardCard(expert, ExpertBoardState(state), progress, True, False, wrapup_since is not None, wrapup_since,
                     None)


def test_no_plan_today_says_so_and_gives_no_pace() -> None:
    empty = day_progress([], 16, T, ZoneInfo("Europe/Moscow"))
    assert (empty.text, empty.pacing_text) == ("плана на сегодня нет", "")
    shown = empty.as_json()
    assert (shown["text"], shown["pacing"]) == ("плана на сегодня нет", "")
    next_day = day_progress([], 16, T, ZoneInfo("Europe/Moscow"), is_today=False, day=date(2026, 3, 9))
    assert next_day.text == "плана на 09.03.2026 нет"
    busy = _card(16, 3, 1)
    assert (busy.progress.text, busy.progress.pacing_text) == ("3 из 16, результативных 0", "к 11:00 отстаёт на 1")
    assert no_plan_text(None) == "плана на сегодня нет"
    assert no_plan_text(date(2026, 3, 9)) == "плана на 09.03.2026 нет"


def test_a_wrapup_owed_on_a_pause_still_turns_amber_past_the_warning() -> None:
    paused = _card(1, 0, 0, state=BoardState.PAUSE, wrapup_since=T)
    assert paused.wrapup_owed_on_pause
    assert not paused.overdue(T + timedelta(seconds=300), 300)
    assert paused.overdue(T + timedelta(seconds=301), 300)
    assert not _card(1, 0, 0, state=BoardState.PAUSE).overdue(T + timedelta(hours=1), 300)  # nothing owed


# ---- over HTTP ----------------------------------------------------------------------------------------
@dataclass
class Board:
    settings: Settings
    sessions: SessionMaker
    today: date


@pytest.fixture
async def board(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path) -> AsyncIterator[Board]:
    """ivanova (101) has K-1 (ООО «Ромашка», Ольга) planned today; today is a working day whatever the date."""
    previous = use_cheap_hashes()
    settings, _ = await seed_signed_in_portfolio(db_sessions, migrated_db, tmp_path / "rec")
    today = datetime.now(settings.organisation.tz).date()
    settings = settings.model_copy(update={"plan": settings.plan.model_copy(update={"extra_working_days": (today,)})})
    await PlanRepository(db_sessions).save_plan(plan(today, item("K-1", "C-1", at(today, 9, 30))))
    yield Board(settings, db_sessions, today)
    use_hasher(previous)


async def supervisor(aiohttp_client: Any, board: Board) -> TestClient:
    client = await aiohttp_client(create_app(board.settings, with_pbx=False))
    await sign_in(client, "smirnova")
    return client


async def owed_call(board: Board, ended_ago: timedelta) -> datetime:
    """ivanova's call on K-1, ended `ended_ago` and not wrapped up; when it ended."""
    [k1] = await PlanRepository(board.sessions).list_plan(board.today, "ivanova")
    ended = datetime.now(UTC) - ended_ago
    start = ended - timedelta(seconds=65)
    await LedgerRepository(board.sessions).upsert_calls([closed_call(
        "L-14", expert_ext="101", started_at=start, ringing_at=None, answered_at=start + timedelta(seconds=5),
        ended_at=ended, client_number="79115550001", planned_call_id=k1.public_id)])
    return ended


async def ivanova_pauses(board: Board, at_: datetime) -> None:
    async with board.sessions() as session:
        expert_id = (await session.execute(select(Expert.id).where(Expert.login == "ivanova"))).scalar_one()
    await ExpertStatusRepository(board.sessions).add(expert_id, DeskStatus.PAUSE, "Обед", at_)


async def card_of(client: TestClient, ext: str) -> tuple[dict[str, Any], str]:
    [shown] = (await (await client.get(f"/board/state?ext={ext}", headers=JSON_ACCEPT)).json())["experts"]
    html = await (await client.get("/board", headers=HTML_ACCEPT)).text()
    card = re.search(rf'<article[^>]*data-ext="{ext}".*?</article>', html, re.S)
    assert card is not None, html
    return shown, card.group(0)


async def test_a_card_in_wrapup_names_the_client_and_contact(aiohttp_client: Any, board: Board) -> None:
    await owed_call(board, timedelta(minutes=1))
    shown, card = await card_of(await supervisor(aiohttp_client, board), "101")
    assert (shown["state"], shown["client"], shown["wrapup_client"]) == (
        "wrapup", "ООО «Ромашка» · Ольга", "ООО «Ромашка» · Ольга")
    assert 'data-testid="client">ООО «Ромашка» · Ольга</div>' in card


async def test_a_pause_after_the_call_shows_the_pause_with_the_wrapup_owed(aiohttp_client: Any,
                                                                          board: Board) -> None:
    ended = await owed_call(board, timedelta(minutes=6))  # past desk.wrapup_warn_s (300 s)
    await ivanova_pauses(board, ended + timedelta(seconds=30))
    shown, card = await card_of(await supervisor(aiohttp_client, board), "101")
    assert (shown["state"], shown["label"], shown["needs_wrapup"], shown["overdue"]) == (
        "pause", "пауза: Обед", True, True)
    assert "state-pause overdue" in card
    owed = card.split('data-testid="wrapup-owed"', 1)[1].split("</div>", 1)[0]
    assert not owed.lstrip().startswith("hidden") and "итоги звонка не сохранены: ООО «Ромашка» · Ольга" in owed


async def test_a_pause_from_before_the_call_leaves_the_wrapup_showing(aiohttp_client: Any, board: Board) -> None:
    ended = await owed_call(board, timedelta(minutes=1))
    await ivanova_pauses(board, ended - timedelta(minutes=5))  # an inbound call reached her on the pause
    shown, card = await card_of(await supervisor(aiohttp_client, board), "101")
    assert (shown["state"], shown["overdue"]) == ("wrapup", False)
    assert 'data-testid="wrapup-owed" hidden' in card


async def test_an_expert_with_no_plan_today_has_no_pace_verdict(aiohttp_client: Any, board: Board) -> None:
    await add_user(board.settings, "nina", extension="105", full_name="Нина Без Плана")
    shown, card = await card_of(await supervisor(aiohttp_client, board), "105")
    assert (shown["progress"]["text"], shown["progress"]["pacing"]) == ("плана на сегодня нет", "")
    assert 'data-testid="card-progress">плана на сегодня нет<' in card
    assert "идёт по плану" not in card and "0 из 0" not in card
    planned, _ = await card_of(await supervisor(aiohttp_client, board), "101")
    assert planned["progress"]["text"].endswith("из 1, результативных 0")  # a plan: the usual line
