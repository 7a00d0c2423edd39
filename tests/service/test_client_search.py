"""The client search on SQLite and PostgreSQL: names, ИНН, phones in any spelling, contacts, ё/е,
an Expert's own portfolio against everyone's for a supervisor, hostile input, and GET /clients."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from service.app import create_app
from service.client_search import repository
from service.client_search.query import MAX_CHARS, read_query
from service.client_search.repository import ClientSearchRepository, SearchResult
from service.db.engine import SessionMaker
from service.db.users import UsersRepository
from service.imports.runner import import_rows
from service.passwords import hash_password, use_hasher
from service.settings import Settings
from tests.service.web_helpers import DEFAULT_PASSWORD, HTML_ACCEPT, sign_in, use_cheap_hashes

# maria (Expert): C-1, C-2, C-5, S-1…S-3; anna (Expert): C-3; olga supervises; C-4 is nobody's.
PORTFOLIO: dict[str, list[dict[str, str]]] = {
    "experts": [
        {"login": "maria", "full_name": "Орлова Мария Сергеевна", "extension": "101"},
        {"login": "anna", "full_name": "Белова Анна Игоревна", "extension": "102"},
        {"login": "olga", "full_name": "Смирнова Ольга Викторовна", "role": "supervisor"},
    ],
    "clients": [
        {"external_id": "C-1", "name": "ООО «Ромашка»", "inn": "7802123456", "segment": "ДС",
         "expert_login": "maria", "territory": "Санкт-Петербург", "timezone": "Europe/Moscow"},
        {"external_id": "C-2", "name": "АО «Ёлки-Палки»", "inn": "7701000002", "segment": "ДС",
         "expert_login": "maria"},
        {"external_id": "C-3", "name": "ИП Сидоров Иван Петрович", "inn": "500100732259", "segment": "КС",
         "expert_login": "anna", "territory": "Екатеринбург", "timezone": "Asia/Yekaterinburg"},
        {"external_id": "C-4", "name": "ЗАО «Без эксперта»", "segment": "ДС"},
        {"external_id": "C-5", "name": "100% Скидки_и_Бонусы \\ ООО", "segment": "ДС", "expert_login": "maria"},
        {"external_id": "S-1", "name": "МБОУ Школа № 3", "segment": "ДС", "expert_login": "maria"},
        {"external_id": "S-2", "name": "МБОУ Школа № 1", "segment": "ДС", "expert_login": "maria"},
        {"external_id": "S-3", "name": "МБОУ Школа № 2", "segment": "ДС", "expert_login": "maria"},
    ],
    "contacts": [
        {"external_id": "K-1", "client_external_id": "C-1", "full_name": "Иванова Ольга Петровна",
         "position": "главный бухгалтер", "phone": "+7 (911) 555-11-20", "is_user": "да"},
        {"external_id": "K-2", "client_external_id": "C-1", "full_name": "Семёнов Пётр",
         "phone": "8 812 123-45-67, 8 (921) 000-22-33"},
        {"external_id": "K-3", "client_external_id": "C-2", "full_name": "Фёдорова Алёна", "phone": "9005550000"},
        {"external_id": "K-4", "client_external_id": "C-3", "full_name": "Сидоров Иван",
         "phone": "+7 (911) 555-11-29"},
        {"external_id": "K-5", "client_external_id": "C-4", "full_name": "Кузнецова Ирина"},
    ],
}
MARIA, ANNA = "maria", "anna"


@pytest.fixture
async def portfolio(db_sessions: SessionMaker) -> dict[str, int]:
    """The portfolio above; login → experts.id."""
    for kind, rows in PORTFOLIO.items():
        await import_rows(kind, rows, db_sessions)
    async with db_sessions() as session:
        return {login: expert_id for login, expert_id in await session.execute(text("SELECT login, id FROM experts"))}


async def search(sessions: SessionMaker, typed: str, expert_id: int | None, limit: int = 50) -> SearchResult:
    return await ClientSearchRepository(sessions).search(read_query(typed), expert_id, limit)


async def found(sessions: SessionMaker, typed: str, expert_id: int | None) -> list[str]:
    return [c.external_id for c in (await search(sessions, typed, expert_id)).clients]


async def test_an_organisation_by_part_of_its_name_in_any_case(db_sessions: SessionMaker,
                                                               portfolio: dict[str, int]) -> None:
    maria = portfolio[MARIA]
    for typed in ("ромашка", "РОМАШ", "оМаШк", "ромашка ооо", "  ООО  «Ромашка» "):
        assert await found(db_sessions, typed, maria) == ["C-1"], typed
    result = await search(db_sessions, "ромашка", maria)
    client = result.clients[0]
    assert (client.name, client.inn, client.territory, client.timezone) == (
        "ООО «Ромашка»", "7802123456", "Санкт-Петербург", "Europe/Moscow")
    # The organisation matched: its first contact (the brief's order: users first) is shown, unmarked.
    assert client.contact is not None
    assert (client.contact.full_name, client.contact.matched) == ("Иванова Ольга Петровна", False)


async def test_yo_and_ye_are_the_same_letter(db_sessions: SessionMaker, portfolio: dict[str, int]) -> None:
    maria = portfolio[MARIA]
    for typed in ("елки", "ЁЛКИ", "Ёлки-палки", "ЕЛКИ-ПАЛКИ"):
        assert await found(db_sessions, typed, maria) == ["C-2"], typed
    for typed in ("федорова алена", "ФЁДОРОВА", "алёна"):
        result = await search(db_sessions, typed, maria)
        assert [(c.external_id, c.contact and c.contact.external_id) for c in result.clients] == [("C-2", "K-3")]
    assert await found(db_sessions, "семенов петр", maria) == ["C-1"]


async def test_a_contact_by_name_is_shown_as_the_match(db_sessions: SessionMaker, portfolio: dict[str, int]) -> None:
    result = await search(db_sessions, "семёнов", portfolio[MARIA])
    [client] = result.clients
    assert client.contact is not None
    assert (client.external_id, client.contact.external_id, client.contact.matched) == ("C-1", "K-2", True)
    # Words must all be in one name: the organisation's or one contact's.
    assert await found(db_sessions, "ромашка семенов", portfolio[MARIA]) == []


async def test_inn_whole_or_in_part(db_sessions: SessionMaker, portfolio: dict[str, int]) -> None:
    assert await found(db_sessions, "7802123456", portfolio[MARIA]) == ["C-1"]
    assert await found(db_sessions, "780212", portfolio[MARIA]) == ["C-1"]
    assert await found(db_sessions, "500100732259", None) == ["C-3"]
    assert await found(db_sessions, "77010", portfolio[MARIA]) == ["C-2"]


@pytest.mark.parametrize("typed", ["+7 (911) 555-11-20", "8 911 555 11 20", "9115551120", "89115551120",
                                   "+79115551120", "8(911)555-11-20", "911.555.11.20", "555-11-20"])
async def test_a_phone_in_any_spelling(db_sessions: SessionMaker, portfolio: dict[str, int], typed: str) -> None:
    result = await search(db_sessions, typed, portfolio[MARIA])
    assert [(c.external_id, c.contact and c.contact.external_id) for c in result.clients] == [("C-1", "K-1")]
    contact = result.clients[0].contact
    assert contact is not None and contact.matched and contact.phone_e164 == "79115551120"


async def test_any_of_a_contacts_imported_numbers(db_sessions: SessionMaker, portfolio: dict[str, int]) -> None:
    """The import dials the first of several numbers; the search finds the others too."""
    for typed in ("8 (921) 000-22-33", "+7 921 000 22 33", "9210002233", "+7 (812) 123-45-67"):
        result = await search(db_sessions, typed, portfolio[MARIA])
        assert [(c.external_id, c.contact and c.contact.external_id) for c in result.clients] == [("C-1", "K-2")], typed
    # No run of digits spans two numbers: the end of one and the start of the next is not a number.
    assert await found(db_sessions, "4567 8921", portfolio[MARIA]) == []


async def test_an_expert_searches_her_own_portfolio_a_supervisor_everyones(
        db_sessions: SessionMaker, portfolio: dict[str, int]) -> None:
    maria, anna = portfolio[MARIA], portfolio[ANNA]
    assert await found(db_sessions, "сидоров", maria) == []
    assert await found(db_sessions, "500100732259", maria) == []
    assert await found(db_sessions, "сидоров", anna) == ["C-3"]
    assert await found(db_sessions, "сидоров", None) == ["C-3"]
    # 555-11-2… is K-1's (maria's C-1) and K-4's (anna's C-3).
    assert await found(db_sessions, "555-11-2", maria) == ["C-1"]
    assert await found(db_sessions, "555-11-2", anna) == ["C-3"]
    assert await found(db_sessions, "555-11-2", None) == ["C-3", "C-1"]  # «ИП …» before «ООО …»
    assert await found(db_sessions, "кузнецова", None) == ["C-4"]  # nobody's client: the supervisor only
    assert await found(db_sessions, "кузнецова", maria) == []
    supervised = (await search(db_sessions, "сидоров", None)).clients[0]
    assert supervised.expert_name == "Белова Анна Игоревна"


async def test_name_order_at_most_the_limit_and_whether_there_are_more(
        db_sessions: SessionMaker, portfolio: dict[str, int]) -> None:
    result = await search(db_sessions, "школа", portfolio[MARIA], limit=2)
    assert ([c.name for c in result.clients], result.more) == (["МБОУ Школа № 1", "МБОУ Школа № 2"], True)
    result = await search(db_sessions, "школа", portfolio[MARIA], limit=3)
    assert (len(result.clients), result.more) == (3, False)
    assert (await search(db_sessions, "школа", portfolio[MARIA])).clients[0].contact is None  # no contacts


async def test_a_broad_search_reads_at_most_so_many_matches_and_says_there_are_more(
        db_sessions: SessionMaker, portfolio: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repository, "HITS", 2)
    result = await search(db_sessions, "школа", portfolio[MARIA])
    assert (len(result.clients), result.more) == (2, True)
    assert {c.name for c in result.clients} < {"МБОУ Школа № 1", "МБОУ Школа № 2", "МБОУ Школа № 3"}
    monkeypatch.setattr(repository, "HITS", 3)
    result = await search(db_sessions, "школа", portfolio[MARIA])
    assert (len(result.clients), result.more) == (3, True)  # the cap was reached: there may be more
    monkeypatch.setattr(repository, "HITS", 4)
    assert (await search(db_sessions, "школа", portfolio[MARIA])).more is False


@pytest.mark.parametrize("typed", ["%", "_", "\\", "%%%", "___", "\\\\\\", "%_\\", "' OR 1=1 --", "\x00",
                                   "\x00\x00\x00", "*", "[а-я]", "%ром%", "о%о"])
async def test_wildcards_and_control_characters_are_plain_text(
        db_sessions: SessionMaker, portfolio: dict[str, int], typed: str) -> None:
    """Nothing typed is a LIKE wildcard: `%` finds only what has a `%` in it, never everyone."""
    assert await found(db_sessions, typed, None) == []


async def test_wildcard_characters_are_found_where_they_are(db_sessions: SessionMaker,
                                                            portfolio: dict[str, int]) -> None:
    for typed in ("100%", "скидки_и", "и_бонусы", "% скидки", "бонусы \\ ооо"):
        assert await found(db_sessions, typed, None) == ["C-5"], typed
    assert await found(db_sessions, "ром\x00ашка", None) == ["C-1"]  # NUL bytes dropped


async def test_a_query_over_the_limit_is_refused_fast(db_sessions: SessionMaker, portfolio: dict[str, int]) -> None:
    for typed in ("а" * 10_000, "%" * 10_000, "9" * 10_000, "ромашка " * 1_250, "\\" * 10_000, "ромашка" * 15):
        query = read_query(typed)
        assert query.too_long and not query.searchable and len(query.text) <= MAX_CHARS
        started = time.perf_counter()
        result = await search(db_sessions, typed, None)
        assert time.perf_counter() - started < 1.0
        assert result == SearchResult([], False)  # not searched by its first 100 characters
    at_limit = read_query("ромашка " + "x" * (MAX_CHARS - 8))
    assert not at_limit.too_long and at_limit.searchable and len(at_limit.text) == MAX_CHARS
    assert not read_query("ромашка " + " " * 500).too_long  # spaces collapse before the count


async def test_empty_or_too_short_searches_nothing(db_sessions: SessionMaker, portfolio: dict[str, int]) -> None:
    for typed in ("", "   ", "ро", "12", "о о о", "+7", "_и_", "%%%", "1=1"):
        assert not read_query(typed).searchable, typed
        assert await search(db_sessions, typed, None) == SearchResult([], False)


@pytest.mark.pg
async def test_postgresql_searches_by_the_trigram_indexes(db_sessions: SessionMaker, db_url: str,
                                                          portfolio: dict[str, int]) -> None:
    """The query's expressions are the indexes' own (migration 0014), or every search is a scan."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's indexes")
    from service.client_search.repository import _found

    plan: list[str] = []
    async with db_sessions() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # few rows: make the planner show its hand
        for typed in ("ромашка", "+7 (911) 555-11-20"):
            statement = _found(read_query(typed), "postgresql", None, 51)
            sql = statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
            plan += (await connection.exec_driver_sql(f"EXPLAIN {sql}")).scalars().all()
    shown = "\n".join(plan)
    for index in ("ix_clients_name_search", "ix_client_contacts_name_search", "ix_clients_inn_search",
                  "ix_client_contacts_phone_e164_search", "ix_client_contacts_phone_search"):
        assert index in shown, shown


