"""The aiohttp application factory: the one place where DS Desk is wired together."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from service.appkeys import DB_ENGINE, DB_SESSIONS, LEDGER, SETTINGS
from service.db.engine import create_engine, create_sessionmaker
from service.db.ledger import LedgerRepository
from service.settings import Settings


def create_app(settings: Settings) -> web.Application:
    """The web application; resources start and stop with it (cleanup contexts, in order)."""
    app = web.Application()
    app[SETTINGS] = settings
    app.cleanup_ctx.append(database_ctx)
    app.router.add_get("/healthz", healthz)
    return app


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    """The database engine and the repositories built on it, disposed at shutdown."""
    engine = create_engine(app[SETTINGS].database.url)
    sessions = create_sessionmaker(engine)
    app[DB_ENGINE] = engine
    app[DB_SESSIONS] = sessions
    app[LEDGER] = LedgerRepository(sessions)
    yield
    await engine.dispose()


async def healthz(request: web.Request) -> web.Response:
    """Liveness for load balancers and `make run` checks; carries no ledger data."""
    return web.json_response({"status": "ok"})
