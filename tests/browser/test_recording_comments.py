"""Comments on a recording in real Chromium (issue 18, item 4): a supervisor clicks the timeline at 2:15 and
comments; the Expert sees the badge on her desk, opens the comment, lands with the player at 2:15 and the
comment highlighted, and replies; the supervisor sees «Ответы: 1» in her top bar and follows it to the reply."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from dialer.simulator.recording import write_recording
from service.appkeys import DB_SESSIONS
from service.db.models import Call
from tests.browser.conftest import LiveDesk, screenshot, sign_in
from tests.browser.test_call_log import closed_call

RECORDING_S = 150  # 2:30: the simulator's file is as long as the 3 s talk, so the test writes a longer one


async def long_recording(desk: LiveDesk, linkedid: str) -> None:
    """The call's recording replaced by a 2:30 one (the same file the player asks for)."""
    async with desk.app[DB_SESSIONS]() as session:
        pbx_path = (await session.execute(select(Call.recording).where(Call.linkedid == linkedid))).scalar_one()
    assert pbx_path is not None
    path = desk.settings.recordings.existing_file(pbx_path)
    assert path is not None
    write_recording(path.parent, path.name, RECORDING_S, RECORDING_S, cap_s=RECORDING_S)


async def test_a_supervisor_comments_at_2_15_and_the_expert_opens_it_there_and_replies(
        live_desk: LiveDesk, page: Page, request: pytest.FixtureRequest) -> None:
    marias = await closed_call(live_desk, "101", "maria")
    await long_recording(live_desk, marias)

    await sign_in(page, live_desk, "olga")
    await page.goto(live_desk.url(f"/calls/{marias}"))
    timeline = page.get_by_test_id("comment-timeline")
    await expect(timeline).to_be_visible()
    width = (await timeline.bounding_box() or {"width": 0.0})["width"]
    await timeline.click(position={"x": width * 135 / RECORDING_S, "y": 11})
    await expect(page.get_by_test_id("comment-at-input")).to_have_value("2:15")
    await page.get_by_test_id("comment-text").fill("Здесь стоило предложить вебинар по новой форме")
    await screenshot(page, request, "01-supervisor-comments")
    await page.get_by_test_id("comment-save").click()
    await page.wait_for_url(re.compile(rf"/calls/{re.escape(marias)}\?t=135#comment-\d+$"))
    await expect(page.get_by_test_id("comment")).to_have_count(1)
    await expect(page.get_by_test_id("comment-at")).to_have_text("2:15")
    await expect(page.get_by_test_id("comment-mark")).to_have_count(1)

    # Past the end: refused under the form in Russian, nothing saved.
    error = page.get_by_test_id("comment-error")
    await page.get_by_test_id("comment-at-input").fill("12:30")
    await page.get_by_test_id("comment-text").fill("Не туда")
    await page.get_by_test_id("comment-save").click()
    await expect(error).to_have_text("Время 12:30 за концом записи (длина записи 2:30)")
    await page.get_by_test_id("comment-at-input").fill("abc")
    await page.get_by_test_id("comment-save").click()
    await expect(error).to_contain_text("Время «abc» не понять")
    # Submitted again with no time: the browser's own hint alone, the stale message gone.
    await page.get_by_test_id("comment-at-input").fill("")
    await page.get_by_test_id("comment-save").click()
    await expect(error).to_be_hidden()
    assert await page.get_by_test_id("comment-at-input").evaluate("i => i.validity.valueMissing")
    await page.reload()
    await expect(page.get_by_test_id("comment")).to_have_count(1)
    await page.get_by_role("button", name="Выйти").click()

    await sign_in(page, live_desk, "maria")
    await page.goto(live_desk.url("/desk"))
    badge = page.get_by_test_id("comments-badge")
    await expect(badge).to_have_text("1 новый комментарий к вашим звонкам")
    await screenshot(page, request, "02-expert-badge")
    await badge.click()
    await page.get_by_test_id("new-comment-link").click()
    await page.wait_for_url(re.compile(rf"/calls/{re.escape(marias)}\?t=135#comment-\d+$"))
    await page.wait_for_function(
        "() => Math.abs(document.querySelector('[data-testid=player]').currentTime - 135) < 0.5", timeout=10_000)
    comment = page.get_by_test_id("comment")
    await expect(comment).to_have_class(re.compile(r"\bis-highlighted\b"))
    await expect(comment).to_contain_text("Здесь стоило предложить вебинар")
    await screenshot(page, request, "03-expert-at-2-15")

    await page.get_by_test_id("comment-reply-open").click()
    reply_form = page.get_by_test_id("reply-form")
    await reply_form.locator("textarea").fill("Клиент торопился, предложу в следующий звонок")
    await reply_form.locator('button[type="submit"]').click()
    await expect(page.get_by_test_id("comment-reply")).to_contain_text("Клиент торопился")
    await screenshot(page, request, "04-expert-replied")

    # A mark plays from its comment.
    player = page.get_by_test_id("player")
    await player.evaluate("a => { a.muted = true; a.currentTime = 0; }")
    await page.get_by_test_id("comment-mark").click()
    await page.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=player]'); return !a.paused && a.currentTime >= 135; }",
        timeout=10_000)

    await page.goto(live_desk.url("/desk"))
    await expect(page.get_by_test_id("comments-badge")).to_have_count(0)  # opened: nothing new any more
    await page.get_by_role("button", name="Выйти").click()

    # The supervisor learns of the reply in her top bar, on any page, and follows it to its place.
    await sign_in(page, live_desk, "olga")
    await page.goto(live_desk.url("/calls"))
    replies = page.get_by_test_id("replies-badge")
    await expect(replies).to_have_text("Ответы: 1")
    await screenshot(page, request, "05-supervisor-replies-badge")
    await replies.click()
    await page.wait_for_url(re.compile(r"/comments$"))
    await expect(page.get_by_role("heading", name="Ответы на ваши комментарии")).to_be_visible()
    await expect(page.get_by_test_id("new-comment")).to_contain_text("Клиент торопился")
    await screenshot(page, request, "06-supervisor-replies-list")
    await page.get_by_test_id("new-comment-link").click()
    await page.wait_for_url(re.compile(rf"/calls/{re.escape(marias)}\?t=135#comment-\d+$"))
    await expect(page.get_by_test_id("comment-reply")).to_contain_text("новый")
    await expect(page.get_by_test_id("replies-badge")).to_have_count(0)  # seen: the count is zero
    await page.goto(live_desk.url("/comments"))
    await expect(page.get_by_test_id("new-comment")).to_have_count(0)
    await expect(page.get_by_test_id("replies-badge")).to_have_count(0)
