"""Admins issue and revoke tokens in the web UI and with `dsdesk tokens`; only the hash is stored."""

from __future__ import annotations

import re
import subprocess
import sys

from sqlalchemy import select

from service.api.tokens import token_digest
from service.db.models import ApiToken
from tests.api.conftest import ApiOffice
from tests.service.web_helpers import HTML_ACCEPT, add_user, sign_in


async def test_an_admin_issues_a_token_that_works_once_shown_and_revokes_it(api_office: ApiOffice) -> None:
    await add_user(api_office.settings, "root", role="admin", extension=None, full_name="Админов Админ")
    client = api_office.client
    csrf = await sign_in(client, "root")
    response = await client.post("/admin/api", data={"_csrf": csrf, "name": "CRM ВЭ", "scopes": ["read", "calls"],
                                                     "per_minute": "120"}, headers=HTML_ACCEPT)
    page = await response.text()
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    found = re.search(r'value="(dsd_[A-Za-z0-9_-]+)" data-testid="token"', page)
    assert found is not None
    secret = found[1]
    async with api_office.sessions() as s:
        row = (await s.execute(select(ApiToken))).scalar_one()
    assert row.token_hash == token_digest(secret) and secret not in str(row.__dict__)
    assert (row.scopes, row.per_minute, row.name) == (["read", "calls"], 120, "CRM ВЭ")
    assert (await api_office.call("GET", "/api/v1/experts", secret))[0] == 200
    listing = await (await client.get("/admin/api", headers=HTML_ACCEPT)).text()
    assert secret not in listing and secret[:12] in listing  # only the beginning, never again the whole
    response = await client.post(f"/admin/api/{row.id}/revoke", data={"_csrf": csrf}, headers=HTML_ACCEPT)
    assert "Токен отозван" in await response.text()
    assert (await api_office.call("GET", "/api/v1/experts", secret))[0] == 401


async def test_a_bad_token_form_says_what_is_wrong_and_an_expert_gets_403(api_office: ApiOffice) -> None:
    await add_user(api_office.settings, "root", role="admin", extension=None, full_name="Админов Админ")
    client = api_office.client
    csrf = await sign_in(client, "root")
    response = await client.post("/admin/api", data={"_csrf": csrf, "name": " ", "per_minute": "²"},
                                 headers=HTML_ACCEPT)
    page = await response.text()
    assert response.status == 422
    assert "Укажите название токена" in page and "Укажите хотя бы одно право" in page and "от 1 до 100000" in page
    async with api_office.sessions() as s:
        assert (await s.execute(select(ApiToken))).first() is None
    await client.post("/logout", data={"_csrf": csrf})
    await sign_in(client, "ivanova")
    assert (await client.get("/admin/api", headers=HTML_ACCEPT)).status == 403


def dsdesk(settings_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service", *args], capture_output=True, text=True, timeout=120,
                          env={"DSDESK_DATABASE_URL": settings_url, "PATH": "/usr/bin:/bin"})


async def test_the_cli_creates_lists_and_revokes_tokens_in_russian(api_office: ApiOffice) -> None:
    url = api_office.settings.database.url
    made = dsdesk(url, "tokens", "create", "BI отдела", "--scopes", "read,write", "--per-minute", "60")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.splitlines()[1]
    assert secret.startswith("dsd_") and "один раз" in made.stdout
    assert (await api_office.call("GET", "/api/v1/experts", secret))[0] == 200
    listed = dsdesk(url, "tokens", "list")
    assert "BI отдела" in listed.stdout and secret not in listed.stdout and "действует" in listed.stdout
    bad = dsdesk(url, "tokens", "create", "X", "--scopes", "admin")
    assert bad.returncode != 0 and "неизвестные права: admin" in bad.stderr
    revoked = dsdesk(url, "tokens", "revoke", "1")
    assert revoked.returncode == 0 and "отозван" in revoked.stdout
    assert (await api_office.call("GET", "/api/v1/experts", secret))[0] == 401
    again = dsdesk(url, "tokens", "revoke", "1")
    assert again.returncode != 0 and "уже отозван" in again.stderr
    assert "токены REST API" in dsdesk(url, "--help").stdout
