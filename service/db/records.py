"""Typed records the directory repositories write (what a validated import row becomes). Pure."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Counts:
    """What a write did: rows created, rows changed, rows already as given."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.new + other.new, self.updated + other.updated,
                      self.unchanged + other.unchanged)

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged

    def __str__(self) -> str:
        return f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged"


@dataclass(frozen=True, slots=True)
class ExpertRecord:
    login: str
    full_name: str
    role: str = "expert"  # expert | supervisor | admin
    extension: str | None = None
    timezone: str | None = None  # None: the organisation's zone
    daily_target: int | None = None
    group_name: str | None = None  # imported as `group`


@dataclass(frozen=True, slots=True)
class AbsenceRecord:
    login: str
    from_date: date
    to_date: date  # inclusive


@dataclass(frozen=True, slots=True)
class ClientRecord:
    external_id: str
    name: str
    segment: str = "ДС"
    inn: str | None = None
    territory: str | None = None
    expert_login: str | None = None
    timezone: str | None = None
    version: str = "other"
    online_last_login: date | None = None
    online_logins_30d: int | None = None
    debt_rub: Decimal = Decimal("0.00")
    prepaid_months: int | None = None
    terms_end: date | None = None
    ds_since: date | None = None
    contact_every_days: int | None = None


@dataclass(frozen=True, slots=True)
class ContactRecord:
    external_id: str
    client_external_id: str
    full_name: str
    position: str | None = None
    phone: str | None = None  # as given
    phone_e164: str | None = None  # normalised; what is dialled and matched
    email: str | None = None
    is_user: bool = False
    call_from: time | None = None
    call_to: time | None = None


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    client_external_id: str
    contact_external_id: str | None
    date: date
    result: str  # contact_made | not_reached
    topic: str | None = None
    comment: str | None = None

    @property
    def row_key(self) -> str:
        return row_key(self.client_external_id, self.contact_external_id, self.date.isoformat(),
                       self.result, self.topic, self.comment)


@dataclass(frozen=True, slots=True)
class SignalRecord:
    client_external_id: str
    contact_external_id: str | None
    kind: str
    occurred_on: date
    note: str | None = None

    @property
    def row_key(self) -> str:
        return row_key(self.client_external_id, self.contact_external_id,
                       self.occurred_on.isoformat(), self.kind, self.note)


@dataclass(frozen=True, slots=True)
class LoginRecord:
    """A login from the online-version usage report; natural key (client, contact, start)."""

    client_external_id: str
    contact_external_id: str  # "" when the report names no user
    started_at: datetime
    ended_at: datetime | None = None  # None: a single login event

    @property
    def key(self) -> tuple[str, str, datetime]:
        return self.client_external_id, self.contact_external_id, self.started_at


def row_key(*cells: str | None) -> str:
    """The natural key of a row without an id: a hash of all its (already normalised) cells."""
    # JSON keeps None distinct from "" and a cell boundary distinct from a character in a cell.
    payload = json.dumps(cells, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
