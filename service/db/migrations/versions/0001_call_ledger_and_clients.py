"""The call ledger and the minimal client directory."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    # The models use UTCDateTime; its storage is DATETIME on SQLite and timestamptz on PostgreSQL.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_calls()
    _create_clients()


def _create_calls() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("expert_ext", sa.String(length=32), nullable=True),
        sa.Column("client_number", sa.String(length=32), nullable=True),
        sa.Column("client_name", sa.String(length=255), nullable=True),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("ringing_at", _utc(), nullable=True),
        sa.Column("answered_at", _utc(), nullable=True),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("talk_s", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("hangup_by", sa.String(length=16), nullable=True),
        sa.Column("recording", sa.Text(), nullable=True),
        sa.Column("planned_call_id", sa.String(length=32), nullable=True),
        sa.Column("client_id", sa.String(length=32), nullable=True),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("linkedid", name=op.f("uq_calls_linkedid")),
    )
    op.create_index(op.f("ix_calls_started_at"), "calls", ["started_at"])
    op.create_index("ix_calls_expert_ext_started_at", "calls", ["expert_ext", "started_at"])
    op.create_index(op.f("ix_calls_client_id"), "calls", ["client_id"])


def _create_clients() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("external_id", name=op.f("uq_clients_external_id")),
    )
    op.create_table(
        "client_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=False),
        sa.Column("phone_e164", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"],
            name=op.f("fk_client_contacts_client_id_clients"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_contacts")),
    )
    op.create_index(op.f("ix_client_contacts_client_id"), "client_contacts", ["client_id"])
    op.create_index(op.f("ix_client_contacts_phone_e164"), "client_contacts", ["phone_e164"])


def downgrade() -> None:
    op.drop_table("client_contacts")
    op.drop_table("clients")
    op.drop_table("calls")
