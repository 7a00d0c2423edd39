"""The department's month (issue 16): business events from the CRM, monthly plans and values, closed months.

`business_events` are rows without an id of their own, stored once by the hash of the whole
normalised row (as `history` and `signals`); `monthly_plans` have a natural key (person, month,
kind) and an import of the same key updates the value, unless the month is in `closed_months`.
The kinds are service/month/kinds.py's.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class BusinessEvent(Base):
    """Something the CRM recorded about a client: a renewal, a sale, a problem, a lost client…"""

    __tablename__ = "business_events"
    __table_args__ = (
        Index("ix_business_events_occurred_on_kind", "occurred_on", "kind"),
        Index("ix_business_events_employee_id_occurred_on", "employee_id", "occurred_on"),
        Index("ix_business_events_client_id_occurred_on", "client_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[date] = mapped_column(Date)
    amount_rub: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime]
    # The row has no id: re-importing it must find it by its content (service/month/records.py).
    row_key: Mapped[str] = mapped_column(String(64), unique=True)


class MonthlyPlan(Base):
    """A person's plan (training, СТ invitations…) or imported value (Баланс ВКСП…) for one month."""

    __tablename__ = "monthly_plans"
    __table_args__ = (UniqueConstraint("employee_id", "month", "kind"), Index("ix_monthly_plans_month", "month"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # the 1st
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[Decimal] = mapped_column(Numeric(16, 4))  # a share like 0.695 kept exact
    imported_at: Mapped[datetime]


class ClosedMonth(Base):
    """A month whose plans no longer change (its КТУ is being paid)."""

    __tablename__ = "closed_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the 1st
    closed_at: Mapped[datetime]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
