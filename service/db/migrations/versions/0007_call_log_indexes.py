"""Indexes for the call log's keyset pages (≤ 100 ms at 10M calls, bench/RESULTS.md "report").

Each replaces a narrower ledger index that it begins with, so the ledger's writes keep about the
same number of indexes to maintain: (started_at) → (started_at, id), (expert_ext, started_at) →
(expert_ext, started_at, id), (client_id) → (client_id, started_at, id). New: search by number,
and the recordings the retention job may still have to delete.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORDING_DUE = "recording IS NOT NULL AND recording_purged_at IS NULL"


def upgrade() -> None:
    op.create_index("ix_calls_started_at_id", "calls", ["started_at", "id"])
    op.drop_index("ix_calls_started_at", table_name="calls")
    op.create_index("ix_calls_expert_ext_started_at_id", "calls", ["expert_ext", "started_at", "id"])
    op.drop_index("ix_calls_expert_ext_started_at", table_name="calls")
    op.create_index("ix_calls_client_id_started_at_id", "calls", ["client_id", "started_at", "id"])
    op.drop_index("ix_calls_client_id", table_name="calls")
    op.create_index("ix_calls_client_number_started_at_id", "calls", ["client_number", "started_at", "id"])
    op.create_index("ix_calls_recording_due", "calls", ["started_at"],
                    sqlite_where=sa.text(RECORDING_DUE), postgresql_where=sa.text(RECORDING_DUE))


def downgrade() -> None:
    op.drop_index("ix_calls_recording_due", table_name="calls")
    op.drop_index("ix_calls_client_number_started_at_id", table_name="calls")
    op.create_index("ix_calls_client_id", "calls", ["client_id"])
    op.drop_index("ix_calls_client_id_started_at_id", table_name="calls")
    op.create_index("ix_calls_expert_ext_started_at", "calls", ["expert_ext", "started_at"])
    op.drop_index("ix_calls_expert_ext_started_at_id", table_name="calls")
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.drop_index("ix_calls_started_at_id", table_name="calls")
