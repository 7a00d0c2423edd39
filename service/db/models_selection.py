"""Moving clients to remote service (issue 15): the СИО's manual scores and the transition's steps.

Both tables are histories, never edited: `selection_scores` keeps every manual score and
recommendation with its author and time (the latest per client and criterion counts), and
`client_transitions` every step of a client's move to ДС (the latest is its status). The
scoring itself is pure (service/selection/scoring.py); the client's own facts are columns of
`clients` (migration 0016: client_since, came_from, distance_km, services, ip_possible, sio).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class SelectionScore(Base):
    """A manual score of one criterion (0–3) or the СИО's recommendation (yes | no)."""

    __tablename__ = "selection_scores"
    __table_args__ = (Index("ix_selection_scores_client_id_criterion_at", "client_id", "criterion", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    criterion: Mapped[str] = mapped_column(String(24))  # service.selection.scoring.CRITERIA or recommendation
    value: Mapped[str] = mapped_column(String(8))  # "0".."3" | "yes" | "no"
    note: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(8))  # import | web
    at: Mapped[datetime]


class ClientTransition(Base):
    """One step of a client's move to ДС: кандидат → предложено → согласен → переведён, or отказ / отложено."""

    __tablename__ = "client_transitions"
    __table_args__ = (Index("ix_client_transitions_client_id_at", "client_id", "at"),
                      Index("ix_client_transitions_at", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))  # candidate | offered | agreed | moved | declined | postponed
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))  # who offers it
    reason: Mapped[str | None] = mapped_column(Text)  # a refusal's reason (from the configured list)
    until: Mapped[date | None] = mapped_column(Date)  # postponed until; moved: the transition date
    note: Mapped[str | None] = mapped_column(Text)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))  # the wrap-up's call
    author_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    at: Mapped[datetime]
