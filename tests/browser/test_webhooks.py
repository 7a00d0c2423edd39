"""The admin adds a webhook in real Chromium: a refused URL is explained beside the field, the secret is shown
on request, the delivery log opens; at 1280 px nothing is clipped."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import LiveDesk, screenshot, sign_in


async def test_an_admin_adds_a_webhook_and_opens_its_log(live_desk: LiveDesk, browser: Browser,
                                                       request: pytest.FixtureRequest) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 720}, locale="ru-RU")
    page = await context.new_page()
    try:
        await sign_in(page, live_desk, "admin")
        await page.goto(live_desk.url("/admin/users"))
        await page.get_by_test_id("webhooks-link").click()
        await expect(page.get_by_role("heading", name="Вебхуки")).to_be_visible()

        await page.get_by_test_id("field-url").fill("http://169.254.169.254/latest/meta-data/")
        await page.get_by_test_id("create").click()
        await expect(page.get_by_test_id("error-url")).to_contain_text("адрес метаданных облака")
        await screenshot(page, request, "01-refused")

        await page.get_by_test_id("field-url").fill("https://93.184.216.34/hooks/dsdesk?source=" + "x" * 120)
        await page.locator('input[name="events"][value="plan.built"]').uncheck()
        await page.get_by_test_id("create").click()
        await expect(page.get_by_test_id("notice")).to_contain_text("Подписка добавлена")
        row = page.get_by_test_id("webhook-row")
        await expect(row).to_have_count(1)
        await expect(row).not_to_contain_text("План Эксперта на день составлен")
        await expect(row.get_by_test_id("secret")).to_be_hidden()
        await row.locator("summary").click()
        await expect(row.get_by_test_id("secret")).to_contain_text("whsec_")
        width: Any = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1280, f"the webhooks page is {width} px wide"
        await screenshot(page, request, "02-added")

        await row.get_by_test_id("log-link").click()
        await expect(page.get_by_role("heading", name="Журнал доставок")).to_be_visible()
        await expect(page.get_by_test_id("deliveries")).to_contain_text("Доставок ещё не было.")
        await screenshot(page, request, "03-log")
    finally:
        await context.close()
