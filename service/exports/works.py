"""A finished call or a visit as the «Работа» row the CRM (ВЭ) imports. Pure.

The database side (service/db/works_export.py) reads plain records — `CallWork`, `VisitWork` — and
`call_row` / `visit_row` turn them into `WorkRow`s with the configured wording (`WorksConfig`).
Nothing here reads a clock or a file: the organisation's zone and the service's address are
arguments. docs/exports.md describes every column and the rules below.

- A call is a work once it has ended (`ended_at`): its state is the wrap-up's result mapped to the
  CRM's wording, or — no wrap-up — the PBX outcome's (`no_answer` → «не дозвонились»). A call the
  Expert herself did not pick up (`expert_no_answer`) without a wrap-up is no work: the client was
  never dialled (SPEC-NOTES: made calls).
- A call whose outcome or talk time is a guess (`guessed`, a gap in the PBX link) is exported and
  says so in its own column, never silently mixed with measured ones.
- «Заход в систему» is given for a contact only: the usage data's measurement where the day is
  covered, else the Expert's tick, and the next column says which (SPEC-NOTES: share with login).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from urllib.parse import quote
from zoneinfo import ZoneInfo

from dialer.records import Outcome
from service.desk.wrapup import WrapUpResult
from service.visits.rules import RESULT_LABELS as VISIT_RESULT_LABELS
from service.visits.rules import VisitResult
from texts.labels import LOGIN_SOURCE_LABELS, OUTCOME_LABELS, RESULT_LABELS

CALL_PREFIX = "DS-"
VISIT_PREFIX = "DS-V-"
YES, NO = "да", "нет"
# The codes a work's state is mapped from (exports.states in config.yaml): disjoint sets.
WRAPUP_CODES = tuple(r.value for r in WrapUpResult)
OUTCOME_CODES = tuple(o.value for o in Outcome if o is not Outcome.EXPERT_NO_ANSWER)
VISIT_CODES = tuple(r.value for r in VisitResult)
STATE_CODES = WRAPUP_CODES + OUTCOME_CODES + VISIT_CODES
CONTACT = "контакт состоялся"
NOT_REACHED = "не дозвонились"
CALLBACK = "перезвонить"
# The plan's own reading of each result (service/desk/wrapup.py: a refusal finishes the item as a
# contact, a wrong number as not reached); a missed inbound call is one to return.
DEFAULT_STATES: dict[str, str] = {
    "contact_made": CONTACT, "refused": CONTACT, "callback": CALLBACK, "not_reached": NOT_REACHED,
    "wrong_number": NOT_REACHED,
    "answered": CONTACT, "no_answer": NOT_REACHED, "rejected": NOT_REACHED, "busy": NOT_REACHED,
    "congestion": NOT_REACHED, "cancelled": NOT_REACHED, "missed": CALLBACK,
    "done": CONTACT, "not_done": "не состоялся", "moved": "перенесён",
}
EXPERT_ASSIGNMENT = "Дистанционный сервис_обзвонка"
PM_ASSIGNMENT = "Дистанционный сервис"
KIND_LABELS = {"outbound": "исходящий звонок", "inbound": "входящий звонок", "visit": "визит"}
# (header, width in an XLSX sheet); the CSV has the same headers in the same order.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("ID работы", 24), ("Вид работы", 17), ("Код клиента", 12), ("Код контакта", 13), ("Тип поручения", 30),
    ("Сотрудник", 14), ("Дата", 11), ("Время", 9), ("Состояние", 18), ("Итог", 30), ("Инфоповод", 32),
    ("Комментарий", 50), ("Время разговора, с", 10), ("Заход в систему", 9), ("Заход определён", 28),
    ("Плановая", 9), ("Данные АТС восстановлены", 12), ("Запись разговора", 50),
)
HEADERS = tuple(name for name, _ in COLUMNS)


@dataclass(frozen=True, slots=True)
class WorksConfig:
    """The wording of the rows: the CRM's states and assignment types, where the call pages are."""

    tz: ZoneInfo  # the organisation's: a work's date and time
    public_url: str  # the service's address as the CRM's users reach it, e.g. http://dsdesk.example
    states: Mapping[str, str]  # every code of STATE_CODES → the CRM's state
    expert_assignment: str = EXPERT_ASSIGNMENT
    pm_assignment: str = PM_ASSIGNMENT


@dataclass(frozen=True, slots=True)
class CallWork:
    """A finished ledger call with its wrap-up (if any), as the database gives it."""

    linkedid: str
    direction: str  # outbound | inbound
    started_at: datetime  # aware
    outcome: str
    talk_s: float
    guessed: bool
    has_recording: bool
    planned: bool  # on a planned item (service/db/plan_links.py)
    client_external_id: str | None
    contact_external_id: str | None
    employee_login: str | None  # the call's owner, else whoever wrapped it up
    employee_role: str | None
    result: str | None  # the wrap-up's result; None: not wrapped up
    topic: str | None
    comment: str | None
    ticked: bool | None  # the Expert's «клиент заходил в систему»; None without a wrap-up
    measured: bool | None  # from the usage data (call_logins); None: the day is not covered


