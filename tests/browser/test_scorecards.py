"""Scorecards in real Chromium: a supervisor scores a call beside its player, sees it in /figures, and the
editor refuses a negative weight keeping what was typed."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import LiveDesk, screenshot, sign_in
from tests.browser.test_call_log import closed_call


async def test_a_supervisor_scores_a_call_and_finds_it_in_the_figures(
        live_desk: LiveDesk, page: Page, request: pytest.FixtureRequest) -> None:
    linkedid = await closed_call(live_desk, "101", "maria")
    await sign_in(page, live_desk, "olga")
    await page.goto(live_desk.url(f"/calls/{linkedid}"))
    form = page.get_by_test_id("score-form")
    await expect(form).to_be_visible()
    await expect(form.locator("input[type=checkbox]:checked")).to_have_count(0)  # nothing ticked beforehand
    await form.get_by_test_id("score-item-1").check()
    await form.get_by_test_id("score-item-3").check()
    await screenshot(page, request, "01-ticked")
    await form.get_by_test_id("score-save").click()
    await expect(page.get_by_test_id("score-notice")).to_have_text("Оценка сохранена")
    await expect(page.get_by_test_id("score-pct")).to_have_text("60 %")
    await expect(form.locator("input[type=checkbox]:checked")).to_have_count(2)
    await screenshot(page, request, "02-scored")

    await page.goto(live_desk.url("/figures?scope=department&period=day"))
    maria = page.get_by_test_id("call-scores-table").locator('tr[data-expert="maria"]')
    await expect(maria.locator('[data-figure="score"]')).to_contain_text("60 %")
    await expect(maria.locator('[data-figure="score"]')).to_contain_text("по 1 звонку")
    await page.get_by_test_id("call-scores").scroll_into_view_if_needed()
    await screenshot(page, request, "03-figures")


async def test_the_editor_refuses_a_negative_weight_and_keeps_the_input(
        live_desk: LiveDesk, page: Page, request: pytest.FixtureRequest) -> None:
    await sign_in(page, live_desk, "olga")
    await page.goto(live_desk.url("/admin/scorecard"))
    await page.get_by_label("Вес пункта 3").fill("-2")
    await page.get_by_label("Пункт 2").fill("Назвал инфоповод и цель звонка")
    await page.get_by_label("Пункт 2").press("Enter")  # Enter saves (the form's first button), never «Убрать»
    await expect(page.get_by_test_id("row-error")).to_have_text("строка 3: вес не может быть отрицательным")
    await expect(page.get_by_label("Вес пункта 3")).to_have_value("-2")
    await expect(page.get_by_label("Пункт 2")).to_have_value("Назвал инфоповод и цель звонка")
    await expect(page.locator('tr[data-row]')).to_have_count(4)
    await screenshot(page, request, "01-refused")
    await page.get_by_label("Вес пункта 3").fill("3")
    await page.get_by_test_id("save-scorecard").click()
    await expect(page.get_by_test_id("notice")).to_contain_text("Сохранено")
    await expect(page.get_by_test_id("scorecard-history").locator("tr[data-version]")).to_have_count(1)
    await screenshot(page, request, "02-saved")
