"""The campaign for ДС on the screens over HTTP (SQLite and PostgreSQL): the wrap-up's «Переход на ДС» field
moves the status through the machine (a refused step saves nothing), the card shows the status and its
history, and a supervisor records «переведён» with its date there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from service.app import create_app
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.models import Client, ClientContact, ClientTransition, WrapUp
from service.db.transitions import TransitionsRepository
from service.db.wrapups import WrapUpRepository
from service.desk.wrapup import TransitionChoice, WrapUpInput, WrapUpResult
from service.passwords import use_hasher
from service.settings import Settings
from service.transition.errors import TransitionError
from service.transition.machine import Status
from tests.service.builders import closed_call
from tests.service.planning import MSK, at
from tests.service.web_helpers import (
    HTML_ACCEPT,
    JSON_ACCEPT,
    seed_signed_in_portfolio,
    sign_in,
    use_cheap_hashes,
)

S = Status


@dataclass
class Campaign:
    settings: Settings
    sessions: SessionMaker
    day: date
    client_id: int  # C-3: a КС client, a candidate of ivanova


@pytest.fixture
async def campaign(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path) -> AsyncIterator[Campaign]:
    previous = use_cheap_hashes()
    settings, day = await seed_signed_in_portfolio(db_sessions, migrated_db, tmp_path / "rec")
    await TransitionsRepository(db_sessions).assign(["C-3"], "ivanova", None, datetime.now(UTC) - timedelta(days=1))
    async with db_sessions() as session:
        client_id = (await session.execute(select(Client.id).where(Client.external_id == "C-3"))).scalar_one()
    yield Campaign(settings, db_sessions, day, client_id)
    use_hasher(previous)


async def signed_in(aiohttp_client: Any, campaign: Campaign, login: str) -> tuple[TestClient, str]:
    client = await aiohttp_client(create_app(campaign.settings, with_pbx=False))
    return client, await sign_in(client, login)


async def transition_call(campaign: Campaign, linkedid: str, **changes: Any) -> None:
    """ivanova's answered, unplanned call to C-3 (Пётр, K-5)."""
    start = at(campaign.day, 9, 31).astimezone(UTC)
    fields: dict[str, Any] = dict(
        expert_ext="101", started_at=start, ringing_at=None, answered_at=start + timedelta(seconds=5),
        ended_at=start + timedelta(seconds=605), duration_s=605.0, talk_s=600.0, client_id="C-3",
        client_number="79115550005", recording=None, planned_call_id=None)
    await LedgerRepository(campaign.sessions).upsert_calls([closed_call(linkedid, **{**fields, **changes})])


async def statuses(campaign: Campaign) -> list[str]:
    async with campaign.sessions() as session:
        rows = await session.execute(select(ClientTransition.status).where(
            ClientTransition.client_id == campaign.client_id).order_by(ClientTransition.id))
        return list(rows.scalars())


async def wrapups(campaign: Campaign) -> int:
    async with campaign.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(WrapUp)) or 0)


async def test_the_wrapup_of_a_transition_call_records_agreed(aiohttp_client: Any, campaign: Campaign) -> None:
    await transition_call(campaign, "L-T1")
    client, token = await signed_in(aiohttp_client, campaign, "ivanova")
    html = await (await client.get("/calls/L-T1/wrapup", headers=HTML_ACCEPT)).text()
    assert "Переход на ДС" in html and "сейчас: кандидат" in html
    for option in ('value="offered"', 'value="agreed"', 'value="declined"', 'value="postponed"'):
        assert option in html
    assert 'value="moved"' not in html  # the supervisor's, on the card
    assert "Руководство против" in html  # the configured reasons
    form = {"_csrf": token, "result": "contact_made", "topic": "Переход на дистанционный сервис",
            "transition": "agreed", "comment": "согласны с февраля"}
    response = await client.post("/calls/L-T1/wrapup", data=form, headers=JSON_ACCEPT)
    assert response.status == 200, await response.text()
    assert await statuses(campaign) == ["candidate", "offered", "agreed"]  # the call was the offer
    state = (await TransitionsRepository(campaign.sessions).current([campaign.client_id]))[campaign.client_id]
    assert (state.status, state.expert_login) == (S.AGREED, "ivanova")
    # The form again: what this call recorded is chosen; saving it again records nothing more.
    html = await (await client.get("/calls/L-T1/wrapup", headers=HTML_ACCEPT)).text()
    assert 'value="agreed" checked' in html and "записано этим звонком" in html
    assert (await client.post("/calls/L-T1/wrapup", data=form, headers=JSON_ACCEPT)).status == 200
    assert await statuses(campaign) == ["candidate", "offered", "agreed"] and await wrapups(campaign) == 1
    # The card shows it, with its history.
    card = await (await client.get("/clients/C-3", headers=HTML_ACCEPT)).text()
    assert 'data-testid="transition-status">согласен<' in card
    assert card.count("(итог звонка)") == 2
    assert 'data-testid="transition-form"' not in card  # an Expert changes it in the wrap-up only


