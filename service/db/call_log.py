"""The call log: ledger calls joined with their wrap-ups, filtered, in keyset pages; one call in full.

Paging is by (started_at DESC, id DESC) with an opaque cursor: no OFFSET and no COUNT over the
ledger, so the first page and the hundredth cost the same on 10 million calls. Searching never
runs a LIKE over the calls: a name is looked up in the (small) clients table and becomes a list
of client ids; a number is matched by equality or by a digit range on `client_number`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, false, or_, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from service.calllog.filters import ANY_CONTACT, CONTACT_RESULTS, NO_WRAPUP, CallFilters, utc_bounds
from service.calllog.search import NameSearch, NumberSearch, classify_search, number_search
from service.db.engine import SessionMaker
from service.db.figures_queries import logged_in_effective, login_disagrees
from service.db.models import Call, CallLogin, Client, ClientContact, Expert, PlannedCall, RecordingAccess, WrapUp
from service.db.plan_links import planned, unplanned
from service.db.upsert import dialect_name

MAX_LIMIT = 200
MOSCOW = ZoneInfo("Europe/Moscow")
MAX_NAME_MATCHES = 500  # a name that matches more clients than this is too vague to search by
MAX_PHONE_MATCHES = 500

# The indexes the log's first page needs at 10M calls (PostgreSQL plans with them in < 100 ms):
# every keyset scan ends in `id` so ties on started_at need no sort; the number range rides on
# client_number; retention finds what is due without re-reading what it already purged.
# (name, columns, partial WHERE or None) — for the lead to merge into a migration.
# The indexes the log's pages rely on are in migration 0007 (service/db/models.py: Call).


class BadCursor(ValueError):
    """The `after` cursor was not made by this log (edited, truncated or from another version)."""


@dataclass(frozen=True, slots=True)
class CallRow:
    linkedid: str
    started_at: datetime
    direction: str
    expert_ext: str | None
    expert_id: int | None  # the call's owner (who held the extension when it was recorded)
    expert_name: str | None
    client_id: str | None
    client_name: str | None
    client_number: str | None
    outcome: str | None
    talk_s: float
    duration_s: float
    planned_call_id: str | None  # as the PBX reported it (data: it may name another Expert's item)
    on_item: bool  # the call is on that planned item (service/db/plan_links.py); False: unplanned
    has_recording: bool
    recording_purged: bool
    result: str | None
    topic: str | None
    logged_in: bool | None
    productive: bool | None
    guessed: bool = False  # outcome or talk time a guess: the log marks them
    login_measured: bool | None = None  # from the usage data; None: the day has none (the tick stands)

    @property
    def logged_in_shown(self) -> bool | None:
        """What the figures count: the measurement where there is one, else the Expert's tick."""
        return self.login_measured if self.login_measured is not None else self.logged_in


@dataclass(frozen=True, slots=True)
class CallPage:
    rows: list[CallRow]
    first: int  # the 1-based position of rows[0] in the whole filtered log
    next_cursor: str | None  # None: this is the last page
    vague_search: str | None = None  # the name searched for matched over MAX_NAME_MATCHES clients

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


@dataclass(frozen=True, slots=True)
class AccessEntry:
    at: datetime
    user: str
    action: str  # play | download
    remote: str | None


@dataclass(frozen=True, slots=True)
class WrapUpView:
    result: str
    topic: str | None
    logged_in: bool
    productive: bool
    comment: str | None
    next_contact_at: datetime | None
    expert_name: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PlannedView:
    public_id: str
    plan_date: Any
    slot: datetime
    state: str
    topic: str | None
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class CallDetail:
    id: int
    row: CallRow
    ringing_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    hangup_by: str | None
    hangup_cause: int | None
    quality: list[str]
    recording: str | None
    recording_purged_at: datetime | None
    wrapup: WrapUpView | None
    planned: PlannedView | None
    access: list[AccessEntry]


