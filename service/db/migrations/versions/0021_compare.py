"""The ДС-versus-КС comparison's inputs (issue 17; service/db/models_compare.py) and the clients'
Полнота сбора."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _client(table: str, nullable: bool = False, ondelete: str = "CASCADE") -> list[Any]:
    return [sa.Column("client_id", sa.Integer(), nullable=nullable),
            sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete=ondelete,
                                    name=op.f(f"fk_{table}_client_id_clients"))]


def upgrade() -> None:
    op.add_column("clients", sa.Column("collection_completeness", sa.Numeric(5, 4), nullable=True))
    op.create_table(
        "trainings", _id(), *_client("trainings"),
        sa.Column("contact_external_id", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trainings")),
        sa.UniqueConstraint("client_id", "contact_external_id", "day", "kind",
                            name=op.f("uq_trainings_client_id_contact_external_id_day_kind")),
    )
    op.create_index(op.f("ix_trainings_day"), "trainings", ["day"])
    op.create_table(
        "seminar_visits", _id(), *_client("seminar_visits"),
        sa.Column("contact_external_id", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seminar", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seminar_visits")),
        sa.UniqueConstraint("client_id", "contact_external_id", "day", "seminar",
                            name=op.f("uq_seminar_visits_client_id_contact_external_id_day_seminar")),
    )
    op.create_index(op.f("ix_seminar_visits_day"), "seminar_visits", ["day"])
    op.create_table(
        "acts", _id(), *_client("acts"),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acts")),
        sa.UniqueConstraint("client_id", "period", name=op.f("uq_acts_client_id_period")),
    )
    op.create_index(op.f("ix_acts_due_on"), "acts", ["due_on"])
    op.create_table(
        "client_requests", _id(), *_client("client_requests"),
        sa.Column("channel", sa.String(8), nullable=False),
        # The models use UTCDateTime; its storage is DATETIME on SQLite and timestamptz on PostgreSQL.
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_requests")),
        sa.UniqueConstraint("client_id", "channel", "created_at",
                            name=op.f("uq_client_requests_client_id_channel_created_at")),
    )
    op.create_index("ix_client_requests_created_at", "client_requests", ["created_at"])
    op.create_table(
        "mailings", _id(),
        sa.Column("campaign", sa.String(255), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("audience", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False)
          for name in ("sent", "delivered", "opened", "clicked", "unsubscribed")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailings")),
        sa.UniqueConstraint("campaign", "sent_on", "audience", name=op.f("uq_mailings_campaign_sent_on_audience")),
    )
    op.create_index(op.f("ix_mailings_sent_on"), "mailings", ["sent_on"])
    op.create_table(
        "survey_responses", _id(),
        sa.Column("respondent", sa.String(255), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        *_client("survey_responses", nullable=True, ondelete="SET NULL"),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("respondent", "answered_on", name=op.f("uq_survey_responses_respondent_answered_on")),
    )
    op.create_index(op.f("ix_survey_responses_answered_on"), "survey_responses", ["answered_on"])
    op.create_table(
        "segment_changes", _id(), *_client("segment_changes"),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(8), nullable=False),
        sa.Column("previous", sa.String(8), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_changes")),
        sa.UniqueConstraint("client_id", "since", name=op.f("uq_segment_changes_client_id_since")),
    )


def downgrade() -> None:
    for table in ("segment_changes", "survey_responses", "mailings", "client_requests", "acts", "seminar_visits",
                  "trainings"):
        op.drop_table(table)
    op.drop_column("clients", "collection_completeness")
