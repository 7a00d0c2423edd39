"""The real application: wiring, cleanup contexts and /healthz."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pytest_aiohttp import AiohttpClient

from service.app import create_app
from service.appkeys import DB_ENGINE, LEDGER, SETTINGS
from service.settings import CdrSettings, Settings
from tests.service.builders import closed_call


async def test_healthz(aiohttp_client: AiohttpClient, db_settings: Settings) -> None:
    client = await aiohttp_client(create_app(db_settings))
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok" and body["ledger_write_error"] is None
    assert isinstance(body["ami_connected"], bool)
    # The background jobs that feed other systems say when they fail (issue 19).
    assert body["webhooks_error"] is None and body["works_export_error"] is None


async def test_the_database_is_wired(aiohttp_client: AiohttpClient, db_settings: Settings) -> None:
    client = await aiohttp_client(create_app(db_settings, with_pbx=False))
    app = client.app
    assert app is not None and app[SETTINGS] is db_settings
    assert app[DB_ENGINE].dialect.name in ("sqlite", "postgresql")
    assert len(await app[LEDGER].upsert_calls([closed_call()])) == 1
    assert (await app[LEDGER].get_call(closed_call().linkedid)) == closed_call()


async def test_healthz_says_when_asterisks_cdr_cannot_be_read(aiohttp_client: AiohttpClient, db_settings: Settings,
                                                              tmp_path: Path) -> None:
    """With a `cdr:` source that is not there, the first look-up (DS Desk's start) fails and says why."""
    settings = db_settings.model_copy(update={"cdr": CdrSettings(kind="csv", path=tmp_path / "nowhere.csv")})
    client = await aiohttp_client(create_app(settings))
    for _ in range(200):
        body = await (await client.get("/healthz")).json()
        if body["cdr_error"]:
            break
        await asyncio.sleep(0.05)
    assert "FileNotFoundError" in body["cdr_error"] and "nowhere.csv" in body["cdr_error"]
