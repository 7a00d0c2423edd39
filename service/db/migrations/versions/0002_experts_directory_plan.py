"""Experts, the full client directory, history, signals and the daily plan.

Extends `clients` and `client_contacts` in place (ALTER TABLE ADD COLUMN, never a table copy:
on SQLite with foreign keys on, copying `clients` would cascade-delete its contacts).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    # The models use UTCDateTime; its storage is DATETIME on SQLite and timestamptz on PostgreSQL.
    return sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_index(op.f("ix_calls_planned_call_id"), "calls", ["planned_call_id"])
    _create_experts()
    _extend_clients()
    _extend_contacts()
    _create_history_and_signals()
    _create_plan()


def _create_experts() -> None:
    op.create_table(
        "experts",
        _id(),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("full_name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), server_default="expert", nullable=False),
        sa.Column("extension", sa.String(32), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("daily_target", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experts")),
        sa.UniqueConstraint("login", name=op.f("uq_experts_login")),
    )
    op.create_table(
        "expert_absences",
        _id(),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["expert_id"], ["experts.id"], ondelete="CASCADE",
                                name=op.f("fk_expert_absences_expert_id_experts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_absences")),
        sa.UniqueConstraint("expert_id", "from_date", "to_date",
                            name=op.f("uq_expert_absences_expert_id_from_date_to_date")),
    )
    op.create_index(op.f("ix_expert_absences_to_date"), "expert_absences", ["to_date"])


def _extend_clients() -> None:
    for column in (
        sa.Column("inn", sa.String(12), nullable=True),
        sa.Column("segment", sa.String(8), server_default="ДС", nullable=False),
        sa.Column("territory", sa.String(64), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("version", sa.String(24), server_default="other", nullable=False),
        sa.Column("online_last_login", sa.Date(), nullable=True),
        sa.Column("online_logins_30d", sa.Integer(), nullable=True),
        sa.Column("debt_rub", sa.Numeric(14, 2), server_default="0", nullable=False),
        sa.Column("prepaid_months", sa.Integer(), nullable=True),
        sa.Column("terms_end", sa.Date(), nullable=True),
        sa.Column("ds_since", sa.Date(), nullable=True),
        sa.Column("contact_every_days", sa.Integer(), nullable=True),
    ):
        op.add_column("clients", column)
    _add_foreign_key_column("clients", "expert_id", "experts")
    op.create_index(op.f("ix_clients_expert_id"), "clients", ["expert_id"])


def _add_foreign_key_column(table: str, column: str, referred: str) -> None:
    name = f"fk_{table}_{column}_{referred}"
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a REFERENCES column in place only as a column constraint; SQLAlchemy
        # reflects no ON DELETE action from one, hence none in the model either.
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
                   f"CONSTRAINT {name} REFERENCES {referred} (id)")
        return
    op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.create_foreign_key(op.f(name), table, referred, [column], ["id"])


def _extend_contacts() -> None:
    for column in (
        sa.Column("external_id", sa.String(32), nullable=True),
        sa.Column("position", sa.String(255), nullable=True),
        sa.Column("phone", sa.String(64), nullable=True),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("is_user", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("call_from", sa.Time(), nullable=True),
        sa.Column("call_to", sa.Time(), nullable=True),
    ):
        op.add_column("client_contacts", column)
    # A unique index, not a constraint: SQLite can create it without copying the table.
    op.create_index(op.f("ix_client_contacts_external_id"), "client_contacts", ["external_id"],
                    unique=True)


def _create_history_and_signals() -> None:
    op.create_table(
        "history",
        _id(),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("row_key", sa.String(64), nullable=False),
        *_client_contact_fks("history"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history")),
        sa.UniqueConstraint("row_key", name=op.f("uq_history_row_key")),
    )
    op.create_index("ix_history_contact_id_date_result", "history", ["contact_id", "date", "result"])
    op.create_index("ix_history_client_id_date", "history", ["client_id", "date"])
    op.create_table(
        "signals",
        _id(),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("row_key", sa.String(64), nullable=False),
        *_client_contact_fks("signals"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
        sa.UniqueConstraint("row_key", name=op.f("uq_signals_row_key")),
    )
    op.create_index("ix_signals_client_id_occurred_on", "signals", ["client_id", "occurred_on"])
    op.create_index("ix_signals_contact_id_occurred_on", "signals", ["contact_id", "occurred_on"])


def _client_contact_fks(table: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE",
                                name=op.f(f"fk_{table}_client_id_clients")),
        sa.ForeignKeyConstraint(["contact_id"], ["client_contacts.id"], ondelete="CASCADE",
                                name=op.f(f"fk_{table}_contact_id_client_contacts")),
    ]


def _create_plan() -> None:
    _create_planned_calls()
    op.create_table(
        "callbacks",
        _id(),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("done", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", _utc(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        *_client_contact_fks("callbacks"),
        sa.ForeignKeyConstraint(["expert_id"], ["experts.id"],
                                name=op.f("fk_callbacks_expert_id_experts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index("ix_callbacks_done_at", "callbacks", ["done", "at"])
    op.create_table(
        "plan_notes",
        _id(),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("plan_date", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["expert_id"], ["experts.id"], ondelete="CASCADE",
                                name=op.f("fk_plan_notes_expert_id_experts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_notes")),
        sa.UniqueConstraint("expert_id", "plan_date", "text",
                            name=op.f("uq_plan_notes_expert_id_plan_date_text")),
    )


def _create_planned_calls() -> None:
    op.create_table(
        "planned_calls",
        _id(),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("plan_date", sa.Date(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("slot", _utc(), nullable=False),
        sa.Column("state", sa.String(16), server_default="planned", nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("result_comment", sa.Text(), nullable=True),
        sa.Column("rolled_from", sa.Integer(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["expert_id"], ["experts.id"],
                                name=op.f("fk_planned_calls_expert_id_experts")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_planned_calls_client_id_clients")),
        sa.ForeignKeyConstraint(["contact_id"], ["client_contacts.id"],
                                name=op.f("fk_planned_calls_contact_id_client_contacts")),
        sa.ForeignKeyConstraint(["rolled_from"], ["planned_calls.id"], ondelete="SET NULL",
                                name=op.f("fk_planned_calls_rolled_from_planned_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_calls")),
        sa.UniqueConstraint("public_id", name=op.f("uq_planned_calls_public_id")),
        sa.UniqueConstraint("plan_date", "contact_id",
                            name=op.f("uq_planned_calls_plan_date_contact_id")),
    )
    for name, columns in (
        ("ix_planned_calls_expert_id_plan_date", ["expert_id", "plan_date"]),
        ("ix_planned_calls_contact_id_plan_date", ["contact_id", "plan_date"]),
        ("ix_planned_calls_client_id_plan_date", ["client_id", "plan_date"]),
        ("ix_planned_calls_state_plan_date", ["state", "plan_date"]),
        ("ix_planned_calls_rolled_from", ["rolled_from"]),
    ):
        op.create_index(name, "planned_calls", columns)


def downgrade() -> None:
    for table in ("plan_notes", "callbacks", "planned_calls", "signals", "history"):
        op.drop_table(table)
    op.drop_index(op.f("ix_client_contacts_external_id"), "client_contacts")
    for column in ("call_to", "call_from", "is_user", "email", "phone", "position", "external_id"):
        op.drop_column("client_contacts", column)
    op.drop_index(op.f("ix_clients_expert_id"), "clients")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_clients_expert_id_experts"), "clients", type_="foreignkey")
    for column in ("expert_id", "contact_every_days", "ds_since", "terms_end", "prepaid_months",
                   "debt_rub", "online_logins_30d", "online_last_login", "version", "timezone",
                   "territory", "segment", "inn"):
        op.drop_column("clients", column)
    op.drop_table("expert_absences")
    op.drop_table("experts")
    op.drop_index(op.f("ix_calls_planned_call_id"), "calls")
