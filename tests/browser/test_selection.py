"""The candidate list for ДС in real Chromium (issue 15): a supervisor opens «Отбор на ДС» from the navigation,
filters the candidates, sorts them, ticks two and assigns them to an Expert; a СИО scores a client by hand."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from service.appkeys import DB_SESSIONS
from service.db.transitions import TransitionsRepository
from service.db.users import UsersRepository
from service.passwords import hash_password
from tests.browser.conftest import LiveDesk, screenshot, sign_in


async def test_a_supervisor_filters_candidates_and_assigns_two_to_an_expert(
        live_desk: LiveDesk, page: Page, request: pytest.FixtureRequest) -> None:
    await sign_in(page, live_desk, "olga")
    await page.get_by_role("link", name="Отбор на ДС").click()
    await page.wait_for_url(re.compile(r"/selection$"))
    rows = page.get_by_test_id("selection-list").locator("tbody tr")
    assert await rows.count() > 2

    await page.get_by_test_id("filter-candidates").check()
    await page.get_by_test_id("selection-filters").get_by_role("button", name="Показать").click()
    await page.wait_for_url(re.compile(r"candidates=1"))
    count = await rows.count()
    assert count >= 2, "the demo department has at least two candidates"
    assert await page.locator("tbody tr.candidate").count() == count
    totals = [int(t) for t in await page.get_by_test_id("total").all_inner_texts()]
    assert totals == sorted(totals, reverse=True) and min(totals) >= 12
    first, second = [await rows.nth(n).get_attribute("data-client") for n in (0, 1)]
    assert first and second
    await expect(rows.first.locator("td.score").first).to_have_attribute("title", re.compile(r"^\d — |^вручную"))

    await rows.nth(0).locator('input[name="client"]').check()
    await rows.nth(1).locator('input[name="client"]').check()
    await page.get_by_test_id("assign-expert").select_option(label="Орлова Мария Сергеевна")
    await screenshot(page, request, "01-two-ticked")
    await page.get_by_test_id("assign-submit").click()
    await expect(page.get_by_test_id("selection-notice")).to_have_text(
        "Назначено Эксперту: Орлова Мария Сергеевна — 2 клиента.")
    assert "candidates=1" in page.url  # back on the same filtered list
    for external_id in (first, second):
        status = page.locator(f'tr[data-client="{external_id}"]').get_by_test_id("status")
        await expect(status).to_have_text("кандидат Орлова Мария Сергеевна")
    await screenshot(page, request, "02-assigned")

    sessions = live_desk.app[DB_SESSIONS]
    states = await TransitionsRepository(sessions).current()
    assert sorted(s.expert_login or "" for s in states.values()) == ["maria", "maria"]


async def test_a_sio_scores_a_client_by_hand(live_desk: LiveDesk, page: Page, request: pytest.FixtureRequest) -> None:
    sessions = live_desk.app[DB_SESSIONS]
    await UsersRepository(sessions).add("sidorov", "Сидоров Пётр Ильич", "sio", None, hash_password("sidorov-demo"))
    await sign_in(page, live_desk, "sidorov")
    await page.wait_for_url(re.compile(r"/selection$"))  # a СИО starts on the list
    await expect(page.get_by_test_id("selection-assign")).to_have_count(0)  # and cannot assign
    row = page.get_by_test_id("selection-list").locator("tbody tr").first
    before = int(await row.get_by_test_id("total").inner_text())
    await row.locator("td a").first.click()
    await page.wait_for_url(re.compile(r"/selection/C-"))

    form = page.get_by_test_id("score-form")
    await form.locator('select[name="criterion"]').select_option("without_sio")
    await form.locator('select[name="score"]').select_option("3")
    await form.locator('input[name="note"]').fill("готовы работать сами")
    await form.get_by_role("button", name="Сохранить").click()
    await expect(page.get_by_test_id("score-notice")).to_have_text("Оценка сохранена.")
    await expect(page.locator('tr[data-criterion="without_sio"]')).to_contain_text(
        re.compile(r"вручную: Сидоров, \d\d\.\d\d: готовы работать сами"))
    await expect(page.get_by_test_id("client-total")).to_have_text(str(min(24, before + 3)))
    await expect(page.get_by_test_id("score-history")).to_contain_text("Сидоров Пётр Ильич")
    await screenshot(page, request, "01-scored")
