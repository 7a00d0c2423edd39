"""Webhook events: their names, the call's transitions and each event's data (docs/webhooks.md). Pure.

The data of an event is what DS Desk knew in the transaction that wrote it; times are ISO 8601 UTC to
the millisecond, as in the replay JSON (SPEC-NOTES), and ids are the public ones (linkedid, `C-501`,
`PC-1001`, logins), never database ids.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dialer.records import GUESSED_QUALITY, CallRecord, iso_ms

CALL_STARTED = "call.started"
CALL_ANSWERED = "call.answered"
CALL_ENDED = "call.ended"
WRAPUP_SAVED = "wrapup.saved"
PLAN_BUILT = "plan.built"
TRANSITION_CHANGED = "transition.changed"
EVENTS = (CALL_STARTED, CALL_ANSWERED, CALL_ENDED, WRAPUP_SAVED, PLAN_BUILT, TRANSITION_CHANGED)
CALL_EVENTS = frozenset({CALL_STARTED, CALL_ANSWERED, CALL_ENDED})
EVENT_LABELS = {
    CALL_STARTED: "Звонок начался",
    CALL_ANSWERED: "На звонок ответили",
    CALL_ENDED: "Звонок завершён",
    WRAPUP_SAVED: "Итог звонка сохранён",
    PLAN_BUILT: "План Эксперта на день составлен",
    TRANSITION_CHANGED: "Переход на ДС: новый статус клиента",
}
# A later record that lacks these keeps what the ledger knew (service/db/ledger.py, _KEEP_KNOWN).
KEPT_CALL_FIELDS = ("expert_ext", "client_number", "client_name", "client_id", "planned_call_id", "recording")


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened, for every subscription that takes `kind`; `subject` orders them."""

    kind: str
    subject: str
    data: Mapping[str, Any]

    def payload(self) -> str:
        """The data as the JSON text stored in the outbox and sent, byte for byte, on every attempt."""
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class CallSeen:
    """A call as the ledger held it before a write: what its transitions are measured against."""

    answered_at: datetime | None
    ended_at: datetime | None
    known: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # KEPT_CALL_FIELDS stored


def call_transitions(before: CallSeen | None, after: CallRecord) -> tuple[str, ...]:
    """The call events a write of `after` makes, in order; `before` None: the ledger had no row.

    A new row starts the call; an answer time newly set answers it; a close of an open row ends
    it. A record first seen already closed gives all that apply, in that order. A closed row says
    nothing more (the ledger never reopens it, and a later correction is not an event).
    """
    if before is not None and before.ended_at is not None:
        return ()
    kinds = [] if before is not None else [CALL_STARTED]
    if after.answered_at is not None and (before is None or before.answered_at is None):
        kinds.append(CALL_ANSWERED)
    if after.ended_at is not None:
        kinds.append(CALL_ENDED)
    return tuple(kinds)


def call_subject(linkedid: str) -> str:
    return f"call:{linkedid}"


def call_events(before: CallSeen | None, record: CallRecord, *, expert_login: str | None,
                client_id: str | None) -> list[Event]:
    """The events of one written call; the data is the call as stored after the write."""
    kinds = call_transitions(before, record)
    if not kinds:
        return []
    data = call_data(_with_known(record, before.known if before is not None else {}),
                     expert_login=expert_login, client_id=client_id)
    return [Event(kind, call_subject(record.linkedid), data) for kind in kinds]


def _with_known(record: CallRecord, known: Mapping[str, Any]) -> CallRecord:
    """The record as the ledger stores it: a field it lacks keeps the value written before."""
    def kept(name: str) -> Any:
        value = getattr(record, name)
        return value if value is not None else known.get(name)

    return dataclasses.replace(record, expert_ext=kept("expert_ext"), client_number=kept("client_number"),
                               client_name=kept("client_name"), client_id=kept("client_id"),
                               planned_call_id=kept("planned_call_id"), recording=kept("recording"))


def call_data(record: CallRecord, *, expert_login: str | None, client_id: str | None) -> dict[str, Any]:
    return {
        "linkedid": record.linkedid,
        "direction": str(record.direction),
        "expert_login": expert_login,
        "expert_ext": record.expert_ext,
        "client_id": client_id if client_id is not None else record.client_id,
        "client_number": record.client_number,
        "started_at": iso_ms(record.started_at),
        "answered_at": iso_ms(record.answered_at),
        "ended_at": iso_ms(record.ended_at),
        "outcome": None if record.outcome is None else str(record.outcome),
        "talk_s": round(float(record.talk_s), 3),
        "duration_s": round(float(record.duration_s), 3),
        "planned_call_id": record.planned_call_id,
        "guessed": bool(GUESSED_QUALITY & set(record.quality)),
        "quality": list(record.quality),
    }


@dataclass(frozen=True, slots=True)
class WrapUpFacts:
    """A saved wrap-up as a receiver sees it (public ids; `transition`: the campaign step, if any)."""

    linkedid: str
    expert_login: str | None
    client_id: str | None
    contact_name: str | None
    planned_call_id: str | None
    result: str
    topic: str | None
    logged_in: bool
    productive: bool
    comment: str | None
    next_contact_at: datetime | None
    transition: str | None
    saved_at: datetime


def wrapup_event(facts: WrapUpFacts) -> Event:
    """Ordered with the call's own events: a wrap-up is saved after the call ended."""
    data = {name: getattr(facts, name) for name in WrapUpFacts.__dataclass_fields__}
    data["next_contact_at"] = iso_ms(facts.next_contact_at)
    data["saved_at"] = iso_ms(facts.saved_at)
    return Event(WRAPUP_SAVED, call_subject(facts.linkedid), data)


def plan_event(day: date, expert_login: str, items: Sequence[Mapping[str, Any]], notes: Sequence[str]) -> Event:
    """One Expert's day: the items this build added (`items`: public_id, slot, client_id, contact_id,
    topic, reasons) and the plan's notes about itself."""
    data = {"day": day.isoformat(), "expert_login": expert_login, "items": list(items), "notes": list(notes)}
    return Event(PLAN_BUILT, f"plan:{day.isoformat()}:{expert_login}", data)


@dataclass(frozen=True, slots=True)
class TransitionFacts:
    """A client's step (or steps) in the campaign for ДС; `steps` are the statuses added, in order."""

    client_id: str
    client_name: str
    status: str
    steps: tuple[str, ...]
    expert_login: str | None  # the campaign's Expert
    author_login: str | None
    reason: str | None
    until: date | None
    note: str | None
    call_linkedid: str | None
    at: datetime


def transition_event(facts: TransitionFacts) -> Event:
    data = {name: getattr(facts, name) for name in TransitionFacts.__dataclass_fields__}
    data["steps"] = list(facts.steps)
    data["until"] = None if facts.until is None else facts.until.isoformat()
    data["at"] = iso_ms(facts.at)
    return Event(TRANSITION_CHANGED, f"client:{facts.client_id}", data)
