"""Open calls keep the PBX side's state: `calls.tracker_state` (issue 12).

An open call was written only when it opened and when it closed, so an answer, a recording or a
leg's hangup cause seen in between died with the process. Each change is now written, with what
the record itself does not carry (dial status, causes, legs: dialer/resume.py), and cleared to
NULL when the call closes.
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


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("tracker_state")
