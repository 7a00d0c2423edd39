"""Time in state per Expert-day in the figures' summary: talking, on a call, in wrap-up (issue 14).

`figures_daily` gains three columns; the summary is emptied, to be rebuilt on demand with them
(as migration 0011 did). Pauses are read from the status log (migration 0012), not summarised.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("talk_total_s", "on_call_s", "wrapup_s")


def _forget_the_summary() -> None:
    for table in ("figures_counts", "figures_daily", "figures_days"):
        op.execute(sa.text(f"DELETE FROM {table}"))  # rebuilt on demand (service/db/figures_summary.py)


def upgrade() -> None:
    _forget_the_summary()
    with op.batch_alter_table("figures_daily") as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    _forget_the_summary()
    with op.batch_alter_table("figures_daily") as batch:
        for column in COLUMNS:
            batch.drop_column(column)