@pytest.mark.parametrize(("form", "field_error"), [
    ({"transition": "moved"}, "«Переведён» с датой перевода отмечает руководитель группы"),
    ({"transition": "declined"}, "Укажите причину отказа"),
    ({"transition": "declined", "transition_reason": "Погода"}, "Причина отказа «Погода» не из списка"),
    ({"transition": "postponed"}, "Укажите, до какого дня отложить переход"),
    ({"transition": "postponed", "transition_until": "завтра"}, "Непонятная дата «завтра»"),
    ({"transition": "offered", "result": "not_reached"}, "клиента не было на линии"),
    ({"transition": "maybe"}, "Неизвестный статус перехода «maybe»"),
])
async def test_a_refused_step_shows_the_problem_and_saves_nothing(aiohttp_client: Any, campaign: Campaign,
                                                                  form: dict[str, str], field_error: str) -> None:
    await transition_call(campaign, "L-T2")
    client, token = await signed_in(aiohttp_client, campaign, "ivanova")
    data = {"_csrf": token, "result": "contact_made", "comment": "обсудили", **form}
    response = await client.post("/calls/L-T2/wrapup", data=data, headers=HTML_ACCEPT)
    assert response.status == 422
    html = await response.text()
    assert field_error in html and "Итог не сохранён" in html and "обсудили" in html
    assert await statuses(campaign) == ["candidate"] and await wrapups(campaign) == 0


async def test_a_postponement_is_recorded_with_its_day(aiohttp_client: Any, campaign: Campaign) -> None:
    await transition_call(campaign, "L-T3")
    client, token = await signed_in(aiohttp_client, campaign, "ivanova")
    until = (campaign.day + timedelta(days=30)).isoformat()
    response = await client.post("/calls/L-T3/wrapup", headers=JSON_ACCEPT, data={
        "_csrf": token, "result": "callback", "next_contact": "", "transition": "postponed",
        "transition_until": until, "transition_reason": "Другое"})
    assert response.status == 422  # «Просили перезвонить» still needs its time
    response = await client.post("/calls/L-T3/wrapup", headers=JSON_ACCEPT, data={
        "_csrf": token, "result": "contact_made", "transition": "postponed", "transition_until": until})
    assert response.status == 200, await response.text()
    state = (await TransitionsRepository(campaign.sessions).current([campaign.client_id]))[campaign.client_id]
    assert (state.status, state.until, state.reason) == (S.POSTPONED, date.fromisoformat(until), None)


async def test_a_client_outside_the_campaign_has_no_field(aiohttp_client: Any, campaign: Campaign) -> None:
    await transition_call(campaign, "L-T4", client_id="C-1", client_number="79115550001")
    client, token = await signed_in(aiohttp_client, campaign, "ivanova")
    html = await (await client.get("/calls/L-T4/wrapup", headers=HTML_ACCEPT)).text()
    assert "Переход на ДС" not in html
    response = await client.post("/calls/L-T4/wrapup", headers=JSON_ACCEPT, data={
        "_csrf": token, "result": "contact_made", "transition": "agreed"})
    assert response.status == 200 and await wrapups(campaign) == 1


async def test_a_step_refused_at_saving_leaves_the_wrapup_unsaved(campaign: Campaign) -> None:
    """The status changed between the form's check and the save (the card, another tab): one transaction."""
    await transition_call(campaign, "L-T5")
    wrapup = WrapUpInput(WrapUpResult.CONTACT_MADE, None, False, False, None, None,
                         transition=TransitionChoice(S.AGREED))
    async with campaign.sessions() as session:
        expert_id = (await session.execute(select(Client.expert_id).where(Client.external_id == "C-1"))).scalar_one()
    assert expert_id is not None
    await TransitionsRepository(campaign.sessions).change(campaign.client_id, S.DECLINED, None, datetime.now(UTC),
                                                          reason="Другое")
    with pytest.raises(TransitionError, match="уже решён"):
        await WrapUpRepository(campaign.sessions).save("L-T5", expert_id, wrapup, campaign.day, datetime.now(UTC))
    assert await wrapups(campaign) == 0


