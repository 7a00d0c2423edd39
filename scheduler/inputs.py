"""What the pure call-list builder reads for one day: Experts, clients, contacts, their summaries,
signals, callbacks, the items already planned and the campaign for ДС, gathered in one `PlanInputs`. Pure.

The shell loads these from SQL (service/db/plan_inputs.py). History never enters Python row by
row: the database condenses it into one `ContactSummary` per contact (last contact, last result,
attempts since then).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from scheduler.model import PlanState, Reason, Segment, SignalKind, Version


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
class Transition:
    """A client of the campaign for ДС not decided yet, with its Expert (service/transition/). A call
    is owed to a candidate from its assignment, and to one postponed from the day it was postponed
    until; like a signal's, until a contact is made with the organisation on or after that day.
    Whatever the status, the Expert's callbacks and rolled-over calls of the client stay hers."""

    client_external_id: str
    expert_login: str  # the campaign's Expert: the client need not be in her portfolio yet
    status: str  # candidate | offered | agreed | postponed (service.transition.machine.OPEN)
    since: date  # candidate: the day it was assigned; postponed: until then; others: the day it was set

    @property
    def owed_from(self) -> date | None:
        """The day a call is owed from: a candidate's assignment, a postponement's end; None: nothing owed."""
        return self.since if self.status in OWED_TRANSITIONS else None


OWED_TRANSITIONS = frozenset({"candidate", "postponed"})


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Everything `build_plan` reads for `day`, as loaded by the shell."""

    day: date
    experts: tuple[Expert, ...]
    clients: tuple[Client, ...]
    contacts: tuple[Contact, ...]
    summaries: tuple[ContactSummary, ...]  # one per contact in `contacts`; both by external id
    signals: tuple[Signal, ...]  # only those newer than the last contact made
    callbacks: tuple[Callback, ...]  # not done, due by the end of `day`
    existing: tuple[ExistingItem, ...]  # the day's items + earlier rolled-over ones not re-planned
    # The campaign's owed calls; their clients, contacts and summaries are in the tuples above.
    transitions: tuple[Transition, ...] = ()
