"""Moving clients to remote service (issue 15): the client's selection facts, the СИО's manual
scores and the transition's steps (service/db/models_selection.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ALTERs, no batch: SQLite adds and drops these (no constraints) in place, and a batch's
    # copy of `clients` would rewrite its foreign keys in a form an older migration cannot drop.
    for column in (sa.Column("client_since", sa.Date(), nullable=True), sa.Column("came_from", sa.String(16)),
                   sa.Column("distance_km", sa.Float()), sa.Column("services", sa.JSON()),
                   sa.Column("ip_possible", sa.Boolean()), sa.Column("sio", sa.String(128))):
        op.add_column("clients", column)
    op.create_table(
        "selection_scores",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("criterion", sa.String(24), nullable=False),
        sa.Column("value", sa.String(8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("experts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("at", _utc(), nullable=False),
    )
    op.create_index("ix_selection_scores_client_id_criterion_at", "selection_scores", ["client_id", "criterion", "at"])
    op.create_table(
        "client_transitions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("expert_id", sa.Integer(), sa.ForeignKey("experts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("calls.id", ondelete="SET NULL"), nullable=True),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("experts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("at", _utc(), nullable=False),
    )
    op.create_index("ix_client_transitions_client_id_at", "client_transitions", ["client_id", "at"])
    op.create_index("ix_client_transitions_at", "client_transitions", ["at"])


def downgrade() -> None:
    op.drop_table("client_transitions")
    op.drop_table("selection_scores")
    for column in ("sio", "ip_possible", "services", "distance_km", "came_from", "client_since"):
        op.drop_column("clients", column)