async def test_a_supervisor_records_the_move_on_the_card(aiohttp_client: Any, campaign: Campaign) -> None:
    repo = TransitionsRepository(campaign.sessions)
    boss, token = await signed_in(aiohttp_client, campaign, "smirnova")
    card = await (await boss.get("/clients/C-3", headers=HTML_ACCEPT)).text()
    assert 'data-testid="transition-status">кандидат<' in card and 'data-testid="transition-form"' in card
    assert "Речевой ролик" in card  # the card of a campaign's client opens on the transition script
    today = datetime.now(UTC).astimezone(MSK).date()
    # Skipping the offer is refused, with why, and nothing is recorded.
    response = await boss.post("/clients/C-3/transition", headers=HTML_ACCEPT,
                               data={"_csrf": token, "status": "moved", "until": today.isoformat()})
    assert response.status == 422
    assert "сначала «предложено», затем «согласен»" in await response.text()
    assert await statuses(campaign) == ["candidate"]
    await repo.change(campaign.client_id, S.OFFERED, None, datetime.now(UTC))
    await repo.change(campaign.client_id, S.AGREED, None, datetime.now(UTC))
    response = await boss.post("/clients/C-3/transition", headers=HTML_ACCEPT, allow_redirects=False,
                               data={"_csrf": token, "status": "moved", "until": today.isoformat(),
                                     "note": "договор подписан"})
    assert response.status == 303 and response.headers["Location"] == "/clients/C-3"
    async with campaign.sessions() as session:
        moved = (await session.execute(select(Client.segment, Client.ds_since, Client.expert_id)
                                       .where(Client.id == campaign.client_id))).one()
        ivanova = (await session.execute(select(Client.expert_id).where(Client.external_id == "C-1"))).scalar_one()
    assert tuple(moved) == ("ДС", today, ivanova)
    card = await (await boss.get("/clients/C-3", headers=HTML_ACCEPT)).text()
    assert 'data-testid="transition-status">переведён<' in card and "договор подписан" in card
    assert 'data-testid="transition-form"' not in card  # decided: nothing more to record


async def test_only_a_supervisor_may_record_on_the_card_and_csrf_is_required(aiohttp_client: Any,
                                                                             campaign: Campaign) -> None:
    expert, token = await signed_in(aiohttp_client, campaign, "ivanova")
    response = await expert.post("/clients/C-3/transition", headers=HTML_ACCEPT,
                                 data={"_csrf": token, "status": "offered"})
    assert response.status == 403
    boss, _ = await signed_in(aiohttp_client, campaign, "smirnova")
    response = await boss.post("/clients/C-3/transition", headers=HTML_ACCEPT, data={"status": "offered"})
    assert response.status == 403
    assert await statuses(campaign) == ["candidate"]


async def test_the_campaigns_expert_may_call_the_client_from_its_card(aiohttp_client: Any,
                                                                      campaign: Campaign) -> None:
    """Found in review: C-3 is not in ivanova's portfolio yet (a КС client), but its campaign is hers."""
    async with campaign.sessions.begin() as session:
        await session.execute(update(ClientContact).where(ClientContact.external_id == "K-5")
                              .values(phone_e164="79115550005"))
    client = await aiohttp_client(create_app(campaign.settings))  # with the built-in PBX
    token = await sign_in(client, "ivanova")
    headers = {"X-CSRF-Token": token, **JSON_ACCEPT}
    called = await client.post("/calls", data={"contact": "K-5", "confirm_outside_hours": "1"}, headers=headers)
    assert called.status == 200, await called.text()
    stranger = await aiohttp_client(create_app(campaign.settings))
    token = await sign_in(stranger, "petrov")
    refused = await stranger.post("/calls", data={"contact": "K-5", "confirm_outside_hours": "1"},
                                  headers={"X-CSRF-Token": token, **JSON_ACCEPT})
    assert refused.status == 403 and "другого Эксперта" in (await refused.json())["error"]


async def test_a_ks_clients_brief_says_ks_not_ds(aiohttp_client: Any, campaign: Campaign) -> None:
    """Found trying issue 15: the brief printed «ДС» for a client still served by a СИО."""
    client, _ = await signed_in(aiohttp_client, campaign, "ivanova")
    html = await (await client.get("/clients/C-3", headers=HTML_ACCEPT)).text()
    segment = html.split('data-testid="brief-segment">', 1)[1].split("</dd>", 1)[0]
    assert segment.startswith("КС") and "ДС" not in segment, segment
