"""Indexes for the client search (issue 14): ≤ 100 ms at 100,000 organisations (bench/RESULTS.md).

PostgreSQL: pg_trgm GIN indexes make `LIKE '%…%'` an index search on the folded organisation and
contact names, the ИНН and the contacts' phones (the dialled number, and the digits of those
imported). The expressions are those of service/db/search_text.py, copied here as they are today (a
migration must not change when the code does; tests check that the models say the same and that the
search uses these indexes). Without the pg_trgm extension on the server the indexes are skipped with
a warning: the search still works, by scanning. SQLite gets none of these: a substring search cannot
use a B-tree, and its deployments are small.

Both: (expert_id, id) on clients, so that an Expert's search reads which clients are hers from the
index alone (at 100,000 organisations a bitmap heap scan of her 2,500 clients' rows was half the
time of «иванова»).

The downgrade drops the indexes and leaves the extension (something else may use it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

_FOLD = "replace(lower({column}), 'ё', 'е')"
INDEXES = {
    "ix_clients_name_search": ("clients", _FOLD.format(column="name")),
    "ix_clients_inn_search": ("clients", "inn"),
    "ix_client_contacts_name_search": ("client_contacts", _FOLD.format(column="full_name")),
    "ix_client_contacts_phone_e164_search": ("client_contacts", "phone_e164"),
    "ix_client_contacts_phone_search": ("client_contacts", "regexp_replace(phone, '[^0-9,;]', '', 'g')"),
}


def upgrade() -> None:
    op.create_index("ix_clients_expert_id_id", "clients", ["expert_id", "id"])
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    if not connection.exec_driver_sql("SELECT lower('ЁЖ') = 'ёж'").scalar():
        log.warning("this database's LC_CTYPE does not fold Cyrillic in lower(): the client search will "
                    "find «ромашка» only where it is written in small letters (use a UTF-8 locale)")
    available = connection.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").first() is not None
    if not available:
        log.warning("pg_trgm is not available on this PostgreSQL server: the client search works "
                    "without its indexes, by scanning (to add them later: install postgresql-contrib, then `alembic -c "
                    "service/db/alembic.ini downgrade 0013` and `dsdesk db upgrade`)")
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, expression) in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expression}) gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_clients_expert_id_id", table_name="clients")
