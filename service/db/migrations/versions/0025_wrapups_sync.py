"""The API's wrap-ups (issue 19): pages by (updated_at, id) without a sort of the whole table. The calls' and
wrap-ups' single-column updated_at indexes (0009) go: the (updated_at, id) ones serve the summary's refresh too,
and each was one more index written on every ledger update."""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wrapups", schema=None) as batch_op:
        batch_op.create_index("ix_wrapups_updated_at_id", ["updated_at", "id"], unique=False)
        batch_op.drop_index("ix_wrapups_updated_at")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_updated_at")


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_updated_at", ["updated_at"], unique=False)
    with op.batch_alter_table("wrapups", schema=None) as batch_op:
        batch_op.create_index("ix_wrapups_updated_at", ["updated_at"], unique=False)
        batch_op.drop_index("ix_wrapups_updated_at_id")
