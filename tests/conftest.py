"""Shared fixtures: one database per backend (SQLite, PostgreSQL), migrated, with repositories.

`db_url` is parametrized, so every test that uses it (directly or through `migrated_db`,
`db_sessions`, `ledger`, `clients_repo`, `db_settings`) runs once on SQLite and once on
PostgreSQL. PostgreSQL is skipped when unreachable, except under CI=true, where that fails.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # used only to create/drop databases
import pytest
from sqlalchemy import make_url

from service.db.clients import ClientsRepository
from service.db.engine import SessionMaker, async_url, create_engine, create_sessionmaker
from service.db.ledger import LedgerRepository
from service.db.migrate import migrate
from service.settings import ENV_AMI_SECRET, ENV_CONFIG, ENV_DATABASE_URL, Settings
from tests.pg_fresh import fresh_pg_schema

# The server's maintenance database, used only to create and drop the session's database.
PG_ADMIN_URL = os.environ.get("DSDESK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
T = TypeVar("T")


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _no_dsdesk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own DSDESK_* variables must not leak into the tests."""
    for name in (ENV_CONFIG, ENV_DATABASE_URL, ENV_AMI_SECRET, "DSDESK_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """URL of a fresh, uniquely named PostgreSQL database, dropped at the end of the session."""
    name = f"dsdesk_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        _in_thread(lambda: _pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # refused, timed out, bad credentials: all mean "no PostgreSQL here"
        message = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {type(e).__name__}: {e}"
        if running_in_ci():
            pytest.fail(f"{message} (CI=true: the PostgreSQL tests must run)", pytrace=False)
        pytest.skip(message)
    yield async_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    _in_thread(lambda: _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a temp SQLite file, or the session's PostgreSQL database emptied.

    When the test also asks for `migrated_db`, that fixture makes the database instead."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'dsdesk.db'}"
    url: str = request.getfixturevalue("pg_database")
    if "migrated_db" not in request.fixturenames:
        _in_thread(lambda: _pg_reset(url))
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per test process: each test gets a copy (a migration from empty takes
    0.6–0.9 s, a copy a few milliseconds)."""
    path = tmp_path_factory.mktemp("template") / "dsdesk.db"
    _in_thread(lambda: migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture
async def migrated_db(db_url: str, request: pytest.FixtureRequest) -> str:
    """`db_url` after the Alembic migrations ran: a copy of the migrated template on SQLite; on PostgreSQL
    the session's database emptied back to its just-migrated rows when its schema is still the migrated one
    (1.3–1.6 s for a migration against ~0.1 s), else migrated afresh."""
    if db_url.startswith("sqlite"):
        template: Path = request.getfixturevalue("sqlite_template")
        await asyncio.to_thread(_copy_sqlite, template, Path(make_url(db_url).database or ""))
    else:
        await fresh_pg_schema(db_url)
    return db_url


@pytest.fixture
async def db_sessions(migrated_db: str) -> AsyncIterator[SessionMaker]:
    engine = create_engine(migrated_db)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def ledger(db_sessions: SessionMaker) -> LedgerRepository:
    return LedgerRepository(db_sessions)


@pytest.fixture
def clients_repo(db_sessions: SessionMaker) -> ClientsRepository:
    return ClientsRepository(db_sessions)


@pytest.fixture
def db_settings(migrated_db: str) -> Settings:
    """Default settings pointing at the migrated test database."""
    return Settings.model_validate({"database": {"url": migrated_db}})


def _in_thread(job: Callable[[], Coroutine[Any, Any, T]]) -> T:
    # A thread of its own so this event loop never meets pytest-asyncio's.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(job())).result()


async def _pg_connect(url: str) -> asyncpg.Connection:
    plain = async_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return await asyncpg.connect(plain, timeout=5)


async def _pg_admin(sql: str) -> None:
    connection = await _pg_connect(PG_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _pg_reset(url: str) -> None:
    connection = await _pg_connect(url)
    try:
        # A connection leaked by an earlier test must fail this loudly, not hang the run.
        await connection.execute("SET lock_timeout = '10s'")
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


def _copy_sqlite(template: Path, target: Path) -> None:
    # The backup API copies a consistent database whatever its journal mode (a file copy could miss a WAL).
    with sqlite3.connect(template) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
