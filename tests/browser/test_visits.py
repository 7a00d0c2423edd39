"""The ПМ по ДС records a visit on a phone (375×667) in real Chromium: one column, no sideways scrolling,
the visit listed and counted in the month's plan/fact."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect
from sqlalchemy import select, update

from service.appkeys import DB_SESSIONS
from service.db.models import Client, Expert
from service.passwords import use_hasher
from tests.browser.conftest import LiveDesk, screenshot, sign_in
from tests.service.web_helpers import add_user, use_cheap_hashes

PHONE: ViewportSize = {"width": 375, "height": 667}


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    previous = use_cheap_hashes()
    yield
    use_hasher(previous)


async def a_pm_with_clients(desk: LiveDesk) -> tuple[str, str]:
    """Петрова, ПМ по ДС, with three of the demo department's clients; the first one's name and code."""
    row = await add_user(desk.settings, "petrova", role="pm", extension="150", password="petrova-demo",
                         full_name="Петрова Анна Ильинична")
    async with desk.app[DB_SESSIONS].begin() as session:
        codes = list(await session.scalars(select(Client.external_id).order_by(Client.name).limit(3)))
        await session.execute(update(Client).where(Client.external_id.in_(codes)).values(expert_id=row.id))
        name = await session.scalar(select(Client.name).where(Client.external_id == codes[0]))
        assert await session.scalar(select(Expert.role).where(Expert.id == row.id)) == "pm"
    assert name is not None
    return name, codes[0]


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"


async def test_a_pm_records_a_visit_on_a_phone(live_desk: LiveDesk, browser: Browser,
                                               request: pytest.FixtureRequest) -> None:
    client_name, code = await a_pm_with_clients(live_desk)
    context = await browser.new_context(viewport=PHONE, locale="ru-RU", is_mobile=True, has_touch=True)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        await sign_in(page, live_desk, "petrova")
        await page.goto(live_desk.url("/visits"))
        await expect(page.get_by_role("heading", name="Мои визиты")).to_be_visible()
        await no_sideways_scroll(page)
        button = page.get_by_test_id("record-visit")
        box = await button.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 300  # a thumb's target, full width
        await screenshot(page, request, "1-empty-month")

        await page.get_by_test_id("record-visit").click()  # nothing chosen: the problems, nothing saved
        await expect(page.get_by_test_id("form-errors")).to_contain_text("Выберите клиента.")
        await no_sideways_scroll(page)

        await page.get_by_test_id("field-client").select_option(label=f"{client_name} ({code})")
        await page.get_by_test_id("field-unplanned").check()
        await page.get_by_test_id("field-contacts").fill("Главный бухгалтер Смирнова Е. В.")
        await page.get_by_test_id("field-topic").select_option(index=1)
        await page.get_by_test_id("field-comment").fill("Показала новые формы отчётности, договорились об обучении")
        await page.get_by_test_id("record-visit").click()
        await expect(page.get_by_test_id("saved")).to_have_text("Визит записан.")
        visit = page.get_by_test_id("visit")
        await expect(visit).to_have_count(1)
        await expect(visit).to_contain_text(client_name)
        await expect(visit).to_contain_text("внеплановый")
        await expect(page.get_by_test_id("figure-2").get_by_test_id("fact")).to_have_text("1")
        await expect(page.get_by_test_id("figure-1").get_by_test_id("fact")).to_have_text("0")
        await no_sideways_scroll(page)
        await screenshot(page, request, "2-visit-recorded")
    finally:
        await context.close()
    assert not errors, errors
