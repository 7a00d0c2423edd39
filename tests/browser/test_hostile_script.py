"""A script version carrying navigation markup cannot take the Expert's desk away (the probe's F4).

The version is stored directly, as one saved before the allowlist existed would be; the editor
refuses such text now (tests/security/test_sandbox_limits.py). In real Chromium the desk stays on
DS Desk: the `<meta http-equiv="refresh">` is gone from the page, and nothing was fetched from
the outside address.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from playwright.async_api import Page, Request, expect

from service.appkeys import DB_SESSIONS
from service.db.script_versions import ScriptVersionsRepository
from tests.browser.conftest import LiveDesk, screenshot, sign_in

OUTSIDE = "http://127.0.0.1:9/evil"
NAVIGATING = (f'<meta http-equiv="refresh" content="0;url={OUTSIDE}">'
              '<p class="say" data-mark="hostile">Здравствуйте! {{ contact.io }}</p>'
              f'<img src="{OUTSIDE}.gif"><iframe src="{OUTSIDE}"></iframe><base href="{OUTSIDE}/">'
              f'<form action="{OUTSIDE}" method="post"><button data-mark="send">Отправить</button></form>')


async def test_a_stored_script_cannot_navigate_the_desk_away(live_desk: LiveDesk, page: Page,
                                                            request: pytest.FixtureRequest) -> None:
    outside: list[str] = []

    def watch(req: Request) -> None:
        if req.url.startswith(OUTSIDE):
            outside.append(req.url)

    page.on("request", watch)
    await sign_in(page, live_desk, "maria")
    script_text = page.get_by_test_id("script-text")
    await expect(script_text).to_be_visible()
    file = await script_text.get_attribute("data-script")
    assert file
    sessions = live_desk.app[DB_SESSIONS]
    await ScriptVersionsRepository(sessions).add(file, NAVIGATING, None, datetime.now(UTC))
    await page.reload()
    await expect(page.locator('[data-mark="hostile"]')).to_contain_text("Здравствуйте!")
    await asyncio.sleep(1.5)  # a refresh of 0 s would have fired by now
    assert page.url.startswith(live_desk.base_url), page.url
    assert await page.locator("[data-testid=script-text] meta, [data-testid=script-text] iframe, "
                              "[data-testid=script-text] form, [data-testid=script-text] img").count() == 0
    assert outside == []
    await screenshot(page, request, "desk-after-hostile-script")
