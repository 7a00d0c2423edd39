"""Reads (keyset pages, the incremental sync), bulk upserts (all or nothing, idempotent) and bad bodies."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from service.api.bulk import MAX_ITEMS
from service.db.ledger import LedgerRepository
from service.db.models import Client
from tests.api.conftest import ApiOffice
from tests.service.builders import closed_call


async def record(office: ApiOffice, count: int, start: datetime) -> list[str]:
    records = [closed_call(f"api.{n:03d}", started_at=start + timedelta(minutes=n), expert_ext="101",
                           answered_at=start + timedelta(minutes=n, seconds=5),
                           ended_at=start + timedelta(minutes=n, seconds=65), duration_s=65.0, talk_s=60.0)
               for n in range(count)]
    await LedgerRepository(office.sessions).upsert_calls(records)
    return [r.linkedid for r in records]


async def test_calls_page_by_cursor_without_gaps_or_repeats(api_office: ApiOffice) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    linkedids = await record(api_office, 7, start)
    token = await api_office.token("read")
    seen: list[str] = []
    url = "/api/v1/calls?limit=3"
    while True:
        status, body, _ = await api_office.call("GET", url, token)
        assert status == 200
        seen += [c["linkedid"] for c in body["items"]]
        if body["next_cursor"] is None:
            break
        url = f"/api/v1/calls?limit=3&cursor={body['next_cursor']}"
    assert seen == linkedids
    status, body, _ = await api_office.call("GET", f"/api/v1/calls/{linkedids[0]}", token)
    assert status == 200 and body["expert"] == "ivanova" and body["talk_s"] == 60.0 and body["outcome"] == "answered"


async def test_updated_since_returns_changes_and_a_cursor_to_ask_with_next_time(api_office: ApiOffice) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    before = datetime.now(UTC) - timedelta(seconds=1)
    await record(api_office, 2, start)
    token = await api_office.token("read")
    since = before.isoformat().replace("+00:00", "Z")
    status, body, _ = await api_office.call("GET", "/api/v1/calls", token, params={"updated_since": since})
    assert status == 200 and len(body["items"]) == 2 and not body["has_more"]
    cursor = body["next_cursor"]
    status, body, _ = await api_office.call("GET", "/api/v1/calls", token,
                                            params={"updated_since": since, "cursor": cursor})
    assert body["items"] == [] and body["next_cursor"] == cursor  # nothing new: ask again with the same cursor
    changed = dataclasses.replace(closed_call("api.000", started_at=start, expert_ext="101"), talk_s=61.0)
    await LedgerRepository(api_office.sessions).upsert_calls([changed])
    status, body, _ = await api_office.call("GET", "/api/v1/calls", token,
                                            params={"updated_since": since, "cursor": cursor})
    assert [c["linkedid"] for c in body["items"]] == ["api.000"]


async def test_a_first_sync_with_nothing_new_still_gives_a_cursor_that_finds_later_changes(
        api_office: ApiOffice) -> None:
    """Found by the benchmark: with no change since `updated_since`, next_cursor was null."""
    token = await api_office.token("read")
    since = datetime.now(UTC).isoformat()
    status, body, _ = await api_office.call("GET", "/api/v1/calls", token, params={"updated_since": since})
    assert status == 200 and body["items"] == [] and body["next_cursor"] is not None
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    await record(api_office, 1, start)
    status, body, _ = await api_office.call("GET", "/api/v1/calls", token,
                                            params={"updated_since": since, "cursor": body["next_cursor"]})
    assert [c["linkedid"] for c in body["items"]] == ["api.000"]


async def test_a_naive_updated_since_and_a_foreign_cursor_are_refused(api_office: ApiOffice) -> None:
    token = await api_office.token("read")
    status, body, _ = await api_office.call("GET", "/api/v1/calls?updated_since=2026-12-01T10:00:00", token)
    assert status == 422 and body["errors"][0]["field"] == "updated_since"
    status, body, _ = await api_office.call("GET", "/api/v1/calls?cursor=bm9wZQ", token)
    assert status == 422 and "курсор" in body["detail"]


async def test_bulk_clients_are_all_or_nothing_and_idempotent(api_office: ApiOffice) -> None:
    token = await api_office.token("write", "read")
    items = [{"external_id": f"N-{n}", "name": f"ООО «Новая {n}»", "segment": "ДС", "expert_login": "ivanova"}
             for n in range(3)]
    status, body, _ = await api_office.call("PUT", "/api/v1/clients", token, json={"items": items})
    assert status == 200 and (body["new"], body["updated"], body["unchanged"]) == (3, 0, 0)
    status, body, _ = await api_office.call("PUT", "/api/v1/clients", token, json={"items": items})
    assert (body["new"], body["updated"], body["unchanged"]) == (0, 0, 3)
    bad = [*items, {"external_id": "N-9", "name": "X", "segment": "Луна"},
           {"external_id": "N-10", "name": "Y", "segment": "ДС", "inn": "12"}]
    bad[0] = {**bad[0], "name": "ООО «Переименована»"}
    status, body, _ = await api_office.call("PUT", "/api/v1/clients", token, json={"items": bad})
    assert status == 422
    assert {(e["item"], e["field"]) for e in body["errors"]} == {(3, "segment"), (4, "inn")}
    async with api_office.sessions() as s:
        names = (await s.execute(select(Client.name).where(Client.external_id.like("N-%")))).scalars().all()
    assert sorted(names) == ["ООО «Новая 0»", "ООО «Новая 1»", "ООО «Новая 2»"]  # nothing half-written
    status, body, _ = await api_office.call("GET", "/api/v1/clients/N-1", token)
    assert status == 200 and body["expert"] == "ivanova" and body["contacts"] == []


async def test_bad_bodies_get_precise_problems(api_office: ApiOffice) -> None:
    token = await api_office.token("write")
    status, body, _ = await api_office.call("PUT", "/api/v1/clients", token, data=b'{"items": [',
                                            headers={"Content-Type": "application/json"})
    assert status == 400 and body["type"].endswith("malformed-json")
    status, body, _ = await api_office.call("PUT", "/api/v1/clients", token, data=b"items",
                                            headers={"Content-Type": "text/plain"})
    assert status == 415
    status, body, _ = await api_office.call(
        "PUT", "/api/v1/clients", token,
        json={"items": [{"external_id": "N-1", "name": "A", "segment": "ДС", "colour": "red"}]})
    assert status == 422 and body["errors"] == [{"item": 0, "field": "items.0.colour", "message": "неизвестное поле"}]
    status, body, _ = await api_office.call("PUT", "/api/v1/clients", token,
                                            json={"items": [{"external_id": ["N-1"], "name": "A", "segment": "ДС"}]})
    assert status == 422 and body["errors"][0]["item"] == 0
    too_many = [{"external_id": f"M-{n}", "name": "A", "segment": "ДС"} for n in range(MAX_ITEMS + 1)]
    status, body, _ = await api_office.call("PUT", "/api/v1/clients", token, json={"items": too_many})
    assert status == 422 and body["errors"][0]["field"] == "items"
    async with api_office.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Client).where(Client.external_id.like("M-%"))) == 0


async def test_experts_plan_and_figures_read(api_office: ApiOffice) -> None:
    token = await api_office.token("read")
    status, body, _ = await api_office.call("GET", "/api/v1/experts", token)
    assert status == 200 and "ivanova" in [e["login"] for e in body["items"]]
    status, body, _ = await api_office.call("GET", f"/api/v1/plan?day={api_office.day}&expert=ivanova", token)
    assert status == 200 and isinstance(body["items"], list)
    status, body, _ = await api_office.call("GET", f"/api/v1/plan?day={api_office.day}&expert=nobody", token)
    assert status == 404
    status, body, _ = await api_office.call("GET", f"/api/v1/figures?day={api_office.day}&period=month", token)
    assert status == 200 and body["scope"] == "department" and any(f["key"] for f in body["figures"])


async def test_the_openapi_document_is_served_and_the_docs_page_lists_it(api_office: ApiOffice) -> None:
    status, body, _ = await api_office.call("GET", "/api/v1/openapi.json", None)
    assert status == 200 and body["openapi"] == "3.1.0" and "/api/v1/calls" in body["paths"]
    response = await api_office.client.get("/api/v1/docs")
    text = await response.text()
    assert response.status == 200 and "/api/v1/calls" in text and "Звонки (журнал АТС)" in text


async def test_without_the_pbx_an_originate_is_503_and_audited(api_office: ApiOffice) -> None:
    token = await api_office.token("calls")
    status, body, _ = await api_office.call("POST", "/api/v1/calls", token,
                                            json={"expert": "ivanova", "number": "+7 (911) 555-11-20"})
    assert status == 503 and body["type"].endswith("pbx-unavailable") and "АТС" in body["detail"]
