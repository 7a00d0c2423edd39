"""Alembic environment: runs on a shared connection (DS Desk) or its own async engine (alembic CLI)."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Literal

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.pool import NullPool

from service.db.engine import create_engine
from service.db.models import Base
from service.db.types import UTCDateTime

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from service.settings import load_settings  # only the alembic CLI gets here

    return load_settings().database.url


def _run(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        _foreign_keys_off_for_batch(connection)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            _check_foreign_keys(connection)


def _foreign_keys_off_for_batch(connection: Connection) -> None:
    """Batch mode rebuilds a table (copy, DROP, rename). With foreign keys on, SQLite's DROP
    TABLE first deletes every row, and ON DELETE CASCADE empties the child tables: rebuilding
    `calls` wiped every wrap-up. The pragma works only outside a transaction, so it must be the
    connection's first statement (pysqlite begins a transaction only before a write)."""
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    if connection.exec_driver_sql("PRAGMA foreign_keys").scalar() != 0:
        raise RuntimeError("SQLite foreign keys could not be switched off for the migration: "
                           "it must run on a fresh connection")


def _check_foreign_keys(connection: Connection) -> None:
    """What the switched-off checks would have caught: a migration must leave no dangling reference."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")


def _render_item(kind: str, obj: object, autogen_context: object) -> str | Literal[False]:
    # Migrations must not import app types that may change later; write the storage type.
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


async def _run_with_own_engine() -> None:
    engine = create_engine(_database_url(), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    shared: Connection | None = config.attributes.get("connection")
    if shared is not None:
        _run(shared)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    if context.is_offline_mode():
        _run_offline()
    else:
        asyncio.run(_run_with_own_engine())


_main()
