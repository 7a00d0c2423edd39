"""Calls belong to a person, not only to an extension: `calls.expert_id`; `experts.signed_out_at`.

The ledger records the extension a call was made from; the user holding that extension when the
call was recorded owns it (sees it, plays its recording, wraps it up). Before this, ownership
was read through the extension at request time, so an extension passed on to a newcomer handed
them the previous holder's calls. Existing calls get the user who wrapped them up, else the
current active holder of their extension (the best that is known now).

`experts.signed_out_at`: signing out ends every session of the user started before it, also a
copy of the session cookie taken elsewhere (the cookie itself holds the session).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("experts") as batch:
        batch.add_column(sa.Column("signed_out_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("expert_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_calls_expert_id_experts"), "experts", ["expert_id"], ["id"],
                                 ondelete="SET NULL")
    # Who wrapped the call up handled it; otherwise the extension's holder now (the best known).
    op.execute(
        "UPDATE calls SET expert_id = COALESCE("
        "(SELECT wrapups.expert_id FROM wrapups WHERE wrapups.call_id = calls.id),"
        " (SELECT min(experts.id) FROM experts"
        " WHERE experts.extension = calls.expert_ext AND experts.active))"
        " WHERE calls.expert_ext IS NOT NULL")
    op.create_index("ix_calls_expert_id_started_at_id", "calls", ["expert_id", "started_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_calls_expert_id_started_at_id", table_name="calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_constraint(op.f("fk_calls_expert_id_experts"), type_="foreignkey")
        batch.drop_column("expert_id")
    with op.batch_alter_table("experts") as batch:
        batch.drop_column("signed_out_at")
