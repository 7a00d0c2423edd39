"""The Experts' status log: «готов» / «пауза: причина» / signed out, append-only (issue 14).

Time on calls and in wrap-up is the ledger's; the pauses are here (service/db/models_status.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "expert_status_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("expert_id", sa.Integer(), sa.ForeignKey("experts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_expert_status_log_expert_id_at", "expert_status_log", ["expert_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_expert_status_log_expert_id_at", table_name="expert_status_log")
    op.drop_table("expert_status_log")
