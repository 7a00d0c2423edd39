"""The supervisor edits a call script and the admin adds a user, in real Chromium against the demo department."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import OFFICE_SCREEN, LiveDesk, screenshot, sign_in

BROKEN = "<p class=\"say\">Здравствуйте!</p>\n<p>{{ client.name }}</p>\n<p>{{ contact.io }</p>\n<p>долг</p>\n"
EDITED = ("{% import '_parts.j2' as parts with context %}\n"
          "<p class=\"say\" data-mark=\"edit\">ПРАВКА РГ: {{ client.name }}</p>\n"
          "{{ parts.keep_talking() }}\n")


async def other_page(browser: Browser) -> Page:
    context = await browser.new_context(viewport=OFFICE_SCREEN, locale="ru-RU")
    return await context.new_page()


async def test_a_supervisor_edits_a_script_with_preview_and_the_expert_sees_it(
        live_desk: LiveDesk, page: Page, browser: Browser, request: pytest.FixtureRequest) -> None:
    maria = await other_page(browser)
    await sign_in(maria, live_desk, "maria")
    script_text = maria.get_by_test_id("script-text")
    await expect(script_text).to_be_visible()
    file = await script_text.get_attribute("data-script")
    client_name = (await maria.locator(".brief h2 a").first.inner_text()).strip()
    client_id = (await maria.locator(".brief h2 .muted").first.inner_text()).split()[0]
    assert file and client_name and client_id.startswith("C-")

    await sign_in(page, live_desk, "olga")
    await page.goto(live_desk.url("/admin/scripts"))
    row = page.locator(f'tr[data-file="{file}"]')
    await expect(row.get_by_test_id("script-state")).to_have_text("как поставлен")
    await screenshot(page, request, "01-catalog")
    await row.locator("a").click()
    await expect(page.get_by_test_id("script-source")).to_have_value(re.compile("_parts.j2"))

    # A syntax error: the preview says where, and saving is refused with the line.
    await page.get_by_test_id("script-source").fill(BROKEN)
    await page.get_by_test_id("preview").click()
    await expect(page.get_by_test_id("preview-error")).to_contain_text("Строка 3.")
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("save-error")).to_contain_text("Не сохранено. Строка 3.")
    await expect(page.get_by_test_id("script-source-state")).to_have_text("текст из поставки")
    await expect(page.locator("#cursor-line")).to_have_text("строка 3")  # the cursor is on the faulty line
    await screenshot(page, request, "02-syntax-error")

    # A good edit, previewed for maria's client found by name.
    await page.get_by_test_id("script-source").fill(EDITED)
    await page.get_by_test_id("client-search").fill(max(re.findall(r"\w+", client_name), key=len).lower())
    await expect(page.get_by_test_id("preview-client")).to_contain_text(client_name)
    await page.get_by_test_id("preview-client").select_option(client_id)
    await page.get_by_test_id("preview").click()
    await expect(page.get_by_test_id("preview-text")).to_contain_text(f"ПРАВКА РГ: {client_name}")
    await screenshot(page, request, "03-preview")
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("notice")).to_contain_text("Сохранено")
    await expect(page.get_by_test_id("history")).to_contain_text("Смирнова Ольга Викторовна")
    await screenshot(page, request, "04-saved")

    await maria.reload()
    await expect(maria.locator('[data-testid="script-text"] [data-mark="edit"]')).to_have_text(
        f"ПРАВКА РГ: {client_name}")
    await screenshot(maria, request, "05-expert-sees-the-edit")
    await maria.context.close()


async def test_an_admin_adds_a_user_who_then_signs_in(live_desk: LiveDesk, page: Page, browser: Browser,
                                                      request: pytest.FixtureRequest) -> None:
    await sign_in(page, live_desk, "admin")
    await page.goto(live_desk.url("/admin/users"))
    await expect(page.locator('tr[data-login="maria"]')).to_be_visible()
    form = page.get_by_test_id("create-form")
    await form.get_by_test_id("field-login").fill("kuznetsova")
    await form.get_by_label("Фамилия").fill("Кузнецова")
    await form.get_by_label("Имя", exact=True).fill("Ирина")
    await form.get_by_label("Отчество").fill("Олеговна")
    await form.get_by_test_id("field-role").select_option("expert")
    await form.get_by_test_id("field-extension").fill("101")  # maria's: refused
    await form.get_by_test_id("field-group_name").fill("Группа 1")
    await form.get_by_test_id("field-password").fill("пароль-ирины")
    await form.get_by_test_id("create").click()
    await expect(page.get_by_test_id("error-extension")).to_contain_text("уже у пользователя «maria»")
    await page.get_by_test_id("create-form").get_by_test_id("field-extension").fill("109")
    await page.get_by_test_id("create-form").get_by_test_id("field-password").fill("пароль-ирины")
    await page.get_by_test_id("create").click()
    await expect(page.get_by_test_id("notice")).to_contain_text("Пользователь добавлен")
    await expect(page.locator('tr[data-login="kuznetsova"]')).to_contain_text("Группа 1")
    await screenshot(page, request, "01-user-added")

    irina = await other_page(browser)
    await sign_in(irina, live_desk, "kuznetsova", "пароль-ирины")
    await expect(irina).to_have_url(re.compile(r"/desk$"))
    await expect(irina.get_by_test_id("who")).to_contain_text("Кузнецова Ирина Олеговна · доб. 109")
    await irina.context.close()
