"""Open calls keep the PBX side's state: `calls.tracker_state` (issue 12).

An open call was written only when it opened and when it closed, so an answer, a recording or a
leg's hangup cause seen in between died with the process. Each change is now written, with what
the record itself does not carry (dial status, causes, legs: dialer/resume.py), and cleared to
NULL when the call closes.

`calls.guessed`: the call's outcome or talk time is a guess (its end or answer fell into a gap in
the PBX link and no CDR put it right). The figures count such calls apart («N звонков с неточными
данными»), so their summary is emptied here, to be rebuilt on demand with the new column (and the
plan-link rule of the same issue).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("tracker_state", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("guessed", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("figures_daily") as batch:
        batch.add_column(sa.Column("guessed", sa.Integer(), nullable=False, server_default="0"))
    # Calls flagged before this column existed: their end or answer was inferred.
    op.execute("UPDATE calls SET guessed = true WHERE CAST(quality AS TEXT) LIKE '%end_inferred_after_reconnect%'"
               " OR CAST(quality AS TEXT) LIKE '%answer_inferred_after_reconnect%'")
    for table in ("figures_counts", "figures_daily", "figures_days"):
        op.execute(f"DELETE FROM {table}")  # rebuilt on demand (service/db/figures_summary.py)


def downgrade() -> None:
    with op.batch_alter_table("figures_daily") as batch:
        batch.drop_column("guessed")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("guessed")
        batch.drop_column("tracker_state")

