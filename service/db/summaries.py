"""ContactSummary in one set-based SQL statement: history never enters Python row by row.

Events per contact are history rows and plan items that ended in contact_made/not_reached
(day granularity; on the same day a plan item counts as later than a history row). Attempts after
the last contact made are history `not_reached` rows plus ledger calls on the contact's plan items
(service/db/plan_links.py: the item's Expert's own calls, or a supervisor's) whose client was
dialled and not reached; an Expert-side failure (`expert_no_answer`, `cancelled`) uses up no
attempt. "After" means on a later day: a call that was not reached on the morning of the day a
contact was made is not an open attempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    Date,
    Select,
    Table,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy import cast as sql_cast

from scheduler.inputs import ContactSummary
from service.db.models import Call, ClientContact, HistoryEntry, PlannedCall
from service.db.plan_links import on_item
from service.db.types import UTCDateTime

HISTORY = cast(Table, HistoryEntry.__table__)
PLANNED = cast(Table, PlannedCall.__table__)
CALLS = cast(Table, Call.__table__)
CONTACTS = cast(Table, ClientContact.__table__)

NOT_REACHED_OUTCOMES = ("no_answer", "busy", "rejected", "congestion")
EXPERT_SIDE_OUTCOME = "expert_no_answer"  # the client was never dialled
EVENT_STATES = ("contact_made", "not_reached")
# History has dates only; for "the time of the last attempt" a date-only event counts as midday.
DATE_ONLY_ATTEMPT_TIME = time(12, 0)


def summaries_query(contact_ids: Select[Any], *, narrow: bool = True,
                    seek: bool = False) -> Select[Any]:
    """One row per contact in `contact_ids` (a SELECT of client_contacts.id) with its aggregates.

    `narrow=False` aggregates the whole history and filters only at the end: cheaper when the
    scope is (nearly) every contact, because nothing has to probe 3M rows against the scope.
    `seek=True` (SQLite) finds each contact's last days by index seeks instead (see `_last_days_by_seek`).

    Built from GROUP BYs and equality joins only, so that SQLite walks covering indexes and
    PostgreSQL hashes; no window over the whole history (that sorts millions of rows).
    """
    last = (_last_days_by_seek(contact_ids) if seek
            else _last_days(contact_ids if narrow else None))
    tail = _history_tail(last)
    dialled = _dialled(tail)
    history_row = HISTORY.alias("latest_history_row")
    plan_row = PLANNED.alias("latest_plan_row")
    from_plan = and_(tail.c.plan_last.is_not(None),
                     or_(tail.c.history_last.is_(None), tail.c.plan_last >= tail.c.history_last))
    return (
        select(
            CONTACTS.c.external_id,
            tail.c.last_made,
            func.coalesce(plan_row.c.plan_date, history_row.c.date).label("last_day"),
            case((from_plan, plan_row.c.state), else_=history_row.c.result).label("last_result"),
            func.coalesce(tail.c.history_attempts, 0).label("history_attempts"),
            func.coalesce(dialled.c.call_attempts, 0).label("call_attempts"),
            dialled.c.last_call_at,
            case((from_plan, plan_row.c.topic), else_=history_row.c.topic).label("topic"),
            case((from_plan, plan_row.c.result_comment), else_=history_row.c.comment).label("comment"),
        )
        .select_from(CONTACTS)
        .outerjoin(tail, tail.c.contact_id == CONTACTS.c.id)
        .outerjoin(history_row, history_row.c.id == tail.c.latest_id)
        # (plan_date, contact_id) is unique: the latest plan event is one row, no GROUP BY needed.
        .outerjoin(plan_row, and_(from_plan, plan_row.c.contact_id == CONTACTS.c.id,
                                  plan_row.c.plan_date == tail.c.plan_last))
        .outerjoin(dialled, dialled.c.contact_id == CONTACTS.c.id)
        # No ORDER BY: sorting 250k rows costs the database more than it costs Python.
        .where(CONTACTS.c.id.in_(contact_ids), CONTACTS.c.external_id.is_not(None))
    )


def _last_days(contact_ids: Select[Any] | None) -> CTE:
    """Per contact: the last contact made (either source) and each source's last event day."""
    in_history = true() if contact_ids is None else HISTORY.c.contact_id.in_(contact_ids)
    in_plan = true() if contact_ids is None else PLANNED.c.contact_id.in_(contact_ids)
    history = (
        select(HISTORY.c.contact_id.label("contact_id"),
               func.max(case((HISTORY.c.result == "contact_made", HISTORY.c.date))).label("made"),
               func.max(HISTORY.c.date).label("history_last"),
               null_date().label("plan_last"))
        .where(in_history)
        .group_by(HISTORY.c.contact_id))
    plan = (
        select(PLANNED.c.contact_id,
               func.max(case((PLANNED.c.state == "contact_made", PLANNED.c.plan_date))),
               null_date(),
               func.max(PLANNED.c.plan_date))
        .where(PLANNED.c.state.in_(EVENT_STATES), in_plan)
        .group_by(PLANNED.c.contact_id))
    both = union_all(history, plan).subquery("per_source")
    return (
        select(both.c.contact_id,
               func.max(both.c.made).label("last_made"),
               func.max(both.c.history_last).label("history_last"),
               func.max(both.c.plan_last).label("plan_last"))
        .group_by(both.c.contact_id)
        .cte("last_days"))


