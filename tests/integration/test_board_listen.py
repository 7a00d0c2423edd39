"""Listening in end to end: POST /board/listen → Pbx.listen_in → the simulator PBX over TCP → ChanSpy.

The real app (create_app with the simulator), a real database (SQLite and PostgreSQL), real sign-in.
The supervisor's ChanSpy call is not a call of the ledger's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from dialer.simulator import Scenario
from service.appkeys import DB_SESSIONS, PBX, SETTINGS
from service.db.models import Call
from service.settings import Settings
from service.web import live as live_web
from service.web.live import LIVE_HUB
from tests.integration.test_live_channel import (
    PASSWORD,
    Desk,
    running_desk,
    until,
)
from tests.service.web_helpers import add_user


@pytest.fixture
async def desk(db_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Desk]:
    """maria (101), anna (102), olga the supervisor on her own phone (201); the simulator PBX."""
    monkeypatch.setattr(live_web, "PING_INTERVAL_S", 0.2)
    async with running_desk(db_settings, tmp_path) as desk:
        await add_user(desk.app[SETTINGS], "olga", role="supervisor", extension="201", password=PASSWORD)
        yield desk


async def csrf_of(desk: Desk, session: aiohttp.ClientSession) -> str:
    async with session.get(f"{desk.base}/session") as answer:
        token: str = (await answer.json())["csrf_token"]
    return token


async def listen(desk: Desk, session: aiohttp.ClientSession, ext: str, mode: str) -> tuple[int, dict[str, str]]:
    headers = {"X-CSRF-Token": await csrf_of(desk, session), "Accept": "application/json"}
    async with session.post(f"{desk.base}/board/listen", data={"expert": ext, "mode": mode},
                            headers=headers) as answer:
        return answer.status, await answer.json()


async def ledger_calls(desk: Desk) -> list[tuple[str | None, str | None]]:
    async with desk.app[DB_SESSIONS]() as session:
        return [(ext, outcome) for ext, outcome in await session.execute(select(Call.expert_ext, Call.outcome))]


async def test_a_supervisor_listens_silently_to_an_expert_in_a_call(desk: Desk) -> None:
    olga = await desk.sign_in("olga")
    hub = desk.app[LIVE_HUB]
    assert await listen(desk, olga, "101", "listen") == (
        409, {"error": "Maria сейчас не разговаривает: слушать нечего"})
    desk.sim.start_outbound("101", "79115550101", scenario=Scenario.ANSWERED, ring_s=1, talk_s=40)
    await until(lambda: any(c["state"] == "talking" for c in hub.snapshot("101")["calls"]), what="maria talking")

    status, answer = await listen(desk, olga, "101", "listen")
    assert status == 200 and "доб. 201" in answer["message"] and "Maria" in answer["message"]
    await until(lambda: desk.sim.chanspy_log, what="the ChanSpy Originate")
    [spy] = desk.sim.chanspy_log
    assert spy.channel == "Local/201@ds-agents"  # the supervisor's own phone rings
    assert spy.target == "Local/101@ds-agents"  # the Expert's channel
    assert "q" in spy.options and not set("wB") & set(spy.options)  # silent: no beep, no talking
    assert await listen(desk, olga, "102", "listen") == (
        409, {"error": "Anna сейчас не разговаривает: слушать нечего"})

    await desk.sim.wait_idle(20)
    await until(lambda: not desk.app[PBX].open_calls(), what="the tracker to close every call")
    await until(lambda: not desk.app[PBX].stats().pending_writes, what="the ledger writes")
    await asyncio.sleep(0.5)  # anything the spy session might have left would be written by now
    assert await ledger_calls(desk) == [("101", "answered")]  # the ChanSpy call is no call


async def test_whisper_and_barge_send_their_options(desk: Desk) -> None:
    olga = await desk.sign_in("olga")
    desk.sim.start_outbound("102", "79115550102", scenario=Scenario.ANSWERED, ring_s=1, talk_s=40)
    hub = desk.app[LIVE_HUB]
    await until(lambda: any(c["state"] == "talking" for c in hub.snapshot("102")["calls"]), what="anna talking")
    assert (await listen(desk, olga, "102", "whisper"))[0] == 200
    assert (await listen(desk, olga, "102", "barge"))[0] == 200
    await until(lambda: len(desk.sim.chanspy_log) == 2, what="two ChanSpy Originates")
    assert [(r.target, r.options) for r in desk.sim.chanspy_log] == [
        ("Local/102@ds-agents", "qwE"), ("Local/102@ds-agents", "qBE")]


async def test_listen_in_with_the_pbx_down_says_so(desk: Desk) -> None:
    olga = await desk.sign_in("olga")
    desk.sim.start_outbound("101", "79115550101", scenario=Scenario.ANSWERED, ring_s=1, talk_s=600)
    hub = desk.app[LIVE_HUB]
    await until(lambda: any(c["state"] == "talking" for c in hub.snapshot("101")["calls"]), what="maria talking")
    await desk.app[PBX].connection.close()  # the AMI link is gone; the tracker still has the call up
    status, answer = await listen(desk, olga, "101", "listen")
    assert status == 503 and answer["error"] == "Нет связи с АТС — прослушивание не началось, попробуйте ещё раз"
    assert desk.sim.chanspy_log == []

