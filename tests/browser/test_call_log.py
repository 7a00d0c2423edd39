"""The call log in real Chromium: a supervisor filters, opens a call, plays and seeks its recording;
an Expert is refused another Expert's recording and the supervisor pages."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from service.appkeys import DB_SESSIONS
from service.db.models import Call, Client, ClientContact, Expert, RecordingAccess
from tests.browser.conftest import LiveDesk, screenshot, sign_in


async def client_of(desk: LiveDesk, login: str) -> tuple[str, str]:
    """(client external id, phone) of one of `login`'s clients."""
    async with desk.app[DB_SESSIONS]() as session:
        found = (await session.execute(
            select(Client.external_id, ClientContact.phone_e164)
            .join(Expert, Expert.id == Client.expert_id).join(ClientContact, ClientContact.client_id == Client.id)
            .where(Expert.login == login, ClientContact.phone_e164.is_not(None)).limit(1))).one()
    client_id, phone = found
    assert phone is not None  # the WHERE above
    return client_id, phone


async def closed_call(desk: LiveDesk, ext: str, login: str) -> str:
    """Place an answered call from `ext` to one of `login`'s clients; its linkedid once the ledger closed it."""
    client_id, phone = await client_of(desk, login)
    truth = desk.simulator.start_outbound(ext, phone, scenario="answered", expert_ring_s=0.3, ring_s=1, talk_s=3,
                                          variables=(("CLIENT_ID", client_id),))
    for _ in range(200):
        async with desk.app[DB_SESSIONS]() as session:
            row = (await session.execute(select(Call.ended_at, Call.recording)
                                         .where(Call.linkedid == truth.linkedid))).first()
        if row is not None and row.ended_at is not None and row.recording:
            return truth.linkedid
        await asyncio.sleep(0.1)
    pytest.fail(f"the ledger never closed {truth.linkedid}")


async def test_a_supervisor_filters_opens_a_call_and_plays_its_recording(
        live_desk: LiveDesk, page: Page, request: pytest.FixtureRequest) -> None:
    marias = await closed_call(live_desk, "101", "maria")
    pavels = await closed_call(live_desk, "103", "pavel")
    await sign_in(page, live_desk, "olga")
    await page.goto(live_desk.url("/calls"))
    log = page.get_by_test_id("call-log")
    await expect(log.locator(f'tr[data-linkedid="{marias}"]')).to_be_visible()
    await expect(log.locator(f'tr[data-linkedid="{pavels}"]')).to_be_visible()
    await screenshot(page, request, "01-log")

    filters = page.get_by_test_id("call-filters")
    await filters.locator('select[name="expert"]').select_option("101")
    await filters.locator('select[name="outcome"]').select_option("answered")
    await filters.locator('select[name="direction"]').select_option("outbound")
    await filters.locator('button[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/calls\?.*expert=101"))
    await expect(log.locator("tbody tr")).to_have_count(1)
    await expect(log.locator(f'tr[data-linkedid="{marias}"]')).to_be_visible()
    await expect(page.get_by_test_id("paging")).to_contain_text("показаны 1–1")
    await screenshot(page, request, "02-filtered")

    await log.locator(f'tr[data-linkedid="{marias}"] td:first-child a').click()
    await page.wait_for_url(re.compile(rf"/calls/{re.escape(marias)}$"))
    await expect(page.get_by_test_id("timeline")).to_contain_text("Ответ")
    await expect(page.get_by_test_id("call-outcome")).to_have_text("состоялся")
    player = page.get_by_test_id("player")
    await player.evaluate("a => { a.muted = true; return a.play(); }")
    await page.wait_for_function("() => document.querySelector('[data-testid=player]').readyState >= 1",
                                 timeout=10_000)
    duration = await player.evaluate("a => a.duration")
    assert duration > 1.0  # the simulator's WAV is as long as the talk
    await player.evaluate("a => { a.pause(); a.currentTime = a.duration / 2; }")
    await page.wait_for_function("() => !document.querySelector('[data-testid=player]').seeking",
                                 timeout=10_000)
    position = await player.evaluate("a => a.currentTime")
    assert position == pytest.approx(duration / 2, abs=0.3)
    await screenshot(page, request, "03-call-page")

    async with live_desk.app[DB_SESSIONS]() as session:
        plays = (await session.execute(
            select(RecordingAccess.action).join(Call, Call.id == RecordingAccess.call_id)
            .where(Call.linkedid == marias))).scalars().all()
    assert plays == ["play"]  # opening, buffering and seeking are one playback
    await page.reload()
    await expect(page.get_by_test_id("access-log")).to_contain_text("слушал(а)")


async def test_an_expert_is_refused_another_experts_recording_and_the_supervisor_pages(
        live_desk: LiveDesk, page: Page, request: pytest.FixtureRequest) -> None:
    pavels = await closed_call(live_desk, "103", "pavel")
    marias = await closed_call(live_desk, "101", "maria")
    await sign_in(page, live_desk, "maria")
    for path in (f"/calls/{pavels}/recording", f"/calls/{pavels}", "/team", "/admin/scripts"):
        response = await page.goto(live_desk.url(path))
        assert response is not None and response.status == 403, path
    await screenshot(page, request, "forbidden")
    response = await page.goto(live_desk.url("/calls/..%2F..%2Fetc%2Fpasswd/recording"))
    assert response is not None and response.status == 404
    await page.goto(live_desk.url("/calls"))
    rows = page.get_by_test_id("call-log").locator("tbody tr[data-linkedid]")
    await expect(rows).to_have_count(1)  # only her own call
    assert await rows.get_attribute("data-linkedid") == marias
