"""Tokens, scopes, rate limits and problem details: every refusal is RFC 9457 JSON, in Russian."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from service.api.problems import PROBLEM_TYPE
from service.db.api_tokens import ApiTokensRepository
from service.db.models import ApiAudit
from tests.api.conftest import ApiOffice


async def test_no_token_is_401_with_a_challenge(api_office: ApiOffice) -> None:
    status, body, response = await api_office.call("GET", "/api/v1/experts", None)
    assert status == 401
    assert response.content_type == PROBLEM_TYPE
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert body["status"] == 401 and body["title"] == "Нужен токен" and "Authorization" in body["detail"]
    assert body["instance"] == "/api/v1/experts"


async def test_an_unknown_and_a_revoked_token_are_401(api_office: ApiOffice) -> None:
    status, body, _ = await api_office.call("GET", "/api/v1/experts", "dsd_nonsense")
    assert status == 401 and "отозван" in body["detail"]
    token = await api_office.token("read")
    assert (await api_office.call("GET", "/api/v1/experts", token))[0] == 200
    repo = ApiTokensRepository(api_office.sessions)
    (view,) = [t for t in await repo.all_tokens() if t.active]
    assert await repo.revoke(view.id, datetime.now(UTC))
    assert (await api_office.call("GET", "/api/v1/experts", token))[0] == 401


async def test_a_token_without_the_scope_is_403_and_a_refused_write_is_audited(api_office: ApiOffice) -> None:
    token = await api_office.token("read")
    status, body, _ = await api_office.call("PUT", "/api/v1/clients", token,
                                            json={"items": [{"external_id": "C-9", "name": "X", "segment": "ДС"}]})
    assert status == 403 and "«write»" in body["detail"]
    async with api_office.sessions() as s:
        audit = (await s.execute(select(ApiAudit))).scalars().all()
    assert [(a.method, a.path, a.status) for a in audit] == [("PUT", "/api/v1/clients", 403)]


async def test_the_rate_limit_answers_429_with_retry_after(api_office: ApiOffice) -> None:
    token = await api_office.token("read", per_minute=3)
    statuses = [(await api_office.call("GET", "/api/v1/experts", token))[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    status, body, response = await api_office.call("GET", "/api/v1/experts", token)
    assert status == 429 and int(response.headers["Retry-After"]) >= 1 and "3 запросов в минуту" in body["detail"]


async def test_an_unknown_path_and_method_are_problems_too(api_office: ApiOffice) -> None:
    token = await api_office.token("read")
    status, body, response = await api_office.call("GET", "/api/v1/nothing", token)
    assert status == 404 and response.content_type == PROBLEM_TYPE and body["status"] == 404
    status, body, response = await api_office.call("DELETE", "/api/v1/experts", token)
    assert status == 405 and response.content_type == PROBLEM_TYPE


async def test_an_unknown_query_parameter_is_named(api_office: ApiOffice) -> None:
    token = await api_office.token("read")
    status, body, _ = await api_office.call("GET", "/api/v1/calls?limit=5&colour=red", token)
    assert status == 422 and body["errors"][0]["field"] == "colour"
    assert body["errors"][0]["message"] == "неизвестное поле"
    status, body, _ = await api_office.call("GET", "/api/v1/calls?limit=5000", token)
    assert status == 422 and body["errors"][0]["field"] == "limit"


async def test_the_api_needs_no_session_and_no_csrf(api_office: ApiOffice) -> None:
    token = await api_office.token("write")
    status, _, response = await api_office.call(
        "PUT", "/api/v1/clients", token, json={"items": [{"external_id": "C-9", "name": "X", "segment": "ДС"}]})
    assert status == 200
    assert "Set-Cookie" not in response.headers
