"""The supervisor's upload page (/imports) on SQLite and PostgreSQL: a usage report imported and
measured, a bad file named row by row with nothing written, roles, size, and the record of uploads."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.db import models as m
from service.db.engine import SessionMaker
from service.db.users import UsersRepository
from service.imports.runner import import_rows
from service.passwords import hash_password
from service.settings import Settings
from service.web.keys import CSRF_FIELD
from tests.service.importing import DEPARTMENT
from tests.service.test_figures_web import cheap_hashes  # noqa: F401  (fixture)
from tests.service.web_helpers import DEFAULT_PASSWORD, HTML_ACCEPT, sign_in
from texts.imports import KIND_NAMES

GOOD = ("contact_external_id;client_external_id;started_at;ended_at\n"
        "K-1001;C-501;02.03.2026 10:31;02.03.2026 10:40\n"
        "K-1003;C-502;2026-03-02T15:00:00+03:00;\n")
BAD = ("contact_external_id;client_external_id;started_at;ended_at\n"
       "K-1001;C-501;02.03.2026 10:31;02.03.2026 10:20\n"
       "K-9999;C-501;02.03.2026 11:00;\n"
       "K-1003;C-502;2026-03-02T15:00:00+03:00;\n")


@pytest.fixture
async def client_as(aiohttp_client: Any, db_sessions: SessionMaker, migrated_db: str,
                    cheap_hashes: None) -> AsyncIterator[Any]:  # noqa: F811  (the imported fixture)
    for kind in ("experts", "clients", "contacts"):
        header, rows = DEPARTMENT[kind]
        await import_rows(kind, [dict(zip(header, row, strict=True)) for row in rows], db_sessions)
    users = UsersRepository(db_sessions)
    for login in ("ivanova", "smirnova"):  # an Expert and a supervisor
        await users.set_password_hash(login, hash_password(DEFAULT_PASSWORD))
    settings = Settings.model_validate({"database": {"url": migrated_db}})

    async def make(login: str) -> tuple[TestClient, str]:
        client = await aiohttp_client(create_app(settings, with_pbx=False))
        token = await sign_in(client, login)
        return client, token
    yield make


def upload_form(token: str, body: str | bytes, name: str = "logins-2026-03-02.csv", kind: str = "auto") -> FormData:
    form = FormData()
    form.add_field(CSRF_FIELD, token)
    form.add_field("kind", kind)
    form.add_field("file", body.encode("utf-8") if isinstance(body, str) else body, filename=name,
                   content_type="text/csv")
    return form


async def stored_logins(sessions: SessionMaker) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(m.ClientLogin))).scalar_one())


async def uploaded(client: TestClient, form: FormData) -> tuple[Any, str]:
    """POST the form; it answers 303 to the page, which shows that upload's outcome. (response, the page)"""
    posted = await client.post("/imports", data=form, headers=HTML_ACCEPT, allow_redirects=False)
    assert posted.status == 303, await posted.text()
    location = posted.headers["Location"]
    assert re.fullmatch(r"/imports\?upload=\d+", location), location
    page = await client.get(location, headers=HTML_ACCEPT)
    return page, await page.text()


async def test_a_supervisor_uploads_the_usage_report(client_as: Any, db_sessions: SessionMaker) -> None:
    client, token = await client_as("smirnova")
    page = await client.get("/imports", headers=HTML_ACCEPT)
    assert page.status == 200 and "Загрузка данных" in await page.text()
    response, html = await uploaded(client, upload_form(token, GOOD))
    assert response.status == 200, html
    assert 'data-testid="upload-outcome"' in html and "(Заходы в систему — статистика онлайн-версии)" in html
    assert "импортировано строк: 2 (новых 2, изменённых 0, без изменений 0)" in html
    assert "звонков за 02.03.2026 проверено по статистике: 0" in html
    assert await stored_logins(db_sessions) == 2
    _, again = await uploaded(client, upload_form(token, GOOD))
    assert "без изменений 2" in again and await stored_logins(db_sessions) == 2
    assert 'data-testid="recent-imports"' in again and again.count("logins-2026-03-02.csv") >= 3