@dataclass(frozen=True, slots=True)
class VisitWork:
    """A PM's recorded visit (any result), as the database gives it."""

    visit_id: int
    day: date
    planned: bool
    result: str  # done | not_done | moved
    client_external_id: str
    employee_login: str
    contacts_met: str | None
    topic: str | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class WorkRow:
    """One «Работа»: text cells, talk time in whole seconds (None: not a call)."""

    work_id: str
    kind: str
    client_id: str
    contact_id: str
    assignment: str
    employee: str
    day: date
    at: time | None  # a visit has a day, no time
    state: str
    result: str
    topic: str
    comment: str
    talk_s: int | None
    logged_in: str
    login_source: str
    planned: str
    inferred: str
    link: str

    def cells(self) -> tuple[str | int | None, ...]:
        """The row in COLUMNS' order: the date as ДД.ММ.ГГГГ, the time as ЧЧ:ММ:СС (the CRM's import reads text)."""
        return (self.work_id, self.kind, self.client_id, self.contact_id, self.assignment, self.employee,
                f"{self.day:%d.%m.%Y}", "" if self.at is None else f"{self.at:%H:%M:%S}", self.state, self.result,
                self.topic, self.comment, self.talk_s, self.logged_in, self.login_source, self.planned,
                self.inferred, self.link)


def is_work(call: CallWork) -> bool:
    """A finished call is a work unless the Expert's own phone was not picked up and no wrap-up was saved."""
    return call.result is not None or call.outcome != Outcome.EXPERT_NO_ANSWER


def call_row(call: CallWork, config: WorksConfig) -> WorkRow:
    local = call.started_at.astimezone(config.tz)
    logged_in, login_source = _login(call)
    link = call_link(config.public_url, call.linkedid) if call.has_recording else ""
    return WorkRow(
        work_id=CALL_PREFIX + call.linkedid, kind=KIND_LABELS.get(call.direction, call.direction),
        client_id=call.client_external_id or "", contact_id=call.contact_external_id or "",
        assignment=config.pm_assignment if call.employee_role == "pm" else config.expert_assignment,
        employee=call.employee_login or "", day=local.date(), at=local.time().replace(microsecond=0),
        state=_state(config, call.result if call.result is not None else call.outcome), result=_call_result(call),
        topic=call.topic or "", comment=call.comment or "", talk_s=whole_seconds(call.talk_s), logged_in=logged_in,
        login_source=login_source, planned=YES if call.planned else NO, inferred=YES if call.guessed else "",
        link=link)


def visit_row(visit: VisitWork, config: WorksConfig) -> WorkRow:
    comment = visit.comment or ""
    if visit.contacts_met:
        comment = f"Встречались: {visit.contacts_met}" + (f". {comment}" if comment else "")
    return WorkRow(
        work_id=f"{VISIT_PREFIX}{visit.visit_id}", kind=KIND_LABELS["visit"], client_id=visit.client_external_id,
        contact_id="", assignment=config.pm_assignment, employee=visit.employee_login, day=visit.day, at=None,
        state=_state(config, visit.result), result=f"визит {VISIT_RESULT_LABELS.get(visit.result, visit.result)}",
        topic=visit.topic or "", comment=comment, talk_s=None, logged_in="", login_source="",
        planned=YES if visit.planned else NO, inferred="", link="")


def day_rows(calls: list[CallWork], visits: list[VisitWork], config: WorksConfig) -> list[WorkRow]:
    """One day's works in their fixed order: calls by start (then linkedid), then visits by id.

    The database gives each list in that order; sorting again here keeps a re-export identical
    whatever order a backend returned ties in."""
    ordered_calls = sorted((c for c in calls if is_work(c)), key=lambda c: (c.started_at, c.linkedid))
    return ([call_row(c, config) for c in ordered_calls]
            + [visit_row(v, config) for v in sorted(visits, key=lambda v: v.visit_id)])


def call_link(public_url: str, linkedid: str) -> str:
    """The call's page (with its recording) in DS Desk: /calls/{linkedid} under the public address."""
    return f"{public_url.rstrip('/')}/calls/{quote(linkedid, safe='')}"


def whole_seconds(seconds: float) -> int:
    """Talk time in whole seconds, halves up (60.5 → 61); never negative."""
    return max(0, int(seconds + 0.5))


def _state(config: WorksConfig, code: str) -> str:
    """The CRM's state for a code; a code the mapping lacks (none today) stays as it is rather than fail the file."""
    return config.states.get(code, code)


def _call_result(call: CallWork) -> str:
    if call.result is not None:
        return RESULT_LABELS.get(call.result, call.result)
    return f"без итога Эксперта: {OUTCOME_LABELS.get(call.outcome, call.outcome)}"


def _is_contact(call: CallWork) -> bool:
    if call.result is not None:
        return WrapUpResult(call.result).is_contact if call.result in WRAPUP_CODES else False
    return call.outcome == Outcome.ANSWERED


def _login(call: CallWork) -> tuple[str, str]:
    """(«да»/«нет», how it is known) for a contact; empty for any other work."""
    if not _is_contact(call):
        return "", ""
    if call.measured is not None:
        return (YES if call.measured else NO), LOGIN_SOURCE_LABELS["measured"]
    if call.ticked is not None:
        return (YES if call.ticked else NO), LOGIN_SOURCE_LABELS["ticked"]
    return "", ""
