"""The Expert's day in real Chromium: sign in, queue, call with live state, wrap-up, access rules."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from service.appkeys import DB_SESSIONS
from service.db.models import Client, ClientContact, Expert, PlannedCall, WrapUp
from tests.browser.conftest import LiveDesk, accept_outside_hours, live_states, record_live_states, screenshot, sign_in

PROGRESS = re.compile(r"(\d+) из (\d+), результативных (\d+)")


async def progress_of(page: Page) -> tuple[int, int, int]:
    text = await page.get_by_test_id("progress").inner_text()
    match = PROGRESS.search(text)
    assert match, text
    return int(match[1]), int(match[2]), int(match[3])


async def test_an_expert_calls_the_next_client_and_wraps_up(live_desk: LiveDesk, page: Page,
                                                           request: pytest.FixtureRequest) -> None:
    await sign_in(page, live_desk, "maria")
    await expect(page).to_have_url(re.compile(r"/desk$"))
    await expect(page.get_by_test_id("queue")).to_be_visible()
    finished, planned, productive = await progress_of(page)
    assert (finished, productive) == (0, 0) and 15 <= planned <= 17
    strip = page.get_by_test_id("day-strip")
    await expect(strip.locator('[data-strip="calls_per_day"] .value')).to_have_text("0")
    await expect(strip.locator('[data-strip="login_share"] .value')).to_have_text("—")
    await expect(strip.locator('[data-strip="pace"]')).to_be_visible()
    next_row = page.locator(".queue .row.next")
    await expect(next_row).to_have_count(1)
    await expect(next_row).to_have_class(re.compile(r"\bselected\b"))
    item = await next_row.get_attribute("data-item")
    await expect(page.get_by_test_id("brief")).to_be_visible()
    await expect(page.get_by_test_id("script-text")).to_be_visible()
    await screenshot(page, request, "01-queue")

    phone = await page.locator(".call-target [data-phone]").get_attribute("data-phone") or ""
    # The client answers after a second and would talk for ten minutes: the Expert hangs up.
    live_desk.simulator.script(phone, "answered", expert_ring_s=0.5, ring_s=1.0, talk_s=600)
    await record_live_states(page)
    accept_outside_hours(page)  # the test may run outside the client's hours
    await page.keyboard.press("F2")
    await expect(page.get_by_test_id("live-state")).to_have_attribute("data-state", "talking", timeout=10_000)
    await expect(page.get_by_test_id("live-timer")).to_have_text(re.compile(r"^0:0[1-9]$"), timeout=5_000)
    # Her own status follows the call, as the board shows it (it said «Готов» through a call and its wrap-up).
    await expect(page.get_by_test_id("status-label")).to_have_text("На звонке")
    await expect(page.get_by_test_id("desk-status")).to_have_attribute("data-activity", "call")
    await expect(page.locator(f'.queue .row[data-item="{item}"] .badge')).to_have_text("идёт звонок")
    await screenshot(page, request, "02-talking")
    # Selecting another client during the call (issue 14): the panel still names the call's own client.
    called = (await page.locator(f'.queue .row[data-item="{item}"] .who b').inner_text()).strip()
    other = page.locator(f'.queue .row[data-item]:not([data-item="{item}"]) a').first
    other_name = (await other.locator(".who b").inner_text()).strip()
    states = [s for s in await live_states(page) if s in ("dialling", "ringing", "talking", "ended")]
    assert states == ["dialling", "ringing", "talking"]
    await other.click()  # a new page: the live state comes back over /live
    await expect(page.get_by_test_id("live-who")).to_contain_text(f"На линии: {called}", timeout=10_000)
    if other_name != called:
        await expect(page.get_by_test_id("live-who")).not_to_contain_text(other_name)
    await expect(page.locator(".call-target")).to_be_hidden()
    await expect(page.get_by_test_id("call-hours")).to_be_hidden()  # the selection's client's time, not the call's
    await screenshot(page, request, "02b-other-selected")

    await page.keyboard.press("F4")
    await expect(page.get_by_test_id("live-state")).to_have_attribute("data-state", "ended", timeout=10_000)
    form = page.get_by_test_id("wrapup-form")
    await expect(form).to_be_visible(timeout=5_000)
    await expect(page.get_by_test_id("wrapup-who")).to_contain_text(called)  # the call's, not the selection's
    await expect(page.get_by_test_id("status-label")).to_have_text("Итоги звонка")
    await expect(page.get_by_test_id("status-timer")).to_have_text(re.compile(r"^0:0\d$"))
    # The row's badge follows the call without a reload (it said «идёт звонок» until one).
    await expect(page.locator(f'.queue .row[data-item="{item}"] .badge')).to_have_text("звонок: состоялся, без итога")
    # desk.forced_wrapup: no new call before this wrap-up is saved, and the button says so before a click.
    await expect(page.locator("#call-btn")).to_be_disabled()
    # The page again with another row selected: still «Итоги звонка» (it said «Готов»), and the hint opens
    # the form owed.
    await page.reload()
    await expect(page.get_by_test_id("status-label")).to_have_text("Итоги звонка")
    await expect(page.get_by_test_id("wrapup-form")).to_have_count(0)
    await expect(page.locator("#call-btn")).to_be_disabled()
    await page.get_by_test_id("call-blocked").locator("a").click()
    await expect(form).to_be_visible(timeout=5_000)
    await expect(page.get_by_test_id("wrapup-who")).to_contain_text(called)
    await expect(page.get_by_test_id("pbx-outcome")).to_have_text("состоялся")
    await expect(page.locator("#call-error")).to_be_hidden()  # hanging up from the screen went through
    await expect(form.locator('input[name="duration_s"], input[name="talk_s"]')).to_have_count(0)
    await screenshot(page, request, "03-wrapup")

    await page.keyboard.press("Digit1")  # «Контакт состоялся»
    await expect(form.locator('input[name="productive"]')).not_to_be_checked()  # never ticked for her
    await form.locator('input[name="logged_in"]').check()
    await form.locator('input[name="productive"]').check()
    await form.locator('select[name="topic"]').select_option("Обучение")
    await form.locator('textarea[name="comment"]').fill("Зашли в систему вместе, показала поиск")
    await page.keyboard.press("F9")  # one key saves: a few seconds' talk cannot be productive (issue 13)
    error = page.get_by_test_id("productive-error")
    await expect(error).to_contain_text("результативным считается разговор не короче 2:00")
    await screenshot(page, request, "03b-productive-refused")
    form = page.get_by_test_id("wrapup-form")
    await expect(form.locator('textarea[name="comment"]')).to_have_value("Зашли в систему вместе, показала поиск")
    await form.locator('input[name="productive"]').uncheck()
    await page.keyboard.press("F9")
    await page.wait_for_url(re.compile(r"/desk$"))
    await expect(page.get_by_test_id("progress")).to_contain_text(f"1 из {planned}, результативных 0")
    # The strip counts the saved wrap-up: one call made, one contact with the client in the system.
    strip = page.get_by_test_id("day-strip")
    await expect(strip.locator('[data-strip="calls_per_day"] .value')).to_have_text("1")
    await expect(strip.locator('[data-strip="calls_per_day"]')).to_have_class(re.compile(r"\bstatus-low\b"))
    await expect(strip.locator('[data-strip="productive"] .value')).to_have_text("0")
    await expect(strip.locator('[data-strip="login_share"] .value')).to_have_text("100 %")
    await expect(strip.locator('[data-strip="login_share"]')).to_have_class(re.compile(r"\bstatus-ok\b"))
    done = page.locator(f'.queue .row[data-item="{item}"]')
    await expect(done).to_have_class(re.compile(r"\bdone\b"))
    new_next = await page.locator(".queue .row.next").get_attribute("data-item")
    assert new_next and new_next != item  # the queue advanced
    await screenshot(page, request, "04-advanced")

    async with live_desk.app[DB_SESSIONS]() as session:
        saved = (await session.execute(
            select(WrapUp.result, WrapUp.logged_in, WrapUp.productive, PlannedCall.state)
            .join(PlannedCall, PlannedCall.id == WrapUp.planned_call_id)
            .where(PlannedCall.public_id == item))).one()
    assert tuple(saved) == ("contact_made", True, False, "contact_made")


async def test_an_expert_cannot_open_or_call_another_experts_client(live_desk: LiveDesk, page: Page,
                                                                   request: pytest.FixtureRequest) -> None:
    async with live_desk.app[DB_SESSIONS]() as session:
        pavel_client, pavel_contact = (await session.execute(
            select(Client.external_id, ClientContact.external_id)
            .join(Expert, Expert.id == Client.expert_id)
            .join(ClientContact, ClientContact.client_id == Client.id)
            .where(Expert.login == "pavel").limit(1))).one()
    await sign_in(page, live_desk, "maria")
    response = await page.goto(live_desk.url(f"/clients/{pavel_client}"))
    assert response is not None and response.status == 403
    await expect(page.get_by_test_id("forbidden")).to_be_visible()
    await screenshot(page, request, "forbidden")
    await page.goto(live_desk.url("/desk"))
    status = await page.evaluate("""async (contact) => {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/calls', {method: 'POST', headers: {'X-CSRF-Token': csrf},
                                         body: new URLSearchParams({contact})});
        return r.status;
    }""", pavel_contact)
    assert status == 403
    assert all(t.expert_ext != "101" for t in live_desk.simulator.truth.values())


async def test_an_inbound_call_from_a_known_client_pops_up_their_brief(live_desk: LiveDesk, page: Page,
                                                                      request: pytest.FixtureRequest) -> None:
    async with live_desk.app[DB_SESSIONS]() as session:
        name, phone = (await session.execute(
            select(Client.name, ClientContact.phone_e164)
            .join(Expert, Expert.id == Client.expert_id)
            .join(ClientContact, ClientContact.client_id == Client.id)
            .where(Expert.login == "maria", ClientContact.phone_e164.is_not(None)).limit(1))).one()
    assert phone is not None  # the WHERE above
    await sign_in(page, live_desk, "maria")
    await expect(page.get_by_test_id("live-state")).to_be_visible()
    await page.wait_for_timeout(300)  # the live channel is open (its snapshot arrived)
    live_desk.simulator.start_inbound(phone, None, "101", scenario="inbound_answered", ring_s=3, talk_s=30)
    pop = page.get_by_test_id("inbound-pop")
    await expect(pop).to_be_visible(timeout=10_000)
    await expect(pop).to_contain_text(name)
    await screenshot(page, request, "inbound-pop")


async def test_switching_the_script_keeps_the_page(live_desk: LiveDesk, page: Page,
                                                  request: pytest.FixtureRequest) -> None:
    await sign_in(page, live_desk, "maria")
    text = page.get_by_test_id("script-text")
    await expect(text).to_be_visible()
    before = await text.get_attribute("data-script")
    await record_live_states(page)  # the page must not reload: the observer would be gone
    choice = "smart_kit.j2" if before != "smart_kit.j2" else "training.j2"
    await page.get_by_test_id("script-select").select_option(choice)
    await expect(page.get_by_test_id("script-text")).to_have_attribute("data-script", choice)
    assert await live_states(page) == []
    await screenshot(page, request, "script-switched")
