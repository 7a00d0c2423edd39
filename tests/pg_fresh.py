"""A PostgreSQL test database brought back to its just-migrated state without migrating it again.

The first test of a process migrates the database; each later one deletes every row but the ones the
migrations themselves wrote, and restarts the sequences. That is sound only while the schema is exactly the
migrated one: a fingerprint of tables, columns, indexes, constraints, functions and the Alembic revision,
taken after the migration, is compared first, and any difference (a migration test's downgrade, a schema
dropped by an empty-database test) means a fresh migration.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from service.db.engine import async_url
from service.db.migrate import migrate

FINGERPRINT = """
SELECT md5(string_agg(item, ',' ORDER BY item)) FROM (
    SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable || ':'
           || coalesce(column_default, '') AS item
      FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT conrelid::regclass::text || '.' || conname || ' ' || pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT 'fn ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    UNION ALL SELECT 'type ' || typname FROM pg_type
      WHERE typnamespace = 'public'::regnamespace AND typtype IN ('e', 'd')
    UNION ALL SELECT 'view ' || viewname FROM pg_views WHERE schemaname = 'public'
    UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
) AS parts
"""
TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
# Tables (with their indexes and TOAST) past 256 KiB: a test wrote thousands of rows there.
GROWN = ("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' "
         "AND relname = ANY($1::text[]) AND pg_total_relation_size(oid) > 262144")
RESTART_SEQUENCES = ("SELECT setval(format('%I', sequencename)::regclass, 1, false) FROM pg_sequences "
                     "WHERE schemaname = 'public'")


@dataclass(frozen=True)
class Migrated:
    """What a fresh migration left: its fingerprint, and the rows it wrote (table → records)."""

    fingerprint: str
    tables: tuple[str, ...]
    seeds: dict[str, list[asyncpg.Record]]


_migrated: dict[str, Migrated] = {}


async def fresh_pg_schema(url: str) -> None:
    """The database at `url` as a fresh `migrate(url)` would leave it."""
    known = _migrated.get(url)
    connection = await _connect(url)
    try:
        # A connection leaked by an earlier test must fail this loudly, not hang the run.
        await connection.execute("SET lock_timeout = '10s'")
        if known is not None and await connection.fetchval(FINGERPRINT) == known.fingerprint:
            await _empty(connection, known)
            return
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()
    await migrate(url)
    _migrated[url] = await _remember(url)


async def _empty(connection: asyncpg.Connection, known: Migrated) -> None:
    # A DELETE leaves a big table's pages behind until autovacuum comes, and every later scan reads them:
    # those are truncated (~15 ms a table), the many small ones deleted from (~0.1 ms).
    grown = {row[0] for row in await connection.fetch(GROWN, list(known.tables))}
    async with connection.transaction():
        # Rows go in any order: the foreign keys' triggers are off for this transaction only.
        await connection.execute("SET LOCAL session_replication_role = replica")
        if grown:
            # CASCADE: a grown table's referencing tables go too (they are emptied here anyway).
            await connection.execute("TRUNCATE " + ", ".join(f'"{table}"' for table in sorted(grown)) + " CASCADE")
        await connection.execute("".join(f'DELETE FROM "{table}";' for table in known.tables if table not in grown))
        for table, rows in known.seeds.items():
            await connection.copy_records_to_table(table, records=rows)
        await connection.execute(RESTART_SEQUENCES)
        for table in known.seeds:
            await _follow_identity(connection, table)


async def _follow_identity(connection: asyncpg.Connection, table: str) -> None:
    # A seeded row with an explicit id must not collide with the sequence's next value.
    for column, sequence in await connection.fetch(
            "SELECT attname, pg_get_serial_sequence($1, attname) FROM pg_attribute "
            "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped", f'"{table}"'):
        if sequence is not None:
            await connection.execute(
                f"SELECT setval('{sequence}', coalesce(max(\"{column}\"), 0) + 1, false) FROM \"{table}\"")


async def _remember(url: str) -> Migrated:
    connection = await _connect(url)
    try:
        tables = tuple(row[0] for row in await connection.fetch(TABLES))
        seeds = {}
        for table in tables:
            rows = await connection.fetch(f'SELECT * FROM "{table}"')
            if rows:
                seeds[table] = rows
        return Migrated(await connection.fetchval(FINGERPRINT), tables, seeds)
    finally:
        await connection.close()


async def _connect(url: str) -> asyncpg.Connection:
    plain = async_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return await asyncpg.connect(plain, timeout=5)
