"""POST /api/v1/calls, the CRM's click-to-call, against the built-in PBX over real AMI: the answer carries the
call's linkedid once the PBX accepted it, and the call is then in the ledger like any other.

As in tests/service/test_calling_guard.py, yesterday, today and tomorrow are days off, so every demo client is
outside its hours now whatever the clock says.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from service.api.tokens import new_token, parse_scopes
from service.app import create_app
from service.appkeys import DB_SESSIONS
from service.db.api_tokens import ApiTokensRepository
from service.db.models import ApiAudit, ClientContact, Expert
from service.settings import Settings


def settings_for(migrated_db: str, tmp_path: Path) -> Settings:
    today = datetime.now(UTC).date()
    return Settings.model_validate({
        "database": {"url": migrated_db}, "recordings": {"dir": str(tmp_path / "recordings")},
        "simulator": {"experts": [], "demo_load": True, "speed": 20.0},
        "plan": {"extra_days_off": [str(today + timedelta(days=n)) for n in (-1, 0, 1)]},
        "desk": {"forced_wrapup": False}})


async def crm(aiohttp_client: Any, migrated_db: str, tmp_path: Path,
              *scopes: str) -> tuple[TestClient, dict[str, str]]:
    app = create_app(settings_for(migrated_db, tmp_path))
    client = await aiohttp_client(app)
    made = new_token()
    chosen = parse_scopes(scopes or ("calls", "read"))
    await ApiTokensRepository(app[DB_SESSIONS]).create("CRM", chosen, 10_000, made, None, datetime.now(UTC))
    return client, {"Authorization": f"Bearer {made.token}"}


async def marias_contact(client: TestClient) -> str:
    async with client.app[DB_SESSIONS]() as session:
        query = (select(ClientContact.external_id).where(ClientContact.phone_e164.is_not(None),
                                                         ClientContact.external_id.is_not(None)).limit(1))
        return (await session.scalars(query)).one()


async def test_the_crm_calls_a_contact_for_an_expert_and_gets_the_linkedid(aiohttp_client: Any, migrated_db: str,
                                                                          tmp_path: Path) -> None:
    client, auth = await crm(aiohttp_client, migrated_db, tmp_path)
    contact = await marias_contact(client)
    asked = await client.post("/api/v1/calls", json={"expert": "maria", "contact_id": contact}, headers=auth)
    problem = await asked.json()
    assert asked.status == 409 and problem["type"].endswith("outside-hours")
    assert "выходной день" in problem["detail"] and "confirm_outside_hours" in problem["detail"]
    made = await client.post("/api/v1/calls", json={"expert": "maria", "contact_id": contact,
                                                    "confirm_outside_hours": True}, headers=auth)
    assert made.status == 201, await made.text()
    linkedid = (await made.json())["linkedid"]
    for _ in range(100):  # the ledger writes the call as the PBX reports it
        response = await client.get(f"/api/v1/calls/{linkedid}", headers=auth)
        if response.status == 200:
            break
        await asyncio.sleep(0.1)
    assert response.status == 200
    call = await response.json()
    assert call["direction"] == "outbound" and call["expert"] == "maria"
    async with client.app[DB_SESSIONS]() as session:
        audit = (await session.scalars(select(ApiAudit.summary).where(ApiAudit.status == 201))).all()
    assert len(audit) == 1 and audit[0].startswith(f"звонок {linkedid}: Эксперт maria → +7 (")


async def test_a_refused_originate_says_why(aiohttp_client: Any, migrated_db: str, tmp_path: Path) -> None:
    client, auth = await crm(aiohttp_client, migrated_db, tmp_path)
    contact = await marias_contact(client)
    async with client.app[DB_SESSIONS]() as session:
        supervisor = (await session.scalars(select(Expert.login).where(Expert.extension.is_(None)).limit(1))).one()
    cases = [
        ({"expert": "nobody", "number": "+79115551120"}, 422, "нет активного сотрудника"),
        ({"expert": supervisor, "number": "+79115551120"}, 422, "добавочный номер"),
        ({"expert": "maria"}, 422, "ровно одно из полей"),
        ({"expert": "maria", "contact_id": contact, "number": "+79115551120"}, 422, "ровно одно из полей"),
        ({"expert": "maria", "number": "abc", "confirm_outside_hours": True}, 422, "не номер телефона"),
        ({"expert": "maria", "contact_id": "NO-SUCH"}, 422, "нет контакта"),
    ]
    for body, status, words in cases:
        response = await client.post("/api/v1/calls", json=body, headers=auth)
        problem = await response.json()
        assert (response.status, words in problem["detail"]) == (status, True), (body, problem)


async def test_originating_needs_the_calls_scope(aiohttp_client: Any, migrated_db: str, tmp_path: Path) -> None:
    client, auth = await crm(aiohttp_client, migrated_db, tmp_path, "read", "write")
    response = await client.post("/api/v1/calls", json={"expert": "maria", "number": "+79115551120"}, headers=auth)
    assert response.status == 403 and "«calls»" in (await response.json())["detail"]
