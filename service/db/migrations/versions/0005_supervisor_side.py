"""The supervisor's side: Expert groups, recording access log and retention, edited call scripts."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("experts") as batch:
        batch.add_column(sa.Column("group_name", sa.String(length=64), nullable=True))
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("recording_purged_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "recording_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_recording_access_call_id_calls"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["experts.id"], name=op.f("fk_recording_access_user_id_experts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_access")),
    )
    op.create_index("ix_recording_access_call_id_at", "recording_access", ["call_id", "at"])
    op.create_table(
        "script_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["experts.id"], name=op.f("fk_script_versions_author_id_experts"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_versions")),
    )
    op.create_index("ix_script_versions_file_id", "script_versions", ["file", "id"])


def downgrade() -> None:
    op.drop_index("ix_script_versions_file_id", table_name="script_versions")
    op.drop_table("script_versions")
    op.drop_index("ix_recording_access_call_id_at", table_name="recording_access")
    op.drop_table("recording_access")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("recording_purged_at")
    with op.batch_alter_table("experts") as batch:
        batch.drop_column("group_name")
