"""A supervisor's client card (found trying issue 15): only her own calls show on its call panel."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import LiveDesk, screenshot, sign_in


async def test_a_supervisors_card_never_shows_an_experts_call(live_desk: LiveDesk, page: Page,
                                                            request: pytest.FixtureRequest) -> None:
    await sign_in(page, live_desk, "olga")
    await page.goto(live_desk.url("/clients/C-1140"))
    await expect(page.get_by_test_id("live-state")).to_have_text("Нет звонка")
    await page.wait_for_timeout(500)  # the stream is open
    live_desk.simulator.start_outbound("102", "79115550102", scenario="answered", expert_ring_s=0.3,
                                       ring_s=0.5, talk_s=3)
    for _ in range(30):  # anna's call is up for a few seconds: the card must stay quiet throughout
        await page.wait_for_timeout(100)
        await expect(page.get_by_test_id("live-state")).to_have_text("Нет звонка")
        await expect(page.locator("#hangup-btn")).to_be_hidden()
    await screenshot(page, request, "supervisor-card-quiet")
