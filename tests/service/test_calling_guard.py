"""Issue 14 item 1 over HTTP with the built-in PBX: a call outside the client's hours is a question
(409 with «confirm») the Expert answers, or, with desk.block_outside_hours, a refusal.

Yesterday, today and tomorrow are made days off, so every demo client (Kaliningrad to Novosibirsk)
is outside its hours now, whatever the clock says.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from dialer.records import Outcome
from service.app import create_app
from service.appkeys import DB_SESSIONS
from service.db.ledger import LedgerRepository
from service.db.models import Expert, PlannedCall
from service.settings import Settings
from tests.service.builders import closed_call
from tests.service.web_helpers import JSON_ACCEPT, csrf_header, sign_in

Client = Callable[..., Awaitable[tuple[TestClient, str, str]]]


def settings_for(migrated_db: str, tmp_path: Path, **desk: Any) -> Settings:
    today = datetime.now(UTC).date()
    days_off = [str(today + timedelta(days=n)) for n in (-1, 0, 1)]
    return Settings.model_validate({
        "database": {"url": migrated_db}, "recordings": {"dir": str(tmp_path / "recordings")},
        "simulator": {"experts": [], "demo_load": True}, "plan": {"extra_days_off": days_off}, "desk": desk})


async def maria_with_an_item(aiohttp_client: Any, settings: Settings) -> tuple[TestClient, str, str]:
    app = create_app(settings)
    client = await aiohttp_client(app)
    token = await sign_in(client, "maria", "maria-demo")
    async with app[DB_SESSIONS]() as session:
        item = (await session.scalars(select(PlannedCall.public_id).join(Expert, Expert.id == PlannedCall.expert_id)
                                      .where(Expert.login == "maria").limit(1))).one()
    return client, token, item


async def test_outside_hours_the_desk_asks_and_the_confirmed_call_goes_through(aiohttp_client: Any,
                                                                              migrated_db: str,
                                                                              tmp_path: Path) -> None:
    client, token, item = await maria_with_an_item(aiohttp_client, settings_for(migrated_db, tmp_path))
    headers = {**csrf_header(token), **JSON_ACCEPT}
    asked = await client.post("/calls", data={"item": item}, headers=headers)
    payload = await asked.json()
    assert asked.status == 409 and payload["outside_hours"] is True
    assert payload["confirm"].startswith("У клиента сейчас ") and "выходной день" in payload["confirm"]
    assert payload["confirm"].endswith("Всё равно позвонить?")
    assert payload["confirm"].count("сейчас") == 1, payload["confirm"]  # was «…сейчас 05:42, вт: у клиента сейчас…»
    confirmed = await client.post("/calls", data={"item": item, "confirm_outside_hours": "1"}, headers=headers)
    assert confirmed.status == 200, await confirmed.text()
    assert (await confirmed.json())["linkedid"]


async def test_a_supervisor_can_forbid_calls_outside_hours(aiohttp_client: Any, migrated_db: str,
                                                           tmp_path: Path) -> None:
    settings = settings_for(migrated_db, tmp_path, block_outside_hours=True)
    client, token, item = await maria_with_an_item(aiohttp_client, settings)
    refused = await client.post("/calls", data={"item": item, "confirm_outside_hours": "1"},
                                headers={**csrf_header(token), **JSON_ACCEPT})
    payload = await refused.json()
    assert refused.status == 409 and "confirm" not in payload
    assert "выходной день" in payload["error"] and "запрещено" in payload["error"]
    # The desk says so before the click: the button is off and the hint says why.
    desk = await (await client.get(f"/desk?item={item}")).text()
    button = re.search(r'<button type="button" id="call-btn"[^>]*>', desk)
    assert button and "disabled" in button[0], button
    assert "звонить в это время в отделе запрещено" in desk
    # The brief's own per-contact buttons too (they stayed on; only the server's refusal said no).
    contact_buttons = re.findall(r'<button type="button" class="small call-contact"[^>]*>', desk)
    assert contact_buttons and all(" disabled" in b for b in contact_buttons), contact_buttons


async def test_no_new_call_while_a_call_of_today_has_no_wrapup(aiohttp_client: Any, migrated_db: str,
                                                               tmp_path: Path) -> None:
    """desk.forced_wrapup (on by default): the refusal names the call and hands its linkedid to the desk."""
    client, token, item = await maria_with_an_item(aiohttp_client, settings_for(migrated_db, tmp_path))
    sessions = client.app[DB_SESSIONS]
    async with sessions() as session:
        extension = (await session.scalars(select(Expert.extension).where(Expert.login == "maria"))).one()
    start = datetime.now(UTC) - timedelta(minutes=2)
    await LedgerRepository(sessions).upsert_calls([closed_call(
        "1765000000.7", expert_ext=extension, started_at=start, ringing_at=None,
        answered_at=start + timedelta(seconds=5), ended_at=start + timedelta(seconds=65), client_number="79115550001",
        client_name="ООО «Полюс»")])
    headers = {**csrf_header(token), **JSON_ACCEPT}
    # The desk says so before any click: the button is off, and the hint links to the call owed.
    desk = await (await client.get(f"/desk?item={item}")).text()
    button = re.search(r'<button type="button" id="call-btn"[^>]*>', desk)
    assert button and "disabled" in button[0], button
    hint = re.search(r'data-testid="call-blocked">(.*?)</div>', desk, re.S)
    assert hint and "Сначала сохраните итог звонка" in hint[1] and "ООО «Полюс»" in hint[1], hint
    # Outside the client's hours too (a day off): the wrap-up is said first, not «Всё равно позвонить?» and
    # then a refusal anyway.
    unconfirmed = await client.post("/calls", data={"item": item}, headers=headers)
    assert unconfirmed.status == 409 and "confirm" not in (first := await unconfirmed.json()), first
    assert first["wrapup_linkedid"] == "1765000000.7"
    refused = await client.post("/calls", data={"item": item, "confirm_outside_hours": "1"}, headers=headers)
    payload = await refused.json()
    assert refused.status == 409 and payload["wrapup_linkedid"] == "1765000000.7"
    assert payload["error"].startswith("Сначала сохраните итог звонка: ООО «Полюс», ")
    saved = await client.post("/calls/1765000000.7/wrapup", data={"result": "not_reached"}, headers=headers)
    assert saved.status == 200, await saved.text()
    allowed = await client.post("/calls", data={"item": item, "confirm_outside_hours": "1"}, headers=headers)
    assert allowed.status == 200, await allowed.text()


async def test_forced_wrapup_can_be_switched_off_and_an_own_miss_never_blocks(aiohttp_client: Any, migrated_db: str,
                                                                               tmp_path: Path) -> None:
    client, token, item = await maria_with_an_item(
        aiohttp_client, settings_for(migrated_db, tmp_path, forced_wrapup=False))
    sessions = client.app[DB_SESSIONS]
    async with sessions() as session:
        extension = (await session.scalars(select(Expert.extension).where(Expert.login == "maria"))).one()
    start = datetime.now(UTC) - timedelta(minutes=2)
    await LedgerRepository(sessions).upsert_calls([closed_call(
        "1765000000.8", expert_ext=extension, started_at=start, ended_at=start + timedelta(seconds=65))])
    allowed = await client.post("/calls", data={"item": item, "confirm_outside_hours": "1"},
                                headers={**csrf_header(token), **JSON_ACCEPT})
    assert allowed.status == 200, await allowed.text()


async def test_the_experts_own_miss_needs_no_wrapup_before_the_next_call(aiohttp_client: Any, migrated_db: str,
                                                                         tmp_path: Path) -> None:
    client, token, item = await maria_with_an_item(aiohttp_client, settings_for(migrated_db, tmp_path))
    sessions = client.app[DB_SESSIONS]
    async with sessions() as session:
        extension = (await session.scalars(select(Expert.extension).where(Expert.login == "maria"))).one()
    start = datetime.now(UTC) - timedelta(minutes=2)
    await LedgerRepository(sessions).upsert_calls([closed_call(
        "1765000000.9", expert_ext=extension, started_at=start, answered_at=None, talk_s=0.0,
        ended_at=start + timedelta(seconds=30), outcome=Outcome.EXPERT_NO_ANSWER)])
    allowed = await client.post("/calls", data={"item": item, "confirm_outside_hours": "1"},
                                headers={**csrf_header(token), **JSON_ACCEPT})
    assert allowed.status == 200, await allowed.text()
