"""The transition campaign in the database (issue 15): assigning candidates, changing a status, reading it.

`client_transitions` is a history, never edited: a change appends the rows the status machine
allows (service/transition/machine.py) and the latest row — by time, then id — is the client's
status. A row carries the campaign's Expert (who offers the move), copied from the assignment to
every later step. «Переведён» also puts the client on ДС: segment ДС, `ds_since` the transition
date, and the campaign's Expert as its Expert, so it joins her portfolio with its cadence.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from scheduler.model import PlanState, ReasonCode
from service.db.bulk import chunks, session_scope
from service.db.engine import SessionMaker
from service.db.models import Call, Client, ClientTransition, Expert, ExpertAbsence, PlannedCall
from service.errors import UnknownClientError
from service.transition.errors import AssignError, TransitionError
from service.transition.machine import DEFAULT_DECLINE_REASONS, Status, Step, check_assign, steps
from service.webhooks.events import TRANSITION_CHANGED, TransitionFacts, transition_event
from service.webhooks.outbox import enqueue, subscribers
from texts.labels import ROLE_LABELS
from texts.words import ddmm

ON_DS = "ДС"
_LISTED = 10  # an error names at most this many clients


@dataclass(frozen=True, slots=True)
class TransitionState:
    """A client's current step in the campaign (its latest history row)."""

    client_id: int
    status: Status
    expert_id: int | None  # the campaign's Expert
    expert_login: str | None
    expert_name: str | None
    reason: str | None
    until: date | None  # postponed: until then; moved: the transition date
    note: str | None
    at: datetime
    call_id: int | None = None  # the call whose wrap-up recorded it


@dataclass(frozen=True, slots=True)
class TransitionEntry:
    """One row of a client's transition history, as the card shows it."""

    status: Status
    expert_name: str | None
    reason: str | None
    until: date | None
    note: str | None
    call_id: int | None
    author_name: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class AssignResult:
    assigned: int  # candidate rows added
    unchanged: int  # already candidates of that Expert


class TransitionsRepository:
    """`tz`: the organisation's zone, whose date of `now` is "today" (None: `now`'s own zone);
    `decline_reasons`: the configured list a refusal's reason must come from."""

    def __init__(self, sessions: SessionMaker, *, decline_reasons: Sequence[str] = DEFAULT_DECLINE_REASONS,
                 tz: tzinfo | None = None) -> None:
        self._sessions = sessions
        self._reasons = tuple(decline_reasons)
        self._tz = tz

    async def assign(self, client_external_ids: Collection[str], expert_login: str, author_id: int | None,
                     now: datetime, session: AsyncSession | None = None) -> AssignResult:
        """Make the clients candidates offered by the Expert `expert_login`: all of them, or none.

        AssignError lists every problem: an unknown client, a client on ДС already or past the
        candidate step, an unknown login, a user who is not an active Expert, an Expert absent today.
        A candidate already assigned to that Expert is left as it is; to another, it is reassigned.
        """
        wanted = sorted({external_id.strip() for external_id in client_external_ids if external_id.strip()})
        if not wanted:
            raise AssignError("Не выбран ни один клиент")
        async with session_scope(self._sessions, session) as s:
            problems, expert_id = await _expert_problems(s, expert_login, self._today(now))
            clients = await _clients_for_assign(s, wanted)
            problems += [f"нет клиента «{external_id}»" for external_id in wanted if external_id not in clients][
                :_LISTED]
            states = await _current(s, [client_id for client_id, *_ in clients.values()])
            new, unchanged, refused = _assignable(clients, states, expert_id)
            problems += refused[:_LISTED]
            if problems:
                raise AssignError("Назначение не сделано: " + "; ".join(problems))
            rows = [{"client_id": client_id, "status": Status.CANDIDATE.value, "expert_id": expert_id,
                     "author_id": author_id, "at": now} for client_id in new]
            for chunk in chunks(rows):
                await s.execute(insert(ClientTransition), chunk)
            await _enqueue_transitions(s, [(client_id, (Step(Status.CANDIDATE),)) for client_id in new], expert_id,
                                       author_id, None, None, now)
            # A candidate reassigned: the former Expert's planned campaign call goes (the new one's comes).
            await cancel_campaign_calls(s, new, now, keep_expert_id=expert_id)
        return AssignResult(assigned=len(new), unchanged=unchanged)

    async def change(self, client_id: int, new_status: Status | str, author_id: int | None, now: datetime,
                     reason: str | None = None, until: date | None = None, call_id: int | None = None,
                     note: str | None = None, session: AsyncSession | None = None) -> tuple[Step, ...]:
        """Move the client to `new_status` as the machine allows (TransitionError otherwise, nothing
        saved); `call_id`: the call whose wrap-up says so (a call is the offer). Returns the rows added."""
        async with session_scope(self._sessions, session) as s:
            return await change_status(s, client_id, new_status, author_id, now, today=self._today(now),
                                       reason=reason, until=until, call_id=call_id, note=note,
                                       decline_reasons=self._reasons)

    async def current(self, client_ids: Collection[int] | None = None) -> dict[int, TransitionState]:
        """Client id → its current status, for the clients in the campaign (of `client_ids`, or all)."""
        async with self._sessions() as session:
            return await _current(session, client_ids)

    async def campaign_expert(self, client_external_id: str) -> int | None:
        """The id of the Expert the client's campaign is assigned to (None: never in the campaign)."""
        rows = latest_transitions(select(Client.id).where(Client.external_id == client_external_id)).subquery()
        async with self._sessions() as session:
            return (await session.execute(select(rows.c.expert_id))).scalar_one_or_none()

    async def history(self, client_id: int) -> list[TransitionEntry]:
        """Every step of the client's transition, newest first."""
        t, expert, author = ClientTransition, aliased(Expert), aliased(Expert)
        query = (select(t.status, expert.full_name, t.reason, t.until, t.note, t.call_id, author.full_name, t.at)
                 .outerjoin(expert, expert.id == t.expert_id).outerjoin(author, author.id == t.author_id)
                 .where(t.client_id == client_id).order_by(t.at.desc(), t.id.desc()))
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [TransitionEntry(Status(status), expert_name, reason, until, note, call_id, author_name, at)
                for status, expert_name, reason, until, note, call_id, author_name, at in rows]

    def _today(self, now: datetime) -> date:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        return (now.astimezone(self._tz) if self._tz is not None else now).date()