def _last_days_by_seek(contact_ids: Select[Any]) -> CTE:
    """`_last_days` for every contact in scope, from a few index seeks per contact.

    On SQLite this reads ~4 index entries per contact instead of aggregating every history row
    (3M at full size) and sorting the union by contact: 2–3× less work. On PostgreSQL the
    hash aggregate is cheaper than 250k × 4 sub-plans, so it keeps `_last_days`.
    """
    contact, history, plan = CONTACTS.alias("scoped"), HISTORY.alias("h"), PLANNED.alias("p")
    own_history, own_plan = history.c.contact_id == contact.c.id, plan.c.contact_id == contact.c.id
    # ORDER BY … LIMIT 1, not max(): the index (contact_id, date, result) is read backwards
    # until the first contact made, usually the first entry.
    history_made = (select(history.c.date).where(own_history, history.c.result == "contact_made")
                    .order_by(history.c.date.desc()).limit(1).scalar_subquery())
    history_last = select(func.max(history.c.date)).where(own_history).scalar_subquery()
    plan_made = (select(func.max(plan.c.plan_date))
                 .where(own_plan, plan.c.state == "contact_made").scalar_subquery())
    plan_last = (select(func.max(plan.c.plan_date))
                 .where(own_plan, plan.c.state.in_(EVENT_STATES)).scalar_subquery())
    days = (select(contact.c.id.label("contact_id"), history_made.label("history_made"),
                   history_last.label("history_last"), plan_made.label("plan_made"),
                   plan_last.label("plan_last"))
            .where(contact.c.id.in_(contact_ids)).subquery("seeks"))
    return (select(days.c.contact_id, _later(days.c.history_made, days.c.plan_made).label("last_made"),
                   days.c.history_last, days.c.plan_last)
            .cte("last_days"))


def _later(a: Any, b: Any) -> Any:
    """The later of two nullable dates, NULL when both are; SQLite only (scalar two-argument max).

    Each argument appears once: SQLite flattens the subquery, so a CASE naming them twice
    would run each correlated subquery twice.
    """
    never = literal(date.min, Date)
    return type_coerce(func.nullif(func.max(func.coalesce(a, never), func.coalesce(b, never)), never),
                       Date)


def null_date() -> Any:
    return sql_cast(null(), Date)


def _history_tail(last: CTE) -> CTE:
    """Per contact, from its history rows since the last contact made (an index range, a few
    rows each): the `not_reached` rows after that day, and the id of the latest row."""
    since = HISTORY.c.date >= func.coalesce(last.c.last_made, literal(date.min, Date))
    after_made = or_(last.c.last_made.is_(None), HISTORY.c.date > last.c.last_made)
    return (
        select(
            last.c.contact_id,
            # Carried through so that the final query joins one CTE instead of two.
            func.max(last.c.last_made).label("last_made"),
            func.max(last.c.history_last).label("history_last"),
            func.max(last.c.plan_last).label("plan_last"),
            func.sum(case((and_(HISTORY.c.result == "not_reached", after_made), 1), else_=0))
            .label("history_attempts"),
            # The latest row is on or after the last contact made unless that came from the plan
            # and is later than all history, in which case the plan item is the latest event.
            func.max(case((HISTORY.c.date == last.c.history_last, HISTORY.c.id))).label("latest_id"),
        )
        .select_from(last)
        .outerjoin(HISTORY, and_(HISTORY.c.contact_id == last.c.contact_id, since))
        .group_by(last.c.contact_id)
        .cte("history_tail"))


def _dialled(last: CTE) -> CTE:
    """Per contact: ledger calls of its plan items — open attempts and the last dial time."""
    last_made = last.c.last_made
    not_reached = and_(CALLS.c.outcome.in_(NOT_REACHED_OUTCOMES),
                       or_(last_made.is_(None), PLANNED.c.plan_date > last_made))
    client_dialled = or_(CALLS.c.outcome.is_(None), CALLS.c.outcome != EXPERT_SIDE_OUTCOME)
    return (
        select(
            PLANNED.c.contact_id,
            func.sum(case((not_reached, 1), else_=0)).label("call_attempts"),
            type_coerce(func.max(case((client_dialled, CALLS.c.started_at))),
                        UTCDateTime()).label("last_call_at"),
        )
        .select_from(PLANNED)
        .join(CALLS, on_item(CALLS.c, PLANNED.c))  # only calls on the item: plan_links.py
        .outerjoin(last, last.c.contact_id == PLANNED.c.contact_id)
        .group_by(PLANNED.c.contact_id)
        .cte("dialled")
    )


def to_summaries(rows: Iterable[Any], tz: ZoneInfo) -> Iterator[ContactSummary]:
    """The builder's ContactSummary from each row of `summaries_query` (no history rows here).

    250k rows at full size: positional arguments, and the midday of a date-only event made once
    per date (a few hundred of them) rather than once per row.
    """
    midday: dict[date, datetime] = {}
    for (external_id, last_made, last_day, last_result, history_attempts, call_attempts,
         last_call_at, topic, comment) in rows:
        if last_day is None:
            last_attempt_at = last_call_at
        elif last_call_at is not None and last_call_at.astimezone(tz).date() >= last_day:
            last_attempt_at = last_call_at  # a ledger call is exact; a date wins only when later
        else:
            last_attempt_at = midday.get(last_day)
            if last_attempt_at is None:
                last_attempt_at = midday[last_day] = datetime.combine(
                    last_day, DATE_ONLY_ATTEMPT_TIME, tzinfo=tz)
        yield ContactSummary(external_id, last_made, last_result, last_attempt_at,
                             history_attempts + call_attempts, comment, topic)
