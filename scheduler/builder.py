"""The pure call-list builder: inputs and `now` in, each Expert's plan for one day out.

No I/O and no clock: the shell loads the inputs (history already condensed into one
`ContactSummary` per contact) and persists the result. The same inputs give the same plan
whatever their order, because everything is indexed and sorted by external ids first
(`builder_index`); the rules live in `builder_reasons`, the choice in `builder_pick`, time in
`builder_slots`; the Russian words are in `texts.plan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from scheduler.builder_index import PortfolioIndex, build_index
from scheduler.builder_pick import Candidate, ExpertDay, Picked
from scheduler.builder_reasons import TOPIC_ORDER, Scope
from scheduler.builder_slots import SlotBook, zone
from scheduler.calendar import WorkCalendar
from scheduler.inputs import Expert, PlanInputs
from scheduler.model import ExpertPlan, Plan, PlanItem, Reason, ReasonCode
from scheduler.rules import PlanRules
from texts import plan as txt
from texts.words import short_name

_REASON_ORDER = {code: n for n, code in enumerate(ReasonCode)}
_TOPIC_RANK = {code: n for n, code in enumerate(TOPIC_ORDER)}
_DUTY_SEARCH_DAYS = 400  # an absence longer than a year is not a roll-over target


def build_plan(inputs: PlanInputs, calendar: WorkCalendar, rules: PlanRules, now: datetime) -> Plan:
    """Each Expert's new calls for `inputs.day`; the day's `existing` items are kept and topped up.

    `now` (aware) hides slots already past when the day is today; `inputs.callbacks` are the open
    promises; `inputs.existing` holds the day's items (any state) and ROLLED_OVER items of earlier days.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    day = inputs.day
    if not calendar.is_working_day(day):
        logins = sorted({e.login for e in inputs.experts})
        return Plan(
            day=day, experts=tuple(ExpertPlan(login, day, (), (txt.NOTE_DAY_OFF,)) for login in logins)
        )
    index = build_index(inputs)
    build = _Build(day, index, calendar, rules, SlotBook(day, rules.client_hours), now)
    return Plan(day=day, experts=tuple(build.expert_plan(expert) for expert in index.experts))


def is_absent(expert: Expert, day: date) -> bool:
    return any(start <= day <= end for start, end in expert.absences)


def next_duty_day(expert: Expert, day: date, calendar: WorkCalendar) -> date:
    """The Expert's next working day after `day` that is not inside an absence."""
    candidate = calendar.next_working_day(day)
    for _ in range(_DUTY_SEARCH_DAYS):
        if not is_absent(expert, candidate):
            return candidate
        candidate = calendar.next_working_day(candidate)
    return calendar.next_working_day(day)


@dataclass(frozen=True, slots=True)
class _Build:
    """What every Expert's plan of one build shares."""

    day: date
    index: PortfolioIndex
    calendar: WorkCalendar
    rules: PlanRules
    book: SlotBook
    now: datetime

    def expert_plan(self, expert: Expert) -> ExpertPlan:
        day, index = self.day, self.index
        if is_absent(expert, day):
            return ExpertPlan(expert.login, day, (), (txt.NOTE_ABSENT,))
        scope = Scope(day, self.rules, self.calendar, index, zone(expert.timezone))
        picked = ExpertDay(scope, expert, self.book, self.now).run()
        items = sorted(
            (_item(expert, c, slot, index) for c, slot in picked.placed),
            key=lambda i: (i.slot, i.contact_external_id),
        )
        deferred: tuple[PlanItem, ...] = ()
        notes: list[str] = []
        if picked.deferred:
            to_day = next_duty_day(expert, day, self.calendar)
            deferred = tuple(_deferred_item(expert, c, to_day, scope, index) for c in picked.deferred)
            notes.append(txt.deferred_note(len(deferred), to_day))
        notes.extend(_shortfall_notes(picked))
        return ExpertPlan(expert.login, day, tuple(items), tuple(notes), deferred)


def _shortfall_notes(picked: Picked) -> list[str]:
    notes = []
    if picked.total < picked.aim:
        short = txt.no_time_note if picked.short_of_time else txt.exhausted_note
        notes.append(short(picked.total, picked.aim))
    if picked.unreachable:
        notes.append(txt.unreachable_note(picked.unreachable))
    return notes


def _deferred_item(
    expert: Expert, candidate: Candidate, to_day: date, scope: Scope, index: PortfolioIndex
) -> PlanItem:
    # A promise keeps its time of day; anything else waits at the start of that day.
    fixed = candidate.fixed_slot
    at = fixed.astimezone(scope.tz).time() if fixed is not None else scope.rules.day_start
    return _item(expert, candidate, datetime.combine(to_day, at, scope.tz), index)


def _item(expert: Expert, candidate: Candidate, slot: datetime, index: PortfolioIndex) -> PlanItem:
    contact = candidate.contact
    summary = index.summary(contact.external_id)
    comment = summary.last_comment or _callback_comment(candidate, index)
    return PlanItem(
        expert_login=expert.login,
        client_external_id=candidate.client.external_id,
        contact_external_id=contact.external_id,
        slot=slot,
        reasons=_reasons(candidate, index),
        topic=_topic(candidate),
        previous_comment=comment,
    )


def _reasons(candidate: Candidate, index: PortfolioIndex) -> tuple[Reason, ...]:
    """Owed first (ReasonCode order), without repeats; a reason about someone else names them."""
    seen: set[tuple[ReasonCode, str]] = set()
    reasons: list[Reason] = []
    own = candidate.contact.external_id
    for hit in sorted(candidate.hits, key=lambda h: _REASON_ORDER[h.code]):
        text = hit.text
        if hit.subject and hit.subject != own and hit.subject in index.contact_by_id:
            text = f"{text} ({short_name(index.contact_by_id[hit.subject].full_name)})"
        if (hit.code, text) not in seen:
            seen.add((hit.code, text))
            reasons.append(Reason(hit.code, text))
    return tuple(reasons)


def _topic(candidate: Candidate) -> str:
    topical = [h for h in candidate.hits if h.topic]
    if not topical:
        return txt.TOPIC_REVIEW
    return min(topical, key=lambda h: (_TOPIC_RANK[h.code], h.carried, h.since)).topic or txt.TOPIC_REVIEW


def _callback_comment(candidate: Candidate, index: PortfolioIndex) -> str | None:
    for callback in index.callbacks_by_client.get(candidate.client.external_id, ()):
        if callback.contact_external_id == candidate.contact.external_id and callback.comment:
            return callback.comment
    return None


__all__ = ["build_plan", "is_absent", "next_duty_day"]
