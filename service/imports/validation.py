"""Rows → typed records, or the list of what is wrong with them. Pure.

Three levels: the header (every required column present under its name or an alias, none twice), each cell (length and
control characters, then type, range, choice), and the file as a whole (a unique key seen
twice, references to clients, contacts and Experts that neither the database nor the file
knows).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from service.imports import cells
from service.imports.errors import RowError, quote
from service.imports.headers import Header, accepted_names
from service.imports.limits import show
from service.imports.schemas import Schema, Values
from service.month.kinds import month_label
from texts.labels import ROLE_LABELS

HEADER_ROW = 1
MAX_NAMES_LISTED = 30  # of a file's header in a message: a 256-column export must stay one readable line


@dataclass(frozen=True, slots=True)
class References:
    """What rows may refer to: known Expert logins, client ids, contact id → its client id; and the
    closed months (their plans no longer change)."""

    experts: frozenset[str] = frozenset()
    clients: frozenset[str] = frozenset()
    contacts: Mapping[str, str] = field(default_factory=dict)
    closed_months: frozenset[date] = frozenset()
    roles: Mapping[str, str] = field(default_factory=dict)  # login → role (visits are a PM's only)


def header_errors(schema: Schema, header: Header) -> list[RowError]:
    """Required columns that are missing and columns named twice (other names are ignored)."""
    accepted = accepted_names(schema)
    errors = [RowError(HEADER_ROW, name, "", _missing(accepted[name], header.names)) for name in header.missing]
    errors += [RowError(HEADER_ROW, column, "", f"столбец повторяется ({_listed(names)}): оставьте один")
               for column, names in header.repeated]
    return errors


def _missing(accepted: tuple[str, ...], present: tuple[str, ...]) -> str:
    # The accepted names and the file's own: a wrong delimiter or a renamed column shows at a glance.
    named = [name for name in present if name]
    found = f"в файле столбцы: {_listed(named)}" if named else "в первой строке файла нет названий столбцов"
    return f"нет обязательного столбца (подходят названия: {_listed(accepted)}); {found}"


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(quote(name) for name in names[:MAX_NAMES_LISTED])
    more = len(names) - MAX_NAMES_LISTED
    return f"{shown} … и ещё {show(more)}" if more > 0 else shown


def parse_row(schema: Schema, number: int, row: Mapping[str, object]) -> tuple[Any, list[RowError]]:
    """The row's record (None when something is wrong) and the errors of its cells."""
    values, errors = parse_cells(schema, number, row)
    return (None if errors else schema.build(values)), errors


def parse_cells(schema: Schema, number: int, row: Mapping[str, object]) -> tuple[Values, list[RowError]]:
    """Typed values of the cells that could be read, and an error for each that could not."""
    values: Values = {}
    errors: list[RowError] = []
    for column in schema.columns:
        raw = row.get(column.name)
        if cells.is_empty(raw):
            if column.required:
                errors.append(RowError(number, column.name, "", "обязательная ячейка пуста"))
            values[column.name] = column.default
            continue
        try:
            cells.check_text(raw)
            values[column.name] = column.parse(raw)
        except cells.CellError as e:
            errors.append(RowError(number, column.name, cells.display(raw), str(e)))
    if not errors:
        errors = [RowError(number, name, cells.display(row.get(name)), reason)
                  for name, reason in schema.checks(values)]
    return values, errors


