"""Sign-in, sessions, CSRF and roles, through the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from aiohttp import web
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from pytest_aiohttp import AiohttpClient
from sqlalchemy import update
from yarl import URL

from service.app import create_app
from service.appkeys import DB_SESSIONS
from service.db.models import Expert
from service.db.records import ExpertName
from service.db.users import UsersRepository
from service.demo_data import seed_demo_department
from service.passwords import hash_password, use_hasher, verify_password
from service.settings import ENV_SECRET_KEY, Settings, load_settings
from service.web.auth import requires, safe_next
from service.web.keys import CSRF_FIELD
from service.web.sessions import COOKIE_NAME, load_or_create_secret, session_secret
from tests.service.web_helpers import (
    DEFAULT_PASSWORD,
    HTML_ACCEPT,
    JSON_ACCEPT,
    add_user,
    csrf_header,
    csrf_token,
    sign_in,
    use_cheap_hashes,
)

WRONG = "Неверный логин или пароль"
CSRF_REFUSED = "Форма устарела или пришла не с этой страницы: обновите страницу"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ENV_SECRET_KEY, raising=False)
    previous = use_cheap_hashes()
    yield
    use_hasher(previous)


@pytest.fixture
def settings(migrated_db: str, tmp_path: Path) -> Settings:
    return Settings.model_validate({"database": {"url": migrated_db},
                                    "service": {"secret_key_file": str(tmp_path / "secret.key"),
                                                "login_refusal_delay_s": 0}})


async def supervisors_only(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def echo(request: web.Request) -> web.Response:
    return web.json_response({"body": await request.text()})


def build_app(settings: Settings) -> web.Application:
    app = create_app(settings, with_pbx=False)
    app.router.add_get("/t/board", requires("supervisor", "admin")(supervisors_only))
    app.router.add_post("/t/echo", echo)
    return app


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, settings: Settings):
    await add_user(settings, "maria", extension="101")
    await add_user(settings, "olga", role="supervisor", extension="201")
    return await aiohttp_client(build_app(settings))


async def login_form(client, **fields: str):
    page = await client.get("/login", headers=HTML_ACCEPT)
    assert page.status == 200
    data = {CSRF_FIELD: csrf_token(await page.text()), **fields}
    return await client.post("/login", data=data, headers=HTML_ACCEPT, allow_redirects=False)


async def test_login_page_is_russian_with_the_named_inputs(client) -> None:
    page = await client.get("/login", headers=HTML_ACCEPT)
    html = await page.text()
    assert page.status == 200
    for text in ("Вход в DS Desk", "Логин", "Пароль", "Войти", 'id="login"', 'id="password"',
                 'type="submit"', f'name="{CSRF_FIELD}"'):
        assert text in html


async def test_sign_in_goes_back_to_the_page_asked_for(client) -> None:
    asked = await client.get("/t/board?day=2026-03-02", headers=HTML_ACCEPT, allow_redirects=False)
    assert asked.status == 302
    location = URL(asked.headers["Location"])
    assert location.path == "/login" and location.query["next"] == "/t/board?day=2026-03-02"
    response = await login_form(client, login="olga", password=DEFAULT_PASSWORD, next="/t/board?day=2026-03-02")
    assert response.status == 302 and response.headers["Location"] == "/t/board?day=2026-03-02"
    me = await (await client.get("/session", headers=JSON_ACCEPT)).json()
    assert me["login"] == "olga" and me["role"] == "supervisor" and me["extension"] == "201"
    assert (await client.get("/t/board", headers=JSON_ACCEPT)).status == 200


async def test_sign_in_without_next_goes_home_and_the_login_page_then_redirects(client) -> None:
    response = await login_form(client, login="maria", password=DEFAULT_PASSWORD)
    assert response.status == 302 and response.headers["Location"] == "/"
    again = await client.get("/login", headers=HTML_ACCEPT, allow_redirects=False)
    assert again.status == 302 and again.headers["Location"] == "/"


async def test_the_session_cookie_is_httponly_and_lax(client) -> None:
    response = await login_form(client, login="maria", password=DEFAULT_PASSWORD)
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert int(cookie["max-age"]) == 12 * 3600


async def test_wrong_password_shows_the_form_again_with_the_login_kept(client) -> None:
    response = await login_form(client, login="maria", password="not-her-password")
    html = await response.text()
    assert response.status == 401
    assert WRONG in html and 'value="maria"' in html
    assert (await client.get("/session", headers=JSON_ACCEPT)).status == 401


async def test_unknown_login_gets_the_same_answer(client) -> None:
    unknown = await login_form(client, login="nobody", password=DEFAULT_PASSWORD)
    wrong = await login_form(client, login="maria", password="not-her-password")
    assert unknown.status == wrong.status == 401
    unknown_html, wrong_html = await unknown.text(), await wrong.text()
    assert WRONG in unknown_html
    # Apart from the typed login and the token, the two pages are the same: nothing tells them apart.
    assert _without_token(unknown_html).replace("nobody", "maria") == _without_token(wrong_html)


async def test_inactive_or_passwordless_users_cannot_sign_in(client, settings: Settings) -> None:
    await add_user(settings, "anna", extension="102", password=None)
    await _users(client).deactivate("maria")
    for login in ("maria", "anna"):
        response = await login_form(client, login=login, password=DEFAULT_PASSWORD)
        assert response.status == 401 and WRONG in await response.text()


async def test_login_needs_the_csrf_token(client) -> None:
    await client.get("/login", headers=HTML_ACCEPT)  # the session and its token exist
    form = {"login": "maria", "password": DEFAULT_PASSWORD}
    missing = await client.post("/login", data=form, headers=HTML_ACCEPT, allow_redirects=False)
    wrong = await client.post("/login", data={**form, CSRF_FIELD: "forged"}, headers=HTML_ACCEPT,
                              allow_redirects=False)
    for response in (missing, wrong):
        assert response.status == 403 and CSRF_REFUSED in await response.text()
    assert (await client.get("/session", headers=JSON_ACCEPT)).status == 401


async def test_login_without_any_session_is_refused(client) -> None:
    response = await client.post("/login", data={"login": "maria", "password": DEFAULT_PASSWORD,
                                                 CSRF_FIELD: ""}, allow_redirects=False)
    assert response.status == 403
    assert (await response.json())["error"] == CSRF_REFUSED  # said once (was «Форма устарела: Форма устарела…»)


async def test_logout_needs_the_csrf_token_and_ends_the_session(client) -> None:
    token = await sign_in(client, "maria")
    refused = await client.post("/logout", headers=HTML_ACCEPT, allow_redirects=False)
    assert refused.status == 403 and CSRF_REFUSED in await refused.text()
    assert (await client.get("/session", headers=JSON_ACCEPT)).status == 200  # still signed in
    out = await client.post("/logout", data={CSRF_FIELD: token}, headers=HTML_ACCEPT, allow_redirects=False)
    assert out.status == 302 and out.headers["Location"] == "/login"
    assert (await client.get("/session", headers=JSON_ACCEPT)).status == 401


async def test_the_session_rotates_at_sign_in(client) -> None:
    page = await client.get("/login", headers=HTML_ACCEPT)
    anonymous_token = csrf_token(await page.text())
    token = await sign_in(client, "maria")
    assert token != anonymous_token
    stale = await client.post("/t/echo", data={CSRF_FIELD: anonymous_token}, allow_redirects=False)
    assert stale.status == 403


async def test_fetch_sends_the_token_in_a_header_and_the_handler_still_reads_the_body(client) -> None:
    token = await sign_in(client, "maria")
    by_header = await client.post("/t/echo", json={"a": 1}, headers=csrf_header(token))
    assert by_header.status == 200 and await by_header.json() == {"body": '{"a": 1}'}
    by_form = await client.post("/t/echo", data={CSRF_FIELD: token, "note": "привет"})
    assert by_form.status == 200 and "note=" in (await by_form.json())["body"]
    no_token = await client.post("/t/echo", json={"a": 1}, headers=JSON_ACCEPT)
    assert no_token.status == 403 and "error" in await no_token.json()


@pytest.mark.parametrize("accept", ["application/json", "*/*", "text/event-stream"])
async def test_scripts_and_event_streams_get_401_not_a_redirect(client, accept: str) -> None:
    response = await client.get("/t/board", headers={"Accept": accept}, allow_redirects=False)
    assert response.status == 401
    assert await response.json() == {"error": "Нужно войти в DS Desk", "login": "/login"}


async def test_public_paths_need_no_sign_in(client) -> None:
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/static/app.css")).status == 200
    assert (await client.get("/login")).status == 200


async def test_no_redirect_to_another_site(client) -> None:
    for target in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        response = await login_form(client, login="maria", password=DEFAULT_PASSWORD, next=target)
        assert response.status == 302 and response.headers["Location"] == "/"
    signed_in = await client.get("/login?next=//evil.example", headers=HTML_ACCEPT, allow_redirects=False)
    assert signed_in.headers["Location"] == "/"


@pytest.mark.parametrize(("target", "expected"), [
    (None, "/"), ("", "/"), ("/", "/"), ("/desk?day=1#x", "/desk?day=1#x"), ("//evil.example", "/"),
    ("///evil.example", "/"), ("/\\evil.example", "/"), ("https://evil.example", "/"),
    ("javascript:alert(1)", "/"), ("evil.example", "/"), ("/a\r\nLocation: x", "/"), ("/\tevil", "/"),
])
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


async def test_the_wrong_role_gets_403(client) -> None:
    await sign_in(client, "maria")
    page = await client.get("/t/board", headers=HTML_ACCEPT)
    assert page.status == 403
    html = await page.text()
    assert "Нет доступа" in html and "руководитель группы" in html
    api = await client.get("/t/board", headers=JSON_ACCEPT)
    assert api.status == 403 and (await api.json())["error"].startswith("Нет доступа")


def test_requires_names_known_roles_only() -> None:
    with pytest.raises(ValueError):
        requires("boss")  # type: ignore[arg-type]  # an unknown role, on purpose
    with pytest.raises(ValueError):
        requires()


async def test_a_new_password_ends_older_sessions(client) -> None:
    await sign_in(client, "maria")
    await _users(client).set_password_hash("maria", hash_password("a brand new one"))
    response = await client.get("/t/board", headers=HTML_ACCEPT, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login")
    await sign_in(client, "maria", "a brand new one")


async def test_deactivation_ends_the_session(client) -> None:
    await sign_in(client, "olga")
    await _users(client).deactivate("olga")
    assert (await client.get("/session", headers=JSON_ACCEPT)).status == 401


async def test_an_outdated_hash_is_replaced_at_sign_in(client) -> None:
    old_hasher = PasswordHasher.from_parameters(CHEAPEST)
    newer = use_hasher(PasswordHasher(time_cost=2, memory_cost=CHEAPEST.memory_cost * 2, parallelism=1))
    try:
        await _users(client).set_password_hash("maria", old_hasher.hash("old-but-right"))
        await sign_in(client, "maria", "old-but-right")
        stored = await _users(client).by_login("maria")
        assert stored is not None and stored.password_hash is not None
        assert f"m={CHEAPEST.memory_cost * 2}," in stored.password_hash  # today's parameters
        assert verify_password(stored.password_hash, "old-but-right")
        assert (await client.get("/session", headers=JSON_ACCEPT)).status == 200  # not signed out by it
    finally:
        use_hasher(newer)


async def test_a_restart_keeps_users_signed_in(aiohttp_client: AiohttpClient, settings: Settings) -> None:
    await add_user(settings, "maria")
    first = await aiohttp_client(build_app(settings))
    await sign_in(first, "maria")
    cookie = first.session.cookie_jar.filter_cookies(first.make_url("/"))[COOKIE_NAME].value
    second = await aiohttp_client(build_app(settings))  # a new app: the key comes from the file
    response = await second.get("/session", headers=JSON_ACCEPT, cookies={COOKIE_NAME: cookie})
    assert response.status == 200 and (await response.json())["login"] == "maria"


def test_the_secret_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret.key"
    first = load_or_create_secret(path)
    assert len(first) >= 40 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no draft left behind


def test_a_configured_secret_wins_and_the_env_overrides_it(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"service: {{secret_key: from-file, secret_key_file: {tmp_path / 'k'}}}\n")
    assert session_secret(load_settings(config, env={}).service) == "from-file"
    assert session_secret(load_settings(config, env={ENV_SECRET_KEY: "from-env"}).service) == "from-env"
    assert not (tmp_path / "k").exists()
    assert "from-env" not in repr(load_settings(config, env={ENV_SECRET_KEY: "from-env"}))


async def test_a_real_department_gets_no_demo_passwords(client, settings: Settings) -> None:
    await add_user(settings, "anna", extension="102", password=None)  # a real Anna, not the demo's
    before = {u.login: u for u in await _users(client).list_users()}
    await seed_demo_department(client.app[DB_SESSIONS], date(2026, 3, 2))
    assert {u.login: u for u in await _users(client).list_users()} == before  # no admin, no passwords


async def test_the_demo_department_gets_its_logins(aiohttp_client: AiohttpClient, settings: Settings) -> None:
    client = await aiohttp_client(build_app(settings))
    await seed_demo_department(client.app[DB_SESSIONS], date(2026, 3, 2))
    users = {u.login: u for u in await _users(client).list_users()}
    assert {login: (u.role, u.extension) for login, u in users.items()} == {
        "maria": ("expert", "101"), "anna": ("expert", "102"), "pavel": ("expert", "103"),
        "irina": ("pm", "104"), "olga": ("supervisor", "201"), "admin": ("admin", None)}
    assert users["olga"].full_name == "Смирнова Ольга Викторовна"
    assert users["admin"].full_name == "Администратор DS Desk"
    assert await _users(client).name_of(users["maria"].id) == ExpertName("Орлова", "Мария", "Сергеевна")
    assert users["maria"].full_name == "Орлова Мария Сергеевна"
    await sign_in(client, "olga", "olga-demo")
    hashes = {u.login: u.password_hash for u in users.values()}
    await seed_demo_department(client.app[DB_SESSIONS], date(2026, 3, 3))  # a restart
    assert {u.login: u.password_hash for u in await _users(client).list_users()} == hashes


async def test_a_demo_made_before_names_in_parts_gets_them_put_right(aiohttp_client: AiohttpClient,
                                                                      settings: Settings) -> None:
    """Demos before migration 0013 stored «Мария Сергеевна Орлова», which the migration splits as
    Фамилия «Мария», Имя «Сергеевна» (the script said «Меня зовут Сергеевна»)."""
    client = await aiohttp_client(build_app(settings))
    sessions = client.app[DB_SESSIONS]
    await seed_demo_department(sessions, date(2026, 3, 2))
    async with sessions.begin() as session:
        for login, old in (("maria", "Мария Сергеевна Орлова"), ("anna", "Анна Викторовна Белова")):
            last, first, patronymic = old.split()
            await session.execute(update(Expert).where(Expert.login == login).values(
                full_name=old, last_name=last, first_name=first, patronymic=patronymic))
    await seed_demo_department(sessions, date(2026, 3, 3))  # the restart after the upgrade
    users = {u.login: u for u in await _users(client).list_users()}
    assert await _users(client).name_of(users["maria"].id) == ExpertName("Орлова", "Мария", "Сергеевна")
    assert (users["anna"].full_name, users["anna"].extension) == ("Белова Анна Викторовна", "102")
    assert all(u.password_hash is not None for u in users.values())
    assert users["pavel"].full_name == "Зайцев Павел Андреевич"


def _users(client) -> UsersRepository:
    return UsersRepository(client.app[DB_SESSIONS])


def _without_token(html: str) -> str:
    return html.replace(csrf_token(html), "TOKEN")


async def test_wrong_passwords_pause_the_login_with_429(client) -> None:
    """Found in review: nothing stopped guessing passwords at the speed argon2 allows."""
    from service.web.login_guard import MAX_FAILURES_PER_LOGIN

    for _ in range(MAX_FAILURES_PER_LOGIN):
        assert (await login_form(client, login="maria", password="guess")).status == 401
    paused = await login_form(client, login="Maria ", password=DEFAULT_PASSWORD)  # the right one, too late
    assert paused.status == 429
    assert "Слишком много неудачных попыток входа" in await paused.text()
    assert int(paused.headers["Retry-After"]) > 0
    assert (await login_form(client, login="olga", password=DEFAULT_PASSWORD)).status == 302  # others go on


async def test_a_flood_of_sign_ins_is_bounded(client) -> None:
    """Found in review: every attempt started an argon2 check at once; the excess is refused, not queued."""
    import asyncio

    from service.web.login_guard import LOGIN_GUARD, MAX_WAITING_CHECKS

    guard = client.app[LOGIN_GUARD]
    release = asyncio.Event()
    held = []
    for i in range(MAX_WAITING_CHECKS):  # checks already running or waiting
        slot = guard.attempt(f"someone{i}", "10.0.0.9", 0.0)
        held.append(slot)
    entered = [asyncio.ensure_future(_hold(slot, release)) for slot in held]
    await asyncio.sleep(0.05)
    refused = await login_form(client, login="maria", password=DEFAULT_PASSWORD)
    assert refused.status == 429 and "одновременно" in await refused.text()
    release.set()
    await asyncio.gather(*entered)
    assert (await login_form(client, login="maria", password=DEFAULT_PASSWORD)).status == 302


async def _hold(slot, release) -> None:
    async with slot:
        await release.wait()


async def test_every_page_forbids_inline_scripts_and_framing(client) -> None:
    """Found in review: a supervisor's script text is HTML shown to Experts; only our own files may run."""
    for path in ("/login", "/static/desk.js"):
        response = await client.get(path, headers=HTML_ACCEPT)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_signing_out_ends_a_copied_session_cookie_too(client) -> None:
    """Found in review: the cookie is the session, so a copy of it outlived «Выйти»."""
    token = await sign_in(client, "maria")
    stolen = {c.key: c.value for c in client.session.cookie_jar}
    out = await client.post("/logout", data={CSRF_FIELD: token}, headers=HTML_ACCEPT, allow_redirects=False)
    assert out.status == 302
    replayed = await client.get("/session", headers=JSON_ACCEPT, cookies=stolen)
    assert replayed.status == 401
    await sign_in(client, "maria")  # signing in again works at once
    assert (await client.get("/session", headers=JSON_ACCEPT)).status == 200
