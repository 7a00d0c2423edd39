"""The live board over HTTP on SQLite and PostgreSQL: access, the first state, wrap-up status, listen-in errors.

The simulator-backed flows (a listen-in reaching the PBX, states changing live) are in
tests/integration/test_board_listen.py and tests/browser/test_board.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import insert

from service.app import create_app
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.models import Expert, ExpertAbsence
from service.db.plan import PlanRepository
from service.passwords import use_hasher
from service.settings import Settings
from service.web.board import NO_OWN_EXTENSION, NO_PBX, UNKNOWN_MODE
from service.web.live import LIVE_HUB
from tests.service.builders import closed_call
from tests.service.planning import at, item, plan
from tests.service.web_helpers import (
    HTML_ACCEPT,
    JSON_ACCEPT,
    add_user,
    csrf_header,
    seed_signed_in_portfolio,
    sign_in,
    use_cheap_hashes,
)


@dataclass
class Board:
    settings: Settings
    sessions: SessionMaker


@pytest.fixture
async def board(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path) -> AsyncIterator[Board]:
    """ivanova (101, K-1..K-3 planned) and petrov (102, K-6); smirnova supervises without an extension."""
    previous = use_cheap_hashes()
    settings, day = await seed_signed_in_portfolio(db_sessions, migrated_db, tmp_path / "rec")
    await PlanRepository(db_sessions).save_plan(plan(
        day, item("K-1", "C-1", at(day, 9, 30)), item("K-2", "C-1", at(day, 10, 0)),
        item("K-3", "C-2", at(day, 11, 0)), item("K-6", "C-4", at(day, 9, 0), expert="petrov")))
    yield Board(settings, db_sessions)
    use_hasher(previous)


async def client_for(aiohttp_client: Any, board: Board, login: str) -> tuple[TestClient, str]:
    client = await aiohttp_client(create_app(board.settings, with_pbx=False))
    return client, await sign_in(client, login)


def cards(html: str) -> dict[str, str]:
    """login → the card's state, from the server-rendered page."""
    return dict(re.findall(r'data-login="([^"]+)"\s+data-ext="[^"]*" data-state="([^"]+)"', html))


async def test_an_expert_gets_403_on_every_board_route(aiohttp_client: Any, board: Board) -> None:
    client, token = await client_for(aiohttp_client, board, "ivanova")
    page = await client.get("/board", headers=HTML_ACCEPT)
    assert page.status == 403 and "Нет доступа" in await page.text()
    state = await client.get("/board/state", headers=JSON_ACCEPT)
    assert state.status == 403 and "Нет доступа" in (await state.json())["error"]
    listen = await client.post("/board/listen", data={"expert": "102", "mode": "listen"},
                               headers={**csrf_header(token), **JSON_ACCEPT})
    assert listen.status == 403
    assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/desk"


async def test_a_supervisor_lands_on_the_board_with_every_expert_away_until_their_screen_opens(
        aiohttp_client: Any, board: Board) -> None:
    client, _ = await client_for(aiohttp_client, board, "smirnova")
    assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/board"
    response = await client.get("/board", headers=HTML_ACCEPT)
    html = await response.text()
    assert response.status == 200
    assert cards(html) == {"ivanova": "away", "petrov": "away"}  # the supervisor has no card
    assert "нет на месте" in html and "0 из 3, результативных 0" in html and "0 из 1, результативных 0" in html
    assert 'data-testid="no-extension"' in html  # she cannot listen in: the page says so up front
    hub = client.app[LIVE_HUB]
    hub.subscribe("101")  # ivanova's screen opens
    state = await (await client.get("/board/state?ext=101", headers=JSON_ACCEPT)).json()
    [ivanova] = state["experts"]
    assert (ivanova["login"], ivanova["state"], ivanova["label"], ivanova["present"]) == (
        "ivanova", "available", "свободен", True)
    assert ivanova["progress"]["text"] == "0 из 3, результативных 0"


async def test_an_absent_expert_is_away_even_with_a_screen_open(aiohttp_client: Any, board: Board) -> None:
    today = datetime.now(board.settings.organisation.tz).date()
    async with board.sessions.begin() as session:
        petrov = (await session.execute(Expert.__table__.select().where(Expert.login == "petrov"))).one()
        await session.execute(insert(ExpertAbsence).values(expert_id=petrov.id, from_date=today, to_date=today))
    client, _ = await client_for(aiohttp_client, board, "smirnova")
    client.app[LIVE_HUB].subscribe("102")
    [shown] = (await (await client.get("/board/state?ext=102", headers=JSON_ACCEPT)).json())["experts"]
    assert (shown["state"], shown["absent"], shown["present"]) == ("away", True, True)


