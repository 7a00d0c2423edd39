"""Migrations run on SQLite and PostgreSQL and produce exactly the models' schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.pool import NullPool

from service.db.engine import create_engine
from service.db.migrate import alembic_config, current_revision, migrate
from service.db.models import Base

T = TypeVar("T")
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_upgrade_from_empty_to_head(db_url: str) -> None:
    assert await current_revision(db_url) is None
    await migrate(db_url)
    assert await current_revision(db_url) == HEAD
    tables = await _inspect(db_url, lambda c: set(inspect(c).get_table_names()))
    assert {"calls", "clients", "client_contacts"} <= tables


async def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    await migrate(db_url)
    await migrate(db_url)
    assert await current_revision(db_url) == HEAD


async def test_migrated_schema_matches_the_models(migrated_db: str) -> None:
    differences = await _inspect(
        migrated_db, lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
    )
    assert differences == []


async def test_ledger_indexes_exist(migrated_db: str) -> None:
    indexes = await _inspect(migrated_db, lambda c: {
        tuple(ix["column_names"]) for ix in inspect(c).get_indexes("calls")
    })
    assert {("expert_ext", "started_at"), ("started_at",), ("client_id",)} <= indexes


async def _inspect(url: str, job: Callable[[Connection], T]) -> T:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(job)
    finally:
        await engine.dispose()
