"""The plan's vocabulary and the builder's output: segments, versions, signal kinds, plan states,
reason codes; reasons, plan items, each Expert's plan. Pure. What the builder reads is in
`scheduler.inputs`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
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
    TRANSITION = "transition"  # the campaign for ДС: a candidate assigned to the Expert, or postponed until today
    RETRY = "retry"  # not reached last time
    CADENCE = "cadence"  # the organisation is past its contact cadence
    NOT_LOGGED_IN = "not_logged_in"  # online version, no login for N days
    NOT_TRAINED = "not_trained"  # a user with no contact made for N days
    TERMS_ENDING = "terms_ending"  # financial terms end within N days
    DEBT = "debt"
    FILL = "fill"  # filling the day with the organisations closest to due


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