# ---- GET /clients ---------------------------------------------------------------------------------------
@pytest.fixture
async def site(db_sessions: SessionMaker, db_settings: Settings, portfolio: dict[str, int]) -> AsyncIterator[Settings]:
    previous = use_cheap_hashes()
    users = UsersRepository(db_sessions)
    for login in ("maria", "anna", "olga"):
        await users.set_password_hash(login, hash_password(DEFAULT_PASSWORD))
    yield db_settings
    use_hasher(previous)


async def signed_in(aiohttp_client: Any, settings: Settings, login: str) -> TestClient:
    client = await aiohttp_client(create_app(settings, with_pbx=False))
    await sign_in(client, login)
    return client


async def page(client: TestClient, query: str | None) -> tuple[int, str]:
    response = await client.get("/clients", params=None if query is None else {"q": query}, headers=HTML_ACCEPT)
    return response.status, await response.text()


async def test_the_page_finds_an_experts_client_and_links_its_card(aiohttp_client: Any, site: Settings) -> None:
    client = await signed_in(aiohttp_client, site, "maria")
    status, html = await page(client, None)
    assert status == 200 and "Поиск клиентов" in html and 'data-testid="client-results"' not in html
    assert 'data-testid="nav-client-search"' in html
    status, html = await page(client, "8 911 555 11 20")
    assert status == 200
    assert 'href="/clients/C-1"' in html and "ООО «Ромашка»" in html and "7802123456" in html
    assert "Санкт-Петербург" in html and "Москва (UTC+3)" in html
    assert "Иванова Ольга Петровна" in html and "+7 (911) 555-11-20" in html
    assert "Эксперт</th>" not in html  # her own clients: no Expert column
    card = await client.get("/clients/C-1", headers=HTML_ACCEPT)
    assert card.status == 200 and 'data-contact="K-1"' in await card.text()  # the card's call button


