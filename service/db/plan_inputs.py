"""The pure plan builder's inputs for one day (scheduler.inputs), loaded set-based: one query per input kind."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from operator import attrgetter
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, Table, and_, exists, false, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.inputs import (
    Callback,
    Client,
    Contact,
    ContactSummary,
    ExistingItem,
    Expert,
    PlanInputs,
    Signal,
    Transition,
)
from scheduler.model import PlanState, Reason, ReasonCode, Segment, SignalKind, Version
from service.days import day_bounds
from service.db import models as m
from service.db.summaries import summaries_query, to_summaries
from service.db.transitions import latest_transitions
from service.transition.machine import OPEN, Status

_HISTORY = cast(Table, m.HistoryEntry.__table__)
_PLANNED = cast(Table, m.PlannedCall.__table__)
WORK_MEM = "64MB"
T = TypeVar("T")
_SEGMENTS = {s.value: s for s in Segment}
_VERSIONS = {v.value: v for v in Version}


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose inputs to load: active users of `role` (all, or only the given logins): the Experts for
    the daily call plan, the PMs (`pm`) for the monthly visit plan."""

    logins: frozenset[str] | None = None
    role: str = "expert"

    def expert_ids(self) -> Select[Any]:
        # A deactivated Expert (left, or `dsdesk users deactivate`) gets no plan.
        query = select(m.Expert.id).where(m.Expert.role == self.role, m.Expert.active)
        return query.where(m.Expert.login.in_(self.logins)) if self.logins is not None else query

    def client_ids(self) -> Select[Any]:
        """The Experts' portfolios."""
        return select(m.Client.id).where(m.Client.expert_id.in_(self.expert_ids()))

    def campaign(self) -> Any:
        """The latest transition rows of the campaign for ДС not decided yet, of these Experts (a subquery)."""
        latest = latest_transitions().subquery("latest_transition")
        return (select(latest.c.client_id, latest.c.expert_id, latest.c.status, latest.c.until, latest.c.at)
                .where(latest.c.status.in_([s.value for s in OPEN]), latest.c.expert_id.in_(self.expert_ids()))
                .subquery("campaign"))

    def planned(self) -> Any:
        """Whom a plan may call: the portfolios, and the campaign's clients outside them."""
        return or_(m.Client.expert_id.in_(self.expert_ids()), m.Client.id.in_(select(self.campaign().c.client_id)))

    def contact_ids(self) -> Select[Any]:
        clients = select(m.Client.id).where(self.planned())
        return select(m.ClientContact.id).where(m.ClientContact.client_id.in_(clients))


async def load_plan_inputs(session: AsyncSession, day: date, tz: ZoneInfo,
                           logins: Collection[str] | None = None,
                           summaries_session: AsyncSession | None = None, role: str = "expert") -> PlanInputs:
    """The inputs for `day`; `tz` is the organisation's zone (day bounds, default client zone).

    With `summaries_session` (another connection) the summaries, seconds of SQL, are computed
    while this session's rows become model values: on SQLite the query runs in aiosqlite's
    thread without the GIL, on PostgreSQL in the server. Each statement then reads what was
    committed when it started, as statements of one session do on PostgreSQL anyway.
    """
    scope = Scope(None if logins is None else frozenset(logins), role)
    if summaries_session is None:
        summaries = await load_summaries(session, scope, tz)
        return replace(await _load_the_rest(session, scope, day, tz), summaries=summaries)
    try:
        async with asyncio.TaskGroup() as group:  # one failing cancels the other
            summarising = group.create_task(load_summaries(summaries_session, scope, tz))
            loading = group.create_task(_load_the_rest(session, scope, day, tz))
    except ExceptionGroup as failed:
        # The caller (the job's run record, the CLI) sees the database error itself, as it
        # would from one connection, not "unhandled errors in a TaskGroup".
        raise failed.exceptions[0] from None
    return replace(loading.result(), summaries=summarising.result())


async def _load_the_rest(session: AsyncSession, scope: Scope, day: date, tz: ZoneInfo) -> PlanInputs:
    """Everything but the summaries (left empty)."""
    return PlanInputs(
        day=day,
        experts=await load_experts(session, scope, day, tz),
        clients=await load_clients(session, scope, tz),
        contacts=await load_contacts(session, scope),
        summaries=(),
        signals=await load_signals(session, scope),
        callbacks=await load_callbacks(session, scope, day, tz),
        existing=await load_existing(session, scope, day),
        transitions=await load_transitions(session, scope, tz),
    )


