"""The supervisor's live board in real Chromium: states pushed live while the simulator runs calls, listening in."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import OFFICE_SCREEN, LiveDesk, screenshot, sign_in


async def record_card_states(page: Page, ext: str) -> None:
    """Remember every state an Expert's card shows, however briefly (asserted in order later)."""
    await page.evaluate("""(ext) => {
        window.__cardStates = window.__cardStates || {};
        const card = document.querySelector(`.board-card[data-ext="${ext}"]`);
        const seen = window.__cardStates[ext] = [card.dataset.state];
        new MutationObserver(() => {
            const s = card.dataset.state;
            if (seen[seen.length - 1] !== s) seen.push(s);
        }).observe(card, { attributes: true, attributeFilter: ['data-state'] });
    }""", ext)


async def card_states(page: Page, ext: str) -> list[Any]:
    return await page.evaluate("(ext) => window.__cardStates[ext]", ext)


async def test_the_board_follows_calls_live_and_a_supervisor_listens_in(
        live_desk: LiveDesk, page: Page, browser: Browser, request: pytest.FixtureRequest) -> None:
    await sign_in(page, live_desk, "olga")
    await expect(page).to_have_url(re.compile(r"/board$"))  # a supervisor's landing page
    await expect(page.get_by_test_id("board-link")).to_have_attribute("data-state", "live")
    maria_card = page.locator('.board-card[data-ext="101"]')
    anna_card = page.locator('.board-card[data-ext="102"]')
    await expect(maria_card).to_have_attribute("data-state", "away")  # nobody's screen is open yet
    await expect(maria_card.get_by_test_id("card-progress")).to_have_text(re.compile(r"^0 из \d+, результативных 0$"))

    # maria opens her screen: she is at her desk.
    maria_context = await browser.new_context(viewport=OFFICE_SCREEN, locale="ru-RU")
    maria = await maria_context.new_page()
    try:
        await sign_in(maria, live_desk, "maria")
        await expect(maria).to_have_url(re.compile(r"/desk$"))
        await expect(maria_card).to_have_attribute("data-state", "available", timeout=5_000)
        await expect(maria_card.get_by_test_id("state-label")).to_have_text("свободен")
        await screenshot(page, request, "01-board")

        await record_card_states(page, "101")
        live_desk.simulator.start_outbound("101", "79115550101", scenario="answered", expert_ring_s=0.5,
                                           ring_s=1.5, talk_s=5)
        await expect(maria_card).to_have_attribute("data-state", "talking", timeout=10_000)
        await expect(maria_card.get_by_test_id("state-label")).to_have_text("разговор")
        await expect(maria_card.get_by_test_id("timer")).to_have_text(re.compile(r"^0:0[1-9]$"), timeout=5_000)
        await expect(maria_card.get_by_test_id("client")).not_to_be_empty()
        await expect(maria_card.get_by_test_id("listen")).to_be_visible()
        await screenshot(page, request, "02-talking")
        await expect(maria_card).to_have_attribute("data-state", "wrapup", timeout=15_000)
        await expect(maria_card.get_by_test_id("state-label")).to_have_text("итоги звонка")
        # The wrap-up's own time, counted from the call's end (amber past desk.wrapup_warn_s).
        await expect(maria_card.get_by_test_id("timer")).to_have_text(re.compile(r"^0:0\d$"))
        await expect(maria_card).not_to_have_class(re.compile(r"\boverdue\b"))
        await expect(maria_card.get_by_test_id("listen")).to_be_hidden()
        assert await card_states(page, "101") == ["available", "ringing", "talking", "wrapup"]
        await screenshot(page, request, "03-wrapup")

        # An Expert never sees the board.
        response = await maria.goto(live_desk.url("/board"))
        assert response is not None and response.status == 403
        await expect(maria.locator("body")).to_contain_text("Нет доступа")
    finally:
        await maria_context.close()

    # anna talks (her screen is closed: a call shows all the same); olga listens in silently.
    live_desk.simulator.start_outbound("102", "79115550102", scenario="answered", expert_ring_s=0.5,
                                       ring_s=1.0, talk_s=120)
    await expect(anna_card).to_have_attribute("data-state", "talking", timeout=10_000)
    assert live_desk.simulator.chanspy_log == []
    await anna_card.get_by_role("button", name="Слушать").click()
    await expect(page.get_by_test_id("board-message")).to_contain_text("доб. 201")
    await expect(page.get_by_test_id("board-message")).not_to_have_class(re.compile(r"\berror\b"))
    [spy] = live_desk.simulator.chanspy_log
    assert spy.channel == "Local/201@ds-agents" and spy.target == "Local/102@ds-agents"
    assert "q" in spy.options and not set("wB") & set(spy.options)
    await screenshot(page, request, "04-listening")

    # Listening to someone not in a call is refused with a reason (the buttons are hidden; a stale page may try).
    status, error = await page.evaluate("""async () => {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/board/listen', {method: 'POST',
                                               body: new URLSearchParams({expert: '103', mode: 'listen'}),
                                               headers: {'X-CSRF-Token': csrf, 'Accept': 'application/json'}});
        return [r.status, (await r.json()).error];
    }""")
    assert status == 409 and "не разговаривает" in error