class CallLogRepository:
    def __init__(self, sessions: SessionMaker, tz: ZoneInfo = MOSCOW) -> None:
        self._sessions = sessions
        self._tz = tz

    async def page(self, filters: CallFilters, cursor: str | None, limit: int = 50, *,
                   only_expert: int | None = None) -> CallPage:
        """One page of the filtered log, newest first; `only_expert`: that Expert's own calls only."""
        limit = max(1, min(limit, MAX_LIMIT))
        position, after = decode_cursor(cursor) if cursor else (0, None)
        async with self._sessions() as session:
            conditions, vague = await self._conditions(session, filters)
            if only_expert is not None:
                conditions.append(Call.expert_id == only_expert)
            if after is not None:
                conditions.append(tuple_(Call.started_at, Call.id) < tuple_(*after))
            query = (_page_query().where(*conditions)
                     .order_by(Call.started_at.desc(), Call.id.desc()).limit(limit + 1))
            found = (await session.execute(query)).all()
            rows = await _named_rows(session, found[:limit])
        next_cursor = None
        if len(found) > limit:
            last = found[limit - 1]
            next_cursor = encode_cursor(position + limit, last.started_at, last.id)
        return CallPage(rows, position + 1, next_cursor, vague)

    async def call(self, linkedid: str) -> CallDetail | None:
        """The call with everything known about it; None when the ledger has no such call."""
        async with self._sessions() as session:
            found = (await session.execute(_page_query().where(Call.linkedid == linkedid))).first()
            if found is None:
                return None
            call = (await session.execute(select(Call).where(Call.id == found.id))).scalar_one()
            row = (await _named_rows(session, [found]))[0]
            return CallDetail(
                id=call.id, row=row, ringing_at=call.ringing_at, answered_at=call.answered_at,
                ended_at=call.ended_at, hangup_by=call.hangup_by, hangup_cause=call.hangup_cause,
                quality=list(call.quality or []), recording=call.recording,
                recording_purged_at=call.recording_purged_at, wrapup=await _wrapup(session, call.id),
                planned=await _planned(session, call.planned_call_id) if row.on_item else None,
                access=await _access(session, call.id))

    async def _conditions(self, session: AsyncSession,
                          filters: CallFilters) -> tuple[list[ColumnElement[bool]], str | None]:
        """Every filter as a condition, and the name searched for when it matches too many clients."""
        conditions = _plain_conditions(filters, self._tz)
        vague = None
        if filters.search:
            condition, vague = await _search_condition(session, filters.search)
            conditions.append(condition)
        return conditions, vague


# ---- cursor ------------------------------------------------------------------------------
MAX_CURSOR_CHARS = 200
MAX_POSITION = 10**9
MAX_CALL_ID = 2**63 - 1  # BIGINT
CURSOR_YEARS = (2000, 2100)


def encode_cursor(position: int, started_at: datetime, call_id: int) -> str:
    raw = f"{position}|{started_at.isoformat()}|{call_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, tuple[datetime, int]]:
    """The cursor's parts; BadCursor for anything encode_cursor could not have made.

    A cursor comes from the URL, so every part is bounded before it reaches the database: a
    23-digit id or a year-1 time with a +14:00 offset overflowed the drivers (500s).
    """
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        position_text, moment, call_id_text = raw.split("|")
        position, call_id = _bounded_int(position_text, MAX_POSITION), _bounded_int(call_id_text, MAX_CALL_ID)
        started_at = datetime.fromisoformat(moment)
        if started_at.tzinfo is None or not CURSOR_YEARS[0] <= started_at.year <= CURSOR_YEARS[1]:
            raise ValueError("naive time or a year no call was made in")
        return position, (started_at.astimezone(UTC), call_id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError) as e:
        raise BadCursor(cursor[:100]) from e


def _bounded_int(text: str, maximum: int) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)):
        raise ValueError(f"not a number up to {maximum}")
    value = int(text)
    if value > maximum:
        raise ValueError(f"over {maximum}")
    return value


# ---- the query ----------------------------------------------------------------------------
def _page_query() -> Select[*tuple[Any, ...]]:
    return (select(Call.id, Call.linkedid, Call.started_at, Call.direction, Call.expert_ext, Call.expert_id,
                   Call.client_id, Call.client_name, Call.client_number, Call.outcome, Call.talk_s,
                   Call.duration_s, Call.planned_call_id, planned(Call).label("on_item"), Call.recording,
                   Call.recording_purged_at, WrapUp.result, WrapUp.topic, WrapUp.logged_in, WrapUp.productive,
                   Call.guessed, CallLogin.measured.label("login_measured"))
            .outerjoin(WrapUp, WrapUp.call_id == Call.id).outerjoin(CallLogin, CallLogin.call_id == Call.id))


