"""The database for one command: an engine made when the command runs and disposed when it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from service.settings import Settings

if TYPE_CHECKING:
    from service.db.engine import SessionMaker


@asynccontextmanager
async def command_sessions(settings: Settings) -> AsyncIterator[SessionMaker]:
    """Sessions on `database.url` for the command's duration (no pool outlives it)."""
    from service.db.engine import create_engine, create_sessionmaker  # only commands that run pay for it

    engine = create_engine(settings.database.url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()
