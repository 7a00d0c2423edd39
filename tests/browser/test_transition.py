"""Issue 15 item 4 in Chromium: an Expert's planned transition call — the «Речевой ролик» with the offer,
the call through the simulator PBX, the wrap-up's «Переход на ДС» set to «согласен» — and the client card
showing the new status with its history."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from scheduler.model import ExpertPlan, Plan, PlanItem, Reason, ReasonCode
from service.appkeys import DB_SESSIONS
from service.db.models import Client, ClientTransition
from service.db.plan import PlanRepository
from service.db.transitions import TransitionsRepository
from service.imports.runner import import_rows
from service.web.desk_context import desk_day
from tests.browser.conftest import LiveDesk, accept_outside_hours, screenshot, sign_in
from texts.plan import TOPIC_TRANSITION, transition_text

PHONE = "79115559901"


async def a_candidate_planned_for_maria(desk: LiveDesk) -> str:
    """A КС client in nobody's portfolio, made a candidate of maria by a supervisor, and the call the
    plan owes it on maria's desk day (the builder's own reason and topic); returns the item's public id."""
    sessions = desk.app[DB_SESSIONS]
    await import_rows("clients", [{"external_id": "C-T1", "name": "ООО «Переходный»", "segment": "КС",
                                   "version": "online", "timezone": "Europe/Moscow"}], sessions)
    await import_rows("contacts", [{"external_id": "K-T1", "client_external_id": "C-T1",
                                    "full_name": "Кравцова Елена Павловна", "phone": PHONE, "is_user": "да"}],
                      sessions)
    now = datetime.now(UTC)
    tz = desk.settings.organisation.tz
    await TransitionsRepository(sessions, tz=tz).assign(["C-T1"], "maria", None, now - timedelta(days=1))
    day = desk_day(desk.settings, now).day
    assigned = (now - timedelta(days=1)).astimezone(tz).date()
    item = PlanItem("maria", "C-T1", "K-T1", datetime.combine(day, time(9, 0), tz),
                    (Reason(ReasonCode.TRANSITION, transition_text("candidate", assigned)),), TOPIC_TRANSITION)
    saved = await PlanRepository(sessions).save_plan(Plan(day, (ExpertPlan("maria", day, (item,)),)))
    [public_id] = saved.created
    return public_id


async def test_an_experts_wrapup_of_a_transition_call_sets_agreed(live_desk: LiveDesk, page: Page,
                                                                  request: pytest.FixtureRequest) -> None:
    public_id = await a_candidate_planned_for_maria(live_desk)
    await sign_in(page, live_desk, "maria")
    await page.goto(live_desk.url(f"/desk?item={public_id}"))
    row = page.locator(f'.queue .row[data-item="{public_id}"]')
    await expect(row).to_have_class(re.compile(r"\bselected\b"))
    await expect(row).to_contain_text("переход на ДС: кандидат")
    script = page.get_by_test_id("script-text")
    await expect(script).to_contain_text("мы переходим на Новую систему сопровождения")
    await expect(script).to_contain_text("на современный СМАРТ-комплект")
    await screenshot(page, request, "01-transition-script")

    live_desk.simulator.script(PHONE, "answered", expert_ring_s=0.5, ring_s=1.0, talk_s=600)
    accept_outside_hours(page)  # the test may run outside the client's hours
    await page.keyboard.press("F2")
    await expect(page.get_by_test_id("live-state")).to_have_attribute("data-state", "talking", timeout=10_000)
    await page.keyboard.press("F4")
    await expect(page.get_by_test_id("live-state")).to_have_attribute("data-state", "ended", timeout=10_000)
    form = page.get_by_test_id("wrapup-form")
    await expect(form).to_be_visible(timeout=5_000)
    field = page.get_by_test_id("transition-field")
    await expect(field).to_be_visible()
    await expect(page.get_by_test_id("transition-now")).to_have_text("сейчас: кандидат")
    await expect(form.locator('select[name="topic"]')).to_have_value(TOPIC_TRANSITION)
    await page.keyboard.press("Digit1")  # «Контакт состоялся»
    await field.locator('input[name="transition"][value="agreed"]').check()
    await form.locator('textarea[name="comment"]').fill("Согласны перейти, предложение выслать на почту")
    await screenshot(page, request, "02-wrapup-agreed")
    await page.keyboard.press("F9")
    await page.wait_for_url(re.compile(r"/desk$"))

    await page.goto(live_desk.url("/clients/C-T1"))
    panel = page.get_by_test_id("transition")
    await expect(page.get_by_test_id("transition-status")).to_have_text("согласен")
    history = page.get_by_test_id("transition-history").locator("tbody tr")
    await expect(history).to_have_count(3)  # кандидат, then the call's «предложено» and «согласен»
    await expect(history.nth(0)).to_contain_text("согласен")
    await expect(history.nth(0)).to_contain_text("(итог звонка)")
    await expect(history.nth(1)).to_contain_text("предложено")
    await expect(history.nth(2)).to_contain_text("кандидат")
    await expect(panel.get_by_test_id("transition-form")).to_have_count(0)  # an Expert records it in the wrap-up
    await screenshot(page, request, "03-card")

    async with live_desk.app[DB_SESSIONS]() as session:
        rows = (await session.execute(
            select(ClientTransition.status, ClientTransition.call_id)
            .join(Client, Client.id == ClientTransition.client_id)
            .where(Client.external_id == "C-T1").order_by(ClientTransition.id))).all()
    assert [status for status, _ in rows] == ["candidate", "offered", "agreed"]
    assert rows[0][1] is None and rows[1][1] is not None and rows[1][1] == rows[2][1]
