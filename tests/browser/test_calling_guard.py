"""Issue 14 item 1 in Chromium: outside the client's hours F2 asks «У клиента сейчас …, вс …
Всё равно позвонить?»; «no» makes no call, «yes» calls. Yesterday, today and tomorrow are days off,
so every demo client is outside its hours whatever the clock says."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from service.settings import Settings
from tests.browser.conftest import LiveDesk, screenshot, serve, sign_in


@pytest.fixture
async def desk_on_a_day_off(migrated_db: str, tmp_path: Path) -> AsyncIterator[LiveDesk]:
    today = datetime.now(UTC).date()
    settings = Settings.model_validate({
        "database": {"url": migrated_db}, "recordings": {"dir": str(tmp_path / "recordings")},
        "simulator": {"experts": [], "demo_load": True},
        "plan": {"extra_days_off": [str(today + timedelta(days=n)) for n in (-1, 0, 1)]},
    })
    async with serve(settings) as desk:
        yield desk


async def test_a_call_outside_the_clients_hours_is_confirmed_first(desk_on_a_day_off: LiveDesk, page: Page,
                                                                   request: pytest.FixtureRequest) -> None:
    await sign_in(page, desk_on_a_day_off, "maria")
    await expect(page.get_by_test_id("queue")).to_be_visible()
    asked: list[str] = []
    answers = iter(["dismiss", "accept"])

    async def answer(dialog: object) -> None:
        asked.append(dialog.message)  # type: ignore[attr-defined]
        await getattr(dialog, next(answers))()

    # Before any click the desk already says it is no time to call.
    hint = page.get_by_test_id("call-hours")
    await expect(hint).to_have_attribute("data-allowed", "0")
    await expect(hint).to_contain_text("выходной день")
    page.on("dialog", answer)
    phone = await page.locator(".call-target [data-phone]").get_attribute("data-phone") or ""
    desk_on_a_day_off.simulator.script(phone, "answered", expert_ring_s=0.5, ring_s=1.0, talk_s=600)
    await page.keyboard.press("F2")
    for _ in range(50):
        if asked:
            break
        await page.wait_for_timeout(100)
    assert len(asked) == 1
    # The client's time said once (it was «…сейчас 05:42, вт: у клиента сейчас 05:42, вт 08.12 — …»).
    question = r"У клиента сейчас \d\d:\d\d, (пн|вт|ср|чт|пт|сб|вс) \d\d\.\d\d — выходной день\. Всё равно позвонить\?$"
    assert re.match(question, asked[0]), asked[0]
    await expect(page.get_by_test_id("live-state")).not_to_have_attribute("data-state", "dialling")
    await page.wait_for_timeout(500)
    assert desk_on_a_day_off.simulator.live_call_for("101") is None  # «no»: nothing was dialled
    await page.keyboard.press("F2")
    await expect(page.get_by_test_id("live-state")).to_have_attribute("data-state", "talking", timeout=10_000)
    assert len(asked) == 2
    await screenshot(page, request, "guard-confirmed-call")
    await page.keyboard.press("F4")