async def test_an_ended_call_without_a_wrapup_is_wrapup_until_the_expert_saves_it(aiohttp_client: Any,
                                                                                 board: Board) -> None:
    start = datetime.now(UTC) - timedelta(minutes=3)
    await LedgerRepository(board.sessions).upsert_calls([closed_call(
        "L-9", expert_ext="101", started_at=start, ringing_at=None, answered_at=start + timedelta(seconds=5),
        ended_at=start + timedelta(seconds=65), client_number="79115550001")])
    supervisor, _ = await client_for(aiohttp_client, board, "smirnova")
    state = await (await supervisor.get("/board/state?ext=101&linkedid=L-9", headers=JSON_ACCEPT)).json()
    assert [(e["state"], e["needs_wrapup"]) for e in state["experts"]] == [("wrapup", True)]
    html = await (await supervisor.get("/board", headers=HTML_ACCEPT)).text()
    assert cards(html)["ivanova"] == "wrapup" and "итоги звонка" in html

    expert, token = await client_for(aiohttp_client, board, "ivanova")
    stream = expert.app[LIVE_HUB].subscribe(None)  # what a board served by the same app hears
    saved = await expert.post("/calls/L-9/wrapup", data={"_csrf": token, "result": "not_reached"},
                              headers=JSON_ACCEPT)
    assert saved.status == 200, await saved.text()
    event = stream.get_nowait()
    assert event is not None and event.name == "wrapup"
    assert json.loads(event.data) == {"expert_ext": "101", "linkedid": "L-9"}
    state = await (await supervisor.get("/board/state?ext=101", headers=JSON_ACCEPT)).json()
    assert [(e["state"], e["needs_wrapup"]) for e in state["experts"]] == [("away", False)]


async def test_a_refused_wrapup_is_not_announced(aiohttp_client: Any, board: Board) -> None:
    start = datetime.now(UTC) - timedelta(minutes=3)
    await LedgerRepository(board.sessions).upsert_calls([closed_call(
        "L-10", expert_ext="102", started_at=start, ringing_at=None, ended_at=start + timedelta(seconds=65))])
    stranger, token = await client_for(aiohttp_client, board, "ivanova")
    stream = stranger.app[LIVE_HUB].subscribe(None)
    response = await stranger.post("/calls/L-10/wrapup", data={"_csrf": token, "result": "not_reached"},
                                   headers=JSON_ACCEPT)
    assert response.status == 403  # petrov's call
    assert stream.get_nowait() is None


async def test_listen_in_explains_what_is_missing(aiohttp_client: Any, board: Board) -> None:
    client, token = await client_for(aiohttp_client, board, "smirnova")
    headers = {**csrf_header(token), **JSON_ACCEPT}
    response = await client.post("/board/listen", data={"expert": "101", "mode": "listen"}, headers=headers)
    assert response.status == 400 and (await response.json())["error"] == NO_OWN_EXTENSION
    response = await client.post("/board/listen", data={"expert": "101", "mode": "shout"}, headers=headers)
    assert response.status == 400 and (await response.json())["error"] == UNKNOWN_MODE
    no_token = await client.post("/board/listen", data={"expert": "101", "mode": "listen"}, headers=JSON_ACCEPT)
    assert no_token.status == 403  # CSRF

    await add_user(board.settings, "boss", role="supervisor", extension="201")
    boss, boss_token = await client_for(aiohttp_client, board, "boss")
    headers = {**csrf_header(boss_token), **JSON_ACCEPT}
    response = await boss.post("/board/listen", json={"expert": "109", "mode": "listen"}, headers=headers)
    assert response.status == 404 and "109" in (await response.json())["error"]
    response = await boss.post("/board/listen", json={"expert": "101", "mode": "whisper"}, headers=headers)
    assert response.status == 503 and (await response.json())["error"] == NO_PBX  # with_pbx=False
    response = await boss.post("/board/listen", data="{not json",
                               headers={**headers, "Content-Type": "application/json"})
    assert response.status == 400 and (await response.json())["error"] == "Неверный запрос"
    response = await boss.post("/board/listen", json={"expert": "", "mode": "listen"}, headers=headers)
    assert response.status == 400 and "Эксперт" in (await response.json())["error"]