async def test_a_bad_file_names_each_row_and_writes_nothing(client_as: Any, db_sessions: SessionMaker) -> None:
    client, token = await client_as("smirnova")
    _, html = await uploaded(client, upload_form(token, BAD))
    assert 'class="error" role="alert" data-testid="upload-outcome"' in html
    assert "строка 2, столбец «ended_at», значение «02.03.2026 10:20»: раньше started_at 02.03.2026 10:31:00" in html
    assert ("строка 3, столбец «contact_external_id», значение «K-9999»: нет такого контакта (сначала "
            "импортируйте contacts)") in html
    assert "ошибок: 2; ничего не импортировано" in html
    assert await stored_logins(db_sessions) == 0


async def test_a_utf16_file_from_excels_unicode_text_is_imported(client_as: Any, db_sessions: SessionMaker) -> None:
    client, token = await client_as("smirnova")
    body = GOOD.replace(";", "\t").replace("\n", "\r\n").encode("utf-16")  # Excel's «Текст в Юникоде»
    response, html = await uploaded(client, upload_form(token, body, "logins.txt"))
    assert response.status == 200, html
    assert "импортировано строк: 2 (новых 2, изменённых 0, без изменений 0)" in html
    assert await stored_logins(db_sessions) == 2


async def test_binary_junk_is_refused_saying_what_it_looks_like(client_as: Any, db_sessions: SessionMaker) -> None:
    client, token = await client_as("smirnova")
    body = bytes(range(256)) * 8  # what a misnamed archive or program looks like to the CSV reader
    _, html = await uploaded(client, upload_form(token, body))
    assert "файл не импортирован: это не текст, а двоичные данные" in html
    assert await stored_logins(db_sessions) == 0


@pytest.mark.parametrize(("name", "kind", "message"), [
    ("report.csv", "auto", "по имени файла «report.csv» не понять, что в нём"),
    ("logins.pdf", "logins", "Нужен файл CSV или XLSX"),
    ("experts.csv", "auto", "Импорт пользователей (experts) доступен только администратору"),
    ("logins.csv", "passwords", "Непонятный вид импорта"),
])
async def test_what_cannot_be_imported_is_said(client_as: Any, name: str, kind: str, message: str) -> None:
    client, token = await client_as("smirnova")
    response = await client.post("/imports", data=upload_form(token, GOOD, name, kind), headers=HTML_ACCEPT)
    assert response.status == 422 and message in await response.text()


async def test_a_file_over_a_megabyte_is_taken(client_as: Any, db_sessions: SessionMaker) -> None:
    """Other forms keep aiohttp's 1 MiB; the upload may be large (a month of logins)."""
    client, token = await client_as("smirnova")
    lines = [GOOD.splitlines()[0]]
    for n in range(30_000):  # ~1.7 MB of single login events, a minute apart
        lines.append(f"K-1001;C-501;2026-02-{1 + n // 1440:02d}T{(n // 60) % 24:02d}:{n % 60:02d}:00+03:00;")
    body = "\n".join(lines[:1 + 28 * 1440]) + "\n"
    assert len(body) > 1 << 20
    _, html = await uploaded(client, upload_form(token, body))
    assert "импортировано строк" in html
    assert await stored_logins(db_sessions) == len(body.splitlines()) - 1


async def test_an_expert_cannot_upload_and_a_form_without_token_is_refused(client_as: Any,
                                                                           db_sessions: SessionMaker) -> None:
    client, token = await client_as("ivanova")
    assert (await client.get("/imports", headers=HTML_ACCEPT)).status == 403
    assert (await client.post("/imports", data=upload_form(token, GOOD), headers=HTML_ACCEPT)).status == 403
    supervisor, _ = await client_as("smirnova")
    assert (await supervisor.post("/imports", data=upload_form("forged", GOOD), headers=HTML_ACCEPT)).status == 403
    assert await stored_logins(db_sessions) == 0


