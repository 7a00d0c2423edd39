"""The СИО role (`sio`, issue 15) wherever users are made: `dsdesk users add`, the experts import, the admin form."""

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
    assert "sio" in ROLES and ROLE_LABELS["sio"] == "СИО"


async def test_users_add_makes_a_sio_without_an_extension(migrated_db: str, users: UsersRepository,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(ENV_DATABASE_URL, migrated_db)
    monkeypatch.setattr("sys.stdin", io.StringIO("sidorov-secret\n"))
    status = await asyncio.to_thread(main, ["users", "add", "sidorov", "--name", "Сидоров Пётр Ильич", "--role", "sio",
                                            "--password-stdin"])
    assert status == 0, capsys.readouterr().err
    assert "добавлен sidorov (СИО): Сидоров Пётр Ильич" in capsys.readouterr().out
    row = await users.by_login("sidorov")
    assert row is not None and (row.role, row.extension) == ("sio", None)
    assert await asyncio.to_thread(main, ["users", "list"]) == 0
    assert any(line.split()[:2] == ["sidorov", "СИО"] for line in capsys.readouterr().out.splitlines())


def test_users_add_help_names_the_role(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["users", "add", "--help"])
    assert "sio — СИО" in capsys.readouterr().out


@pytest.mark.parametrize("spelling", ["sio", "СИО", "сио"])
async def test_the_experts_import_takes_the_role(db_sessions: SessionMaker, users: UsersRepository,
                                                 spelling: str) -> None:
    await import_rows("experts", [{"login": "sidorov", "full_name": "Сидоров Пётр", "role": spelling}], db_sessions)
    row = await users.by_login("sidorov")
    assert row is not None and row.role == "sio"


async def test_the_experts_import_names_the_role_among_the_allowed(db_sessions: SessionMaker) -> None:
    with pytest.raises(RowsRejected) as refused:
        await import_rows("experts", [{"login": "x", "full_name": "Иксов Икс", "role": "boss"}], db_sessions)
    allowed = "допустимо одно из: эксперт, руководитель группы, администратор, СИО"
    assert any(allowed in str(e) for e in refused.value.errors)


async def test_an_admin_creates_a_sio_on_the_web(migrated_db: str, users: UsersRepository,
                                                 aiohttp_client: Any) -> None:
    settings = Settings.model_validate({"database": {"url": migrated_db}})
    await add_user(settings, "root", role="admin", extension=None)
    client = await aiohttp_client(create_app(settings, with_pbx=False))
    token = await sign_in(client, "root")
    form = await (await client.get("/admin/users", headers=HTML_ACCEPT)).text()
    assert '<option value="sio" >СИО</option>' in form
    response = await client.post("/admin/users", headers=HTML_ACCEPT, allow_redirects=False, data={
        "_csrf": token, "login": "sidorov", "last_name": "Сидоров", "first_name": "Пётр", "role": "sio",
        "password": "sidorov-secret"})
    assert response.status == 303
    row = await users.by_login("sidorov")
    assert row is not None and (row.role, row.extension) == ("sio", None)