class Validator:
    """Checks rows one by one, remembering unique keys to catch duplicates within the file."""

    def __init__(self, schema: Schema, references: References) -> None:
        self._schema = schema
        self._refs = references
        self._first_row: dict[object, int] = {}
        self._spans: dict[tuple[str, ...], list[tuple[datetime, datetime, int]]] = {}
        self._overlap_checked: set[tuple[str, ...]] = set()

    def check(self, number: int, row: Mapping[str, object]) -> tuple[Any, list[RowError]]:
        """The record, or every problem of the row (cells, duplicate, references) in file order."""
        values, errors = parse_cells(self._schema, number, row)
        errors += self._duplicate(number, values)
        errors += reference_errors(self._schema.kind, values, number, self._refs)
        if errors:
            order = {name: position for position, name in enumerate(row)}
            return None, sorted(errors, key=lambda e: order.get(e.column, len(order)))
        if self._schema.span is not None:
            who, start, end, checked = self._schema.span(values)
            self._spans.setdefault(who, []).append((start, end, number))
            if checked:
                self._overlap_checked.add(who)
        return self._schema.build(values), []

    def finish(self) -> list[RowError]:
        """Problems only the whole file shows (logins): the same start twice for one `who`, and, for
        a named user, a session that begins before an earlier one of hers has ended.

        Back-to-back sessions (one ends at 10:15, the next begins at 10:15) are fine; each
        overlapping row is named once, against the row it overlaps.
        """
        errors = []
        for who, spans in self._spans.items():
            spans.sort()
            checked = who in self._overlap_checked
            (previous_start, reach_end, previous_row), reach_row = spans[0], spans[0][2]
            for start, end, number in spans[1:]:
                if start == previous_start:
                    errors.append(_overlap(number, previous_row, "тот же вход, что в строке"))
                elif checked and start < reach_end:
                    errors.append(_overlap(number, reach_row, "пересекается по времени со строкой"))
                if end > reach_end:
                    reach_end, reach_row = end, number
                previous_start, previous_row = start, number
        self._spans.clear()
        return sorted(errors, key=lambda e: e.row)

    def _duplicate(self, number: int, values: Values) -> list[RowError]:
        # Only a key that was read is remembered: a bad one has its own error, and may be huge.
        unique = self._schema.unique
        if unique is None:
            return []
        if callable(unique):
            return self._repeated(number, values, unique(values))
        names = (unique,) if isinstance(unique, str) else unique
        key = tuple(values.get(name) for name in names)
        if not all(key):
            return []
        first = self._first_row.setdefault(key, number)
        if first == number:
            return []
        if isinstance(unique, str):
            return [RowError(number, unique, values[unique], f"повтор: такой же {unique} в строке {first}")]
        same = f"{', '.join(names[:-1])} и {names[-1]}"  # (employee_login, month, kind): reported on the last
        return [RowError(number, names[-1], str(values[names[-1]]), f"повтор: те же {same}, что в строке {first}")]

    def _repeated(self, number: int, values: Values, found: tuple[str, object] | None) -> list[RowError]:
        if found is None:
            return []
        column, key = found
        first = self._first_row.setdefault(key, number)
        if first == number:
            return []
        return [RowError(number, column, str(values.get(column) or key),
                         f"повтор: тот же респондент, что в строке {first} (ответил дважды?)")]


def _overlap(row: int, other: int, what: str) -> RowError:
    later, earlier = max(row, other), min(row, other)
    return RowError(later, "started_at", "",
                    f"{what} {earlier} (тот же пользователь того же клиента): повтор в отчёте?")


def reference_errors(kind: str, values: Values, number: int, refs: References) -> list[RowError]:
    """Cells that name an Expert, client or contact nobody knows (or a contact of another client).

    Only cells that were read are checked (a bad cell has its own error already).
    """
    def unknown(column: str, known: Collection[str], reason: str) -> list[RowError]:
        value = values.get(column)
        return [RowError(number, column, value, reason)] if value and value not in known else []

    if kind == "clients":
        return unknown("expert_login", refs.experts, "нет такого Эксперта")
    if kind == "absences":
        return unknown("login", refs.experts, "нет такого Эксперта")
    if kind == "selection":
        return (unknown("client_external_id", refs.clients, "нет такого клиента (сначала импортируйте clients)")
                + _selection_author(values, number, refs))
    if kind == "events":
        return (unknown("client_external_id", refs.clients, "нет такого клиента (сначала импортируйте clients)")
                + _month_employee(values, number, refs))
    if kind == "visits":
        return (_visit_employee(values, number, refs)
                + unknown("client_external_id", refs.clients, "нет такого клиента (сначала импортируйте clients)"))
    if kind == "plans":
        return _month_employee(values, number, refs) + _plan_for_role(values, number, refs) + _closed_month(
            values, number, refs)
    if kind not in ("contacts", "history", "signals", "logins", "trainings", "seminars", "acts", "requests", "survey"):
        return []
    errors = unknown("client_external_id", refs.clients, "нет такого клиента (сначала импортируйте clients)")
    if kind in ("history", "signals", "logins", "trainings", "seminars"):
        errors += _contact_errors(values, number, refs)
    return errors


