"""Inputs and outputs of the pure call-list builder (no I/O). The shell loads these from SQL.

History never enters Python row by row: the database condenses it into one `ContactSummary`
per contact (last contact, last result, attempts since then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum


class Segment(StrEnum):
    DS = "ДС"
    KS = "КС"
    VIP = "VIP"


class Version(StrEnum):
    ONLINE = "online"
    INTERNET_UPDATE = "internet_update"
    OTHER = "other"


class SignalKind(StrEnum):
    HOTLINE_REQUEST = "hotline_request"
    CONSULTATION_REQUEST = "consultation_request"
    PROBLEM = "problem"
    TASK = "task"
    NEW_USER = "new_user"
    SEMINAR_INVITE = "seminar_invite"


class PlanState(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    CONTACT_MADE = "contact_made"
    NOT_REACHED = "not_reached"
    CALLBACK = "callback"
    CANCELLED = "cancelled"
    ROLLED_OVER = "rolled_over"  # not finished by day end; a copy is planned for the next working day


FINISHED_STATES = frozenset({PlanState.CONTACT_MADE, PlanState.NOT_REACHED, PlanState.CALLBACK})


class ReasonCode(StrEnum):
    """Why a contact is on today's list; owed reasons first, in the order the builder takes them."""

    CALLBACK = "callback"  # a callback promised for this day, at a fixed time
    ROLLED_OVER = "rolled_over"  # «перенесён»: planned earlier, not finished
    SIGNAL = "signal"  # a new hotline/consultation request, problem, task, new user, seminar invite
    RETRY = "retry"  # not reached last time
    CADENCE = "cadence"  # the organisation is past its contact cadence
    NOT_LOGGED_IN = "not_logged_in"  # online version, no login for N days
    NOT_TRAINED = "not_trained"  # a user with no contact made for N days
    TERMS_ENDING = "terms_ending"  # financial terms end within N days
    DEBT = "debt"
    FILL = "fill"  # filling the day with the organisations closest to due


@dataclass(frozen=True, slots=True)
class Expert:
    login: str
    full_name: str
    extension: str
    timezone: str  # IANA name; the Expert's working day is in this zone
    daily_target: int | None = None  # None: the configured default
    absences: tuple[tuple[date, date], ...] = ()  # inclusive ranges


# Client, Contact and ContactSummary are built by the hundred thousand each morning: they are
# slotted but not frozen, because a frozen dataclass's __init__ sets every field through
# object.__setattr__ and costs ~5× as much. Nothing mutates them; treat them as read-only.
@dataclass(slots=True)
class Client:
    external_id: str
    name: str
    segment: Segment
    expert_login: str | None
    timezone: str
    version: Version
    online_last_login: date | None = None
    online_logins_30d: int | None = None
    debt_rub: float = 0.0
    prepaid_months: int | None = None
    terms_end: date | None = None
    ds_since: date | None = None
    contact_every_days: int | None = None  # None: the configured default cadence


@dataclass(slots=True)
class Contact:
    external_id: str
    client_external_id: str
    full_name: str
    position: str = ""
    phone: str | None = None
    is_user: bool = False
    call_from: time | None = None  # the contact's preferred window, client's local time
    call_to: time | None = None


@dataclass(slots=True)
class ContactSummary:
    """Computed in SQL from history, wrap-ups and the call ledger."""

    contact_external_id: str
    last_contact_on: date | None = None  # last `contact_made`
    last_result: str | None = None  # `contact_made` | `not_reached`
    last_attempt_at: datetime | None = None  # aware; the last dial attempt of any result
    attempts_since_contact: int = 0  # dialled and not reached since the last contact made
    last_comment: str | None = None
    last_topic: str | None = None


@dataclass(frozen=True, slots=True)
class Signal:
    client_external_id: str
    contact_external_id: str | None
    kind: SignalKind
    occurred_on: date
    note: str = ""


@dataclass(frozen=True, slots=True)
class Callback:
    """A callback the Expert promised (wrap-up «перезвонить»), owed at a fixed time."""

    contact_external_id: str
    client_external_id: str
    expert_login: str
    at: datetime  # aware
    topic: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ExistingItem:
    """An item already planned for the day (so a rebuild tops up instead of duplicating)."""

    public_id: str
    expert_login: str
    contact_external_id: str
    slot: datetime
    state: PlanState
    # For a ROLLED_OVER item of an earlier day: what it was planned for, so the copy the
    # builder plans today keeps its reasons and topic (the builder adds «перенесён с DD.MM»).
    reasons: tuple[Reason, ...] = ()
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    text: str  # Russian, shown to the Expert: «обращалась на Горячую линию 12.11»


@dataclass(frozen=True, slots=True)
class PlanItem:
    expert_login: str
    client_external_id: str
    contact_external_id: str
    slot: datetime  # aware, in the Expert's zone
    reasons: tuple[Reason, ...]
    topic: str
    previous_comment: str | None = None


@dataclass(frozen=True, slots=True)
class ExpertPlan:
    expert_login: str
    day: date
    items: tuple[PlanItem, ...]  # new items only; existing ones are kept by the shell
    notes: tuple[str, ...] = ()  # Russian: «в портфеле больше некого звонить: 12 из 15», «3 перенесено на 01.12»
    deferred: tuple[PlanItem, ...] = ()  # owed but over the target: rolled to the next working day


@dataclass(frozen=True, slots=True)
class Plan:
    day: date
    experts: tuple[ExpertPlan, ...] = field(default_factory=tuple)
