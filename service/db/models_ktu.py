"""The КТУ sheet's storage (issue 16, item 4; docs/ktu.md): what the head entered, and the sheet's versions.

Entries are append-only: a change is a new row and the latest row per (person, month, component)
counts, so the history of every value the head typed is kept with its reason and author. Versions
are numbered per person-month from 1; the draft's sheet is computed live, an approved version keeps
its sheet frozen as JSON (values, points, rate and money as strings, so Decimal round-trips).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class KtuEntry(Base):
    """A value the head entered for an entered component (a deduction, the training bonus), with a reason."""

    __tablename__ = "ktu_entries"
    __table_args__ = (Index("ix_ktu_entries_month_employee_id", "month", "employee_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # the 1st
    component: Mapped[str] = mapped_column(String(32))  # service.ktu.rules key: deduction, training_excellence
    value: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    reason: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(255))  # as the sheet shows it: «Смирнова О. В.»
    entered_at: Mapped[datetime]


class KtuVersion(Base):
    """One version of a person-month's sheet: a draft (computed live) or approved (frozen in `sheet`)."""

    __tablename__ = "ktu_versions"
    __table_args__ = (UniqueConstraint("employee_id", "month", "number"),
                      Index("ix_ktu_versions_month", "month"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # the 1st
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, …
    role: Mapped[str] = mapped_column(String(16))  # expert | pm, when the version was made
    state: Mapped[str] = mapped_column(String(16))  # draft | approved
    author: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)  # why a version after the first was made
    approved_by: Mapped[str | None] = mapped_column(String(255))
    approved_at: Mapped[datetime | None]
    sheet: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the frozen sheet of an approved version