def _closed_month(values: Values, number: int, refs: References) -> list[RowError]:
    month = values.get("month")
    if month is None or month not in refs.closed_months:
        return []
    return [RowError(number, "month", f"{month:%m.%Y}",
                     f"месяц {month_label(month)} закрыт: его планы и показатели больше не меняются")]


def _visit_employee(values: Values, number: int, refs: References) -> list[RowError]:
    login = values.get("employee_login")
    if not login:
        return []  # the empty required cell has its own error
    role = refs.roles.get(login)
    if role is None:
        return [RowError(number, "employee_login", login, "нет такого сотрудника (сначала импортируйте experts)")]
    if role != "pm":
        return [RowError(number, "employee_login", login,
                         f"визиты записываются только ПМ по ДС, а «{login}» — {ROLE_LABELS.get(role, role)}")]
    return []


# The month's events and plans are an Expert's or a PM's (the reports and the КТУ are theirs). Found
# trying it: a supervisor's plan and events were taken, and counted in no report.
MONTH_ROLES = frozenset({"expert", "pm"})
# Plans one role has no use for (docs/ktu.md: the Expert's СТ invitations, the PM's seminars, ГК and visits).
PLAN_ROLES = {"st_invitations": "expert", "seminar_sales": "pm", "gk_subscriptions": "pm",
              "pm_visits_planned": "pm", "pm_visits_unplanned": "pm", "pm_calls": "pm"}


def _month_employee(values: Values, number: int, refs: References) -> list[RowError]:
    login = values.get("employee_login")
    if not login:
        return []
    role = refs.roles.get(login)
    if role is None:
        return [RowError(number, "employee_login", login, "нет такого сотрудника (сначала импортируйте experts)")]
    if role not in MONTH_ROLES:
        return [RowError(number, "employee_login", login, "планы и события — только Эксперта или ПМ по ДС, "
                                                          f"а «{login}» — {ROLE_LABELS.get(role, role)}")]
    return []


def _plan_for_role(values: Values, number: int, refs: References) -> list[RowError]:
    login, kind = values.get("employee_login"), values.get("kind")
    role = refs.roles.get(login or "")
    wanted = PLAN_ROLES.get(kind or "")
    if role not in MONTH_ROLES or wanted is None or role == wanted:
        return []
    return [RowError(number, "kind", str(kind), f"этот план — только для роли «{ROLE_LABELS[wanted]}», "
                                                f"а «{login}» — {ROLE_LABELS.get(role or '', role)}")]


# Who scores a client for ДС and recommends it: the СИО who serves it, or the head (issue 15). Found
# trying it: a file naming an Expert as the author was taken, and her «рекомендация» counted.
SELECTION_AUTHORS = frozenset({"sio", "supervisor", "admin"})


def _selection_author(values: Values, number: int, refs: References) -> list[RowError]:
    login = values.get("author_login")
    if not login:
        return []
    role = refs.roles.get(login)
    if role is None:
        return [RowError(number, "author_login", login, "нет такого пользователя DS Desk (автор оценки)")]
    if role not in SELECTION_AUTHORS:
        return [RowError(number, "author_login", login, "оценку и рекомендацию ставит СИО или руководитель, "
                                                        f"а «{login}» — {ROLE_LABELS.get(role, role)}")]
    return []


def _contact_errors(values: Values, number: int, refs: References) -> list[RowError]:
    contact, client = values.get("contact_external_id"), values.get("client_external_id")
    if not contact or (client and client not in refs.clients):
        return []  # an unknown client has its own error: «a contact of another client» would only confuse
    owner = refs.contacts.get(contact)
    if owner is None:
        reason = "нет такого контакта (сначала импортируйте contacts)"
    elif client and owner != client:
        reason = f"это контакт клиента {owner}, а не {client}"
    else:
        return []
    return [RowError(number, "contact_external_id", contact, reason)]
