"""Migrations run on SQLite and PostgreSQL and produce exactly the models' schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
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
    assert {("expert_ext", "started_at", "id"), ("started_at", "id"), ("client_id", "started_at", "id"),
            ("client_number", "started_at", "id")} <= indexes


async def _inspect(url: str, job: Callable[[Connection], T]) -> T:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(job)
    finally:
        await engine.dispose()


async def test_plan_indexes_exist(migrated_db: str) -> None:
    def indexes(c: Connection) -> dict[str, set[tuple[str | None, ...]]]:
        inspector = inspect(c)
        return {table: {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}
                for table in ("calls", "history", "planned_calls", "client_contacts")}

    found = await _inspect(migrated_db, indexes)
    assert ("planned_call_id",) in found["calls"]
    assert ("contact_id", "date", "result") in found["history"]
    assert {("contact_id", "plan_date"), ("expert_id", "plan_date")} <= found["planned_calls"]
    assert ("external_id",) in found["client_contacts"]


async def test_downgrade_to_the_ledger_and_up_again_keeps_clients(migrated_db: str) -> None:
    """0002 only adds to `clients`/`client_contacts`: their rows survive both directions."""
    from service.db.clients import ClientsRepository
    from service.db.engine import create_sessionmaker

    engine = create_engine(migrated_db, poolclass=NullPool)
    clients = ClientsRepository(create_sessionmaker(engine))
    await clients.upsert_client("C-501", "ООО «Ромашка»")
    await clients.add_contact("C-501", "Ольга", "89115550101")
    await engine.dispose()
    await _downgrade(migrated_db, "0001")
    assert await current_revision(migrated_db) == "0001"
    await migrate(migrated_db)
    assert await current_revision(migrated_db) == HEAD
    rows = await _inspect(migrated_db, lambda c: c.exec_driver_sql(
        "SELECT c.external_id, k.phone_e164 FROM clients c JOIN client_contacts k ON k.client_id = c.id"
    ).all())
    assert [tuple(r) for r in rows] == [("C-501", "79115550101")]


async def _downgrade(url: str, revision: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_downgrade, revision)
    finally:
        await engine.dispose()


def _run_downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def test_upgrading_a_database_with_calls_keeps_their_wrapups(db_url: str) -> None:
    """Found in review: 0008 rebuilt `calls` on SQLite with foreign keys on, and the DROP TABLE's
    ON DELETE CASCADE emptied wrapups, callbacks and the recording access log."""
    await migrate(db_url, "0007")
    statements = [
        "INSERT INTO experts (id, login, full_name, role, extension, active)"
        " VALUES (1, 'maria', 'Мария', 'expert', '101', true), (2, 'nina', 'Нина', 'expert', '102', true)",
        "INSERT INTO calls (id, linkedid, direction, expert_ext, started_at, duration_s, talk_s, quality,"
        " created_at, updated_at) VALUES (1, 'L-1', 'outbound', '102', '2026-03-02 09:00:00', 60, 50, '[]',"
        " '2026-03-02 09:01:00', '2026-03-02 09:01:00')",
        "INSERT INTO clients (id, external_id, name) VALUES (1, 'C-1', 'ООО «Ромашка»')",
        "INSERT INTO client_contacts (id, client_id, full_name) VALUES (1, 1, 'Ольга')",
        "INSERT INTO wrapups (id, call_id, expert_id, result, logged_in, productive, created_at, updated_at)"
        " VALUES (1, 1, 1, 'callback', false, false, '2026-03-02 09:02:00', '2026-03-02 09:02:00')",
        "INSERT INTO callbacks (contact_id, client_id, expert_id, at, done, wrapup_id)"
        " VALUES (1, 1, 1, '2026-03-03 10:00:00', false, 1)",
        "INSERT INTO recording_access (call_id, user_id, at, action) VALUES (1, 1, '2026-03-02 10:00:00', 'play')",
    ]

    def seed(connection: Connection) -> None:
        for statement in statements:
            connection.exec_driver_sql(statement)

    engine = create_engine(db_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(seed)
    finally:
        await engine.dispose()
    await migrate(db_url)
    counts = await _inspect(db_url, lambda c: [c.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                                               for t in ("calls", "wrapups", "callbacks", "recording_access")])
    assert counts == [1, 1, 1, 1]
    # The owner is who wrapped the call up (maria), not today's holder of its extension (nina).
    owner = await _inspect(db_url, lambda c: c.exec_driver_sql("SELECT expert_id FROM calls").scalar())
    assert owner == 1


async def test_0013_splits_the_existing_names_into_parts(db_url: str) -> None:
    """Existing Experts get their parts from full_name, read as «Фамилия Имя Отчество»; full_name
    becomes the display name made of them (extra spaces gone)."""
    await migrate(db_url, "0012")
    names = ["Иванова Мария Сергеевна", "  Петров   Павел ", "Админ", "Алиев Рустам Гейдар оглы", " "]
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: c.execute(
                text("INSERT INTO experts (id, login, full_name, role, active)"
                     " VALUES (:id, :login, :name, 'expert', true)"),
                [{"id": i, "login": f"e{i}", "name": name} for i, name in enumerate(names, start=1)]))
    finally:
        await engine.dispose()
    await migrate(db_url)
    assert await current_revision(db_url) == HEAD
    rows = await _inspect(db_url, lambda c: c.exec_driver_sql(
        "SELECT last_name, first_name, patronymic, full_name FROM experts ORDER BY id").all())
    assert [tuple(r) for r in rows] == [
        ("Иванова", "Мария", "Сергеевна", "Иванова Мария Сергеевна"),
        ("Петров", "Павел", None, "Петров Павел"),
        ("", "Админ", None, "Админ"),
        ("Алиев", "Рустам", "Гейдар оглы", "Алиев Рустам Гейдар оглы"),
        ("", "", None, ""),
    ]
    await _downgrade(db_url, "0012")
    columns = await _inspect(db_url, lambda c: {col["name"] for col in inspect(c).get_columns("experts")})
    assert "first_name" not in columns and "full_name" in columns
