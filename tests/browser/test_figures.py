"""The control figures in real Chromium: the supervisor reads them and downloads the XLSX; an Expert may not."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import Page, expect

from tests.browser.conftest import LiveDesk, screenshot, sign_in


async def test_the_supervisor_opens_the_figures_and_downloads_the_xlsx(
        live_desk: LiveDesk, page: Page, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    await sign_in(page, live_desk, "olga")
    await page.click("text=Показатели")
    await expect(page.locator("h1.figures-title")).to_contain_text("Показатели: Отдел")
    table = page.get_by_test_id("figures")
    await expect(table.locator("tr[data-figure]")).to_have_count(9)
    await expect(page.get_by_test_id("target-planned")).to_have_text("15–17 в день")
    await expect(page.get_by_test_id("target-productive")).to_have_text("≥ 12 в день")
    await expect(page.get_by_test_id("target-avg_productive")).to_have_text("10–12 мин")
    await expect(page.get_by_test_id("target-login_share")).to_have_text("≥ 60 %")
    breakdown = page.get_by_test_id("breakdown")
    for login in ("maria", "anna", "pavel"):
        await expect(breakdown.locator(f'tr[data-expert="{login}"]')).to_have_count(1)
    planned_on_page = (await table.locator('tr[data-figure="planned"] td.num').first.inner_text()).strip()
    await screenshot(page, request, "01-figures")

    # The group of the demo Experts, chosen in the form.
    await page.select_option('select[name="scope"]', "group:Группа 1")
    await page.click('form.figures-query button[type="submit"]')
    await expect(page.locator("h1.figures-title")).to_contain_text("Показатели: Группа 1")

    async with page.expect_download() as download_info:
        await page.get_by_test_id("xlsx").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "figures.xlsx"
    await download.save_as(saved)
    book = load_workbook(BytesIO(saved.read_bytes()))
    sheet = book["Показатели"]
    assert [c.value for c in sheet[1]] == ["Показатель", "За период", "В день на Эксперта", "Цель", "Оценка"]
    planned = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "Плановые звонки")
    assert planned[1].value == int(planned_on_page) and planned[3].value == "15–17 в день"
    experts = [row[1] for row in book["По экспертам"].iter_rows(min_row=2, values_only=True)]
    assert sorted(experts, key=str) == ["anna", "maria", "pavel"]
    assert book["Параметры"]["B2"].value == "Группа 1"


async def test_an_expert_sees_only_her_own_figures(live_desk: LiveDesk, page: Page,
                                                   request: pytest.FixtureRequest) -> None:
    """Issue 13: «Мои показатели» in her menu; the scope list holds only her; another scope in the URL is ignored."""
    await sign_in(page, live_desk, "maria")
    await page.get_by_role("link", name="Мои показатели").click()
    await expect(page.locator("h1.figures-title")).to_contain_text("Показатели:")
    options = await page.locator('select[name="scope"] option').all_inner_texts()
    assert len(options) == 1 and "Весь отдел" not in options
    response = await page.goto(live_desk.url("/figures?scope=expert:pavel&period=month"))
    assert response is not None and response.status == 200
    title = await page.locator("h1.figures-title").inner_text()
    assert title.startswith("Показатели: ") and options[0] in title
    await screenshot(page, request, "02-expert-own")