def _plain_conditions(f: CallFilters, tz: ZoneInfo) -> list[ColumnElement[bool]]:
    """Every filter that is a plain column test (the search needs lookups first)."""
    start, end = utc_bounds(f, tz)
    # Built only for the filters that are set (a comparison with None is not a test).
    tests: list[tuple[object, Callable[[], ColumnElement[bool]]]] = [
        (f.expert_ext, lambda: Call.expert_ext == f.expert_ext),
        (start, lambda: Call.started_at >= start), (end, lambda: Call.started_at < end),
        (f.outcome, lambda: Call.outcome == f.outcome), (f.client_id, lambda: Call.client_id == f.client_id),
        (f.direction, lambda: Call.direction == f.direction),
        (f.min_talk_s, lambda: Call.talk_s >= f.min_talk_s),
        (f.max_talk_s, lambda: Call.talk_s <= f.max_talk_s),
        (f.guessed, lambda: Call.guessed == f.guessed),
        (f.talk_below_s, lambda: Call.talk_s < f.talk_below_s),
        (f.topic, lambda: WrapUp.topic == f.topic),
    ]
    conditions = [test() for value, test in tests if value is not None]
    if f.planned is not None:
        conditions.append(planned(Call) if f.planned else unplanned(Call))  # the figures' rule
    if f.result == NO_WRAPUP:
        conditions.append(WrapUp.call_id.is_(None))  # on the join column: PostgreSQL plans an anti join
    elif f.result == ANY_CONTACT:
        conditions.append(WrapUp.result.in_(CONTACT_RESULTS))
    elif f.result is not None:
        conditions.append(WrapUp.result == f.result)
    if f.logged_in is not None:  # as the figures count it: measured where known, else ticked
        conditions.append(logged_in_effective(f.logged_in))
    if f.productive is not None:  # "no" means a wrap-up that says no, not a call without one
        conditions.append(WrapUp.productive.is_(true()) if f.productive else WrapUp.productive.is_(false()))
    if f.dialled is not None:  # the figures' «Сделано звонков»: an ended call, not the Expert's own miss
        dialled = and_(Call.outcome.is_not(None), Call.outcome != "expert_no_answer")
        conditions.append(dialled if f.dialled else or_(Call.outcome.is_(None), Call.outcome == "expert_no_answer"))
    if f.login == "measured":
        conditions.append(CallLogin.measured.is_not(None))
    elif f.login == "ticked":
        conditions.append(and_(CallLogin.measured.is_(None), WrapUp.call_id.is_not(None)))
    elif f.login == "disagree":
        conditions.append(login_disagrees())
    return conditions


async def _search_condition(session: AsyncSession, text: str) -> tuple[ColumnElement[bool], str | None]:
    """The search as a condition, and the name when it matches too many clients to search by."""
    wanted = classify_search(text)
    if isinstance(wanted, NameSearch):
        ids = await _client_ids_by_name(session, wanted.text)
        if len(ids) > MAX_NAME_MATCHES:
            return false(), wanted.text
        return (Call.client_id.in_(ids) if ids else false()), None
    return await _number_condition(session, wanted), None


async def _client_ids_by_name(session: AsyncSession, text: str) -> list[str]:
    """Case-insensitive substring of clients.name (Cyrillic too), at most MAX_NAME_MATCHES + 1."""
    if dialect_name(session) == "postgresql":
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = (select(Client.external_id).where(Client.name.ilike(pattern, escape="\\"))
                 .limit(MAX_NAME_MATCHES + 1))
        return list((await session.execute(query)).scalars())
    # SQLite's LIKE folds only ASCII: compare in Python (SQLite deployments are small).
    needle = text.casefold()
    names = await session.execute(select(Client.external_id, Client.name))
    return [external_id for external_id, name in names if needle in name.casefold()][:MAX_NAME_MATCHES + 1]


async def _number_condition(session: AsyncSession, wanted: NumberSearch) -> ColumnElement[bool]:
    if wanted.is_whole:
        return await _one_of(session, wanted.whole_number_forms)
    # The beginning of a number: a range on the index ("79115" ≤ n < "79115:"; ':' follows '9'),
    # kept only when some number has it (an OR with an empty branch makes PostgreSQL scan by time).
    starts = and_(Call.client_number >= wanted.digits, Call.client_number < wanted.digits + ":")
    found = (await session.execute(select(Call.id).where(starts).limit(1))).first()
    tests: list[ColumnElement[bool]] = [starts] if found is not None else []
    # The end of a number: only numbers of known contacts (a suffix cannot use an index).
    phones = (await session.execute(
        select(ClientContact.phone_e164).where(ClientContact.phone_e164.like(f"%{wanted.digits}"))
        .limit(MAX_PHONE_MATCHES))).scalars()
    forms = {form for phone in phones if phone
             for form in number_search("".join(ch for ch in phone if ch.isdigit())).whole_number_forms}
    if forms:
        tests.append(await _one_of(session, sorted(forms)))
    return or_(*tests) if tests else false()


