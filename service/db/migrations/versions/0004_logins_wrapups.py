"""Sign-in (argon2 password hashes, active flag) and the Expert's wrap-up of each call."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("experts") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table(
        "wrapups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("planned_call_id", sa.Integer(), nullable=True),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("logged_in", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("productive", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("next_contact_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_wrapups_call_id_calls"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["planned_call_id"], ["planned_calls.id"],
                                name=op.f("fk_wrapups_planned_call_id_planned_calls"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["expert_id"], ["experts.id"], name=op.f("fk_wrapups_expert_id_experts")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_wrapups_client_id_clients"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["contact_id"], ["client_contacts.id"],
                                name=op.f("fk_wrapups_contact_id_client_contacts"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wrapups")),
        sa.UniqueConstraint("call_id", name=op.f("uq_wrapups_call_id")),
    )
    op.create_index("ix_wrapups_planned_call_id", "wrapups", ["planned_call_id"])
    op.create_index("ix_wrapups_client_id", "wrapups", ["client_id"])
    op.create_index("ix_wrapups_expert_id_created_at", "wrapups", ["expert_id", "created_at"])
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("wrapup_id", sa.Integer(), nullable=True))
        batch.create_unique_constraint(op.f("uq_callbacks_wrapup_id"), ["wrapup_id"])
        batch.create_foreign_key(op.f("fk_callbacks_wrapup_id_wrapups"), "wrapups", ["wrapup_id"], ["id"],
                                 ondelete="CASCADE")


def downgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_constraint(op.f("fk_callbacks_wrapup_id_wrapups"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_callbacks_wrapup_id"), type_="unique")
        batch.drop_column("wrapup_id")
    op.drop_index("ix_wrapups_expert_id_created_at", table_name="wrapups")
    op.drop_index("ix_wrapups_client_id", table_name="wrapups")
    op.drop_index("ix_wrapups_planned_call_id", table_name="wrapups")
    op.drop_table("wrapups")
    with op.batch_alter_table("experts") as batch:
        batch.drop_column("active")
        batch.drop_column("password_hash")
