"""The admins' webhook pages over HTTP, on SQLite and PostgreSQL: a refused URL is shown and nothing saved;
the secret is shown to admins only; the delivery log and «Повторить»; other roles get 403."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from service.app import create_app
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.users import UsersRepository
from service.passwords import hash_password, use_hasher
from service.settings import Settings
from service.webhooks import outbox
from service.webhooks.outbox import Attempt
from service.webhooks.subscriptions import SubscriptionsRepository
from tests.service.builders import closed_call
from tests.service.planning import seed_portfolio
from tests.service.web_helpers import DEFAULT_PASSWORD, HTML_ACCEPT, sign_in, use_cheap_hashes


@dataclass
class Office:
    settings: Settings
    sessions: SessionMaker
    aiohttp_client: Any

    async def client(self, login: str) -> tuple[TestClient, str]:
        client: TestClient = await self.aiohttp_client(create_app(self.settings, with_pbx=False))
        return client, await sign_in(client, login)


@pytest.fixture
async def office(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path, aiohttp_client: Any) -> Any:
    previous = use_cheap_hashes()
    settings = Settings.model_validate({
        "database": {"url": migrated_db}, "recordings": {"dir": str(tmp_path / "rec")},
        "service": {"secret_key_file": str(tmp_path / "secret.key"), "login_refusal_delay_s": 0},
        "webhooks": {"allow_private_hosts": ["127.0.0.1"]},  # the on-premises CRM of these tests
    })
    await seed_portfolio(db_sessions)
    users = UsersRepository(db_sessions)
    await users.set_password_hash("smirnova", hash_password(DEFAULT_PASSWORD))
    await users.add("root", "Админов Админ", "admin", None, hash_password(DEFAULT_PASSWORD))
    yield Office(settings, db_sessions, aiohttp_client)
    use_hasher(previous)


async def post(client: TestClient, path: str, token: str, **fields: Any) -> tuple[int, str, str]:
    response = await client.post(path, data={"_csrf": token, **fields}, headers=HTML_ACCEPT, allow_redirects=False)
    return response.status, await response.text(), response.headers.get("Location", "")


@pytest.mark.parametrize(("url", "message"), [
    ("http://169.254.169.254/latest/meta-data/", "адрес метаданных облака"),
    ("file:///etc/passwd", "http:// или https://"),
    ("ftp://example.com/", "http:// или https://"),
    ("http://user:pass@127.0.0.1:9000/", "Логин и пароль"),
    ("http://[::1]:9000/", "loopback"),  # only 127.0.0.1 is allowed here
    ("http://10.0.0.5/", "адрес внутренней сети"),
    ("http://127.0.0.1:8080/hook", "сам DS Desk"),  # DS Desk's own service.host:port, allowed or not
    ("http://localhost:8080/", "сам DS Desk"),
])
async def test_a_refused_url_is_shown_and_nothing_is_saved(office: Office, url: str, message: str) -> None:
    client, token = await office.client("root")
    status, html, _ = await post(client, "/admin/webhooks", token, url=url, events=["call.ended"])
    assert status == 422 and message in html, html[-3000:]
    assert 'data-testid="error-url"' in html
    assert await SubscriptionsRepository(office.sessions).all() == []


async def test_an_admin_adds_sees_the_secret_turns_off_and_deletes(office: Office) -> None:
    client, token = await office.client("root")
    status, html, _ = await post(client, "/admin/webhooks", token, url="http://127.0.0.1:9000/hook", events=[])
    assert status == 422 and "Отметьте хотя бы одно событие." in html
    status, _, location = await post(client, "/admin/webhooks", token, url=" http://127.0.0.1:9000/hook ",
                                     events=["wrapup.saved", "call.started", "bogus"])
    assert status == 303 and location.startswith("/admin/webhooks?done=created#hook-")
    (hook,) = await SubscriptionsRepository(office.sessions).all()
    assert (hook.url, hook.events, hook.active, hook.created_by) == (
        "http://127.0.0.1:9000/hook", ("call.started", "wrapup.saved"), True, "Админов Админ")
    assert hook.secret.startswith("whsec_") and len(hook.secret) > 40
    page = await (await client.get("/admin/webhooks", headers=HTML_ACCEPT)).text()
    assert hook.secret in page and "http://127.0.0.1:9000/hook" in page

    status, _, _ = await post(client, f"/admin/webhooks/{hook.id}/active", token, active="0")
    assert status == 303 and not (await SubscriptionsRepository(office.sessions).get(hook.id)).active
    status, html, _ = await post(client, f"/admin/webhooks/{hook.id}/delete", token)
    assert status == 422 and "отметьте «Да, удалить»" in html
    status, _, _ = await post(client, f"/admin/webhooks/{hook.id}/delete", token, confirm="yes")
    assert status == 303 and await SubscriptionsRepository(office.sessions).all() == []
    assert (await client.get(f"/admin/webhooks/{hook.id}/deliveries", headers=HTML_ACCEPT)).status == 404


async def test_the_delivery_log_shows_the_error_and_retries_a_failed_one(office: Office) -> None:
    repo = SubscriptionsRepository(office.sessions)
    hook_id = await repo.create("http://127.0.0.1:9/hook", ["call.ended"], None, datetime.now(UTC))
    await LedgerRepository(office.sessions).upsert_calls([closed_call("L-1")])
    await repo.set_active(hook_id, False)
    late = datetime.now(UTC) + timedelta(hours=25)
    assert await outbox.claim_due(office.sessions, late, timedelta(minutes=1), 10) == []  # inactive: they wait
    await repo.set_active(hook_id, True)
    (due,) = await outbox.claim_due(office.sessions, late, timedelta(minutes=1), 10)
    await outbox.settle(office.sessions, due, Attempt(late, False, 503, "HTTP 503 Service Unavailable"),
                        timedelta(hours=24))
    await repo.set_active(hook_id, False)  # the app's own sender leaves it alone
    client, token = await office.client("root")
    html = await (await client.get(f"/admin/webhooks/{hook_id}/deliveries", headers=HTML_ACCEPT)).text()
    assert "HTTP 503 Service Unavailable" in html and "не доставлено" in html and due.delivery_id in html
    assert 'data-testid="retry"' in html and "call:L-1" in html
    status, html, _ = await post(client, f"/admin/webhooks/{hook_id}/retry", token, delivery="x")
    assert status == 422 and "Не выбрана доставка" in html
    status, _, location = await post(client, f"/admin/webhooks/{hook_id}/retry", token, delivery=str(due.id))
    assert (status, location) == (303, f"/admin/webhooks/{hook_id}/deliveries?done=retried")
    assert (await repo.get(hook_id)).counts == {"pending": 1, "delivered": 0, "failed": 0}
    status, _, location = await post(client, f"/admin/webhooks/{hook_id}/retry", token, delivery="all")
    assert location.endswith("done=nothing")


async def test_only_admins_reach_the_pages(office: Office) -> None:
    hook_id = await SubscriptionsRepository(office.sessions).create("http://127.0.0.1:9/h", ["call.ended"], None,
                                                                    datetime.now(UTC))
    client, token = await office.client("smirnova")  # a supervisor
    for path in ("/admin/webhooks", f"/admin/webhooks/{hook_id}/deliveries"):
        response = await client.get(path, headers=HTML_ACCEPT)
        assert response.status == 403 and "whsec_" not in await response.text()
    status, _, _ = await post(client, "/admin/webhooks", token, url="http://127.0.0.1:9000/", events=["call.ended"])
    assert status == 403
    status, _, _ = await post(client, f"/admin/webhooks/{hook_id}/delete", token, confirm="yes")
    assert status == 403 and len(await SubscriptionsRepository(office.sessions).all()) == 1
    admin, _ = await office.client("root")
    response = await admin.post("/admin/webhooks", data={"url": "http://127.0.0.1:9000/", "events": "call.ended"},
                                headers=HTML_ACCEPT, allow_redirects=False)
    assert response.status == 403  # no CSRF token
    assert len(await SubscriptionsRepository(office.sessions).all()) == 1
