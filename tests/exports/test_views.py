"""The supervisor's page (/exports/works) in the real app: downloads of a day or a range in both formats,
roles, a bad range in Russian with the form kept, the nightly files and a failed run shown on top."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from service.app import create_app
from service.db.engine import SessionMaker
from service.db.users import UsersRepository
from service.passwords import hash_password, use_hasher
from service.plan_setup import build_works_export_job
from service.settings import Settings
from tests.exports.reading import read_works
from tests.exports.seeding import EXPECTED, seed_day
from tests.exports.test_job import msk
from tests.service.web_helpers import DEFAULT_PASSWORD, HTML_ACCEPT, sign_in, use_cheap_hashes

Client = Callable[[str], Awaitable[TestClient]]
DOWNLOAD = "/exports/works/download"


@pytest.fixture
async def office(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path,
                 aiohttp_client: Any) -> AsyncIterator[tuple[Settings, Client]]:
    previous = use_cheap_hashes()
    settings = Settings.model_validate({
        "database": {"url": migrated_db}, "exports": {"dir": str(tmp_path / "exports")},
        "service": {"secret_key_file": str(tmp_path / "secret.key"), "login_refusal_delay_s": 0},
        "simulator": {"experts": [], "demo_load": False}})
    seeded = await seed_day(db_sessions)
    users = UsersRepository(db_sessions)
    for login in ("ivanova", "smirnova", "irina"):
        await users.set_password_hash(login, hash_password(DEFAULT_PASSWORD))
    await users.add("root", "Админов Админ", "admin", None, hash_password(DEFAULT_PASSWORD))

    async def client(login: str) -> TestClient:
        signed: TestClient = await aiohttp_client(create_app(settings, with_pbx=False))
        await sign_in(signed, login)
        return signed

    assert seeded
    yield settings, client
    use_hasher(previous)


@pytest.mark.parametrize(("login", "file_format", "first"), [
    ("smirnova", "csv", "2026-12-07"), ("smirnova", "xlsx", "07.12.2026"), ("root", "csv", "7.12.2026")])
async def test_a_supervisor_downloads_a_day(office: tuple[Settings, Client], login: str, file_format: str,
                                            first: str) -> None:
    _, client = office
    response = await (await client(login)).get(DOWNLOAD, params={"from": first, "to": "", "format": file_format})
    assert response.status == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="works-2026-12-07.{file_format}"'
    assert response.content_type == ("text/csv" if file_format == "csv" else
                                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if file_format == "csv":
        assert response.charset == "windows-1251"
    ids = [row["ID работы"] for row in read_works(await response.read(), file_format)]
    assert ids[:len(EXPECTED)] == list(EXPECTED) and len(ids) == len(EXPECTED) + 2


async def test_a_download_of_a_day_equals_its_nightly_file(office: tuple[Settings, Client],
                                                           db_sessions: SessionMaker) -> None:
    settings, client = office
    await build_works_export_job(settings, db_sessions).run(msk(0, 23, 30))
    olga = await client("smirnova")
    downloaded = await (await olga.get(DOWNLOAD, params={"from": "07.12.2026", "to": "07.12.2026"})).read()
    nightly = settings.exports.dir / "works-2026-12-07.csv"
    assert downloaded == nightly.read_bytes()
    stored = await olga.get("/exports/works/files/works-2026-12-07.csv")
    assert stored.status == 200 and await stored.read() == downloaded
    page = await (await olga.get("/exports/works", headers=HTML_ACCEPT)).text()
    assert 'href="/exports/works/files/works-2026-12-07.csv"' in page and "works-2026-12-06.csv" in page
    assert "07.12.2026: 11 работ" in page and 'data-testid="export-failed"' not in page


async def test_a_range_holds_every_day(office: tuple[Settings, Client]) -> None:
    _, client = office
    response = await (await client("smirnova")).get(DOWNLOAD, params={"from": "06.12.2026", "to": "2026-12-08"})
    assert response.headers["Content-Disposition"] == 'attachment; filename="works-2026-12-06--2026-12-08.csv"'
    ids = [row["ID работы"] for row in read_works(await response.read(), "csv")]
    assert "DS-L-11" in ids and ids.index("DS-L-11") > ids.index("DS-L-12")  # the 8th after the 7th


@pytest.mark.parametrize("login", ["ivanova", "irina"])
async def test_an_expert_or_a_pm_gets_403(office: tuple[Settings, Client], login: str) -> None:
    _, client = office
    someone = await client(login)
    for path in ("/exports/works", f"{DOWNLOAD}?from=2026-12-07", "/exports/works/files/works-2026-12-07.csv"):
        response = await someone.get(path, headers=HTML_ACCEPT)
        assert response.status == 403 and "Нет доступа" in await response.text(), path
    assert "/exports/works" not in await (await someone.get("/calls", headers=HTML_ACCEPT)).text()


@pytest.mark.parametrize(("query", "message"), [
    ({"from": "08.12.2026", "to": "07.12.2026"}, "Начало периода 08.12.2026 позже его конца 07.12.2026"),
    ({"from": "01.01.2026", "to": "31.12.2026"}, "за один раз можно выгрузить не больше 93 дней"),
    ({"from": "завтра"}, "Начало периода «завтра» — не дата"),
    ({"from": "07.12.2026", "to": "31.02.2026"}, "Конец периода «31.02.2026» — не дата"),
    ({}, "Укажите начало периода"),
    ({"from": "0001-01-01"}, "Дата 01.01.0001 вне 2000–2100 годов"),
    ({"from": "07.12.2026", "format": "ods"}, "Формат файла — CSV или XLSX"),
])
async def test_a_bad_request_is_a_russian_message_and_the_form_again(office: tuple[Settings, Client],
                                                                     query: dict[str, str], message: str) -> None:
    _, client = office
    olga = await client("smirnova")
    response = await olga.get(DOWNLOAD, params=query, headers=HTML_ACCEPT)
    assert response.status == 400
    html = await response.text()
    assert 'data-testid="export-error"' in html and message in html, html[-3000:]
    if query.get("from"):
        assert f'name="from" value="{query["from"]}"' in html  # what was typed stays in the form
    assert (await olga.get("/exports/works", headers=HTML_ACCEPT)).status == 200  # the service goes on


async def test_a_failed_night_is_shown_on_top(office: tuple[Settings, Client], db_sessions: SessionMaker,
                                              tmp_path: Path) -> None:
    settings, client = office
    (tmp_path / "blocker").write_text("")
    broken = settings.model_copy(update={"exports": settings.exports.model_copy(update={"dir": tmp_path / "blocker"})})
    with pytest.raises(OSError):
        await build_works_export_job(broken, db_sessions).run(msk(0, 23, 30))
    html = await (await (await client("smirnova")).get("/exports/works", headers=HTML_ACCEPT)).text()
    assert 'data-testid="export-failed"' in html
    assert "Ночная выгрузка 07.12.2026 в " in html and "не удалась: 07.12.2026: папка выгрузки" in html
    assert "на месте папки — файл" in html and "Файлов ещё нет" in html
    # The next good night clears the banner; the failure stays in the list of runs.
    await build_works_export_job(settings, db_sessions).run(msk(1, 23, 30))
    html = await (await (await client("smirnova")).get("/exports/works", headers=HTML_ACCEPT)).text()
    assert 'data-testid="export-failed"' not in html and html.count("ошибка") == 1


@pytest.mark.parametrize("name", ["works-2026-12-09.csv", "secret.key", "..%2Fsecret.key",
                                  quote("works-2026-12-07.csv/")])
async def test_only_nightly_files_are_served(office: tuple[Settings, Client], name: str) -> None:
    _, client = office
    response = await (await client("smirnova")).get(f"/exports/works/files/{name}")
    assert response.status == 404


async def test_the_supervisors_navigation_links_the_page(office: tuple[Settings, Client]) -> None:
    _, client = office
    olga = await client("smirnova")
    html = await (await olga.get("/calls", headers=HTML_ACCEPT)).text()
    assert '<a href="/exports/works" title="Работы для загрузки в ВЭ">В ВЭ</a>' in html
    html = await (await olga.get("/exports/works", headers=HTML_ACCEPT)).text()
    assert "<h1>Работы для ВЭ</h1>" in html
    assert "Ночная выгрузка ещё не запускалась" in html and 'name="format"' in html and "Файлов ещё нет" in html
    # An admin's top bar is full: the imports page links it.
    imports = await (await (await client("root")).get("/imports", headers=HTML_ACCEPT)).text()
    assert 'data-testid="exports-link"' in imports and 'href="/exports/works"' in imports
