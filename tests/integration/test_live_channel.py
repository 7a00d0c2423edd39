"""The live channel end to end: simulator PBX over TCP → recorder → hub → `GET /live` → an SSE client.

The real app (create_app with the simulator), a real database (SQLite and PostgreSQL), real
sign-in through POST /login, and aiohttp ClientSessions reading the event stream.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from argon2 import PasswordHasher
from sqlalchemy import insert

from dialer.simulator import PbxSimulator, Scenario
from service.app import create_app
from service.appkeys import DB_SESSIONS, PBX, SIMULATOR
from service.db.models import Client, ClientContact, Expert
from service.settings import Settings
from service.web import live as live_web
from service.web.live import LIVE_HUB

PASSWORD = "correct horse battery"
KNOWN_CALLER = "79115550199"
USERS = (  # login, role, extension
    ("maria", "expert", "101"),
    ("anna", "expert", "102"),
    ("nadia", "expert", None),
    ("boss", "supervisor", None),
)


@dataclass
class Stream:
    """One signed-in browser's /live stream, read in the background."""

    session: aiohttp.ClientSession
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def calls(self, linkedid: str | None = None) -> list[dict[str, Any]]:
        return [data for name, data in self.events
                if name == "call" and (linkedid is None or data["linkedid"] == linkedid)]

    def states(self, linkedid: str) -> list[str]:
        return [data["state"] for data in self.calls(linkedid)]


@dataclass
class Desk:
    base: str
    app: web.Application
    sessions: list[aiohttp.ClientSession] = field(default_factory=list)

    @property
    def sim(self) -> PbxSimulator:
        simulator = self.app[SIMULATOR]
        assert simulator is not None
        return simulator

    async def sign_in(self, login: str) -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # cookies for 127.0.0.1
        self.sessions.append(session)
        async with session.get(f"{self.base}/login") as page:
            token = csrf_token(await page.text())
        form = {"login": login, "password": PASSWORD, "_csrf": token}
        async with session.post(f"{self.base}/login", data=form, allow_redirects=False) as answer:
            assert answer.status in (302, 303), f"{login} could not sign in: {answer.status}"
        return session

    async def stream(self, login: str, query: str = "") -> Stream:
        stream = Stream(await self.sign_in(login))
        response = await stream.session.get(f"{self.base}/live{query}", headers={"Accept": "text/event-stream"},
                                            timeout=aiohttp.ClientTimeout(total=None, sock_read=None))
        assert response.status == 200 and response.content_type == "text/event-stream"
        stream.task = asyncio.create_task(read_sse(response, stream))
        await until(lambda: stream.events, what=f"{login}'s snapshot")
        return stream


def csrf_token(html: str) -> str:
    match = re.search(r'<input[^>]*name="_csrf"[^>]*value="([^"]+)"', html) or re.search(
        r'<input[^>]*value="([^"]+)"[^>]*name="_csrf"', html)
    assert match, "no _csrf field on the login page"
    return match.group(1)


async def read_sse(response: aiohttp.ClientResponse, stream: Stream) -> None:
    """The EventSource wire format: `field: value` lines, a blank line ends an event."""
    name = "message"
    data: list[str] = []
    async for raw in response.content:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                stream.events.append((name, json.loads("\n".join(data))))
            name, data = "message", []
        elif line.startswith(":"):
            stream.comments.append(line[1:].strip())
        else:
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "event":
                name = value
            elif key == "data":
                data.append(value)


