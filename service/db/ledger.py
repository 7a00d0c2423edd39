"""The call ledger: idempotent batch upserts of CallRecords and the queries over them."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from dialer.cdr import INFERRED
from dialer.numbers import normalise_number
from dialer.records import GUESSED_QUALITY, Q_FROM_CDR, CallRecord, Direction, Outcome
from dialer.store import StoredCall
from service.days import day_bounds
from service.db.engine import SessionMaker
from service.db.models import Call, Client, ClientContact, Expert
from service.db.plan_links import log_foreign_items, release_missed_items
from service.db.store_errors import store_error
from service.db.upsert import dialect_name, insert_for
from service.webhooks.events import CALL_EVENTS, KEPT_CALL_FIELDS, CallSeen, call_events, call_transitions
from service.webhooks.outbox import Subscribers, enqueue, subscribers

_CALLS = cast(Table, Call.__table__)
# Linkage fields: a later record that lacks them must not erase what an earlier one knew.
_KEEP_KNOWN = ("expert_ext", "client_number", "client_name", "client_id", "planned_call_id", "recording")
_NEVER_UPDATED = ("id", "linkedid", "created_at")


class LedgerRepository:
    """Reads and writes the `calls` table; each method is one transaction."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def upsert_calls(self, records: Sequence[CallRecord]) -> dict[str, StoredCall]:
        """Insert or update by linkedid in one transaction: linkedid → what the committed row adds.

        Idempotent: the same records twice leave the same rows. A closed row is never
        reopened: an open record arriving after the close is ignored (and not in the answer).
        Inbound calls without a client get one by matching the caller's number; every call
        gets the owner of its extension. Errors: StoreUnavailable or RecordsRefused (the
        CallStore contract, dialer/store.py), never the driver's own.
        """
        batch = _latest_per_call(records)
        if not batch:
            return {}
        try:
            return await self._upsert(batch)
        except Exception as e:  # noqa: BLE001 — mapped, whatever the driver raised
            raise store_error(e) from e

    async def _upsert(self, batch: list[CallRecord]) -> dict[str, StoredCall]:
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            hooks = await subscribers(session, hot_path=True)  # webhooks: the calls' events, in this transaction
            before = await _calls_before(session, batch) if hooks.wants(*CALL_EVENTS) else None
            batch, matched = await _with_inbound_clients(session, batch)
            batch, organisations = await _with_client_names(session, batch)
            owners = await _extension_holders(session, {r.expert_ext for r in batch if r.expert_ext})
            statement = _upsert_statement(dialect_name(session))
            rows = [record_to_row(r, now, owners.get(r.expert_ext or "")) for r in batch]
            stored = (await session.execute(statement, rows)).all()
            if before is not None:
                await _enqueue_call_events(session, hooks, batch, stored, before, now)
            # A call ending with another Expert's PLANNED_CALL_ID: logged once, never attached (plan_links.py).
            ending = {r.linkedid: r.planned_call_id for r in batch if not r.is_open}
            await log_foreign_items(session, ((linkedid, ending[linkedid], owner_id)
                                              for linkedid, _, owner_id in stored if linkedid in ending))
            missed = {r.linkedid for r in batch if r.outcome is Outcome.EXPERT_NO_ANSWER}
            await release_missed_items(session, ((ending[linkedid], owner_id)
                                                 for linkedid, _, owner_id in stored if linkedid in missed), now)
            # The organisation's name goes out with the live events too: the board names the client
            # of an outbound call as the call log does, not by the number (issue 14).
            return {linkedid: StoredCall(client_id, matched.get(linkedid) or organisations.get(client_id or ""),
                                         owner_id)
                    for linkedid, client_id, owner_id in stored}

    async def open_calls(self) -> list[CallRecord]:
        """Calls not yet closed, oldest first (a restarted service resumes them)."""
        query = select(Call).where(Call.ended_at.is_(None)).order_by(Call.started_at, Call.id)
        try:
            return await self._records(query)
        except Exception as e:  # noqa: BLE001 — the CallStore contract: StoreError only
            raise store_error(e) from e

    async def existing_linkedids(self, linkedids: Collection[str]) -> set[str]:
        """Which of these calls the ledger holds (the CDR backstop adds only the others)."""
        found: set[str] = set()
        wanted = list(linkedids)
        try:
            async with self._sessions() as session:
                for i in range(0, len(wanted), 500):
                    query = select(Call.linkedid).where(Call.linkedid.in_(wanted[i:i + 500]))
                    found.update(await session.scalars(query))
        except Exception as e:  # noqa: BLE001 — the CallStore contract: StoreError only
            raise store_error(e) from e
        return found

    async def guessed_calls(self, since: datetime) -> list[CallRecord]:
        """Closed calls started since `since` with a guessed end, answer or start and no CDR correction."""
        query = select(Call).where(Call.started_at >= since, Call.ended_at.is_not(None))
        try:
            records = await self._records(query)
        except Exception as e:  # noqa: BLE001 — the CallStore contract: StoreError only
            raise store_error(e) from e
        return [r for r in records if INFERRED & set(r.quality) and Q_FROM_CDR not in r.quality]

    async def last_call_time(self) -> datetime | None:
        """The latest start or end of a recorded call (the PBX's clock): DS Desk was up until then."""
        try:
            async with self._sessions() as session:
                started = await session.scalar(select(func.max(Call.started_at)))
                ended = await session.scalar(select(func.max(Call.ended_at)))
        except Exception as e:  # noqa: BLE001 — the CallStore contract: StoreError only
            raise store_error(e) from e
        return max((t for t in (started, ended) if t is not None), default=None)

    async def get_call(self, linkedid: str) -> CallRecord | None:
        rows = await self._records(select(Call).where(Call.linkedid == linkedid))
        return rows[0] if rows else None

    async def list_calls(self, day: date | None = None, tz: tzinfo = UTC,
                         expert_ext: str | None = None, limit: int = 1000) -> list[CallRecord]:
        """The latest `limit` calls (of `day` in `tz`, of one Expert when given), oldest first."""
        query = select(Call)
        if day is not None:
            start, end = day_bounds(day, tz)
            query = query.where(Call.started_at >= start, Call.started_at < end)
        if expert_ext is not None:
            query = query.where(Call.expert_ext == expert_ext)
        query = query.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)
        return list(reversed(await self._records(query)))

    async def count_calls(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Call)) or 0)

    async def match_client_by_phone(self, number_e164: str) -> tuple[str, str] | None:
        """(external_id, name) of the client whose contact has this phone; None if nobody does."""
        number = normalise_number(number_e164)
        if number is None:
            return None
        async with self._sessions() as session:
            found = await _clients_by_phone(session, [number])
        return found.get(number)

    async def _records(self, query: Select[Call]) -> list[CallRecord]:
        async with self._sessions() as session:
            return [row_to_record(row) for row in await session.scalars(query)]


