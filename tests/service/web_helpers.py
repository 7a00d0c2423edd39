"""Signing in from tests: a real user with a real (cheap) argon2 hash, and the login form driven like a browser.

    user = await add_user(db_settings, "maria", role="expert", extension="101")
    client = await aiohttp_client(create_app(db_settings, with_pbx=False))
    token = await sign_in(client, "maria", DEFAULT_PASSWORD)
    await client.post("/some/form", data={"_csrf": token, ...})          # a form
    await client.post("/api/thing", json={...}, headers=csrf_header(token))  # fetch()

`sign_in` GETs /login, reads the CSRF token from the hidden input, POSTs the form and returns
the signed-in session's CSRF token (a new one: the session rotates at sign-in; GET /session tells it). The client's
cookie jar keeps the session; send `Accept: text/html` (HTML_ACCEPT) to be treated as a browser.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from service.db.engine import SessionMaker, create_engine, create_sessionmaker
from service.db.users import UserRow, UsersRepository
from service.passwords import hash_password, use_hasher
from service.settings import Settings
from service.web.desk_context import desk_day
from service.web.keys import CSRF_FIELD, CSRF_HEADER
from tests.service.planning import seed_portfolio

DEFAULT_PASSWORD = "correct horse"
HTML_ACCEPT = {"Accept": "text/html,application/xhtml+xml"}
JSON_ACCEPT = {"Accept": "application/json"}
_TOKEN = re.compile(rf'name="{CSRF_FIELD}" value="([^"]+)"')


def use_cheap_hashes() -> PasswordHasher:
    """argon2 with the cheapest parameters, for speed (returns the previous hasher to restore)."""
    return use_hasher(PasswordHasher.from_parameters(CHEAPEST))


async def add_user(settings: Settings, login: str, *, role: str = "expert", extension: str | None = "101",
                   password: str | None = DEFAULT_PASSWORD, full_name: str | None = None) -> UserRow:
    """A user in the settings' database (password None: cannot sign in)."""
    engine = create_engine(settings.database.url)
    try:
        users = UsersRepository(create_sessionmaker(engine))
        password_hash = None if password is None else hash_password(password)
        return await users.add(login, full_name or f"Тестова {login.title()} Ивановна", role, extension,
                               password_hash)
    finally:
        await engine.dispose()


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _TOKEN.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def csrf_header(token: str) -> dict[str, str]:
    return {CSRF_HEADER: token}


async def sign_in(client: TestClient, login: str, password: str = DEFAULT_PASSWORD) -> str:
    """Sign in through the login form; returns the new session's CSRF token. Fails the test if refused."""
    page = await client.get("/login", headers=HTML_ACCEPT)
    form = {CSRF_FIELD: csrf_token(await page.text()), "login": login, "password": password}
    response = await client.post("/login", data=form, headers=HTML_ACCEPT, allow_redirects=False)
    assert response.status == 302, f"sign-in as {login!r} refused: {response.status}"
    return await session_csrf_token(client)


async def session_csrf_token(client: TestClient) -> str:
    """The signed-in session's CSRF token (from GET /session)."""
    response = await client.get("/session", headers=JSON_ACCEPT)
    assert response.status == 200, f"not signed in: {response.status}"
    token: str = (await response.json())["csrf_token"]
    return token


async def seed_signed_in_portfolio(sessions: SessionMaker, database_url: str,
                                   recordings_dir: Path) -> tuple[Settings, date]:
    """tests/service/planning.py's portfolio, its three users able to sign in; the settings and the desk day."""
    settings = Settings.model_validate({"database": {"url": database_url},
                                        "recordings": {"dir": str(recordings_dir)}})
    await seed_portfolio(sessions)
    users = UsersRepository(sessions)
    for login in ("ivanova", "petrov", "smirnova"):
        await users.set_password_hash(login, hash_password(DEFAULT_PASSWORD))
    return settings, desk_day(settings, datetime.now(UTC)).day
