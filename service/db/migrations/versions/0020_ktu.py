"""The КТУ sheet: the head's entries and the sheet's versions (issue 16, item 4; service/db/models_ktu.py)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ktu_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("component", sa.String(32), nullable=False),
        sa.Column("value", sa.Numeric(6, 3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(255), nullable=False),
        # The models use UTCDateTime; its storage is DATETIME on SQLite and timestamptz on PostgreSQL.
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["experts.id"], ondelete="CASCADE",
                                name=op.f("fk_ktu_entries_employee_id_experts")),
        sa.ForeignKeyConstraint(["author_id"], ["experts.id"], ondelete="SET NULL",
                                name=op.f("fk_ktu_entries_author_id_experts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ktu_entries")),
    )
    op.create_index("ix_ktu_entries_month_employee_id", "ktu_entries", ["month", "employee_id"])
    op.create_table(
        "ktu_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.String(255), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sheet", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["employee_id"], ["experts.id"], ondelete="CASCADE",
                                name=op.f("fk_ktu_versions_employee_id_experts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ktu_versions")),
        sa.UniqueConstraint("employee_id", "month", "number", name=op.f("uq_ktu_versions_employee_id_month_number")),
    )
    op.create_index("ix_ktu_versions_month", "ktu_versions", ["month"])


def downgrade() -> None:
    op.drop_index("ix_ktu_versions_month", table_name="ktu_versions")
    op.drop_table("ktu_versions")
    op.drop_index("ix_ktu_entries_month_employee_id", table_name="ktu_entries")
    op.drop_table("ktu_entries")