def record_to_row(record: CallRecord, now: datetime, expert_id: int | None = None) -> dict[str, Any]:
    """The `calls` row for a record (the one place, with row_to_record, that maps fields).

    `expert_id`: the user holding `record.expert_ext` now (the PBX knows extensions, not people).
    """
    return {
        "linkedid": record.linkedid,
        "direction": str(record.direction),
        "expert_ext": record.expert_ext,
        "expert_id": expert_id,
        "client_number": record.client_number,
        "client_name": record.client_name,
        "started_at": record.started_at,
        "ringing_at": record.ringing_at,
        "answered_at": record.answered_at,
        "ended_at": record.ended_at,
        "duration_s": float(record.duration_s),
        "talk_s": float(record.talk_s),
        "outcome": None if record.outcome is None else str(record.outcome),
        "hangup_cause": record.hangup_cause,
        "hangup_by": record.hangup_by,
        "recording": record.recording,
        "planned_call_id": record.planned_call_id,
        "client_id": record.client_id,
        "quality": list(record.quality),
        "tracker_state": None if record.resume is None or not record.is_open else dict(record.resume),
        "guessed": bool(GUESSED_QUALITY & set(record.quality)),
        "created_at": now,
        "updated_at": now,
    }


def row_to_record(row: Call) -> CallRecord:
    """The CallRecord for a `calls` row."""
    return CallRecord(
        linkedid=row.linkedid,
        direction=Direction(row.direction),
        expert_ext=row.expert_ext,
        client_number=row.client_number,
        started_at=row.started_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        duration_s=row.duration_s,
        talk_s=row.talk_s,
        outcome=None if row.outcome is None else Outcome(row.outcome),
        hangup_cause=row.hangup_cause,
        recording=row.recording,
        planned_call_id=row.planned_call_id,
        client_id=row.client_id,
        quality=_quality_tuple(row.quality),
        client_name=row.client_name,
        ringing_at=row.ringing_at,
        hangup_by=row.hangup_by,
        resume=row.tracker_state if row.ended_at is None and isinstance(row.tracker_state, dict) else None,
    )


