"""A small signed-in office for the hostile-probe tests: the real app, real database, real sign-in.

ivanova (Expert, 101) owns the calls L-1…; petrov (Expert, 102); smirnova (supervisor); root (admin).
The app runs with the built-in PBX simulator (no background calls), as `make run` does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from service.app import create_app
from service.db.engine import SessionMaker
from service.db.users import UsersRepository
from service.passwords import hash_password, use_hasher
from service.settings import Settings
from tests.service.planning import seed_portfolio
from tests.service.web_helpers import DEFAULT_PASSWORD, sign_in, use_cheap_hashes


@dataclass
class Office:
    settings: Settings
    sessions: SessionMaker
    recordings: Path
    aiohttp_client: Any

    async def client(self, login: str | None = None, *, with_pbx: bool = False) -> TestClient:
        """A new browser (own cookie jar) on a new app instance; signed in as `login` if given."""
        client: TestClient = await self.aiohttp_client(create_app(self.settings, with_pbx=with_pbx))
        if login is not None:
            await sign_in(client, login)
        return client

    def users(self) -> UsersRepository:
        return UsersRepository(self.sessions)


@pytest.fixture
def cheap_hashes() -> Iterator[None]:
    previous = use_cheap_hashes()
    yield
    use_hasher(previous)


@pytest.fixture
async def office(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path, aiohttp_client: Any,
                 cheap_hashes: None) -> AsyncIterator[Office]:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    settings = Settings.model_validate({
        "database": {"url": migrated_db},
        "recordings": {"dir": str(recordings)},
        "service": {"secret_key_file": str(tmp_path / "secret.key"), "login_refusal_delay_s": 0},
        "simulator": {"experts": [], "demo_load": False},
    })
    await seed_portfolio(db_sessions)
    users = UsersRepository(db_sessions)
    for login in ("ivanova", "petrov", "smirnova"):
        await users.set_password_hash(login, hash_password(DEFAULT_PASSWORD))
    await users.add("root", "Админов Админ", "admin", None, hash_password(DEFAULT_PASSWORD))
    yield Office(settings, db_sessions, recordings, aiohttp_client)
