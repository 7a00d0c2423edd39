"""The department's month (issue 16): business events from the CRM, monthly plans and values, closed
months (service/db/models_month.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    # The models use UTCDateTime; its storage is DATETIME on SQLite and timestamptz on PostgreSQL.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "business_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("amount_rub", sa.Numeric(14, 2), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("imported_at", _utc(), nullable=False),
        sa.Column("row_key", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE",
                                name=op.f("fk_business_events_client_id_clients")),
        sa.ForeignKeyConstraint(["employee_id"], ["experts.id"], ondelete="SET NULL",
                                name=op.f("fk_business_events_employee_id_experts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_events")),
        sa.UniqueConstraint("row_key", name=op.f("uq_business_events_row_key")),
    )
    op.create_index("ix_business_events_occurred_on_kind", "business_events", ["occurred_on", "kind"])
    op.create_index("ix_business_events_employee_id_occurred_on", "business_events", ["employee_id", "occurred_on"])
    op.create_index("ix_business_events_client_id_occurred_on", "business_events", ["client_id", "occurred_on"])
    op.create_table(
        "monthly_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.Numeric(16, 4), nullable=False),
        sa.Column("imported_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["experts.id"], ondelete="CASCADE",
                                name=op.f("fk_monthly_plans_employee_id_experts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_plans")),
        sa.UniqueConstraint("employee_id", "month", "kind", name=op.f("uq_monthly_plans_employee_id_month_kind")),
    )
    op.create_index("ix_monthly_plans_month", "monthly_plans", ["month"])
    op.create_table(
        "closed_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("closed_at", _utc(), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["closed_by"], ["experts.id"], ondelete="SET NULL",
                                name=op.f("fk_closed_months_closed_by_experts")),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_closed_months")),
    )


def downgrade() -> None:
    op.drop_table("closed_months")
    op.drop_table("monthly_plans")
    op.drop_table("business_events")