async def test_an_upload_over_the_limit_is_refused_in_russian(client_as: Any, db_sessions: SessionMaker,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import service.web.imports as imports_web

    monkeypatch.setattr(imports_web, "UPLOAD_MAX_BYTES", 1000)
    client, token = await client_as("smirnova")
    response = await client.post("/imports", data=upload_form(token, GOOD + "K-1001;C-501;02.03.2026 11:00;\n" * 50),
                                 headers=HTML_ACCEPT)
    assert response.status == 413 and "Файл больше" in await response.text()
    assert await stored_logins(db_sessions) == 0


async def test_nothing_is_read_before_the_sign_in_and_the_token(client_as: Any, aiohttp_client: Any,
                                                                migrated_db: str, db_sessions: SessionMaker) -> None:
    """A stranger's upload is turned away before its body is read; a form whose first field is not
    the token is refused as a forged one, before the file is read."""
    stranger = await aiohttp_client(create_app(Settings.model_validate({"database": {"url": migrated_db}}),
                                               with_pbx=False))
    response = await stranger.post("/imports", data=upload_form("x", GOOD), headers=HTML_ACCEPT,
                                   allow_redirects=False)
    assert response.status in (302, 303, 401)
    client, token = await client_as("smirnova")
    form = FormData()
    form.add_field("file", GOOD.encode(), filename="logins.csv", content_type="text/csv")
    form.add_field(CSRF_FIELD, token)
    assert (await client.post("/imports", data=form, headers=HTML_ACCEPT)).status == 403
    assert await stored_logins(db_sessions) == 0


def test_every_import_kind_has_a_label_on_the_page() -> None:
    """Found when issue 15 added `selection`: GET /imports answered 500 for a kind without a label."""
    from service.imports.schemas import KINDS
    from service.web.imports import KIND_LABELS

    assert set(KIND_LABELS) == set(KIND_NAMES) == set(KINDS)


async def test_the_recent_uploads_name_each_kind_in_russian(client_as: Any) -> None:
    """Issue 14: «Вид» showed `logins`; it shows the name the form's list gives the kind."""
    client, token = await client_as("smirnova")
    _, html = await uploaded(client, upload_form(token, GOOD))
    table = html[html.index('data-testid="recent-imports"'):]
    assert f"<td>{KIND_NAMES['logins']}</td>" in table and "<td>logins</td>" not in table


async def test_reloading_the_outcome_does_not_import_again(client_as: Any, db_sessions: SessionMaker) -> None:
    """Issue 14: the POST answered 200 with the outcome, so F5 sent the file again (each upload twice in
    the log). It redirects; loading that page again only shows the same outcome."""
    client, token = await client_as("smirnova")
    _, first = await uploaded(client, upload_form(token, GOOD))
    before = first.count("<td>logins-2026-03-02.csv</td>")
    posted = await client.post("/imports", data=upload_form(token, GOOD), headers=HTML_ACCEPT, allow_redirects=False)
    location = posted.headers["Location"]
    pages = [await (await client.get(location, headers=HTML_ACCEPT)).text() for _ in range(3)]
    assert all("без изменений 2" in page for page in pages)
    assert {page.count("<td>logins-2026-03-02.csv</td>") for page in pages} == {before + 1}


@pytest.mark.parametrize("upload", ["999999", "abc", "-1", "99999999999999999999", "", "１２"])
async def test_a_bogus_upload_id_shows_the_page_without_an_outcome(client_as: Any, upload: str) -> None:
    client, _ = await client_as("smirnova")
    response = await client.get("/imports", params={"upload": upload}, headers=HTML_ACCEPT)
    html = await response.text()
    assert response.status == 200, html
    assert "Загрузка данных" in html and 'data-testid="upload-outcome"' not in html


async def test_another_users_upload_outcome_is_not_shown(client_as: Any, db_sessions: SessionMaker) -> None:
    await UsersRepository(db_sessions).add("kozlova", "Козлова Ольга", "supervisor", None,
                                           hash_password(DEFAULT_PASSWORD))
    uploader, token = await client_as("kozlova")
    location = (await uploader.post("/imports", data=upload_form(token, BAD), headers=HTML_ACCEPT,
                                    allow_redirects=False)).headers["Location"]
    assert 'data-testid="upload-outcome"' in await (await uploader.get(location, headers=HTML_ACCEPT)).text()
    other, _ = await client_as("smirnova")
    theirs = await other.get(location, headers=HTML_ACCEPT)
    html = await theirs.text()
    assert theirs.status == 200 and 'data-testid="upload-outcome"' not in html and "ничего не импортировано" in html


async def test_the_page_says_which_files_it_reads(client_as: Any) -> None:
    """Issue 14: the intro named only UTF-8 and Windows-1251 with «;» or «,»."""
    client, _ = await client_as("smirnova")
    html = await (await client.get("/imports", headers=HTML_ACCEPT)).text()
    intro = html[html.index('<p class="muted">Файл'):]
    intro = intro[:intro.index("</p>")]
    assert "UTF-16 с BOM" in intro and "табуляция" in intro and "Windows-1251" in intro