async def test_an_expert_finds_no_other_experts_client_and_may_not_open_it(aiohttp_client: Any,
                                                                          site: Settings) -> None:
    client = await signed_in(aiohttp_client, site, "maria")
    status, html = await page(client, "сидоров")
    assert status == 200 and 'data-testid="search-nothing"' in html and "/clients/C-3" not in html
    assert (await client.get("/clients/C-3", headers=HTML_ACCEPT)).status == 403


async def test_a_supervisor_finds_every_client_with_its_expert(aiohttp_client: Any, site: Settings) -> None:
    client = await signed_in(aiohttp_client, site, "olga")
    status, html = await page(client, "555-11-2")
    assert status == 200
    assert 'href="/clients/C-1"' in html and 'href="/clients/C-3"' in html
    assert "Белова Анна Игоревна" in html and "Екатеринбург (UTC+5)" in html


async def test_the_territory_and_the_zone_each_have_a_column_headed_for_what_it_holds(
        aiohttp_client: Any, site: Settings, db_sessions: SessionMaker) -> None:
    """Issue 14: «Город, часовой пояс» held the CRM's territory code («УТ»); there is no city in the data."""
    async with db_sessions.begin() as session:
        await session.execute(text("UPDATE clients SET territory = 'УТ' WHERE external_id = 'C-3'"))
    client = await signed_in(aiohttp_client, site, "olga")
    status, html = await page(client, "сидоров")
    assert status == 200 and "Город" not in html
    assert "<th>Территория</th><th>Часовой пояс</th>" in html
    row = html.split('data-client="C-3"', 1)[1].split("</tr>", 1)[0]
    territory = row.split('data-testid="territory">', 1)[1].split("</td>", 1)[0]
    zone = row.split('data-testid="zone">', 1)[1].split("</td>", 1)[0]
    assert ">УТ<" in territory and 'title="Территория клиента в CRM: УТ"' in territory and "UTC" not in territory
    assert "Екатеринбург (UTC+5)" in zone and "сейчас" in zone and "УТ" not in zone


