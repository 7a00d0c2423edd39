"""The online-version usage data: logins, the days they cover, the measurement (issue 13).

"Logged in during the call" was only the Expert's tick. The usage report's logins are now
imported (`client_logins`, with the days each file covered in `login_days`), matched against each
call's talk (`call_logins`), and the figures count the measurement where it exists, the tick
elsewhere, and the disagreements between them (`figures_daily.login_measured`,
`login_disagree`): the summary is emptied, to be rebuilt on demand with the new columns.
`file_imports` keeps what each web upload and each drop-folder file did.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)  # the models' UTCDateTime (migration 0001)


def upgrade() -> None:
    op.create_table(
        "client_logins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_external_id", sa.String(32), nullable=False),
        sa.Column("contact_external_id", sa.String(32), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.Column("imported_at", _utc(), nullable=False),
        sa.UniqueConstraint("client_external_id", "contact_external_id", "started_at",
                            name="uq_client_logins_natural_key"),
    )
    op.create_index("ix_client_logins_started_at", "client_logins", ["started_at"])
    op.create_table(
        "login_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("covered_until", _utc(), nullable=False),
        sa.Column("imported_at", _utc(), nullable=False),
    )
    op.create_table(
        "call_logins",
        sa.Column("call_id", sa.Integer(), primary_key=True, autoincrement=False),  # no FK: models_logins.py
        sa.Column("measured", sa.Boolean(), nullable=False),
        sa.Column("matched_at", _utc(), nullable=False),
    )
    op.create_table(
        "file_imports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("experts.id", ondelete="SET NULL", name="fk_file_imports_user_id_experts"),
                  nullable=True),
        sa.Column("at", _utc(), nullable=False),
    )
    op.create_index("ix_file_imports_sha256", "file_imports", ["sha256"])
    with op.batch_alter_table("figures_daily") as batch:
        batch.add_column(sa.Column("login_measured", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("login_disagree", sa.Integer(), nullable=False, server_default="0"))
    for table in ("figures_counts", "figures_daily", "figures_days"):
        op.execute(f"DELETE FROM {table}")  # rebuilt on demand (service/db/figures_summary.py)


def downgrade() -> None:
    with op.batch_alter_table("figures_daily") as batch:
        batch.drop_column("login_disagree")
        batch.drop_column("login_measured")
    op.drop_table("file_imports")
    op.drop_table("call_logins")
    op.drop_table("login_days")
    op.drop_table("client_logins")
