"""Schemathesis against the live OpenAPI document: generated requests (valid and invalid) find no server
error, no status or content type the document does not declare, and no response that breaks its schema.

The app runs in its own thread and event loop (schemathesis's client is synchronous), on a migrated SQLite
database with the test portfolio; the document is the one the app serves.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis import checks

from service.api.setup import build_openapi
from service.api.tokens import new_token
from service.app import create_app
from service.db.api_tokens import ApiTokensRepository
from service.db.engine import create_engine, create_sessionmaker
from service.db.migrate import migrate
from service.settings import Settings
from tests.service.web_helpers import seed_signed_in_portfolio, use_cheap_hashes

schema = schemathesis.openapi.from_dict(build_openapi())
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance,
          checks.negative_data_rejection, checks.ignored_auth]


TOKEN = new_token()  # made before collection: schemathesis authenticates the cases it builds while collecting


@schema.auth()
class BearerToken:
    """The token goes in as schemathesis's own auth, so its negative cases that drop the header stay dropped."""

    def get(self, case: schemathesis.Case, context: object) -> str:
        return TOKEN.token

    def set(self, case: schemathesis.Case, data: str, context: object) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


class LiveApi:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}


async def _prepare(tmp: Path) -> tuple[Settings, str]:
    url = f"sqlite+aiosqlite:///{tmp / 'api.db'}"
    await migrate(url)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    use_cheap_hashes()
    settings, _ = await seed_signed_in_portfolio(sessions, url, tmp / "rec")
    await ApiTokensRepository(sessions).create("schemathesis", ("read", "write", "calls"), 100_000, TOKEN, None,
                                               datetime.now(UTC))
    await engine.dispose()
    return settings, TOKEN.token


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    tmp = tmp_path_factory.mktemp("api")
    settings, token = asyncio.run(_prepare(tmp))
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, object] = {}

    async def serve() -> None:
        runner = web.AppRunner(create_app(settings, with_pbx=False))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        holder["port"] = runner.addresses[0][1]
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(serve()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(60), "the API did not start"
    live = LiveApi(f"http://127.0.0.1:{holder['port']}", token)
    served = requests.get(f"{live.base_url}/api/v1/openapi.json", timeout=10).json()
    assert served == schema.raw_schema, "the live document is the one tested"
    yield live
    asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(30)  # type: ignore[attr-defined]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_document(case: schemathesis.Case, live_api: LiveApi) -> None:
    case.call_and_validate(base_url=live_api.base_url, checks=CHECKS)
