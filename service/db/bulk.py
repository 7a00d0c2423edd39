"""Set-based batch writes shared by the directory repositories (executemany, no row-by-row ORM)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import SessionMaker
from service.db.records import Counts
from service.db.upsert import dialect_name, insert_for

T = TypeVar("T")
# Rows per statement: well under SQLite's 32,766 bound parameters for an IN list.
IN_CHUNK = 5000


def chunks(items: Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@asynccontextmanager
async def session_scope(sessions: SessionMaker,
                        session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
    """The caller's session (its transaction), or a new one committed at the end."""
    if session is not None:
        yield session
        return
    async with sessions.begin() as own:
        yield own


async def upsert_by_key(session: AsyncSession, table: Table, key: str,
                        rows: Sequence[Mapping[str, Any]]) -> Counts:
    """Insert rows whose `key` is new, update those that differ, leave equal ones untouched.

    Unchanged rows are not written at all, so re-importing a file changes nothing.
    """
    existing = await _existing_by_key(session, table, key, [row[key] for row in rows])
    new: list[Mapping[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for row in rows:
        current = existing.get(row[key])
        if current is None:
            new.append(row)
        elif any(current[name] != value for name, value in row.items()):
            changed.append({"b_id": current["id"], **{f"b_{k}": v for k, v in row.items()}})
    if new:
        await session.execute(insert(table), list(new))
    if changed:
        await session.execute(_update_by_id(table, rows[0].keys()), changed)
    return Counts(new=len(new), updated=len(changed), unchanged=len(rows) - len(new) - len(changed))


async def insert_absent(session: AsyncSession, table: Table, unique: str,
                        rows: Sequence[Mapping[str, Any]]) -> Counts:
    """Insert rows whose `unique` column value is not there yet; the others count as unchanged."""
    if not rows:
        return Counts()
    statement = insert_for(dialect_name(session), table).on_conflict_do_nothing(
        index_elements=[table.c[unique]]).returning(table.c.id)
    # RETURNING yields only the rows really inserted (both dialects), hence the count.
    inserted = len((await session.execute(statement, list(rows))).all())
    return Counts(new=inserted, unchanged=len(rows) - inserted)


async def ids_by(session: AsyncSession, table: Table, key: str, values: Iterable[str],
                 ) -> dict[str, int]:
    """`key` value → id for the given values (those not found are left out)."""
    found: dict[str, int] = {}
    for chunk in chunks(set(values)):
        rows = await session.execute(select(table.c[key], table.c.id).where(table.c[key].in_(chunk)))
        found.update({value: row_id for value, row_id in rows})
    return found


async def _existing_by_key(session: AsyncSession, table: Table, key: str,
                           keys: Sequence[str]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for chunk in chunks(keys):
        result = await session.execute(select(table).where(table.c[key].in_(chunk)))
        found.update({row[key]: row for row in result.mappings()})
    return found


def _update_by_id(table: Table, columns: Iterable[str]) -> Any:
    # Bound names must differ from column names in an UPDATE, hence the `b_` prefix.
    values: dict[str, Any] = {name: bindparam(f"b_{name}") for name in columns}
    return update(table).where(table.c.id == bindparam("b_id")).values(values)
