"""What the month's imports write: a business event from the CRM, one monthly plan or value. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from service.db.records import row_key


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A business event (service/month/kinds.EVENT_KINDS); it has no id: the whole row is its key."""

    client_external_id: str
    kind: str
    occurred_on: date
    amount_rub: Decimal | None = None  # to kopecks
    employee_login: str | None = None
    note: str | None = None

    @property
    def row_key(self) -> str:
        amount = None if self.amount_rub is None else f"{self.amount_rub:.2f}"
        return row_key(self.client_external_id, self.kind, self.occurred_on.isoformat(), amount,
                       self.employee_login, self.note)


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """One person's plan (or imported value) of one kind for one month; key (employee, month, kind)."""

    employee_login: str
    month: date  # the 1st
    kind: str
    value: Decimal

    @property
    def key(self) -> tuple[str, date, str]:
        return self.employee_login, self.month, self.kind
