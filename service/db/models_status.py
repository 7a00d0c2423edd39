"""The Experts' own statuses over the day: an append-only log (migration 0012, issue 14).

An Expert says «готов» or «пауза: <причина>» (desk.pause_reasons) by a key or a button; signing
out ends the day's last status. Rows are only ever added: the day's time in each state is
computed from this log together with the ledger (on a call: the calls' own times; in wrap-up:
from a call's end to its wrap-up's first save), by service/desk/status_time.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class ExpertStatus(Base):
    """From `at` on, the Expert is `status` (ready | pause | off), until their next row."""

    __tablename__ = "expert_status_log"
    __table_args__ = (Index("ix_expert_status_log_expert_id_at", "expert_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)  # the pause's reason, as configured when it was set
