"""Dialect-specific INSERT … ON CONFLICT constructs (SQLite and PostgreSQL share their shape)."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

Insert = sqlite.Insert | postgresql.Insert


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_for(dialect: str, table: Table) -> Insert:
    """An INSERT that supports `.on_conflict_do_update()` / `.excluded` on this dialect."""
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"upsert is not implemented for the {dialect!r} dialect")
