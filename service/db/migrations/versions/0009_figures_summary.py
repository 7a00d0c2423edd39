"""The control figures' summary: per Expert and organisation-time day, kept fresh by watermark.

A month of the department's figures read ~440,000 calls at 10,000,000 (9 s, bench/RESULTS.md
"report"); the summary holds one row per Expert and day (`figures_daily`) plus their topic and
outcome counts (`figures_counts`). Days are built when a report first needs them (`figures_days`),
then rebuilt whenever a call, wrap-up or planned item of theirs is written: the refresh finds those
by `updated_at` (new indexes) since the watermark in `figures_state`, whose single row is also the
refresh's lock. Nothing is built here: on a large ledger that would hold the upgrade for minutes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = ("planned", "finished", "calls", "made", "unplanned", "wrapped", "contacts", "productive")


def upgrade() -> None:
    op.create_table(
        "figures_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS],
        sa.Column("productive_talk_s", sa.Float(), nullable=False),
        sa.Column("logged_in", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["expert_id"], ["experts.id"], name=op.f("fk_figures_daily_expert_id_experts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("day", "expert_id", name=op.f("pk_figures_daily")),
    )
    op.create_table(
        "figures_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["expert_id"], ["experts.id"], name=op.f("fk_figures_counts_expert_id_experts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figures_counts")),
    )
    op.create_index("ix_figures_counts_day_expert_id", "figures_counts", ["day", "expert_id"])
    op.create_table(
        "figures_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_figures_days")),
    )
    op.create_table(
        "figures_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figures_state")),
    )
    op.execute("INSERT INTO figures_state (id) VALUES (1)")
    op.create_index("ix_calls_updated_at", "calls", ["updated_at"])
    op.create_index("ix_wrapups_updated_at", "wrapups", ["updated_at"])
    op.create_index("ix_planned_calls_updated_at", "planned_calls", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_planned_calls_updated_at", table_name="planned_calls")
    op.drop_index("ix_wrapups_updated_at", table_name="wrapups")
    op.drop_index("ix_calls_updated_at", table_name="calls")
    op.drop_table("figures_state")
    op.drop_table("figures_days")
    op.drop_index("ix_figures_counts_day_expert_id", table_name="figures_counts")
    op.drop_table("figures_counts")
    op.drop_table("figures_daily")
