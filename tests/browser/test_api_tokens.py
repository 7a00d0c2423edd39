"""The admin issues an API token in real Chromium, copies it once, the CRM uses it, the admin revokes it; the API's
own page describes it."""

from __future__ import annotations

import aiohttp
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import LiveDesk, screenshot, sign_in


async def experts_status(desk: LiveDesk, token: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(desk.url("/api/v1/experts"),
                                                         headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status


async def test_an_admin_issues_a_token_the_crm_uses_and_revokes_it(live_desk: LiveDesk, page: Page,
                                                                  request: pytest.FixtureRequest) -> None:
    await sign_in(page, live_desk, "admin")
    await page.goto(live_desk.url("/admin/api"))
    form = page.get_by_test_id("create-form")
    await form.get_by_test_id("field-name").fill("   ")  # passes the browser's `required`, not the server
    await form.get_by_test_id("scope-read").uncheck()
    await form.get_by_test_id("create").click()
    await expect(page.get_by_test_id("create-error")).to_be_visible()
    await expect(page.locator(".field-error")).to_have_count(2)  # neither a name nor a scope
    form = page.get_by_test_id("create-form")
    await form.get_by_test_id("field-name").fill("CRM ВЭ")
    await form.get_by_test_id("scope-read").check()
    await form.get_by_test_id("scope-calls").check()
    await form.get_by_test_id("create").click()
    issued = page.get_by_test_id("issued")
    await expect(issued).to_contain_text("показан один раз")
    token = await page.get_by_test_id("token").input_value()
    assert token.startswith("dsd_")
    await screenshot(page, request, "01-token-issued")
    assert await experts_status(live_desk, token) == 200

    row = page.locator("tr[data-token-id]").filter(has_text="CRM ВЭ")
    await expect(row).to_contain_text("read, calls")
    await page.goto(live_desk.url("/admin/api"))
    await expect(page.get_by_test_id("issued")).to_have_count(0)  # never shown again
    await expect(page.locator("body")).not_to_contain_text(token)
    await page.locator("tr[data-token-id]").filter(has_text="CRM ВЭ").get_by_role("button", name="Отозвать").click()
    await expect(page.get_by_test_id("notice")).to_contain_text("Токен отозван")
    await expect(page.locator("tr[data-token-id]").filter(has_text="CRM ВЭ")).to_contain_text("отозван")
    assert await experts_status(live_desk, token) == 401

    await page.goto(live_desk.url("/api/v1/docs"))
    await expect(page.locator("#originate_call")).to_contain_text("Позвонить")
    await screenshot(page, request, "02-api-docs")
