"""The PBX's troubles on the screens, in real Chromium.

- The bar «нет связи с АТС с 10:42 — звонки не записываются» on the Expert's desk and the
  supervisor's board comes when the AMI link goes down, says so when the PBX refuses the login, and
  goes when the link is back — live, without a reload; a page opened meanwhile shows it at once.
- A click the PBX accepted and then could not ring: the Expert (or the supervisor) reads why.
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect
from pydantic import SecretStr

from dialer.simulator import PbxSimulator, SimulatorConfig
from service.app import create_app
from service.settings import Settings
from tests.browser.conftest import OFFICE_SCREEN, LiveDesk, accept_outside_hours, screenshot, sign_in
from tests.service.web_helpers import add_user

PASSWORD = "correct horse battery"
BAR_TEXT = re.compile(r"^нет связи с АТС с \d\d:\d\d — звонки не записываются$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AsteriskDesk:
    """The app in `asterisk` mode; its PBX is whatever the test runs at 127.0.0.1:`port`."""

    desk: LiveDesk
    port: int

    async def pbx(self, secret: str = "dsdesk") -> PbxSimulator:
        sim = PbxSimulator(SimulatorConfig(port=self.port, secret=secret))
        await sim.start()
        return sim


@pytest.fixture
async def asterisk_desk(migrated_db: str, tmp_path: Path) -> AsyncIterator[AsteriskDesk]:
    port = free_port()
    settings = Settings.model_validate({
        "database": {"url": migrated_db},
        "recordings": {"dir": str(tmp_path / "recordings")},
        "pbx": {"mode": "asterisk"},
        "ami": {"port": port, "username": "dsdesk", "reconnect": {"min_s": 0.05, "max_s": 0.2}},
    })
    settings = settings.model_copy(update={"ami": settings.ami.model_copy(update={"secret": SecretStr("dsdesk")})})
    await add_user(settings, "maria", role="expert", extension="101", password=PASSWORD, full_name="Мария")
    await add_user(settings, "olga", role="supervisor", extension="201", password=PASSWORD, full_name="Ольга")
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield AsteriskDesk(LiveDesk(app, str(server.make_url("")).rstrip("/"), settings), port)
    finally:
        await server.close()


async def bar_is_down(page: Page, detail: str) -> None:
    bar = page.get_by_test_id("pbx-bar")
    await expect(bar).to_be_visible(timeout=10_000)
    await expect(bar.get_by_test_id("pbx-bar-text")).to_have_text(BAR_TEXT)
    await expect(bar.get_by_test_id("pbx-bar-detail")).to_have_text(detail)


async def test_the_bar_comes_and_goes_with_the_ami_link(asterisk_desk: AsteriskDesk, page: Page, browser: Browser,
                                                        request: pytest.FixtureRequest) -> None:
    sim = await asterisk_desk.pbx()
    desk = asterisk_desk.desk
    await sign_in(page, desk, "maria", PASSWORD)
    await expect(page).to_have_url(re.compile(r"/desk$"))
    olga_context = await browser.new_context(viewport=OFFICE_SCREEN, locale="ru-RU")
    board = await olga_context.new_page()
    try:
        await sign_in(board, desk, "olga", PASSWORD)
        await expect(board).to_have_url(re.compile(r"/board$"))
        await expect(board.get_by_test_id("board-link")).to_have_attribute("data-state", "live")
        for screen in (page, board):
            await expect(screen.get_by_test_id("pbx-bar")).to_be_hidden()

        await sim.stop()  # the PBX goes away: nobody reloads anything
        for screen in (page, board):
            await bar_is_down(screen, "АТС не отвечает: нет соединения с её AMI-портом")
        await screenshot(page, request, "01-desk-link-down")
        await screenshot(board, request, "02-board-link-down")

        sim = await asterisk_desk.pbx(secret="changed-on-the-pbx")  # back, but refusing our secret
        for screen in (page, board):
            await bar_is_down(screen, "АТС отказала во входе: неверный логин или пароль AMI")
        fresh = await olga_context.new_page()  # a page opened now shows the bar from the server at once
        await fresh.goto(desk.url("/board"))
        await expect(fresh.get_by_test_id("pbx-bar")).to_be_visible()
        await expect(fresh.get_by_test_id("pbx-bar-detail")).to_have_text(
            "АТС отказала во входе: неверный логин или пароль AMI")
        await screenshot(page, request, "03-desk-login-refused")

        await sim.stop()
        sim = await asterisk_desk.pbx()  # the right secret again
        for screen in (page, board, fresh):
            await expect(screen.get_by_test_id("pbx-bar")).to_be_hidden(timeout=10_000)
        await screenshot(page, request, "04-desk-link-back")
    finally:
        await olga_context.close()
        await sim.stop()


async def test_an_expert_reads_why_her_phone_was_not_rung(live_desk: LiveDesk, page: Page,
                                                          request: pytest.FixtureRequest) -> None:
    await sign_in(page, live_desk, "maria")
    await expect(page.locator("#call-btn")).to_be_visible()
    live_desk.simulator.unknown_extensions.add("101")  # the PBX's dialplan lost her phone
    accept_outside_hours(page)  # the test may run outside the client's hours
    await page.keyboard.press("F2")
    error = page.locator("#call-error")
    await expect(error).to_be_visible(timeout=10_000)
    await expect(error).to_have_text("Звонок не начат: АТС не смогла вызвать телефон доб. 101: такого номера "
                                     "нет в её плане набора или телефон не подключён")
    # However the failure, the ledger's record and the click's own answer race, the panel ends up
    # showing the recorded call, not «Соединение…».
    await expect(page.get_by_test_id("live-state")).to_have_attribute("data-state", "ended", timeout=10_000)
    await expect(page.get_by_test_id("live-state")).to_have_text(re.compile(r"^Завершён: "))
    await screenshot(page, request, "01-desk-originate-failed")


async def test_a_supervisor_reads_why_her_phone_was_not_rung(live_desk: LiveDesk, page: Page,
                                                             request: pytest.FixtureRequest) -> None:
    await sign_in(page, live_desk, "olga")
    await expect(page.get_by_test_id("board-link")).to_have_attribute("data-state", "live")
    live_desk.simulator.unknown_extensions.add("201")
    live_desk.simulator.start_outbound("102", "79115550102", scenario="answered", expert_ring_s=0.5,
                                       ring_s=1.0, talk_s=120)
    anna_card = page.locator('.board-card[data-ext="102"]')
    await expect(anna_card).to_have_attribute("data-state", "talking", timeout=10_000)
    await anna_card.get_by_role("button", name="Слушать").click()
    message = page.get_by_test_id("board-message")
    await expect(message).to_have_text(re.compile(r"^Прослушивание не началось: АТС не смогла вызвать телефон "
                                                  r"доб\. 201"), timeout=10_000)
    await expect(message).to_have_class(re.compile(r"\berror\b"))
    assert live_desk.simulator.chanspy_log == []
    await screenshot(page, request, "01-board-originate-failed")
