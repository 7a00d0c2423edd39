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


MAX_NAME_PART = 80  # «Фамилия», «Имя», «Отчество» each; all three and two spaces fit full_name's 255


@dataclass(frozen=True, slots=True)
class ExpertName:
    """An Expert's name as stored: «Фамилия», «Имя», «Отчество» (None: none), and the display name."""

    last_name: str
    first_name: str
    patronymic: str | None = None

    @classmethod
    def of(cls, last_name: str, first_name: str, patronymic: str | None = None) -> ExpertName:
        """The parts as typed: spaces trimmed and collapsed, an empty patronymic is none."""
        return cls(_words(last_name), _words(first_name), _words(patronymic or "") or None)

    @classmethod
    def parse(cls, full_name: str) -> ExpertName:
        """«Фамилия Имя Отчество», by the call scripts' rules (service/scripts/variables.py split_full_name):
        one word is the first name, four and more keep the tail as the patronymic («Гейдар оглы»)."""
        words = full_name.split()
        if len(words) < 2:
            return cls("", " ".join(words))
        return cls(words[0], words[1], " ".join(words[2:]) or None)

    @property
    def full_name(self) -> str:
        """The display name, always «Фамилия Имя Отчество»: what `experts.full_name` holds."""
        return " ".join(part for part in (self.last_name, self.first_name, self.patronymic) if part)

    def columns(self) -> dict[str, str | None]:
        """The `experts` columns of the name: the parts and full_name are only ever written together."""
        return {"last_name": self.last_name, "first_name": self.first_name, "patronymic": self.patronymic,
                "full_name": self.full_name}


def _words(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class ExpertRecord:
    login: str
    name: ExpertName
    role: str = "expert"  # expert | supervisor | admin
    extension: str | None = None
    timezone: str | None = None  # None: the organisation's zone
    daily_target: int | None = None
    group_name: str | None = None  # imported as `group`

    def row(self) -> dict[str, object]:
        """The `experts` row: the name's four columns, then the rest."""
        return {"login": self.login, **self.name.columns(), "role": self.role, "extension": self.extension,
                "timezone": self.timezone, "daily_target": self.daily_target, "group_name": self.group_name}


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
    # The selection for ДС (issue 15): optional; an empty cell is "unknown".
    client_since: date | None = None
    came_from: str | None = None
    distance_km: float | None = None
    services: list[str] | None = None
    ip_possible: bool | None = None
    sio: str | None = None
    collection_completeness: Decimal | None = None  # Полнота сбора, 0–1 (issue 17)


@dataclass(frozen=True, slots=True)
class SelectionRecord:
    """A manual selection score or the СИО's recommendation (issue 15), as imported."""

    client_external_id: str
    criterion: str  # service.selection.scoring.CRITERIA or "recommendation"
    value: str  # normalised: "0".."3" | "yes" | "no"
    note: str | None
    author_login: str


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