async def load_experts(session: AsyncSession, scope: Scope, day: date,
                       tz: ZoneInfo) -> tuple[Expert, ...]:
    """Experts with their absences that have not ended before `day`."""
    absences: dict[int, list[tuple[date, date]]] = defaultdict(list)
    query = (
        select(m.ExpertAbsence.expert_id, m.ExpertAbsence.from_date, m.ExpertAbsence.to_date)
        .where(m.ExpertAbsence.expert_id.in_(scope.expert_ids()), m.ExpertAbsence.to_date >= day)
        .order_by(m.ExpertAbsence.from_date))
    rows = await _rows(session, query)
    for expert_id, start, end in rows:
        absences[expert_id].append((start, end))
    e = m.Expert
    # The columns the builder needs, not the entity: the directory's other columns are not its business.
    experts = await _rows(session, select(e.id, e.login, e.full_name, e.extension, e.timezone, e.daily_target)
                          .where(e.id.in_(scope.expert_ids())).order_by(e.login))
    return tuple(Expert(
        login=login, full_name=full_name, extension=extension or "",
        timezone=timezone or tz.key, daily_target=daily_target,
        absences=tuple(absences.get(expert_id, ())),
    ) for expert_id, login, full_name, extension, timezone, daily_target in experts)


async def load_clients(session: AsyncSession, scope: Scope, tz: ZoneInfo) -> tuple[Client, ...]:
    c = m.Client
    # Plain columns, not ORM objects: building 100k entities costs seconds.
    query = (
        select(c.external_id, c.name, c.segment, m.Expert.login, c.timezone, c.version,
               c.online_last_login, c.online_logins_30d, c.debt_rub, c.prepaid_months,
               c.terms_end, c.ds_since, c.contact_every_days)
        .outerjoin(m.Expert, m.Expert.id == c.expert_id)  # a campaign's client may have no Expert yet
        .where(scope.planned()))
    rows = await _rows(session, query)
    default_zone = tz.key
    # Positional arguments and dict lookups for the enums: 100k rows, each call counts.
    return _by_external_id(
        Client(external_id, name, _SEGMENTS[segment], login, timezone or default_zone,
               _VERSIONS[version], last_login, logins_30d, float(debt), prepaid, terms_end,
               ds_since, every)
        for (external_id, name, segment, login, timezone, version, last_login, logins_30d, debt,
             prepaid, terms_end, ds_since, every) in rows)


async def load_contacts(session: AsyncSession, scope: Scope) -> tuple[Contact, ...]:
    """Contacts with a CRM id (only those can be planned and shown by external id)."""
    ct = m.ClientContact
    query = (
        select(ct.external_id, m.Client.external_id, ct.full_name, ct.position,
               func.coalesce(ct.phone_e164, ct.phone), ct.is_user, ct.call_from, ct.call_to)
        .join(m.Client, m.Client.id == ct.client_id)
        .where(scope.planned(), ct.external_id.is_not(None)))
    rows = await _rows(session, query)
    return _by_external_id(
        Contact(external_id, client, name, position or "", phone, bool(is_user), call_from, call_to)
        for external_id, client, name, position, phone, is_user, call_from, call_to in rows)


async def load_summaries(session: AsyncSession, scope: Scope,
                         tz: ZoneInfo) -> tuple[ContactSummary, ...]:
    dialect = session.get_bind().dialect.name
    query = summaries_query(scope.contact_ids(), narrow=scope.logins is not None,
                            seek=dialect == "sqlite")
    if dialect == "postgresql":
        # The summaries hash-aggregate millions of history rows; the 4 MB default spills to disk.
        await session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    result = await _rows(session, query)
    return tuple(sorted(to_summaries(result, tz), key=attrgetter("contact_external_id")))


async def load_transitions(session: AsyncSession, scope: Scope, tz: ZoneInfo) -> tuple[Transition, ...]:
    """The campaign's clients not decided yet, with their Experts; `since` is the day its status
    was set (the organisation's date) — for a postponement, the day it was postponed until."""
    campaign = scope.campaign()
    query = (select(m.Client.external_id, m.Expert.login, campaign.c.status, campaign.c.until, campaign.c.at)
             .join(m.Client, m.Client.id == campaign.c.client_id)
             .join(m.Expert, m.Expert.id == campaign.c.expert_id))
    rows = await _rows(session, query)
    return _by_client(
        Transition(client, login, status,
                   until if status == Status.POSTPONED.value and until is not None else at.astimezone(tz).date())
        for client, login, status, until, at in rows)


def _by_client(items: Iterable[Transition]) -> tuple[Transition, ...]:
    return tuple(sorted(items, key=attrgetter("client_external_id")))


def _by_external_id(items: Iterable[T]) -> tuple[T, ...]:
    # Sorted here, not by ORDER BY: Python orders strings the same way on every database
    # (PostgreSQL's collation may not), and sorting costs the database more than Python.
    return tuple(sorted(items, key=attrgetter("external_id")))


