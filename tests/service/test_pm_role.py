"""The ПМ по ДС role (`pm`, issue 16) wherever users are made — `dsdesk users add`, the experts import, the admin
form — and on the desk: she needs an extension like an Expert and keeps a desk status."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from service.app import create_app
from service.cli import main
from service.db.engine import SessionMaker, create_engine, create_sessionmaker
from service.db.users import UsersRepository
from service.imports.errors import RowsRejected
from service.imports.runner import import_rows
from service.passwords import use_hasher
from service.settings import ENV_DATABASE_URL, Settings
from service.web.keys import ROLES
from tests.service.web_helpers import HTML_ACCEPT, add_user, sign_in, use_cheap_hashes
from texts.labels import ROLE_LABELS


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    previous = use_cheap_hashes()
    yield
    use_hasher(previous)


@pytest.fixture
async def users(migrated_db: str) -> AsyncIterator[UsersRepository]:
    engine = create_engine(migrated_db)
    yield UsersRepository(create_sessionmaker(engine))
    await engine.dispose()


def test_the_role_has_a_russian_name() -> None:
    assert "pm" in ROLES and ROLE_LABELS["pm"] == "ПМ по ДС"


async def test_users_add_makes_a_pm_with_an_extension_only(migrated_db: str, users: UsersRepository,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(ENV_DATABASE_URL, migrated_db)
    args = ["users", "add", "petrova", "--name", "Петрова Анна Ильинична", "--role", "pm", "--password-stdin"]
    monkeypatch.setattr("sys.stdin", io.StringIO("petrova-secret\n"))
    assert await asyncio.to_thread(main, args) != 0
    assert "ПМ по ДС нужен --extension" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("petrova-secret\n"))
    assert await asyncio.to_thread(main, [*args, "--extension", "150"]) == 0, capsys.readouterr().err
    row = await users.by_login("petrova")
    assert row is not None and (row.role, row.extension) == ("pm", "150")


@pytest.mark.parametrize("spelling", ["pm", "ПМ", "пм по дс"])
async def test_the_experts_import_takes_the_role(db_sessions: SessionMaker, users: UsersRepository,
                                                 spelling: str) -> None:
    await import_rows("experts", [{"login": "petrova", "full_name": "Петрова Анна", "role": spelling,
                                   "extension": "150"}], db_sessions)
    row = await users.by_login("petrova")
    assert row is not None and row.role == "pm"


async def test_the_experts_import_wants_a_pms_extension(db_sessions: SessionMaker) -> None:
    with pytest.raises(RowsRejected) as refused:
        await import_rows("experts", [{"login": "petrova", "full_name": "Петрова Анна", "role": "ПМ"}], db_sessions)
    wanted = "обязателен для роли «ПМ по ДС» (внутренний номер ПМ по ДС на АТС)"  # the role as the admin pages say it
    assert any(wanted in str(e) for e in refused.value.errors)


async def test_an_admin_makes_a_pm_on_the_web_and_she_keeps_a_desk_status(migrated_db: str, users: UsersRepository,
                                                                          aiohttp_client: Any) -> None:
    settings = Settings.model_validate({"database": {"url": migrated_db}})
    await add_user(settings, "root", role="admin", extension=None)
    client = await aiohttp_client(create_app(settings, with_pbx=False))
    token = await sign_in(client, "root")
    page = await (await client.get("/admin/users", headers=HTML_ACCEPT)).text()
    assert '<option value="pm" >ПМ по ДС</option>' in page
    fields = {"_csrf": token, "login": "petrova", "last_name": "Петрова", "first_name": "Анна", "role": "pm",
              "password": "petrova-secret"}
    refused = await client.post("/admin/users", headers=HTML_ACCEPT, allow_redirects=False, data=fields)
    assert refused.status == 422 and "ПМ по ДС нужен добавочный номер" in await refused.text()
    created = await client.post("/admin/users", headers=HTML_ACCEPT, allow_redirects=False,
                                data={**fields, "extension": "150"})
    assert created.status == 303
    await client.post("/logout", data={"_csrf": token}, headers=HTML_ACCEPT)
    token = await sign_in(client, "petrova", "petrova-secret")
    status = await client.post("/desk/status", data={"_csrf": token, "status": "ready"})
    assert status.status == 200, await status.text()
    nav = await (await client.get("/visits", headers=HTML_ACCEPT)).text()
    assert 'href="/visits">Мои визиты' in nav and 'href="/desk">Мои звонки' in nav
