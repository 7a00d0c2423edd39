"""The personal manager's visits (issue 16, item 1): planned and unplanned, recorded on /visits or imported.

A visit's natural key is (employee, client, day, planned): the same visit recorded again or
imported again updates that row, never adds a second one. The values are service/visits/rules.py's.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class Visit(Base):
    """A ПМ по ДС's visit to a client on one day: what came of it, whom she met, about what."""

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("employee_id", "client_id", "day", "planned"),
        Index("ix_visits_employee_id_day", "employee_id", "day"),
        Index("ix_visits_client_id_day", "client_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    planned: Mapped[bool] = mapped_column(Boolean)
    contacts_met: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(16))  # done | not_done | moved
    topic: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(8))  # web | import
    created_at: Mapped[datetime]


class PlannedVisit(Base):
    """A client on a PM's visit plan for a month, with the reasons it was planned for (never rebuilt:
    a later build only adds clients). `source`: built (from the call plan's reasons) or import."""

    __tablename__ = "planned_visits"
    __table_args__ = (UniqueConstraint("employee_id", "month", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # the 1st
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)  # 1 = the first to visit
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{"code": …, "text": …}], most urgent first
    source: Mapped[str] = mapped_column(String(8))  # built | import
    created_at: Mapped[datetime]