def _quality_tuple(value: object) -> tuple[str, ...]:
    # Rows written by hand or by older tools may hold a comma-separated string.
    if isinstance(value, str):
        return tuple(code for code in value.split(",") if code)
    return tuple(value) if isinstance(value, (list, tuple)) else ()


def _latest_per_call(records: Iterable[CallRecord]) -> list[CallRecord]:
    """One record per linkedid (one statement may not touch a row twice); closed beats open."""
    chosen: dict[str, CallRecord] = {}
    for record in records:
        previous = chosen.get(record.linkedid)
        if previous is None or not record.is_open or previous.is_open:
            chosen[record.linkedid] = record
    return list(chosen.values())


def _upsert_statement(dialect: str) -> ReturningInsert[Any]:
    insert = insert_for(dialect, _CALLS)
    excluded = insert.excluded
    updates: dict[str, ColumnElement[Any]] = {}
    for column in _CALLS.columns:
        if column.name in _NEVER_UPDATED:
            continue
        new = excluded[column.name]
        if column.name == "expert_id":
            updates[column.name] = _owner_update(excluded)
            continue
        updates[column.name] = func.coalesce(new, column) if column.name in _KEEP_KNOWN else new
    # The update applies unless it would turn a closed row back into an open one.
    reopen_guard = or_(_CALLS.c.ended_at.is_(None), excluded.ended_at.is_not(None))
    return insert.on_conflict_do_update(
        index_elements=[_CALLS.c.linkedid], set_=updates, where=reopen_guard
    ).returning(_CALLS.c.linkedid, _CALLS.c.client_id, _CALLS.c.expert_id)


def _owner_update(excluded: Any) -> ColumnElement[Any]:
    """The owner recorded first stays, so a replay after the extension passed on changes nothing;
    only a call that moved to another extension (answered elsewhere) takes that one's holder."""
    moved = excluded.expert_ext.is_not(None) & excluded.expert_ext.is_distinct_from(_CALLS.c.expert_ext)
    return case((moved, excluded.expert_id), else_=func.coalesce(_CALLS.c.expert_id, excluded.expert_id))


async def _calls_before(session: AsyncSession, batch: list[CallRecord]) -> dict[str, CallSeen]:
    """The batch's calls as the ledger holds them before the write (webhooks: what changed)."""
    kept = [_CALLS.c[name] for name in KEPT_CALL_FIELDS]
    found: dict[str, CallSeen] = {}
    wanted = [r.linkedid for r in batch]
    for i in range(0, len(wanted), 500):
        rows = await session.execute(select(_CALLS.c.linkedid, _CALLS.c.answered_at, _CALLS.c.ended_at, *kept)
                                     .where(_CALLS.c.linkedid.in_(wanted[i:i + 500])))
        for linkedid, answered_at, ended_at, *known in rows:
            found[linkedid] = CallSeen(answered_at, ended_at, dict(zip(KEPT_CALL_FIELDS, known, strict=True)))
    return found


