"""The head reads the ДС-versus-КС comparison in real Chromium (issue 17): the demo department's last six
months — the table with both columns and the difference, a definition on hover, the monthly charts with
a line per segment, the survey and the mailings, the clients behind churn; a backwards period is refused."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import LiveDesk, screenshot, sign_in
from tests.browser.test_month_report import PHONE, no_sideways_scroll


def _six_months(today: date) -> tuple[str, str]:
    last = today.replace(day=1) - timedelta(days=1)
    first = last.replace(day=1)
    for _ in range(5):
        first = (first - timedelta(days=1)).replace(day=1)
    return first.isoformat(), last.isoformat()


async def test_the_head_compares_ds_and_ks_with_charts(live_desk: LiveDesk, page: Page,
                                                      request: pytest.FixtureRequest) -> None:
    await sign_in(page, live_desk, "olga")
    await page.get_by_role("link", name="ДС и КС", exact=True).click()
    await expect(page.get_by_role("heading", name=re.compile(r"^Сравнение ДС и КС за "))).to_be_visible()
    first, last = _six_months(date.today())
    await page.locator('input[name="from"]').fill(first)
    await page.locator('input[name="to"]').fill(last)
    await page.get_by_role("button", name="Показать").click()
    await expect(page).to_have_url(re.compile(rf"from={first}&to={last}"))

    churn = page.locator('[data-figure="churn"]')
    await expect(churn.locator('[data-segment="ДС"]')).to_contain_text(re.compile(r"^\d+(,\d)? % \(\d+ из \d+\)"))
    await expect(churn.locator('[data-segment="КС"]')).to_contain_text(" из ")
    await expect(churn.locator(".definition")).to_have_attribute("title", re.compile("на начало периода"))
    await expect(page.locator('[data-figure="collection_completeness"] [data-segment="ДС"]')).to_contain_text("0,")
    await expect(page.get_by_test_id("competitors-КС")).to_contain_text("Гарант — 1")

    chart = page.get_by_test_id("chart-acts_on_time")
    await expect(chart.locator("polyline.ds")).to_have_count(1)
    await expect(chart.locator("polyline.ks")).to_have_count(1)
    assert await chart.locator("circle.ds").count() >= 5  # a point per month with data
    box = await chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100  # drawn, not collapsed

    await expect(page.get_by_test_id("survey-respondents")).to_have_text("Респондентов: 22")
    await expect(page.get_by_test_id("survey").locator("tbody tr")).to_have_count(6)
    reviews = page.get_by_test_id("mailings").locator("tbody tr").first.locator("td")
    await expect(reviews).to_have_count(5)
    await expect(reviews.nth(0)).to_have_text("обзоры")
    await expect(reviews.nth(1)).to_have_text("6")
    await expect(reviews.nth(3)).to_have_text(re.compile(r"^4\d,\d %$"))  # the demo's 42 % opened
    await screenshot(page, request, "compare")

    await page.get_by_test_id("rows-churn").click()
    await expect(page.get_by_test_id("churned").locator("tbody tr")).to_have_count(5)

    await page.goto(f"{live_desk.base_url}/compare?from={last}&to={first}")
    await expect(page.get_by_test_id("compare-error")).to_contain_text("позже конца")


async def test_the_comparison_fits_a_phone(live_desk: LiveDesk, browser: Browser) -> None:
    """Found trying it at 375 px: the mailings and lost-clients tables and the charts made the page 511 px wide."""
    context = await browser.new_context(viewport=PHONE, locale="ru-RU", is_mobile=True, has_touch=True)
    phone = await context.new_page()
    await sign_in(phone, live_desk, "olga")
    first, last = _six_months(date.today())
    await phone.goto(f"{live_desk.base_url}/compare?from={first}&to={last}")
    await expect(phone.get_by_test_id("compare-table")).to_be_visible()
    await no_sideways_scroll(phone)
    await phone.get_by_text("Определения показателей").click()  # no hover on a phone
    await expect(phone.get_by_test_id("definitions")).to_contain_text("на начало периода")
    await context.close()