async def _one_of(session: AsyncSession, forms: Sequence[str]) -> ColumnElement[bool]:
    """`client_number` is one of `forms` — narrowed first to the forms the ledger really holds.

    A number is stored in one spelling or two, not four: with the others gone the test is
    usually an equality, which PostgreSQL answers from (client_number, started_at, id) in
    order; an IN list of mostly absent values made it misjudge and scan the ledger by time.
    """
    present = list((await session.execute(
        select(Call.client_number).where(Call.client_number.in_(forms)).distinct())).scalars())
    if not present:
        return false()
    return Call.client_number == present[0] if len(present) == 1 else Call.client_number.in_(present)


async def _named_rows(session: AsyncSession, found: Sequence[Any]) -> list[CallRow]:
    """Rows with the Experts' and clients' names (small lookups instead of joins that fan out).

    A call is named after its owner; one recorded before anyone held its extension, after the
    extension's active holder now.
    """
    owner_ids = {r.expert_id for r in found if r.expert_id is not None}
    extensions = {r.expert_ext for r in found if r.expert_ext and r.expert_id is None}
    client_ids = {r.client_id for r in found if r.client_id}
    owners: dict[int, str] = {}
    if owner_ids:
        owners = {id_: name for id_, name in await session.execute(
            select(Expert.id, Expert.full_name).where(Expert.id.in_(owner_ids)))}
    experts: dict[str, str] = {}
    if extensions:
        holders = await session.execute(
            select(Expert.extension, Expert.full_name, Expert.active)
            .where(Expert.extension.in_(extensions)).order_by(Expert.active, Expert.id))
        # Later rows win: an active Expert's name over a former holder of the extension.
        experts = {ext: name for ext, name, _active in holders if ext is not None}  # IN: never None
    clients: dict[str, str] = {}
    if client_ids:
        found_names = await session.execute(
            select(Client.external_id, Client.name).where(Client.external_id.in_(client_ids)))
        clients = {external_id: name for external_id, name in found_names}
    return [_row(r, owners.get(r.expert_id) if r.expert_id is not None else experts.get(r.expert_ext or ""),
                 clients.get(r.client_id or "")) for r in found]


def _row(r: Any, expert_name: str | None, client_name: str | None) -> CallRow:
    return CallRow(
        linkedid=r.linkedid, started_at=r.started_at, direction=r.direction, expert_ext=r.expert_ext,
        expert_id=r.expert_id, expert_name=expert_name, client_id=r.client_id, client_name=client_name or r.client_name,
        client_number=r.client_number, outcome=r.outcome, talk_s=r.talk_s or 0.0,
        duration_s=r.duration_s or 0.0, planned_call_id=r.planned_call_id, on_item=bool(r.on_item),
        # Nobody talked (busy, no answer): the file holds no conversation; no player is offered.
        has_recording=r.recording is not None and (r.talk_s or 0) > 0,
        recording_purged=r.recording_purged_at is not None,
        result=r.result, topic=r.topic, logged_in=r.logged_in, productive=r.productive, guessed=bool(r.guessed),
        login_measured=r.login_measured)


async def _wrapup(session: AsyncSession, call_id: int) -> WrapUpView | None:
    found = (await session.execute(
        select(WrapUp, Expert.full_name).outerjoin(Expert, Expert.id == WrapUp.expert_id)
        .where(WrapUp.call_id == call_id))).first()
    if found is None:
        return None
    w, name = found
    return WrapUpView(w.result, w.topic, w.logged_in, w.productive, w.comment, w.next_contact_at, name,
                      w.updated_at)


async def _planned(session: AsyncSession, public_id: str | None) -> PlannedView | None:
    if not public_id:
        return None
    p = (await session.execute(select(PlannedCall).where(PlannedCall.public_id == public_id))).scalar_one_or_none()
    if p is None:
        return None
    reasons = [str(r.get("text") or r.get("code")) for r in (p.reasons or []) if isinstance(r, dict)]
    return PlannedView(p.public_id, p.plan_date, p.slot, p.state, p.topic, reasons)


async def _access(session: AsyncSession, call_id: int) -> list[AccessEntry]:
    rows = await session.execute(
        select(RecordingAccess.at, Expert.full_name, RecordingAccess.action, RecordingAccess.remote)
        .join(Expert, Expert.id == RecordingAccess.user_id)
        .where(RecordingAccess.call_id == call_id).order_by(RecordingAccess.at.desc()).limit(100))
    return [AccessEntry(at, name, action, remote) for at, name, action, remote in rows]