async def until(probe: Callable[[], object], *, what: str, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not probe():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def add_users_and_a_client(app: web.Application) -> None:
    password_hash = PasswordHasher().hash(PASSWORD)
    async with app[DB_SESSIONS].begin() as session:
        await session.execute(insert(Expert), [
            {"login": login, "full_name": login.title(), "role": role, "extension": ext,
             "password_hash": password_hash, "active": True} for login, role, ext in USERS])
        client_id = await session.scalar(insert(Client).values(external_id="C-1042", name="ООО Ромашка")
                                         .returning(Client.id))
        await session.execute(insert(ClientContact).values(client_id=client_id, full_name="Иван Петров",
                                                           phone_e164=KNOWN_CALLER))


@asynccontextmanager
async def running_desk(db_settings: Settings, tmp_path: Path) -> AsyncIterator[Desk]:
    """The real app on a free port with the simulator PBX connected, the users and a client added."""
    settings = db_settings.model_copy(update={
        "pbx": db_settings.pbx.model_copy(update={"mode": "simulator"}),
        "simulator": db_settings.simulator.model_copy(update={"demo_load": False, "speed": 10.0}),
        "recordings": db_settings.recordings.model_copy(update={"dir": tmp_path / "rec"}),
        "service": db_settings.service.model_copy(update={"secret_key_file": tmp_path / "secret.key"}),
    })
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    await app[PBX].connection.wait_connected(5)
    await add_users_and_a_client(app)
    desk = Desk(f"http://127.0.0.1:{port}", app)
    try:
        yield desk
    finally:
        for session in desk.sessions:
            await session.close()
        await runner.cleanup()


@pytest.fixture
async def desk(db_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Desk]:
    monkeypatch.setattr(live_web, "PING_INTERVAL_S", 0.2)  # a closed browser is noticed quickly
    async with running_desk(db_settings, tmp_path) as desk:
        yield desk


async def test_an_experts_call_reaches_them_in_order_and_not_another_expert(desk: Desk) -> None:
    maria, anna, boss = await desk.stream("maria"), await desk.stream("anna"), await desk.stream("boss")
    assert [name for name, _ in maria.events] == ["snapshot"] and maria.events[0][1]["calls"] == []
    desk.sim.script("79115550101", Scenario.ANSWERED, expert_ring_s=1, ring_s=2, talk_s=3)
    linkedid = await desk.app[PBX].originate("101", "79115550101", planned_call_id="PC-1001",
                                                 client_id="C-1001")
    await until(lambda: "ended" in maria.states(linkedid), what="the end of maria's call")
    assert maria.states(linkedid) == ["dialling", "ringing", "talking", "ended"]
    ended = maria.calls(linkedid)[-1]
    assert ended["expert_ext"] == "101" and ended["direction"] == "outbound"
    assert (ended["client_id"], ended["planned_call_id"], ended["outcome"]) == ("C-1001", "PC-1001", "answered")
    assert ended["talk_s"] > 0 and ended["answered_at"] and ended["ended_at"]
    assert all(isinstance(c["received_at"], float) for c in maria.calls(linkedid))

    desk.sim.start_inbound(KNOWN_CALLER, "Иван", "102", scenario=Scenario.INBOUND_ANSWERED, ring_s=1, talk_s=2)
    await until(lambda: any(c["state"] == "ended" for c in anna.calls()), what="the end of anna's call")
    inbound = anna.calls()
    assert [c["state"] for c in inbound] == ["ringing", "talking", "ended"]
    assert [(c["client_id"], c["client_name"]) for c in inbound] == [("C-1042", "ООО Ромашка")] * 3
    assert inbound[0]["direction"] == "inbound" and inbound[0]["client_number"] == KNOWN_CALLER

    await until(lambda: len(boss.calls()) == 7, what="the supervisor's seven events")
    assert {c["linkedid"] for c in maria.calls()} == {linkedid}  # nothing of anna's
    assert {c["linkedid"] for c in anna.calls()} == {inbound[0]["linkedid"]}
    assert boss.states(linkedid) == maria.states(linkedid)


async def test_a_page_opened_mid_call_starts_from_the_snapshot(desk: Desk) -> None:
    # Ten minutes of talk at the simulator's ×10 (a minute): four sign-ins under the suite's load took longer
    # than the 6 s a 60 s talk lasted, and the supervisor's snapshot came after the call had ended.
    desk.sim.script("79115550102", Scenario.ANSWERED, expert_ring_s=1, ring_s=1, talk_s=600)
    linkedid = await desk.app[PBX].originate("101", "79115550102")
    hub = desk.app[LIVE_HUB]
    await until(lambda: any(c["state"] == "talking" for c in hub.snapshot("101")["calls"]), what="talking")
    maria, anna = await desk.stream("maria"), await desk.stream("anna")
    [(name, snapshot)] = maria.events
    assert name == "snapshot"
    assert [(c["linkedid"], c["state"]) for c in snapshot["calls"]] == [(linkedid, "talking")]
    assert anna.events == [("snapshot", {"calls": [], "pbx": anna.events[0][1]["pbx"], "at": anna.events[0][1]["at"]})]
    assert anna.events[0][1]["pbx"]["status"] == "connected"  # the PBX link's state comes with it
    boss_of_101 = await desk.stream("boss", "?expert=101")
    assert [c["linkedid"] for c in boss_of_101.events[0][1]["calls"]] == [linkedid]
    boss_of_102 = await desk.stream("boss", "?expert=102")
    assert boss_of_102.events[0][1]["calls"] == []


async def test_an_expert_without_an_extension_gets_an_explained_empty_stream(desk: Desk) -> None:
    nadia = await desk.stream("nadia")
    desk.sim.start_inbound("79115550177", "Кто-то", "101", scenario=Scenario.INBOUND_MISSED, ring_s=1)
    await desk.sim.wait_idle(10)
    await asyncio.sleep(0.3)
    assert nadia.events[0][1]["calls"] == [] and nadia.calls() == []
    assert any("no extension" in comment for comment in nadia.comments)


async def test_a_closed_browser_is_unsubscribed_and_strangers_are_refused(desk: Desk) -> None:
    hub = desk.app[LIVE_HUB]
    maria = await desk.stream("maria")
    assert hub.subscriber_count == 1
    assert maria.task is not None
    maria.task.cancel()
    await maria.session.close()
    await until(lambda: hub.subscriber_count == 0, what="the hub to forget the closed stream", timeout=5)
    async with aiohttp.ClientSession() as stranger:
        async with stranger.get(f"{desk.base}/live", headers={"Accept": "text/event-stream"}) as answer:
            assert answer.status == 401
