"""The import formats: per kind, its columns (exact header names), how each is read, the record.

docs/import.md documents the same tables for people; keep them in step. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from scheduler.model import Segment, SignalKind, Version
from service.db.records import (
    AbsenceRecord,
    ClientRecord,
    ContactRecord,
    ExpertRecord,
    HistoryRecord,
    SignalRecord,
)
from service.imports import cells as c

Values = dict[str, Any]  # column name → typed value (None when the cell was empty)
Problem = tuple[str, str]  # (column, reason) found by a check across the row's cells


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    parse: c.Parser
    required: bool = False
    default: Any = None


@dataclass(frozen=True, slots=True)
class Schema:
    kind: str
    columns: tuple[Column, ...]
    build: Callable[[Values], Any]  # typed values → the record the repository writes
    unique: str | None = None  # a column whose value may appear once per file
    checks: Callable[[Values], list[Problem]] = field(default=lambda values: [])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(col.name for col in self.columns)


def _options(*pairs: tuple[str, str]) -> dict[str, str]:
    return {spelling.casefold(): value for spelling, value in pairs}


ROLES = _options(("expert", "expert"), ("supervisor", "supervisor"), ("admin", "admin"))
SEGMENTS = _options(*((s.value, s.value) for s in Segment), ("DS", "ДС"), ("KS", "КС"))
VERSIONS = _options(*((v.value, v.value) for v in Version))
RESULTS = _options(("contact_made", "contact_made"), ("not_reached", "not_reached"))
SIGNAL_KINDS = _options(*((k.value, k.value) for k in SignalKind))
EXTERNAL_ID = c.code(32)


def _extension_required(values: Values) -> list[Problem]:
    if values["role"] == "expert" and not values["extension"]:
        return [("extension", "обязателен для роли expert (внутренний номер Эксперта на АТС)")]
    return []


def _window_ordered(values: Values) -> list[Problem]:
    start, end = values["call_from"], values["call_to"]
    if start is not None and end is not None and start >= end:
        return [("call_to", f"должно быть позже call_from {start:%H:%M}")]
    return []


def _range_ordered(values: Values) -> list[Problem]:
    if values["from"] > values["to"]:
        return [("to", f"не раньше from {values['from']:%d.%m.%Y}")]
    return []


def _contact(values: Values) -> ContactRecord:
    phone, phone_e164 = values.pop("phone") or (None, None)
    return ContactRecord(**values, phone=phone, phone_e164=phone_e164)


EXPERTS = Schema(
    kind="experts",
    columns=(
        Column("login", c.code(64), required=True),
        Column("full_name", c.bounded_text(255), required=True),
        Column("role", c.choice(ROLES), default="expert"),
        Column("extension", c.extension),
        Column("timezone", c.timezone),
        Column("daily_target", c.integer(1, 100)),
        Column("group", c.bounded_text(64)),  # the РГ's group («Группа 1»), for the control figures
    ),
    build=lambda values: ExpertRecord(**{k: v for k, v in values.items() if k != "group"},
                                      group_name=values.get("group") or None),
    unique="login",
    checks=_extension_required,
)

CLIENTS = Schema(
    kind="clients",
    columns=(
        Column("external_id", EXTERNAL_ID, required=True),
        Column("name", c.bounded_text(255), required=True),
        Column("inn", c.inn),
        Column("segment", c.choice(SEGMENTS), required=True),
        Column("territory", c.bounded_text(64)),
        Column("expert_login", c.code(64)),
        Column("timezone", c.timezone),
        Column("version", c.choice(VERSIONS), default=Version.OTHER.value),
        Column("online_last_login", c.parse_date),
        Column("online_logins_30d", c.integer(0)),
        Column("debt_rub", c.money, default=Decimal("0.00")),
        Column("prepaid_months", c.integer(0)),
        Column("terms_end", c.parse_date),
        Column("ds_since", c.parse_date),
        Column("contact_every_days", c.integer(1, 366)),
    ),
    build=lambda values: ClientRecord(**values),
    unique="external_id",
)

CONTACTS = Schema(
    kind="contacts",
    columns=(
        Column("external_id", EXTERNAL_ID, required=True),
        Column("client_external_id", EXTERNAL_ID, required=True),
        Column("full_name", c.bounded_text(255), required=True),
        Column("position", c.bounded_text(255)),
        Column("phone", c.phone),
        Column("email", c.email),
        Column("is_user", c.parse_bool, default=False),
        Column("call_from", c.parse_time),
        Column("call_to", c.parse_time),
    ),
    build=_contact,
    unique="external_id",
    checks=_window_ordered,
)

HISTORY = Schema(
    kind="history",
    columns=(
        Column("client_external_id", EXTERNAL_ID, required=True),
        Column("contact_external_id", EXTERNAL_ID),
        Column("date", c.parse_date, required=True),
        Column("result", c.choice(RESULTS), required=True),
        Column("topic", c.text),
        Column("comment", c.text),
    ),
    build=lambda values: HistoryRecord(**values),
)

SIGNALS = Schema(
    kind="signals",
    columns=(
        Column("client_external_id", EXTERNAL_ID, required=True),
        Column("contact_external_id", EXTERNAL_ID),
        Column("kind", c.choice(SIGNAL_KINDS), required=True),
        Column("occurred_on", c.parse_date, required=True),
        Column("note", c.text),
    ),
    build=lambda values: SignalRecord(**values),
)

ABSENCES = Schema(
    kind="absences",
    columns=(
        Column("login", c.code(64), required=True),
        Column("from", c.parse_date, required=True),
        Column("to", c.parse_date, required=True),
    ),
    build=lambda values: AbsenceRecord(values["login"], values["from"], values["to"]),
    checks=_range_ordered,
)

# In the order a department is imported (a row may refer only to what exists already).
SCHEMAS: dict[str, Schema] = {
    s.kind: s for s in (EXPERTS, CLIENTS, CONTACTS, HISTORY, SIGNALS, ABSENCES)
}
KINDS = tuple(SCHEMAS)