async def test_the_page_says_when_the_query_is_too_short_or_too_long(aiohttp_client: Any,
                                                                     site: Settings) -> None:
    client = await signed_in(aiohttp_client, site, "maria")
    status, html = await page(client, "ро")
    assert status == 200 and "Слишком короткий запрос" in html
    status, html = await page(client, "a" * 3000)  # Latin: 3,000 bytes, inside the test server's line limit
    assert status == 200 and 'data-testid="search-too-long"' in html and "Слишком длинный запрос" in html
    assert 'data-testid="client-results"' not in html and "Слишком короткий" not in html


@pytest.mark.parametrize("typed", ["%", "_", "\\", "%_%", "' OR 1=1 --", "<script>alert(1)</script>",
                                   "a" * 10_000, "%" * 10_000])
async def test_hostile_queries_are_never_a_server_error(aiohttp_client: Any, site: Settings, typed: str) -> None:
    client = await signed_in(aiohttp_client, site, "olga")
    started = time.perf_counter()
    status, html = await page(client, typed)
    # A guard against a pattern that runs away (LIKE wildcards backtracking: minutes), not a speed target: the
    # suite's three workers on two cores once took 3.6 s over a query that takes 0.1 s alone.
    assert time.perf_counter() - started < 10.0
    # Over aiohttp's request-line limit (8 KiB) the server itself refuses the request: 400.
    assert status == 200 or (status == 400 and len(typed) > 2000), (status, html[:200])
    assert "<script>alert(1)</script>" not in html and 'href="/clients/C-' not in html


async def test_a_nul_byte_is_refused_by_the_input_guard(aiohttp_client: Any, site: Settings) -> None:
    client = await signed_in(aiohttp_client, site, "maria")
    status, _ = await page(client, "ром\x00ашка")
    assert status == 400


async def test_signed_out_goes_to_the_login(aiohttp_client: Any, site: Settings) -> None:
    client = await aiohttp_client(create_app(site, with_pbx=False))
    response = await client.get("/clients?q=ромашка", headers=HTML_ACCEPT, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login")
