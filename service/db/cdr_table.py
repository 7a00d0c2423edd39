"""Asterisk's CDR in a PostgreSQL table (`cdr_pgsql`) as the ledger's CdrSource.

`cdr_pgsql` fills each column whose name is a CDR variable; docs/asterisk.md gives the table
(with `linkedid`, and `start`/`answer`/`end` as double precision: epoch seconds to the
microsecond, where a timestamp column would get whole seconds). Read-only; the engine is our own.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import tzinfo

from sqlalchemy import Column, Float, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.cdr import CDR_COLUMNS, CdrRow, row_from_fields, rows_by_call
from service.db.engine import create_engine

_TIMES = frozenset({"start", "answer", "end"})


class CdrTableSource:
    def __init__(self, url: str, table: str, tz: tzinfo, engine: AsyncEngine | None = None) -> None:
        schema, _, name = table.rpartition(".")
        self._table = Table(name, MetaData(schema=schema or None),
                            *(Column(c, Float if c in _TIMES else String) for c in CDR_COLUMNS))
        self._engine = engine or create_engine(url)
        self._tz = tz

    async def rows_for(self, linkedids: Collection[str]) -> dict[str, list[CdrRow]]:
        wanted = list(linkedids)
        rows: list[CdrRow] = []
        for i in range(0, len(wanted), 500):
            rows += await self._select(self._table.c.linkedid.in_(wanted[i:i + 500]))
        return rows_by_call(rows)

    async def rows_ended_between(self, start: float, end: float) -> dict[str, list[CdrRow]]:
        in_window = await self._select(self._table.c.end.between(start, end))
        return await self.rows_for({r.linkedid for r in in_window})  # in chunks: asyncpg takes 32,767 parameters

    async def _select(self, where: object) -> list[CdrRow]:
        query = select(*self._table.c).where(where)  # type: ignore[arg-type]  # a column expression
        async with self._engine.connect() as connection:
            result = await connection.execute(query)
            fields = [dict(row._mapping) for row in result]
        return [row for f in fields if (row := row_from_fields(f, self._tz)) is not None]

    async def close(self) -> None:
        """The engine is its own (it reads Asterisk's database, not ours): disposed with the ledger."""
        await self._engine.dispose()
