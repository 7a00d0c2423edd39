"""Async engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SessionMaker = async_sessionmaker[AsyncSession]
SQLITE_CACHED_STATEMENTS = 16

# Plain scheme → the async driver DS Desk uses, so a deployer may write `postgresql://…`.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def async_url(url: str | URL) -> URL:
    """The URL with the async driver filled in (`sqlite://` → `sqlite+aiosqlite://`)."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def create_engine(url: str | URL, *, sqlite_busy_timeout_s: float = 30.0, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine; on SQLite with WAL and foreign keys, creating the file's directory.

    `sqlite_busy_timeout_s`: how long a write waits for another process's lock before failing
    (the ledger recorder then keeps its records and retries).
    """
    parsed = async_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, pool_pre_ping=True, **kwargs)
    _ensure_sqlite_dir(parsed)
    # sqlite3 caches 128 prepared statements per connection by default; the ledger's multi-row
    # upserts differ by row count, so each batch size is a new statement and the cache alone grew
    # RSS by ~30 MB in the ingest benchmark. A few are all the hot paths need.
    connect_args = {"timeout": sqlite_busy_timeout_s, "cached_statements": SQLITE_CACHED_STATEMENTS}
    engine = create_async_engine(parsed, connect_args=connect_args, **kwargs)
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    """Sessions that keep loaded attributes after commit (no lazy reload in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _ensure_sqlite_dir(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the CLI read while the service writes; SQLite leaves foreign keys off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # In WAL mode NORMAL never corrupts the file; it only skips an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
