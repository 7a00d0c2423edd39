"""An office (tests/service/planning.py's portfolio) served with the API, and tokens for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from service.api.tokens import Scope, new_token
from service.app import create_app
from service.db.api_tokens import ApiTokensRepository
from service.db.engine import SessionMaker
from service.passwords import use_hasher
from service.settings import Settings
from tests.service.web_helpers import seed_signed_in_portfolio, use_cheap_hashes


@dataclass
class ApiOffice:
    settings: Settings
    sessions: SessionMaker
    day: date
    client: TestClient

    async def token(self, *scopes: Scope, per_minute: int = 10_000, name: str = "CRM") -> str:
        made = new_token()
        await ApiTokensRepository(self.sessions).create(name, scopes or ("read", "write", "calls"), per_minute,
                                                        made, None, datetime.now(UTC))
        return made.token

    async def call(self, method: str, path: str, token: str | None, **kwargs: Any) -> tuple[int, Any, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.request(method, path, headers={**headers, **kwargs.pop("headers", {})},
                                             **kwargs)
        body = await response.json(content_type=None) if response.content_type.endswith("json") else None
        return response.status, body, response


@pytest.fixture
async def api_office(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path,
                     aiohttp_client: Any) -> AsyncIterator[ApiOffice]:
    previous = use_cheap_hashes()
    settings, day = await seed_signed_in_portfolio(db_sessions, migrated_db, tmp_path / "rec")
    settings = settings.model_copy(update={"api": settings.api.model_copy(update={"sync_settle_s": 0.0})})
    client = await aiohttp_client(create_app(settings, with_pbx=False))
    yield ApiOffice(settings, db_sessions, day, client)
    use_hasher(previous)
