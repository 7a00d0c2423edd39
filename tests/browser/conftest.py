"""Real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against the real app.

The app runs in the test's event loop with the built-in PBX simulator over real TCP and the demo
department (no background demo calls: the tests place every call). Screenshots land in
test-artifacts/screenshots/ (CI keeps that folder).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from dialer.simulator import PbxSimulator
from service.app import create_app
from service.appkeys import SIMULATOR
from service.settings import REPO_ROOT, Settings

CHROMIUM = os.environ.get("DSDESK_CHROMIUM", "/usr/bin/chromium")
# As the workplace's probe runs it: no sandbox as root, and no background traffic to Google.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
OFFICE_SCREEN: ViewportSize = {"width": 1366, "height": 768}


@dataclass
class LiveDesk:
    app: web.Application
    base_url: str
    settings: Settings

    @property
    def simulator(self) -> PbxSimulator:
        simulator = self.app[SIMULATOR]
        assert simulator is not None
        return simulator

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture
async def live_desk(migrated_db: str, tmp_path: Path) -> AsyncIterator[LiveDesk]:
    settings = Settings.model_validate({
        "database": {"url": migrated_db},
        "recordings": {"dir": str(tmp_path / "recordings")},
        "simulator": {"experts": [], "demo_load": True},  # the demo department, no background calls
    })
    async with serve(settings) as desk:
        yield desk


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[LiveDesk]:
    """The whole app (PBX simulator included) on a real port for Chromium, closed afterwards."""
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield LiveDesk(app, str(server.make_url("")).rstrip("/"), settings)
    finally:
        await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=OFFICE_SCREEN, locale="ru-RU")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Something the Content-Security-Policy blocked is a page that does not work as written.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    yield page
    await context.close()
    assert not errors, f"JavaScript or Content-Security-Policy errors on the page: {errors}"


def accept_outside_hours(page: Page) -> list[str]:
    """Answer «Всё равно позвонить?» with yes (a test may run at any hour: the calling-time guard asks
    then); returns the questions asked. Any other dialog is left to fail the test."""
    asked: list[str] = []

    async def answer(dialog: Any) -> None:
        if dialog.message.startswith("У клиента сейчас"):
            asked.append(dialog.message)
            await dialog.accept()
        else:
            await dialog.dismiss()

    page.on("dialog", answer)
    return asked


async def sign_in(page: Page, desk: LiveDesk, login: str, password: str | None = None) -> None:
    await page.goto(desk.url("/login"))
    await page.fill("#login", login)
    await page.fill("#password", password or f"{login}-demo")
    await page.click("button[type=submit]")
    await page.wait_for_load_state("networkidle")


async def screenshot(page: Page, request: pytest.FixtureRequest, step: str) -> Path:
    """Saved per test and step: test-artifacts/screenshots/<test>/<step>.png."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{step}.png"
    await page.screenshot(path=str(path), full_page=False)
    return path


async def record_live_states(page: Page) -> None:
    """Remember every live state the call panel shows, however briefly (asserted in order later)."""
    await page.evaluate("""() => {
        window.__states = [];
        const box = document.querySelector('[data-testid="live-state"]');
        new MutationObserver(() => {
            const s = box.dataset.state;
            if (window.__states[window.__states.length - 1] !== s) window.__states.push(s);
        }).observe(box, { attributes: true, attributeFilter: ['data-state'] });
    }""")


async def live_states(page: Page) -> list[Any]:
    return await page.evaluate("() => window.__states")