async def _enqueue_call_events(session: AsyncSession, hooks: Subscribers, batch: list[CallRecord],
                               stored: Sequence[Any], before: dict[str, CallSeen], now: datetime) -> None:
    """call.started / call.answered / call.ended of the rows this write changed (a record the ledger
    ignored, an open one for a closed call, is not among `stored`)."""
    written = {linkedid: (client_id, owner_id) for linkedid, client_id, owner_id in stored}
    changed = [r for r in batch if r.linkedid in written and call_transitions(before.get(r.linkedid), r)]
    if not changed:
        return
    owner_ids = {written[r.linkedid][1] for r in changed} - {None}
    logins: dict[int, str] = {}
    if owner_ids:
        rows = await session.execute(select(Expert.id, Expert.login).where(Expert.id.in_(owner_ids)))
        logins = {expert_id: login for expert_id, login in rows}
    events = [event for r in changed for event in call_events(
        before.get(r.linkedid), r, expert_login=logins.get(written[r.linkedid][1]), client_id=written[r.linkedid][0])]
    await enqueue(session, events, now, hooks)


async def _extension_holders(session: AsyncSession, extensions: set[str]) -> dict[str, int]:
    """extension → the active user holding it (the oldest account if, wrongly, several do)."""
    if not extensions:
        return {}
    rows = await session.execute(
        select(Expert.extension, func.min(Expert.id))
        .where(Expert.extension.in_(extensions), Expert.active).group_by(Expert.extension))
    return {extension: expert_id for extension, expert_id in rows
            if extension is not None}  # never false (IN above): it narrows the type


async def _with_inbound_clients(session: AsyncSession, records: list[CallRecord]
                                ) -> tuple[list[CallRecord], dict[str, str]]:
    """Inbound records with the client matched by the caller's number; linkedid → the
    organisation's name, for the calls matched here (the live screens show it)."""
    wanted = [r.client_number for r in records if _needs_phone_match(r) and r.client_number]
    if not wanted:
        return records, {}
    found = await _clients_by_phone(session, wanted)
    matched = {r.linkedid: found[r.client_number][1] for r in records
               if _needs_phone_match(r) and r.client_number in found}
    return [_with_client(r, found.get(r.client_number or "")) if _needs_phone_match(r) else r
            for r in records], matched


def _needs_phone_match(record: CallRecord) -> bool:
    return (record.direction == Direction.INBOUND and record.client_id is None
            and record.client_number is not None)


def _with_client(record: CallRecord, client: tuple[str, str] | None) -> CallRecord:
    if client is None:
        return record
    return dataclasses.replace(record, client_id=client[0], client_name=record.client_name or client[1])


async def _with_client_names(session: AsyncSession,
                             records: list[CallRecord]) -> tuple[list[CallRecord], dict[str, str]]:
    """The records, a missing client name filled from the directory; and external id → organisation name."""
    wanted = {r.client_id for r in records if r.client_id is not None}
    if not wanted:
        return records, {}
    rows = await session.execute(
        select(Client.external_id, Client.name).where(Client.external_id.in_(wanted))
    )
    names = {external_id: name for external_id, name in rows}
    return [dataclasses.replace(r, client_name=names[r.client_id])
            if r.client_name is None and r.client_id in names else r for r in records], names


async def _clients_by_phone(session: AsyncSession,
                            numbers: Sequence[str]) -> dict[str, tuple[str, str]]:
    """phone → (external_id, name); when contacts of several clients share a phone, the oldest wins."""
    rows = await session.execute(
        select(ClientContact.phone_e164, Client.external_id, Client.name)
        .join(Client, Client.id == ClientContact.client_id)
        .where(ClientContact.phone_e164.in_(set(numbers)))
        .order_by(ClientContact.id.desc())
    )
    # Descending order so that the oldest contact is written last and wins.
    return {phone: (external_id, name) for phone, external_id, name in rows if phone}
