"""Index for the control figures: a month's planned items per Expert and day, from the index alone.

The department's month is ~350,000 planned items out of 8,000,000: the index starts with the
date the period narrows by and carries the columns the figures read (bench/RESULTS.md, "report":
an index-only scan, about half the time of the bitmap scan over the plan's unique index). The calls
need no new index: covering ones were measured and were not faster than ix_calls_started_at.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_planned_calls_figures", "planned_calls", ["plan_date", "expert_id", "state", "slot"])


def downgrade() -> None:
    op.drop_index("ix_planned_calls_figures", table_name="planned_calls")