async def test_a_pause_reaches_the_board_with_its_reason_and_ready_ends_it(aiohttp_client: Any, board: Board) -> None:
    supervisor, _ = await client_for(aiohttp_client, board, "smirnova")
    expert, token = await client_for(aiohttp_client, board, "ivanova")
    supervisor.app[LIVE_HUB].subscribe("101")  # ivanova's screen is open (as the board's app sees it)
    stream = expert.app[LIVE_HUB].subscribe(None)  # a board served by the same app
    paused = await expert.post("/desk/status", data={"status": "pause", "reason": "Обед"},
                               headers={**csrf_header(token), **JSON_ACCEPT})
    assert paused.status == 200, await paused.text()
    assert (await paused.json())["label"] == "Пауза: Обед"
    event = stream.get_nowait()
    assert event is not None and event.name == "status"
    assert {k: json.loads(event.data)[k] for k in ("expert_ext", "status", "reason")} == {
        "expert_ext": "101", "status": "pause", "reason": "Обед"}

    [shown] = (await (await supervisor.get("/board/state?ext=101", headers=JSON_ACCEPT)).json())["experts"]
    assert (shown["state"], shown["label"], shown["pause"]["reason"]) == ("pause", "пауза: Обед", "Обед")
    assert 0 <= shown["elapsed_s"] < 60
    html = await (await supervisor.get("/board", headers=HTML_ACCEPT)).text()
    assert cards(html)["ivanova"] == "pause" and "пауза: Обед" in html

    ready = await expert.post("/desk/status", data={"status": "ready"}, headers={**csrf_header(token), **JSON_ACCEPT})
    assert ready.status == 200 and (await ready.json())["label"] == "Готов"
    [shown] = (await (await supervisor.get("/board/state?ext=101", headers=JSON_ACCEPT)).json())["experts"]
    assert shown["state"] == "available" and shown["pause"] is None


async def test_a_pause_reason_not_in_config_is_refused_and_only_experts_have_a_status(aiohttp_client: Any,
                                                                                     board: Board) -> None:
    expert, token = await client_for(aiohttp_client, board, "ivanova")
    headers = {**csrf_header(token), **JSON_ACCEPT}
    refused = await expert.post("/desk/status", data={"status": "pause", "reason": "Сон%_"}, headers=headers)
    assert refused.status == 400 and "Нет такой причины паузы" in (await refused.json())["error"]
    unknown = await expert.post("/desk/status", data={"status": "lunch"}, headers=headers)
    assert unknown.status == 400 and "Неизвестный статус" in (await unknown.json())["error"]
    no_csrf = await expert.post("/desk/status", data={"status": "ready"}, headers=JSON_ACCEPT)
    assert no_csrf.status == 403
    supervisor, token = await client_for(aiohttp_client, board, "smirnova")
    denied = await supervisor.post("/desk/status", data={"status": "ready"},
                                   headers={**csrf_header(token), **JSON_ACCEPT})
    assert denied.status == 403


async def test_signing_out_ends_a_pause(aiohttp_client: Any, board: Board) -> None:
    expert, token = await client_for(aiohttp_client, board, "ivanova")
    await expert.post("/desk/status", data={"status": "pause", "reason": "Совещание"},
                      headers={**csrf_header(token), **JSON_ACCEPT})
    await expert.post("/logout", data={"_csrf": token}, allow_redirects=False)
    supervisor, _ = await client_for(aiohttp_client, board, "smirnova")
    [shown] = (await (await supervisor.get("/board/state?ext=101", headers=JSON_ACCEPT)).json())["experts"]
    assert shown["state"] == "away" and shown["pause"] is None


async def test_a_long_wrapup_is_overdue_on_the_board(aiohttp_client: Any, board: Board) -> None:
    start = datetime.now(UTC) - timedelta(minutes=10)
    await LedgerRepository(board.sessions).upsert_calls([closed_call(
        "L-11", expert_ext="101", started_at=start, ringing_at=None, answered_at=start + timedelta(seconds=5),
        ended_at=start + timedelta(seconds=65), client_number="79115550001")])
    supervisor, _ = await client_for(aiohttp_client, board, "smirnova")
    [shown] = (await (await supervisor.get("/board/state?ext=101", headers=JSON_ACCEPT)).json())["experts"]
    assert shown["state"] == "wrapup" and shown["overdue"] is True and shown["elapsed_s"] > 8 * 60
    html = await (await supervisor.get("/board", headers=HTML_ACCEPT)).text()
    assert re.search(r'class="board-card state-wrapup overdue"[^>]*data-login="ivanova"', html)
