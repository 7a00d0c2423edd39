"""The client search in real Chromium: an Expert types in the top navigation's box, finds her client by
name, phone and ИНН, not another Expert's, and opens the client card with its call buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from service.appkeys import DB_SESSIONS
from service.db.models import Client, ClientContact, Expert
from tests.browser.conftest import LiveDesk, screenshot, sign_in


@dataclass(frozen=True)
class DemoClient:
    external_id: str
    name: str
    inn: str
    contact: str
    phone_e164: str


async def client_of(desk: LiveDesk, login: str) -> DemoClient:
    """One of `login`'s demo clients with an ИНН and a contact with a phone."""
    async with desk.app[DB_SESSIONS]() as session:
        row = (await session.execute(
            select(Client.external_id, Client.name, Client.inn, ClientContact.full_name, ClientContact.phone_e164)
            .join(Expert, Expert.id == Client.expert_id).join(ClientContact, ClientContact.client_id == Client.id)
            .where(Expert.login == login, Client.inn.is_not(None), ClientContact.phone_e164.is_not(None))
            .order_by(Client.external_id).limit(1))).one()
    external_id, name, inn, contact, phone_e164 = row
    assert inn is not None and phone_e164 is not None  # the WHERE above
    return DemoClient(external_id, name, inn, contact, phone_e164)


async def search_from_nav(page: Page, typed: str) -> None:
    box = page.get_by_test_id("nav-client-search").locator("input")
    await box.fill(typed)
    await box.press("Enter")
    await page.wait_for_url(re.compile(r"/clients\?q="))


async def test_an_expert_finds_her_client_from_the_navigation_and_opens_its_card(
        live_desk: LiveDesk, page: Page, request: pytest.FixtureRequest) -> None:
    hers, annas = await client_of(live_desk, "maria"), await client_of(live_desk, "anna")
    await sign_in(page, live_desk, "maria")
    await expect(page.get_by_test_id("nav-client-search")).to_be_visible()

    word = max(re.split(r"[\s«».]+", hers.name), key=len).lower()  # a word of its name, in small letters
    await search_from_nav(page, word)
    results = page.get_by_test_id("client-results")
    await expect(results.locator(f'tr[data-client="{hers.external_id}"]')).to_be_visible()
    await screenshot(page, request, "01-by-name")

    local = hers.phone_e164[1:]
    await search_from_nav(page, f"8 ({local[:3]}) {local[3:6]}-{local[6:8]}-{local[8:]}")
    row = results.locator(f'tr[data-client="{hers.external_id}"]')
    await expect(row).to_contain_text(f"+7 ({local[:3]}) {local[3:6]}-{local[6:8]}-{local[8:]}")
    await expect(results.locator("tbody tr")).to_have_count(1)

    await search_from_nav(page, annas.inn)  # another Expert's client: not in her search
    await expect(page.get_by_test_id("search-nothing")).to_be_visible()
    await expect(page.locator(f'tr[data-client="{annas.external_id}"]')).to_have_count(0)

    await search_from_nav(page, hers.inn)
    await results.locator(f'tr[data-client="{hers.external_id}"] a').click()
    await page.wait_for_url(re.compile(rf"/clients/{re.escape(hers.external_id)}$"))
    brief = page.get_by_test_id("brief")
    await expect(brief).to_have_attribute("data-client", hers.external_id)
    await expect(brief.locator("button.call-contact").first).to_be_visible()  # click-to-call on the card
    await screenshot(page, request, "02-card")