async def change_status(session: AsyncSession, client_id: int, new_status: Status | str, author_id: int | None,
                        now: datetime, *, today: date, reason: str | None = None, until: date | None = None,
                        call_id: int | None = None, note: str | None = None,
                        decline_reasons: Sequence[str] = DEFAULT_DECLINE_REASONS) -> tuple[Step, ...]:
    """`TransitionsRepository.change` in the caller's transaction (the wrap-up saves both at once)."""
    try:
        wanted = Status(new_status)
    except ValueError as e:
        raise TransitionError(f"Неизвестный статус перехода «{new_status}»") from e
    # The client's row is locked (PostgreSQL) so two changes at once cannot both pass the machine.
    locked = (await session.execute(select(Client.id).where(Client.id == client_id).with_for_update())).first()
    if locked is None:
        raise UnknownClientError(f"нет клиента с id {client_id}")
    state = (await _current(session, [client_id])).get(client_id)
    added = steps(state.status if state else None, wanted, today=today, by_call=call_id is not None,
                  reason=reason, until=until, decline_reasons=decline_reasons)
    expert_id = state.expert_id if state else None
    clean_note = " ".join((note or "").split()) or None
    for n, step in enumerate(added, 1):
        await session.execute(insert(ClientTransition).values(
            client_id=client_id, status=step.status.value, expert_id=expert_id, reason=step.reason,
            until=step.until, note=clean_note if n == len(added) else None, call_id=call_id,
            author_id=author_id, at=now))
    if added[-1].status in (Status.MOVED, Status.DECLINED, Status.POSTPONED):
        # Decided (or deferred) off the planned call: its open campaign call must not stay on a desk.
        await cancel_campaign_calls(session, [client_id], now)
    if added[-1].status is Status.MOVED:
        moved: dict[str, Any] = {"segment": ON_DS, "ds_since": added[-1].until}
        if expert_id is not None:
            moved["expert_id"] = expert_id
        await session.execute(update(Client).where(Client.id == client_id).values(moved))
    await _enqueue_transitions(session, [(client_id, added)], expert_id, author_id, clean_note, call_id, now)
    return added


async def _enqueue_transitions(session: AsyncSession, changes: Sequence[tuple[int, tuple[Step, ...]]],
                               expert_id: int | None, author_id: int | None, note: str | None, call_id: int | None,
                               now: datetime) -> None:
    """transition.changed (webhooks) for each client whose steps were added, in this transaction."""
    if not changes:
        return
    hooks = await subscribers(session)
    if not hooks.wants(TRANSITION_CHANGED):
        return
    clients: dict[int, tuple[str, str]] = {}
    for chunk in chunks([client_id for client_id, _ in changes]):
        rows = await session.execute(select(Client.id, Client.external_id, Client.name).where(Client.id.in_(chunk)))
        clients.update({client_id: (external_id, name) for client_id, external_id, name in rows})
    people = {expert_id, author_id} - {None}
    logins = {expert_id: login for expert_id, login in
              await session.execute(select(Expert.id, Expert.login).where(Expert.id.in_(people)))}
    linkedid = None if call_id is None else \
        (await session.execute(select(Call.linkedid).where(Call.id == call_id))).scalar_one_or_none()
    events = [transition_event(TransitionFacts(
        client_id=clients[client_id][0], client_name=clients[client_id][1], status=steps[-1].status.value,
        steps=tuple(step.status.value for step in steps), expert_login=logins.get(expert_id or 0),
        author_login=logins.get(author_id or 0), reason=steps[-1].reason, until=steps[-1].until, note=note,
        call_linkedid=linkedid, at=now)) for client_id, steps in changes if client_id in clients]
    await enqueue(session, events, now, hooks)


