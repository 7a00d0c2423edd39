"""The PBX's troubles reach the people they concern: over real TCP, the real app, a real database.

- A click-to-call the PBX accepted and then failed: the Expert's own stream says why, in Russian
  (`originate_failed`), nobody else's; the same for a supervisor's listen-in from a phone the PBX
  does not know.
- The AMI link: `/healthz` (status `degraded`, `ami.status`, `ami.since`) with a wrong secret, a port
  nobody listens on, and connected; the `pbx` live event when the link drops and comes back; a
  click while the PBX refuses the login says so, not «АТС не ответила».
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import insert, select, update

from dialer.simulator import PbxSimulator, Scenario, SimulatorConfig
from service.app import create_app
from service.appkeys import DB_SESSIONS, SETTINGS
from service.db.models import Client, ClientContact, Expert
from service.settings import Settings
from service.web import live as live_web
from tests.integration.test_board_listen import csrf_of, listen
from tests.integration.test_live_channel import Desk, Stream, add_users_and_a_client, running_desk, until
from tests.service.web_helpers import add_user

MARIAS_CLIENT_PHONE = "79115550177"


@pytest.fixture
async def desk(db_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Desk]:
    """maria (101) with a client of her own (contact K-77), anna (102), olga supervising from 201."""
    monkeypatch.setattr(live_web, "PING_INTERVAL_S", 0.2)
    async with running_desk(db_settings, tmp_path) as desk:
        await add_user(desk.app[SETTINGS], "olga", role="supervisor", extension="201", password="correct horse battery")
        async with desk.app[DB_SESSIONS].begin() as session:
            maria = await session.scalar(select(Expert.id).where(Expert.login == "maria"))
            client = await session.scalar(insert(Client).values(external_id="C-77", name="ООО «Маяк»",
                                                                expert_id=maria).returning(Client.id))
            await session.execute(insert(ClientContact).values(client_id=client, external_id="K-77",
                                                               full_name="Лидия", phone_e164=MARIAS_CLIENT_PHONE))
        yield desk


async def click_to_call(desk: Desk, session: aiohttp.ClientSession, contact: str) -> tuple[int, dict[str, Any]]:
    headers = {"X-CSRF-Token": await csrf_of(desk, session), "Accept": "application/json"}
    # Confirmed in advance: the test may run outside the client's hours (issue 14's guard asks then).
    data = {"contact": contact, "confirm_outside_hours": "1"}
    async with session.post(f"{desk.base}/calls", data=data, headers=headers) as answer:
        return answer.status, await answer.json()


def failures(events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [data for name, data in events if name == "originate_failed"]


def pbx_events(stream: Stream) -> list[dict[str, Any]]:
    return [data for name, data in stream.events if name == "pbx"]


async def test_the_experts_phone_not_answering_is_told_to_her_in_russian(desk: Desk) -> None:
    maria, anna, boss = await desk.stream("maria"), await desk.stream("anna"), await desk.stream("boss")
    desk.sim.script(MARIAS_CLIENT_PHONE, Scenario.EXPERT_NO_ANSWER, expert_ring_s=2)
    status, answer = await click_to_call(desk, maria.session, "K-77")
    assert status == 200  # the PBX queued it: nothing is known yet
    await until(lambda: failures(maria.events), what="maria to hear why")
    [failure] = failures(maria.events)
    assert failure["text"] == "Звонок не начат: телефон доб. 101 звонил, но трубку не сняли"
    assert (failure["kind"], failure["reason"], failure["linkedid"], failure["ext"]) == (
        "call", 3, answer["linkedid"], "101")
    await until(lambda: "ended" in maria.states(answer["linkedid"]), what="the call record's end")
    assert failures(anna.events) == [] and failures(boss.events) == []  # hers alone


async def test_a_phone_the_pbx_does_not_know_fails_with_its_reason(desk: Desk) -> None:
    maria = await desk.stream("maria")
    desk.sim.unknown_extensions.add("101")
    status, _ = await click_to_call(desk, maria.session, "K-77")
    assert status == 200
    await until(lambda: failures(maria.events), what="maria to hear why")
    assert failures(maria.events)[0]["text"] == (
        "Звонок не начат: АТС не смогла вызвать телефон доб. 101: такого номера нет в её плане набора "
        "или телефон не подключён")


async def test_a_listen_in_from_an_unknown_phone_is_told_to_the_supervisor(desk: Desk) -> None:
    olga, boss = await desk.stream("olga"), await desk.stream("boss")
    desk.sim.unknown_extensions.add("201")
    desk.sim.start_outbound("101", "79115550101", scenario=Scenario.ANSWERED, ring_s=1, talk_s=60)
    await until(lambda: any(c["state"] == "talking" for c in olga.calls()), what="maria talking")
    status, answer = await listen(desk, olga.session, "101", "listen")
    assert status == 200 and "Звоним на ваш телефон" in answer["message"]
    await until(lambda: failures(olga.events), what="olga to hear why")
    [failure] = failures(olga.events)
    assert failure["kind"] == "spy" and failure["reason"] == 0 and failure["target"] == "101"
    assert failure["text"].startswith("Прослушивание не началось: АТС не смогла вызвать телефон доб. 201")
    assert failures(boss.events) == [] and desk.sim.chanspy_log == []


# ---- the AMI link -------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def asterisk_desk(db_settings: Settings, tmp_path: Path, port: int,
                        secret: str = "dsdesk") -> AsyncIterator[Desk]:
    """The app in `asterisk` mode, its AMI at 127.0.0.1:`port` (a simulator of the test's, or nothing)."""
    settings = db_settings.model_copy(update={
        "pbx": db_settings.pbx.model_copy(update={"mode": "asterisk"}),
        "ami": db_settings.ami.model_copy(update={
            "port": port, "username": "dsdesk", "secret": SecretStr(secret),
            "originate_channel": "Local/{ext}@ds-agents",
            "reconnect": db_settings.ami.reconnect.model_copy(update={"min_s": 0.05, "max_s": 0.2})}),
        "recordings": db_settings.recordings.model_copy(update={"dir": tmp_path / "rec"}),
        "service": db_settings.service.model_copy(update={"secret_key_file": tmp_path / "secret.key"}),
    })
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    await add_users_and_a_client(app)
    desk = Desk(f"http://127.0.0.1:{runner.addresses[0][1]}", app)
    try:
        yield desk
    finally:
        for session in desk.sessions:
            await session.close()
        await runner.cleanup()


async def health(desk: Desk) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{desk.base}/healthz") as answer:
        assert answer.status == 200
        body: dict[str, Any] = await answer.json()
        return body


async def test_healthz_with_a_refused_login_says_so(db_settings: Settings, tmp_path: Path) -> None:
    async with PbxSimulator(SimulatorConfig(secret="the-real-secret")) as sim:
        async with asterisk_desk(db_settings, tmp_path, sim.port, secret="a-wrong-one") as desk:
            body = await health(desk)
            assert (body["status"], body["ami_connected"], body["ami"]["status"]) == (
                "degraded", False, "login_refused")
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", body["ami"]["since"])
            assert "ledger_write_error" in body and "plan_job_error" in body  # the keys it always had
            assert "a-wrong-one" not in str(body) and str(sim.port) not in str(body)

            maria = await desk.sign_in("maria")
            async with desk.app[DB_SESSIONS].begin() as session:
                maria_id = await session.scalar(select(Expert.id).where(Expert.login == "maria"))
                await session.execute(update(Client).where(Client.external_id == "C-1042").values(expert_id=maria_id))
                await session.execute(update(ClientContact).values(external_id="K-1042"))
            status, answer = await click_to_call(desk, maria, "K-1042")
            assert status == 503
            assert answer["error"] == ("АТС отказала во входе: неверный логин или пароль AMI "
                                       "(сообщите администратору) — звонок не начат")


async def test_healthz_with_nothing_at_the_ami_port_is_unreachable(db_settings: Settings, tmp_path: Path) -> None:
    async with asterisk_desk(db_settings, tmp_path, free_port()) as desk:
        body = await health(desk)
        assert (body["status"], body["ami_connected"], body["ami"]["status"]) == ("degraded", False, "unreachable")


async def test_healthz_connected_is_ok(db_settings: Settings, tmp_path: Path) -> None:
    async with PbxSimulator(SimulatorConfig()) as sim, asterisk_desk(db_settings, tmp_path, sim.port) as desk:
        body = await health(desk)
        assert (body["status"], body["ami_connected"], body["ami"]["status"]) == ("ok", True, "connected")


async def test_every_screen_hears_the_link_go_down_and_come_back(db_settings: Settings, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_web, "PING_INTERVAL_S", 0.2)
    port = free_port()
    sim = PbxSimulator(SimulatorConfig(port=port))
    await sim.start()
    async with asterisk_desk(db_settings, tmp_path, port) as desk:
        maria, boss = await desk.stream("maria"), await desk.stream("boss")
        assert maria.events[0][1]["pbx"]["connected"] is True
        await sim.stop()
        await until(lambda: pbx_events(maria) and pbx_events(boss), what="the link going down, on both screens")
        [down] = pbx_events(maria)
        assert (down["status"], down["connected"]) == ("unreachable", False)
        assert re.fullmatch(r"нет связи с АТС с \d\d:\d\d — звонки не записываются", down["text"])
        assert (await health(desk))["status"] == "degraded"
        sim = PbxSimulator(SimulatorConfig(port=port))
        await sim.start()
        await until(lambda: len(pbx_events(maria)) == 2, what="the link back")
        back = pbx_events(maria)[-1]
        assert (back["status"], back["connected"], back["text"]) == ("connected", True, None)
        assert (await health(desk))["status"] == "ok"
    await sim.stop()