async def test_a_pause_shows_on_the_board_live_and_ends_with_ready(live_desk: LiveDesk, page: Page, browser: Browser,
                                                                  request: pytest.FixtureRequest) -> None:
    """Issue 14: maria takes a lunch pause with P; olga's board shows «пауза: Обед» with its timer at once."""
    await sign_in(page, live_desk, "olga")
    await page.goto(live_desk.url("/board"))
    maria_card = page.locator('.board-card[data-ext="101"]')
    await expect(page.get_by_test_id("board-link")).to_have_attribute("data-state", "live")
    maria_context = await browser.new_context(viewport=OFFICE_SCREEN, locale="ru-RU")
    maria = await maria_context.new_page()
    try:
        await sign_in(maria, live_desk, "maria")
        await expect(maria_card).to_have_attribute("data-state", "available", timeout=5_000)
        await maria.get_by_test_id("pause-reason").select_option("Обед")
        await maria.locator("body").click()
        await maria.keyboard.press("KeyP")
        await expect(maria.get_by_test_id("status-label")).to_have_text("Пауза: Обед")
        await expect(maria.get_by_test_id("ready-btn")).to_be_visible()
        await expect(maria_card).to_have_attribute("data-state", "pause", timeout=5_000)
        await expect(maria_card.get_by_test_id("state-label")).to_have_text("пауза: Обед")
        await expect(maria_card.get_by_test_id("timer")).to_have_text(re.compile(r"^0:0\d$"))
        await screenshot(page, request, "pause-on-the-board")
        await maria.get_by_test_id("ready-btn").click()
        await expect(maria.get_by_test_id("status-label")).to_have_text("Готов")
        await expect(maria_card).to_have_attribute("data-state", "available", timeout=5_000)
        await expect(maria_card.get_by_test_id("timer")).to_have_text("")
    finally:
        await maria_context.close()


async def declare(desk: Page, fields: dict[str, str]) -> int:
    """POST /desk/status from the Expert's own page (her status, with her CSRF token)."""
    status: int = await desk.evaluate("""async (fields) => {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/desk/status', {method: 'POST', body: new URLSearchParams(fields),
                                               headers: {'X-CSRF-Token': csrf, 'Accept': 'application/json'}});
        return r.status;
    }""", fields)
    return status


async def test_a_wrapup_names_its_client_and_a_pause_taken_over_it_shows_live(
        live_desk: LiveDesk, page: Page, browser: Browser, request: pytest.FixtureRequest) -> None:
    """Issue 14: «итоги звонка» says whom for; a pause declared with the wrap-up unsaved shows as the pause,
    with a note that the wrap-up is still owed; «готов» brings the wrap-up back."""
    await sign_in(page, live_desk, "olga")
    maria_card = page.locator('.board-card[data-ext="101"]')
    await expect(page.get_by_test_id("board-link")).to_have_attribute("data-state", "live")
    maria_context = await browser.new_context(viewport=OFFICE_SCREEN, locale="ru-RU")
    maria = await maria_context.new_page()
    try:
        await sign_in(maria, live_desk, "maria")
        await expect(maria_card).to_have_attribute("data-state", "available", timeout=5_000)
        live_desk.simulator.start_outbound("101", "79115550101", scenario="answered", expert_ring_s=0.5,
                                           ring_s=1.0, talk_s=2)
        await expect(maria_card).to_have_attribute("data-state", "wrapup", timeout=15_000)
        await expect(maria_card.get_by_test_id("client")).not_to_be_empty()
        client = await maria_card.get_by_test_id("client").text_content()
        await expect(maria_card.get_by_test_id("wrapup-owed")).to_be_hidden()

        assert await declare(maria, {"status": "pause", "reason": "Обед"}) == 200  # as her P key does
        await expect(maria_card).to_have_attribute("data-state", "pause", timeout=5_000)
        await expect(maria_card.get_by_test_id("state-label")).to_have_text("пауза: Обед")
        owed = maria_card.get_by_test_id("wrapup-owed")
        await expect(owed).to_be_visible()
        await expect(owed).to_contain_text(f"итоги звонка не сохранены: {client}")
        await expect(owed).to_contain_text(re.compile(r"\d:\d\d"))
        await expect(maria_card.get_by_test_id("client")).to_have_text("")
        await screenshot(page, request, "pause-with-wrapup-owed")

        # A reload renders the same from the server.
        await page.reload()
        await expect(maria_card).to_have_attribute("data-state", "pause")
        await expect(maria_card.get_by_test_id("wrapup-owed")).to_contain_text("итоги звонка не сохранены")

        assert await declare(maria, {"status": "ready"}) == 200
        await expect(maria_card).to_have_attribute("data-state", "wrapup", timeout=5_000)
        await expect(maria_card.get_by_test_id("client")).to_have_text(client or "")
        await expect(maria_card.get_by_test_id("wrapup-owed")).to_be_hidden()
    finally:
        await maria_context.close()
