"""Coaching (issue 18; service/db/models_coaching.py): step scripts and their versions, the steps of a call,
scorecards and scores, comments on recordings."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "scorecards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["experts.id"], name=op.f("fk_scorecards_author_id_experts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecards")),
    )
    op.create_table(
        "step_scripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("catalog_file", sa.String(length=64), nullable=False),
        sa.Column("draft", sa.Text(), nullable=True),
        sa.Column("draft_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("draft_author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_author_id"],
            ["experts.id"],
            name=op.f("fk_step_scripts_draft_author_id_experts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_scripts")),
        sa.UniqueConstraint("catalog_file", name=op.f("uq_step_scripts_catalog_file")),
        sa.UniqueConstraint("key", name=op.f("uq_step_scripts_key")),
    )
    op.create_table(
        "call_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("scorecard_id", sa.Integer(), nullable=False),
        sa.Column("scorer_id", sa.Integer(), nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score_pct", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_scores_call_id_calls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["scorecard_id"],
            ["scorecards.id"],
            name=op.f("fk_call_scores_scorecard_id_scorecards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scorer_id"], ["experts.id"], name=op.f("fk_call_scores_scorer_id_experts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_scores")),
        sa.UniqueConstraint("call_id", "scorer_id", name=op.f("uq_call_scores_call_id_scorer_id")),
    )
    with op.batch_alter_table("call_scores", schema=None) as batch_op:
        batch_op.create_index("ix_call_scores_scored_at", ["scored_at"], unique=False)

    op.create_table(
        "recording_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("at_s", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["experts.id"], name=op.f("fk_recording_comments_author_id_experts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_recording_comments_call_id_calls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["recording_comments.id"],
            name=op.f("fk_recording_comments_parent_id_recording_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_comments")),
    )
    with op.batch_alter_table("recording_comments", schema=None) as batch_op:
        batch_op.create_index("ix_recording_comments_call_id", ["call_id"], unique=False)

    op.create_table(
        "scorecard_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scorecard_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scorecard_id"],
            ["scorecards.id"],
            name=op.f("fk_scorecard_items_scorecard_id_scorecards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_items")),
        sa.UniqueConstraint("scorecard_id", "position", name=op.f("uq_scorecard_items_scorecard_id_position")),
    )
    op.create_table(
        "step_script_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("script_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("rolled_back_to", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["experts.id"], name=op.f("fk_step_script_versions_author_id_experts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["script_id"],
            ["step_scripts.id"],
            name=op.f("fk_step_script_versions_script_id_step_scripts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_script_versions")),
        sa.UniqueConstraint("script_id", "number", name=op.f("uq_step_script_versions_script_id_number")),
    )
    op.create_table(
        "call_score_items",
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["scorecard_items.id"],
            name=op.f("fk_call_score_items_item_id_scorecard_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["score_id"],
            ["call_scores.id"],
            name=op.f("fk_call_score_items_score_id_call_scores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("score_id", "item_id", name=op.f("pk_call_score_items")),
    )
    op.create_table(
        "call_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("step_key", sa.String(length=40), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["experts.id"], name=op.f("fk_call_steps_expert_id_experts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["step_script_versions.id"],
            name=op.f("fk_call_steps_version_id_step_script_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_steps")),
        sa.UniqueConstraint("linkedid", "seq", name=op.f("uq_call_steps_linkedid_seq")),
    )
    with op.batch_alter_table("call_steps", schema=None) as batch_op:
        batch_op.create_index("ix_call_steps_entered_at", ["entered_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("call_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_call_steps_entered_at")

    op.drop_table("call_steps")
    op.drop_table("call_score_items")
    op.drop_table("step_script_versions")
    op.drop_table("scorecard_items")
    with op.batch_alter_table("recording_comments", schema=None) as batch_op:
        batch_op.drop_index("ix_recording_comments_call_id")

    op.drop_table("recording_comments")
    with op.batch_alter_table("call_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_call_scores_scored_at")

    op.drop_table("call_scores")
    op.drop_table("step_scripts")
    op.drop_table("scorecards")