async def cancel_campaign_calls(session: AsyncSession, client_ids: Collection[int], now: datetime,
                                keep_expert_id: int | None = None) -> int:
    """Cancel the clients' open planned calls whose reason is the campaign (of any Expert but
    `keep_expert_id`); found trying it: a declined, moved or reassigned client's call stayed planned.
    A call already started (in progress) is left to its wrap-up."""
    if not client_ids:
        return 0
    p = PlannedCall
    rows = (await session.execute(select(p.id, p.expert_id, p.reasons).where(
        p.client_id.in_(list(client_ids)), p.state == PlanState.PLANNED.value))).all()
    stale = [item_id for item_id, expert_id, reasons in rows
             if expert_id != keep_expert_id and _is_campaign_call(reasons)]
    if stale:
        await session.execute(update(p).where(p.id.in_(stale)).values(state=PlanState.CANCELLED.value, updated_at=now))
    return len(stale)


def _is_campaign_call(reasons: Sequence[dict[str, Any]] | None) -> bool:
    return any(reason.get("code") == ReasonCode.TRANSITION.value for reason in reasons or ())


def latest_transitions(client_ids: Collection[int] | Select[Any] | None = None) -> Select[Any]:
    """Each client's latest transition row (all its columns): the client's current status; only
    those of `client_ids` (ids, or a SELECT of them) when given."""
    t = ClientTransition
    ranked = select(t, func.row_number().over(partition_by=t.client_id, order_by=(t.at.desc(), t.id.desc()))
                    .label("rank"))
    if client_ids is not None:
        ranked = ranked.where(t.client_id.in_(client_ids if isinstance(client_ids, Select) else list(client_ids)))
    rows = ranked.subquery("ranked")
    return select(rows).where(rows.c.rank == 1)


async def _current(session: AsyncSession, client_ids: Collection[int] | None) -> dict[int, TransitionState]:
    if client_ids is not None and not client_ids:
        return {}
    rows = latest_transitions(client_ids).subquery("latest")
    query = (select(rows.c.client_id, rows.c.status, rows.c.expert_id, Expert.login, Expert.full_name,
                    rows.c.reason, rows.c.until, rows.c.note, rows.c.at, rows.c.call_id)
             .outerjoin(Expert, Expert.id == rows.c.expert_id))
    found: dict[int, TransitionState] = {}
    for client_id, status, *rest in await session.execute(query):
        found[client_id] = TransitionState(client_id, Status(status), *rest)
    return found


async def _expert_problems(session: AsyncSession, login: str, today: date) -> tuple[list[str], int | None]:
    """What stops `login` from taking candidates today (nothing: an empty list), and the Expert's id."""
    row = (await session.execute(select(Expert.id, Expert.role, Expert.active, Expert.full_name)
                                 .where(Expert.login == login.strip()))).first()
    if row is None:
        return [f"нет пользователя «{login}»"], None
    expert_id, role, active, name = row
    if role != "expert":
        return [f"«{login}» ({name}) — не Эксперт, а {ROLE_LABELS.get(role, role)}"], None
    if not active:
        return [f"Эксперт «{login}» ({name}) отключён"], None
    absence = (await session.execute(
        select(ExpertAbsence.from_date, ExpertAbsence.to_date)
        .where(ExpertAbsence.expert_id == expert_id, ExpertAbsence.from_date <= today,
               ExpertAbsence.to_date >= today).order_by(ExpertAbsence.to_date.desc()).limit(1))).first()
    if absence is not None:
        start, end = absence
        span = ddmm(start) if start == end else f"{ddmm(start)}–{ddmm(end)}"
        return [f"Эксперт «{login}» ({name}) отсутствует сегодня ({span})"], None
    return [], expert_id


async def _clients_for_assign(session: AsyncSession, external_ids: list[str]) -> dict[str, tuple[int, str, str]]:
    """External id → (id, name, segment) of those that exist."""
    found: dict[str, tuple[int, str, str]] = {}
    for chunk in chunks(external_ids):
        rows = await session.execute(select(Client.external_id, Client.id, Client.name, Client.segment)
                                     .where(Client.external_id.in_(chunk)))
        found.update({external_id: (client_id, name, segment) for external_id, client_id, name, segment in rows})
    return found


def _assignable(clients: dict[str, tuple[int, str, str]], states: dict[int, TransitionState],
                expert_id: int | None) -> tuple[list[int], int, list[str]]:
    """The client ids to add a candidate row for, how many are unchanged, and why others cannot be."""
    new: list[int] = []
    unchanged = 0
    refused: list[str] = []
    for external_id, (client_id, name, segment) in sorted(clients.items()):
        state = states.get(client_id)
        try:
            check_assign(state.status if state else None)
        except TransitionError as e:
            refused.append(f"{external_id} ({name}): {e.message}")
            continue
        if state is None and segment == ON_DS:
            refused.append(f"{external_id} ({name}): уже на ДС")
        elif state is not None and state.expert_id == expert_id:
            unchanged += 1
        else:
            new.append(client_id)
    return new, unchanged, refused
