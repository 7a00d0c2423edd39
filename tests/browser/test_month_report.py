"""The head reads the department's monthly reports in real Chromium at 1366×768: both tables, one person's
report chosen from the list, a figure's link to the CRM events behind it, and the XLSX download."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser, Page, expect

from service.appkeys import DB_SESSIONS
from service.imports.runner import import_rows
from service.passwords import use_hasher
from tests.browser.conftest import LiveDesk, screenshot, sign_in
from tests.browser.test_visits import PHONE, a_pm_with_clients, no_sideways_scroll
from tests.service.web_helpers import use_cheap_hashes


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    previous = use_cheap_hashes()
    yield
    use_hasher(previous)


async def test_the_head_reads_the_month_and_follows_a_figure(live_desk: LiveDesk, page: Page,
                                                             request: pytest.FixtureRequest) -> None:
    _, code = await a_pm_with_clients(live_desk)
    await import_rows("events", [
        {"client_external_id": code, "kind": "terms_renewed", "occurred_on": "2026-11-10",
         "employee_login": "petrova", "note": "продлили на год"}], live_desk.app[DB_SESSIONS])
    await sign_in(page, live_desk, "olga")
    await page.get_by_role("link", name="Отчётность").click()
    await expect(page.get_by_test_id("report-expert")).to_be_visible()
    await page.goto(live_desk.url("/month?from=2026-11&to=2026-11"))
    experts, pms = page.get_by_test_id("report-expert"), page.get_by_test_id("report-pm")
    await expect(experts.locator("th[data-login=maria]")).to_have_text("Орлова Мария Сергеевна")
    await expect(pms.locator("th[data-login=petrova]")).to_have_text("Петрова Анна Ильинична")
    await screenshot(page, request, "department")
    # Her column (the demo has a PM of its own, irina): the renewals link names her.
    renewals = pms.locator("a[href*='person=petrova'][href*='kind=terms_renewed']")
    await expect(renewals).to_have_text("1")
    await renewals.click()
    await expect(page).to_have_url(re.compile(r"/month/events\?.*kind=terms_renewed"))
    await expect(page.get_by_test_id("events")).to_contain_text("продлили на год")
    await page.go_back()
    await page.get_by_test_id("person").select_option("petrova")
    await page.get_by_role("button", name="Показать").click()
    await expect(page.get_by_test_id("report-expert")).to_have_count(0)
    async with page.expect_download() as download_info:
        await page.get_by_test_id("xlsx").click()
    download = await download_info.value
    assert download.suggested_filename == "Отчётность ДС ноябрь 2026.xlsx"
    book = load_workbook(io.BytesIO(Path(await download.path()).read_bytes()))
    assert book.sheetnames == ["ПМ"]
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1366, f"the page is {width} px wide"


async def test_the_pm_reads_her_month_and_her_ktu_on_a_phone(live_desk: LiveDesk, browser: Browser) -> None:
    """Found trying it at 375 px: the top bar clipped «Отчётность» and «Выйти», the КТУ table overflowed."""
    context = await browser.new_context(viewport=PHONE, locale="ru-RU", is_mobile=True, has_touch=True)
    phone = await context.new_page()
    await sign_in(phone, live_desk, "irina")
    for link, heading in (("Отчётность", "report-pm"), ("Мой КТУ", None)):
        await phone.get_by_role("link", name=link).click()
        await phone.wait_for_load_state("networkidle")
        if heading:
            await expect(phone.get_by_test_id(heading)).to_be_visible()
        await no_sideways_scroll(phone)
        await expect(phone.get_by_role("button", name="Выйти")).to_be_in_viewport()
    assert "/ktu/irina" in phone.url
    await context.close()
