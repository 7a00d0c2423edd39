"""Script editing and user management over HTTP on SQLite and PostgreSQL: roles, checks, versions, CSRF."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.db.engine import SessionMaker
from service.db.models import Expert, ScriptVersion
from service.db.plan import PlanRepository
from service.db.records import ExpertName
from service.db.users import LastAdminError, UsersRepository
from service.passwords import use_hasher
from service.settings import Settings
from tests.service.planning import at, item, plan
from tests.service.web_helpers import (
    DEFAULT_PASSWORD,
    HTML_ACCEPT,
    JSON_ACCEPT,
    add_user,
    csrf_header,
    seed_signed_in_portfolio,
    sign_in,
    use_cheap_hashes,
)

BROKEN_AT_LINE_3 = "<p>Здравствуйте!</p>\n<p>{{ client.name }}</p>\n<p>{{ contact.io }</p>\n<p>долг</p>\n"
EDITED = ("{% import '_parts.j2' as parts with context %}\n"
          "<p class=\"say\">ОТРЕДАКТИРОВАНО для {{ client.name }}, {{ contact.first_name }}</p>\n"
          "{{ parts.keep_talking() }}\n")


@dataclass
class Office:
    settings: Settings
    sessions: SessionMaker
    day: date
    ids: dict[str, str]  # contact external id → planned item public id


@pytest.fixture
async def office(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path) -> AsyncIterator[Office]:
    """ivanova (Expert 101) has K-3 «Обучение» today; smirnova supervises; root is the admin."""
    previous = use_cheap_hashes()
    settings, day = await seed_signed_in_portfolio(db_sessions, migrated_db, tmp_path / "rec")
    await add_user(settings, "root", role="admin", extension=None, full_name="Админов Админ")
    await PlanRepository(db_sessions).save_plan(plan(day, item("K-3", "C-2", at(day, 11, 0), topic="Обучение")))
    ids = {v.contact_external_id or "": v.public_id for v in await PlanRepository(db_sessions).list_plan(day)}
    yield Office(settings, db_sessions, day, ids)
    use_hasher(previous)


async def signed_in_as(aiohttp_client: Any, office: Office, login: str,
                       password: str = DEFAULT_PASSWORD) -> tuple[TestClient, str]:
    client = await aiohttp_client(create_app(office.settings, with_pbx=False))
    return client, await sign_in(client, login, password)


async def get(client: TestClient, path: str) -> tuple[int, str]:
    response = await client.get(path, headers=HTML_ACCEPT)
    return response.status, await response.text()


async def post(client: TestClient, path: str, token: str | None, **data: str) -> tuple[int, str]:
    form = {**data, **({"_csrf": token} if token else {})}
    response = await client.post(path, data=form, headers=HTML_ACCEPT, allow_redirects=False)
    return response.status, await response.text()


async def versions(office: Office) -> int:
    async with office.sessions() as session:
        return (await session.execute(select(func.count()).select_from(ScriptVersion))).scalar_one()


# ---- access ------------------------------------------------------------------------------------

async def test_an_expert_gets_403_on_every_admin_page(aiohttp_client: Any, office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "ivanova")
    for path in ("/admin/scripts", "/admin/scripts/training.j2", "/admin/users", "/admin/clients?q=C"):
        status, html = await get(client, path)
        assert status == 403 and "Нет доступа" in html, path
    for path in ("/admin/scripts/training.j2", "/admin/scripts/training.j2/preview",
                 "/admin/scripts/training.j2/reset", "/admin/users"):
        response = await client.post(path, data={"source": EDITED, "login": "x"},
                                     headers={**csrf_header(token), **JSON_ACCEPT})
        assert response.status == 403, path
        assert "Нет доступа" in (await response.json())["error"]
    assert await versions(office) == 0


async def test_a_supervisor_edits_scripts_but_gets_403_on_users(aiohttp_client: Any, office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "smirnova")
    assert (await get(client, "/admin/scripts"))[0] == 200
    assert (await get(client, "/admin/scripts/training.j2"))[0] == 200
    status, html = await get(client, "/admin/users")
    assert status == 403 and "администратор" in html
    assert (await post(client, "/admin/users", token, login="hacker", last_name="Х", first_name="Х", role="admin",
                       password="12345678"))[0] == 403
    async with office.sessions() as session:
        assert (await session.execute(select(Expert).where(Expert.login == "hacker"))).first() is None


async def test_only_catalog_scripts_are_editable_never_a_path(aiohttp_client: Any, office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "smirnova")
    for name in ("_parts.j2", "catalog.yaml", "nope.j2", "..%2Fbase.html", "%2E%2E%2F%2E%2E%2Fconfig.yaml"):
        assert (await get(client, f"/admin/scripts/{name}"))[0] == 404, name
        assert (await post(client, f"/admin/scripts/{name}", token, source="x"))[0] == 404, name
        assert (await post(client, f"/admin/scripts/{name}/reset", token))[0] == 404, name
    assert await versions(office) == 0


# ---- scripts -----------------------------------------------------------------------------------

async def test_a_syntax_error_blocks_saving_with_the_line(aiohttp_client: Any, office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "smirnova")
    crlf = BROKEN_AT_LINE_3.replace("\n", "\r\n")  # as a browser's textarea sends it
    status, html = await post(client, "/admin/scripts/training.j2", token, source=crlf)
    assert status == 422
    assert "Не сохранено." in html and "Строка" in html
    assert "Строка 3." in html  # the unclosed {{ … }
    assert 'data-error-line="3"' in html  # the editor puts the cursor there
    assert "{{ client.name }}" in html  # what was typed is kept in the textarea (escaped as text)
    for source, expected in (("<p>{{ clent.name }}</p>", "Строка 1."),
                             ("<p>ok</p>\n{{ ''.__class__.__mro__ }}", "недоступным данным"),
                             ("   ", "пуст")):
        status, html = await post(client, "/admin/scripts/training.j2", token, source=source)
        assert status == 422 and expected in html, source
    assert await versions(office) == 0


async def test_a_save_needs_the_csrf_token(aiohttp_client: Any, office: Office) -> None:
    client, _ = await signed_in_as(aiohttp_client, office, "smirnova")
    status, _ = await post(client, "/admin/scripts/training.j2", None, source=EDITED)
    assert status == 403
    response = await client.post("/admin/scripts/training.j2/preview", data={"source": EDITED, "client": "C-2"})
    assert response.status == 403
    assert await versions(office) == 0


async def test_the_preview_renders_the_unsaved_text_for_a_real_client(aiohttp_client: Any, office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "smirnova")
    form = {"source": EDITED, "client": "C-2", "contact": "1", "kind": "planned"}
    response = await client.post("/admin/scripts/training.j2/preview", data=form, headers=csrf_header(token))
    assert response.status == 200 and response.content_type == "text/html"
    html = await response.text()
    # C-2's contacts in the brief's order: Ирина, Наталья (юрист).
    assert "ОТРЕДАКТИРОВАНО для АО «Вектор», Наталья" in html and 'data-testid="preview-text"' in html
    assert await versions(office) == 0  # a preview stores nothing
    broken = {**form, "source": "<p>{{ contact.nmae }}</p>"}
    response = await client.post("/admin/scripts/training.j2/preview", data=broken, headers=csrf_header(token))
    assert response.status == 422 and "Строка 1." in await response.text()
    missing = {**form, "client": "C-404"}
    response = await client.post("/admin/scripts/training.j2/preview", data=missing, headers=csrf_header(token))
    assert response.status == 404 and "Выберите клиента" in await response.text()


async def test_the_script_introduces_the_expert_by_the_stored_first_name(aiohttp_client: Any,
                                                                         office: Office) -> None:
    """A double surname: a guess at «Мусина Пушкина Анна Сергеевна» would greet as «Пушкина» (issue 14)."""
    users = UsersRepository(office.sessions)
    ivanova = await users.by_login("ivanova")
    assert ivanova is not None
    await users.update_account(ivanova.id, name=ExpertName("Мусина Пушкина", "Анна", "Сергеевна"), role="expert",
                               extension="101", group_name=None)
    expert, _ = await signed_in_as(aiohttp_client, office, "ivanova")
    status, html = await get(expert, f"/desk?item={office.ids['K-3']}")
    assert status == 200 and "Меня зовут Анна, я ваш эксперт" in html, html[-3000:]
    # The preview introduces the client's Expert (C-2 is ivanova's) by her stored parts too.
    supervisor, token = await signed_in_as(aiohttp_client, office, "smirnova")
    source = "<p>{{ expert.first_name }} {{ expert.patronymic }} / {{ expert.last_name }} / {{ expert.io }}</p>"
    form = {"source": source, "client": "C-2", "contact": "0", "kind": "planned"}
    response = await supervisor.post("/admin/scripts/training.j2/preview", data=form, headers=csrf_header(token))
    assert "Анна Сергеевна / Мусина Пушкина / Анна Сергеевна" in await response.text()


async def test_the_client_picker_finds_by_name_in_any_case_and_by_id(aiohttp_client: Any, office: Office) -> None:
    client, _ = await signed_in_as(aiohttp_client, office, "smirnova")
    for query, expected in (("вектор", ["C-2"]), ("ВЕКТОР", ["C-2"]), ("c-1", ["C-1"]), ("%", []), ("", None)):
        response = await client.get("/admin/clients", params={"q": query}, headers=JSON_ACCEPT)
        found = (await response.json())["clients"]
        if expected is None:
            assert len(found) == 4
        else:
            assert [c["external_id"] for c in found] == expected, query
    response = await client.get("/admin/clients", params={"q": "Вектор"}, headers=JSON_ACCEPT)
    (vector,) = (await response.json())["clients"]
    assert [c["full_name"] for c in vector["contacts"]] == ["Ирина", "Наталья"]


async def test_a_saved_edit_shows_on_the_experts_screen_until_reset(aiohttp_client: Any, office: Office) -> None:
    supervisor, token = await signed_in_as(aiohttp_client, office, "smirnova")
    expert, _ = await signed_in_as(aiohttp_client, office, "ivanova")
    desk_path = f"/desk?item={office.ids['K-3']}"
    status, html = await get(expert, desk_path)
    assert status == 200 and 'data-script="training.j2"' in html and "ОТРЕДАКТИРОВАНО" not in html
    assert "как поставлен" in (await get(supervisor, "/admin/scripts"))[1]

    status, _ = await post(supervisor, "/admin/scripts/training.j2", token, source=EDITED)
    assert status == 303
    status, html = await get(expert, desk_path)
    assert "ОТРЕДАКТИРОВАНО для АО «Вектор», Наталья" in html  # K-3 is Наталья
    catalog = (await get(supervisor, "/admin/scripts"))[1]
    assert re.search(r"изменён \d\d\.\d\d\.\d{4} \d\d:\d\d Смирнова Анна", catalog)
    status, html = await get(supervisor, "/admin/scripts/training.j2?done=saved")
    assert "Сохранено." in html and "изменённый текст" in html and "Вернуть исходный текст" in html
    # Saving the same text again adds no version.
    assert (await post(supervisor, "/admin/scripts/training.j2", token, source=EDITED))[0] == 303
    assert await versions(office) == 1

    assert (await post(supervisor, "/admin/scripts/training.j2/reset", token))[0] == 303
    status, html = await get(expert, desk_path)
    assert "ОТРЕДАКТИРОВАНО" not in html and 'data-testid="script-text"' in html
    status, html = await get(supervisor, "/admin/scripts/training.j2")
    assert "текст из поставки" in html and "возврат к тексту из поставки" in html
    assert "parts.login" in html  # the shipped text is back in the editor
    assert "как поставлен" in (await get(supervisor, "/admin/scripts"))[1]
    assert (await post(supervisor, "/admin/scripts/training.j2/reset", token))[0] == 303
    assert await versions(office) == 2  # a second reset of the shipped text stores nothing


# ---- users -------------------------------------------------------------------------------------

NEW_USER = {"login": "irina", "last_name": "Кузнецова", "first_name": "Ирина", "patronymic": "Олеговна",
            "role": "expert", "extension": "105", "group_name": "Группа 2", "password": "новый пароль"}


async def test_an_admin_creates_a_user_who_can_sign_in(aiohttp_client: Any, office: Office) -> None:
    admin, token = await signed_in_as(aiohttp_client, office, "root")
    status, html = await get(admin, "/admin/users")
    assert status == 200 and "ivanova" in html and "руководитель группы" in html
    assert (await post(admin, "/admin/users", None, **NEW_USER))[0] == 403  # no CSRF token
    status, _ = await post(admin, "/admin/users", token, **NEW_USER)
    assert status == 303
    status, html = await get(admin, "/admin/users?done=created")
    assert "Кузнецова Ирина Олеговна" in html and "Группа 2" in html and "Пользователь добавлен" in html
    newbie, _ = await signed_in_as(aiohttp_client, office, "irina", "новый пароль")
    status, html = await get(newbie, "/desk")
    assert status == 200 and "доб. 105" in html
    async with office.sessions() as session:
        irina = (await session.execute(select(Expert).where(Expert.login == "irina"))).scalar_one()
    assert (irina.last_name, irina.first_name, irina.patronymic, irina.full_name) == \
        ("Кузнецова", "Ирина", "Олеговна", "Кузнецова Ирина Олеговна")


async def test_the_name_is_typed_in_three_labelled_fields(aiohttp_client: Any, office: Office) -> None:
    admin, token = await signed_in_as(aiohttp_client, office, "root")
    status, html = await get(admin, "/admin/users")
    for label, field in (("Фамилия", "last_name"), ("Имя", "first_name"), ("Отчество", "patronymic")):
        assert re.search(rf'<label>{label}\s*<input name="{field}" value="" maxlength="80"', html), label
    assert 'name="full_name"' not in html
    assert re.search(r'name="last_name"[^>]* required', html)
    assert not re.search(r'name="patronymic"[^>]* required', html)
    # No patronymic is fine; spaces are trimmed and collapsed; the display name is made of the parts.
    new = {**NEW_USER, "last_name": "  Мусина   Пушкина ", "first_name": "Анна", "patronymic": " "}
    assert (await post(admin, "/admin/users", token, **new))[0] == 303
    anna = await UsersRepository(office.sessions).by_login("irina")
    assert anna is not None and anna.full_name == "Мусина Пушкина Анна"
    status, html = await get(admin, f"/admin/users/{anna.id}")
    assert 'name="last_name" value="Мусина Пушкина"' in html and 'name="first_name" value="Анна"' in html
    assert 'name="patronymic" value=""' in html

@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"login": "ivanova"}, "login", "уже занят"),
    ({"login": "два слова"}, "login", "без пробелов"),
    ({"password": "short"}, "password", "не меньше 8"),
    ({"extension": ""}, "extension", "Эксперту нужен добавочный"),
    ({"extension": "12a"}, "extension", "от 2 до 6 цифр"),
    ({"extension": "101"}, "extension", "уже у пользователя «ivanova»"),
    ({"last_name": "  "}, "last_name", "Укажите фамилию"),
    ({"first_name": ""}, "first_name", "Укажите имя"),
    ({"last_name": "Я" * 81}, "last_name", "Фамилия длиннее 80 символов"),
    ({"patronymic": "Я" * 81}, "patronymic", "Отчество длиннее 80 символов"),
    ({"role": "boss"}, "role", "Выберите роль"),
])
async def test_a_bad_new_user_is_refused_with_a_russian_message(aiohttp_client: Any, office: Office,
                                                               changes: dict[str, str], field: str,
                                                               message: str) -> None:
    admin, token = await signed_in_as(aiohttp_client, office, "root")
    status, html = await post(admin, "/admin/users", token, **{**NEW_USER, **changes})
    assert status == 422
    error = re.search(rf'data-testid="error-{field}">([^<]+)<', html)
    assert error and message in error.group(1), html[-3000:]
    async with office.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Expert))).scalar_one() == 4


async def test_an_admin_edits_a_user_and_sets_a_password(aiohttp_client: Any, office: Office) -> None:
    admin, token = await signed_in_as(aiohttp_client, office, "root")
    petrov = await UsersRepository(office.sessions).by_login("petrov")
    assert petrov is not None
    path = f"/admin/users/{petrov.id}"
    status, html = await get(admin, path)  # imported as «Петров Павел»: split into the fields
    assert 'name="last_name" value="Петров"' in html and 'name="first_name" value="Павел"' in html
    status, html = await post(admin, path, token, last_name="Петров", first_name="", patronymic="Ильич",
                              role="supervisor", extension="", group_name="Группа 1")
    assert status == 422 and 'data-testid="error-first_name">Укажите имя.' in html
    assert 'name="patronymic" value="Ильич"' in html  # what was typed is kept
    status, _ = await post(admin, path, token, last_name="Петров", first_name="Павел", patronymic="Ильич",
                           role="supervisor", extension="", group_name="Группа 1")
    assert status == 303
    status, html = await get(admin, path + "?done=saved")
    assert "Изменения сохранены" in html and "Петров Павел Ильич" in html
    async with office.sessions() as session:
        row = (await session.execute(select(Expert).where(Expert.id == petrov.id))).scalar_one()
        assert (row.role, row.extension, row.group_name) == ("supervisor", None, "Группа 1")
        assert (row.last_name, row.first_name, row.patronymic, row.full_name) == \
            ("Петров", "Павел", "Ильич", "Петров Павел Ильич")

    assert (await post(admin, path + "/password", token, password="12345678", password2="1234567X"))[0] == 422
    status, html = await post(admin, path + "/password", token, password="short", password2="short")
    assert status == 422 and "не меньше 8" in html
    assert (await post(admin, path + "/password", token, password="новый-пароль", password2="новый-пароль"))[0] == 303
    fresh = await create_client(aiohttp_client, office)
    assert (await fresh.post("/login", data={"login": "petrov", "password": DEFAULT_PASSWORD},
                             headers=HTML_ACCEPT, allow_redirects=False)).status != 302
    await signed_in_as(aiohttp_client, office, "petrov", "новый-пароль")
    assert (await get(admin, "/admin/users/99999"))[0] == 404


async def create_client(aiohttp_client: Any, office: Office) -> TestClient:
    client: TestClient = await aiohttp_client(create_app(office.settings, with_pbx=False))
    return client


async def test_deactivation_ends_sign_in_and_an_admin_cannot_lock_themselves_out(aiohttp_client: Any,
                                                                              office: Office) -> None:
    admin, token = await signed_in_as(aiohttp_client, office, "root")
    ivanova_client, _ = await signed_in_as(aiohttp_client, office, "ivanova")
    ivanova = await UsersRepository(office.sessions).by_login("ivanova")
    root = await UsersRepository(office.sessions).by_login("root")
    assert ivanova is not None and root is not None
    assert (await post(admin, f"/admin/users/{ivanova.id}/active", None, active="0"))[0] == 403  # CSRF
    assert (await post(admin, f"/admin/users/{ivanova.id}/active", token, active="0"))[0] == 303
    assert (await ivanova_client.get("/desk", headers=JSON_ACCEPT)).status == 401  # her session ended
    assert (await post(admin, f"/admin/users/{ivanova.id}/active", token, active="1"))[0] == 303
    await signed_in_as(aiohttp_client, office, "ivanova")

    status, html = await post(admin, f"/admin/users/{root.id}/active", token, active="0")
    assert status == 409 and "самого себя" in html
    status, html = await post(admin, f"/admin/users/{root.id}", token, last_name="Админов", first_name="Админ",
                              role="supervisor", extension="")
    assert status == 422 and "снять с себя роль администратора" in html
    assert (await get(admin, "/admin/users"))[0] == 200  # still an admin


async def test_the_last_admin_cannot_be_removed_even_bypassing_the_page(office: Office) -> None:
    users = UsersRepository(office.sessions)
    root = await users.by_login("root")
    assert root is not None
    with pytest.raises(LastAdminError):
        await users.set_active(root.id, False)
    with pytest.raises(LastAdminError):
        await users.update_account(root.id, name=ExpertName("Админов", "Иван"), role="expert", extension="199",
                                   group_name=None)
    after = await users.account(root.id)
    assert after is not None and (after.active, after.role, after.full_name) == (True, "admin", "Админов Админ")
    second = await users.add("admin2", "Второй Админ", "admin", None, None)
    assert await users.set_active(root.id, False)  # another admin remains
    assert not await users.set_active(99999, False)
    assert (await users.account(second.id)) is not None
