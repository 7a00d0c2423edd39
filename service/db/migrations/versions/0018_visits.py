"""The personal manager's visits (issue 16, item 1; service/db/models_visits.py)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("planned", sa.Boolean(), nullable=False),
        sa.Column("contacts_met", sa.Text(), nullable=True),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("source", sa.String(8), nullable=False),
        # The models use UTCDateTime; its storage is DATETIME on SQLite and timestamptz on PostgreSQL.
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["experts.id"], ondelete="CASCADE",
                                name=op.f("fk_visits_employee_id_experts")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE",
                                name=op.f("fk_visits_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("employee_id", "client_id", "day", "planned",
                            name=op.f("uq_visits_employee_id_client_id_day_planned")),
    )
    op.create_index("ix_visits_employee_id_day", "visits", ["employee_id", "day"])
    op.create_index("ix_visits_client_id_day", "visits", ["client_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_visits_client_id_day", table_name="visits")
    op.drop_index("ix_visits_employee_id_day", table_name="visits")
    op.drop_table("visits")
