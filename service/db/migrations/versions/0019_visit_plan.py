"""The PM's monthly visit plan (issue 16, item 1; service/db/models_visits.py PlannedVisit)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "planned_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["experts.id"], ondelete="CASCADE",
                                name=op.f("fk_planned_visits_employee_id_experts")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE",
                                name=op.f("fk_planned_visits_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_visits")),
        sa.UniqueConstraint("employee_id", "month", "client_id",
                            name=op.f("uq_planned_visits_employee_id_month_client_id")),
    )


def downgrade() -> None:
    op.drop_table("planned_visits")