async def load_signals(session: AsyncSession, scope: Scope) -> tuple[Signal, ...]:
    """Signals newer than the last contact made with their contact (or, without one, the org)."""
    s = m.ClientSignal
    query = (
        select(m.Client.external_id, m.ClientContact.external_id, s.kind, s.occurred_on, s.note)
        .join(m.Client, m.Client.id == s.client_id)
        .outerjoin(m.ClientContact, m.ClientContact.id == s.contact_id)
        .where(s.client_id.in_(scope.client_ids()), _still_new())
        .order_by(s.occurred_on, s.id))
    rows = await _rows(session, query)
    return tuple(Signal(client, contact, SignalKind(kind), on, note or "")
                 for client, contact, kind, on, note in rows)


def _still_new() -> Any:
    s = m.ClientSignal
    by_contact = and_(s.contact_id.is_not(None), ~_made_since(_HISTORY.c.contact_id, s.contact_id),
                      ~_made_since(_PLANNED.c.contact_id, s.contact_id))
    by_org = and_(s.contact_id.is_(None), ~_made_since(_HISTORY.c.client_id, s.client_id),
                  ~_made_since(_PLANNED.c.client_id, s.client_id))
    return or_(by_contact, by_org)


def _made_since(column: Any, owner: Any) -> Any:
    """EXISTS a contact made for `owner` on or after the signal's day (indexed seeks)."""
    table = column.table
    if table is _HISTORY:
        made = and_(table.c.result == "contact_made", table.c.date >= m.ClientSignal.occurred_on)
    else:
        made = and_(table.c.state == "contact_made", table.c.plan_date >= m.ClientSignal.occurred_on)
    return exists().where(column == owner, made)


async def load_callbacks(session: AsyncSession, scope: Scope, day: date,
                         tz: ZoneInfo) -> tuple[Callback, ...]:
    """Callbacks not done whose time is on or before the end of `day` (overdue ones included)."""
    end = day_bounds(day, tz)[1]
    cb = m.CallbackPromise
    query = (
        select(m.ClientContact.external_id, m.Client.external_id, m.Expert.login,
               cb.at, cb.topic, cb.comment)
        .join(m.ClientContact, m.ClientContact.id == cb.contact_id)
        .join(m.Client, m.Client.id == cb.client_id)
        .join(m.Expert, m.Expert.id == cb.expert_id)
        .where(cb.done == false(), cb.at < end, cb.expert_id.in_(scope.expert_ids()),
               m.ClientContact.external_id.is_not(None))
        .order_by(cb.at, cb.id))
    rows = await _rows(session, query)
    return tuple(Callback(contact, client, login, at, topic, comment)
                 for contact, client, login, at, topic, comment in rows)


async def load_existing(session: AsyncSession, scope: Scope, day: date) -> tuple[ExistingItem, ...]:
    """The day's items (any state), then rolled-over items of earlier days not yet re-planned."""
    p = _PLANNED
    query = existing_items_query(or_(p.c.plan_date == day, rolled_over_pending(day)))
    rows = await _rows(session, query.where(p.c.expert_id.in_(scope.expert_ids())))
    return tuple(existing_item(row) for row in rows)


def rolled_over_pending(day: date) -> Any:
    """Items rolled over before `day` that no later item of the same contact continues yet."""
    p, later = _PLANNED, _PLANNED.alias("later")
    continued = exists().where(later.c.contact_id == p.c.contact_id, later.c.plan_date > p.c.plan_date)
    return and_(p.c.plan_date < day, p.c.state == PlanState.ROLLED_OVER.value, ~continued)


def existing_items_query(condition: Any) -> Select[Any]:
    p = _PLANNED
    return (
        select(p.c.public_id, m.Expert.login, m.ClientContact.external_id, p.c.slot, p.c.state,
               p.c.reasons, p.c.topic)
        .join(m.Expert, m.Expert.id == p.c.expert_id)
        .join(m.ClientContact, m.ClientContact.id == p.c.contact_id)
        .where(condition)
        .order_by(p.c.plan_date, p.c.slot, p.c.id))


def existing_item(row: Any) -> ExistingItem:
    public_id, login, contact, slot, state, reasons, topic = row
    return ExistingItem(public_id, login, contact or "", slot, PlanState(state),
                        reasons=tuple(reason(r) for r in reasons or ()), topic=topic)


def reason(stored: dict[str, str]) -> Reason:
    return Reason(ReasonCode(stored["code"]), stored["text"])


async def _rows(session: AsyncSession, query: Any) -> Sequence[Row[*tuple[Any, ...]]]:
    # Core execution on the session's connection (no ORM row processing for plain columns),
    # fetched in one go: row-by-row fetching costs more than building the dataclasses.
    connection = await session.connection()
    return (await connection.execute(query)).all()
