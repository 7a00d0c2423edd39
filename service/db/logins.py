"""The usage data's database side: logins upserted, the days they cover, the measurement written.

`measure` is the bulk path (after every import of logins: each call of the covered days gets its
`call_logins` row, rewritten whole); `logins_for_call` is the call page's. Both ask the same pure
rule (service/logins/match.py). The figures of the covered days are rebuilt on their next read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.days import day_bounds
from service.db.bulk import chunks
from service.db.engine import SessionMaker
from service.db.figures_summary import forget_days
from service.db.models import Call, CallLogin, ClientContact, ClientLogin, LoginDay
from service.db.records import Counts, LoginRecord
from service.db.upsert import dialect_name
from service.logins.match import LONGEST_SESSION, Login, Talk, index_logins, measure, overlaps

_LOGINS = cast(Table, ClientLogin.__table__)
_CALL_LOGINS = cast(Table, CallLogin.__table__)
COPY_CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class Measured:
    """What one measurement did: the days, their calls, and in how many a login was found."""

    first: date
    last: date
    calls: int
    logged_in: int

    def __str__(self) -> str:
        return (f"measured {self.first:%Y-%m-%d}..{self.last:%Y-%m-%d}: {self.calls} call(s), "
                f"{self.logged_in} with a login during the talk")

    def __add__(self, other: Measured) -> Measured:
        return Measured(min(self.first, other.first), max(self.last, other.last), self.calls + other.calls,
                        self.logged_in + other.logged_in)


async def upsert_logins(session: AsyncSession, records: Sequence[LoginRecord], now: datetime) -> Counts:
    """New logins inserted, a changed end updated, the same row again left alone."""
    if not records:
        return Counts()
    existing = await _existing(session, records)
    new = [{"client_external_id": r.client_external_id, "contact_external_id": r.contact_external_id,
            "started_at": r.started_at, "ended_at": r.ended_at, "imported_at": now}
           for r in records if r.key not in existing]
    changed = [{"b_id": existing[r.key][0], "b_ended_at": r.ended_at}
               for r in records if r.key in existing and existing[r.key][1] != r.ended_at]
    if new:
        await session.execute(insert(_LOGINS), new)
    if changed:
        await session.execute(update(_LOGINS).where(_LOGINS.c.id == bindparam("b_id"))
                              .values(ended_at=bindparam("b_ended_at")), changed)
    return Counts(new=len(new), updated=len(changed), unchanged=len(records) - len(new) - len(changed))


async def _existing(session: AsyncSession, records: Sequence[LoginRecord]
                    ) -> dict[tuple[str, str, datetime], tuple[int, datetime | None]]:
    """The batch's keys already stored → (id, end): one range read per chunk of clients."""
    first = min(r.started_at for r in records)
    last = max(r.started_at for r in records)
    found: dict[tuple[str, str, datetime], tuple[int, datetime | None]] = {}
    for clients in chunks({r.client_external_id for r in records}):
        rows = await session.execute(
            select(_LOGINS.c.id, _LOGINS.c.client_external_id, _LOGINS.c.contact_external_id,
                   _LOGINS.c.started_at, _LOGINS.c.ended_at)
            .where(_LOGINS.c.client_external_id.in_(clients),
                   _LOGINS.c.started_at >= first, _LOGINS.c.started_at <= last))
        found.update({(client, contact, start): (row_id, end) for row_id, client, contact, start, end in rows})
    return found


async def cover_days(session: AsyncSession, reaches: Mapping[date, datetime], now: datetime) -> None:
    """Record how far the usage data covers each day: `reaches[day]`, or further if it did already."""
    table = cast(Table, LoginDay.__table__)
    known = dict((await session.execute(select(table.c.day, table.c.covered_until)
                                        .where(table.c.day.in_(list(reaches))))).all())
    for day, until in reaches.items():
        if day not in known:
            await session.execute(insert(table).values(day=day, covered_until=until, imported_at=now))
        elif until > known[day]:
            await session.execute(update(table).where(table.c.day == day)
                                  .values(covered_until=until, imported_at=now))


def covered_until(day: date, latest: datetime, tz: ZoneInfo, now: datetime) -> datetime:
    """How far a file covers `day`: the whole day once it is over (a nightly export), else only up to
    its latest login (a file exported at noon says nothing about the afternoon)."""
    end = day_bounds(day, tz)[1]
    return end if end <= now else min(latest, end)


async def measure_days(session: AsyncSession, first: date, last: date, tz: ZoneInfo, grace_s: float,
                       now: datetime) -> Measured:
    """Every call of a known client started on days `first`..`last` (organisation time) while the
    usage data covers them, measured against the logins; the other calls there lose any measurement."""
    # The summary's lock first: two imports of the same days (an upload and the drop folder) run
    # one after the other, and no refresh stores these days from before the change.
    await forget_days(session, first, last)
    lo, hi = day_bounds(first, tz)[0], day_bounds(last, tz)[1]
    gaps = await _uncovered(session, first, last, tz)
    grace = timedelta(seconds=grace_s)
    calls, rows = await _read(session, lo, hi, lo - LONGEST_SESSION - grace, hi + grace)
    talks = [_talk(call_id, client, answered, ended, talk_s)
             for call_id, client, started, answered, ended, talk_s in calls
             if not any(gap_lo <= started < gap_hi for gap_lo, gap_hi in gaps)]
    results = list(measure(talks, index_logins(rows), grace_s))
    await session.execute(delete(_CALL_LOGINS).where(_CALL_LOGINS.c.call_id.in_(
        select(Call.id).where(Call.started_at >= lo, Call.started_at < hi))))
    await _insert_results(session, results, now)
    return Measured(first, last, len(results), sum(1 for _, found in results if found))


CallRow = tuple[int, str, float, float | None, float | None, float | None]
LoginRow = tuple[str, float, float | None]


async def _read(session: AsyncSession, lo: datetime, hi: datetime, logins_from: datetime,
                logins_to: datetime) -> tuple[Sequence[CallRow], Iterable[LoginRow]]:
    """(id, client, started, answered, ended, talk_s) of the calls of a known client started in
    [lo, hi), and (client, start, end) of the logins begun in [logins_from, logins_to): times as
    epoch seconds, computed by the database. On PostgreSQL the rows come straight from the driver:
    a month is a million logins, and making each a Python datetime, then a SQLAlchemy row, took
    longer than the matching itself."""
    calls_query = select(Call.id, Call.client_id, Call.started_at, Call.answered_at, Call.ended_at, Call.talk_s).where(
        Call.started_at >= lo, Call.started_at < hi, Call.client_id.is_not(None))
    logins_query = select(_LOGINS.c.client_external_id, _LOGINS.c.started_at, _LOGINS.c.ended_at).where(
        _LOGINS.c.started_at >= logins_from, _LOGINS.c.started_at < logins_to)
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        calls = await raw.fetch(_PG_CALLS, lo, hi)
        logins = await raw.fetch(_PG_LOGINS, logins_from, logins_to)
        return calls, logins  # asyncpg records unpack as tuples
    calls = (await connection.execute(_in_epochs(calls_query, 2))).all()
    logins = (await connection.execute(_in_epochs(logins_query, 1))).all()
    return calls, logins


def _in_epochs(query: Any, first_time: int) -> Any:
    """`query` with its columns from `first_time` on (timestamps) as SQLite epoch seconds."""
    columns = list(query.selected_columns)
    epochs = [(func.julianday(c) - 2440587.5) * 86400.0 if i >= first_time and c.name != "talk_s" else c
              for i, c in enumerate(columns)]
    return query.with_only_columns(*epochs)


# The same two reads, for asyncpg; `calls.client_id` / `client_logins` columns as in the models.
_PG_CALLS = ("SELECT id, client_id, extract(epoch FROM started_at)::float8, extract(epoch FROM answered_at)::float8,"
             " extract(epoch FROM ended_at)::float8, talk_s FROM calls"
             " WHERE started_at >= $1 AND started_at < $2 AND client_id IS NOT NULL")
_PG_LOGINS = ("SELECT client_external_id, extract(epoch FROM started_at)::float8, extract(epoch FROM ended_at)::float8"
              " FROM client_logins WHERE started_at >= $1 AND started_at < $2")


async def _uncovered(session: AsyncSession, first: date, last: date, tz: ZoneInfo) -> list[tuple[float, float]]:
    """[from, to) in epoch seconds of the parts of days `first`..`last` the usage data does not cover."""
    reach = dict((await session.execute(select(LoginDay.day, LoginDay.covered_until)
                                         .where(LoginDay.day >= first, LoginDay.day <= last))).all())
    gaps = []
    for day in (first + timedelta(days=n) for n in range((last - first).days + 1)):
        start, end = day_bounds(day, tz)
        until = reach.get(day, start)
        if until < end:
            gaps.append((max(until, start).timestamp(), end.timestamp()))
    return gaps


def _talk(call_id: int, client: str | None, answered: float | None, ended: float | None,
          talk_s: float | None) -> Talk:
    """A ledger call's talk: from its answer, or (a call recorded from a CDR without the answer's
    time) the talk time counted back from its end."""
    talk = talk_s or 0.0
    start = answered if answered is not None else (ended - talk if ended is not None and talk else None)
    return Talk(call_id, client, start, talk)


def talk_of(call_id: int, client: str | None, answered: datetime | None, ended: datetime | None,
            talk_s: float | None) -> Talk:
    """`_talk` from datetimes (one call at a time)."""
    return _talk(call_id, client, None if answered is None else answered.timestamp(),
                 None if ended is None else ended.timestamp(), talk_s)


async def _insert_results(session: AsyncSession, results: list[tuple[int, bool]], now: datetime) -> None:
    if not results:
        return
    if dialect_name(session) == "postgresql":
        # COPY: a month of a large department is ~330,000 rows, several times faster than INSERTs.
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        assert raw is not None
        for chunk in chunks(results, COPY_CHUNK):
            await raw.copy_records_to_table("call_logins", records=[(cid, found, now) for cid, found in chunk],
                                            columns=["call_id", "measured", "matched_at"])
        return
    for chunk in chunks(results, COPY_CHUNK):
        await session.execute(insert(_CALL_LOGINS),
                              [{"call_id": cid, "measured": found, "matched_at": now} for cid, found in chunk])


class LoginsRepository:
    """One call at a time: measured when its wrap-up is saved, and which logins counted for it."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def measure_call(self, linkedid: str, tz: ZoneInfo, grace_s: float, now: datetime) -> bool | None:
        """Measure one finished call again if the usage data covers its day (None: it does not, or
        the client is unknown). Run when its wrap-up is saved: a call made after its day's file was
        imported, or still talking then, gets its answer from its real talk."""
        async with self._sessions.begin() as session:
            row = (await session.execute(
                select(Call.id, Call.client_id, Call.answered_at, Call.ended_at, Call.talk_s, Call.started_at)
                .where(Call.linkedid == linkedid))).first()
            if row is None or row.client_id is None or row.ended_at is None:
                return None
            day = row.started_at.astimezone(tz).date()
            until = await session.scalar(select(LoginDay.covered_until).where(LoginDay.day == day))
            if until is None or row.started_at >= until:
                return None
            await forget_days(session, day, day)  # the lock, as measure_days takes it
            talk = talk_of(row.id, row.client_id, row.answered_at, row.ended_at, row.talk_s)
            logins = [] if talk.start is None else await _logins_near(session, talk, grace_s)
            found = any(overlaps(talk, login, grace_s) for login in logins)
            await session.execute(delete(_CALL_LOGINS).where(_CALL_LOGINS.c.call_id == row.id))
            await session.execute(insert(_CALL_LOGINS).values(call_id=row.id, measured=found, matched_at=now))
            return found

    async def for_call(self, call_id: int, tz: ZoneInfo, grace_s: float) -> CallLogins:
        async with self._sessions() as session:
            row = (await session.execute(
                select(Call.client_id, Call.answered_at, Call.ended_at, Call.talk_s, CallLogin.measured)
                .outerjoin(CallLogin, CallLogin.call_id == Call.id).where(Call.id == call_id))).first()
            if row is None:
                return CallLogins(measured=None, logins=())
            client, answered_at, ended_at, talk_s, measured_value = row
            talk = talk_of(call_id, client, answered_at, ended_at, talk_s)
            if measured_value is None or talk.start is None or talk.end is None or client is None:
                return CallLogins(measured=measured_value, logins=())
            shown = await _matched_logins(session, talk, client, grace_s)
        return CallLogins(measured=measured_value, logins=shown)

    async def login_during(self, client: str, answered_at: datetime, now: datetime,
                           grace_s: float) -> MatchedLogin | None:
        """The first login of the client's users overlapping a call that is still up (answered, until now):
        the desk shows it on the login step as soon as the usage data with it has been imported."""
        talk = talk_of(0, client, answered_at, now, max(0.0, (now - answered_at).total_seconds()))
        async with self._sessions() as session:
            shown = await _matched_logins(session, talk, client, grace_s)
        return shown[0] if shown else None


async def _matched_logins(session: AsyncSession, talk: Talk, client: str, grace_s: float) -> tuple[MatchedLogin, ...]:
    """The client's logins overlapping the talk ± grace (the rule: service/logins/match.py), earliest first."""
    assert talk.start is not None and talk.end is not None
    grace = timedelta(seconds=grace_s)
    start, end = (datetime.fromtimestamp(t, UTC) for t in (talk.start, talk.end))
    rows = await session.execute(
        select(_LOGINS.c.contact_external_id, _LOGINS.c.started_at, _LOGINS.c.ended_at, ClientContact.full_name)
        .outerjoin(ClientContact, ClientContact.external_id == _LOGINS.c.contact_external_id)
        .where(_LOGINS.c.client_external_id == client,
               and_(_LOGINS.c.started_at >= start - LONGEST_SESSION - grace, _LOGINS.c.started_at <= end + grace)))
    candidates = [MatchedLogin(*row) for row in rows]
    shown = [login for login in candidates if overlaps(talk, _as_login(client, login), grace_s)]
    return tuple(sorted(shown, key=lambda x: x.started_at))


async def _logins_near(session: AsyncSession, talk: Talk, grace_s: float) -> list[Login]:
    assert talk.start is not None and talk.end is not None and talk.client is not None
    grace = timedelta(seconds=grace_s)
    start, end = (datetime.fromtimestamp(t, UTC) for t in (talk.start, talk.end))
    rows = await session.execute(
        select(_LOGINS.c.started_at, _LOGINS.c.ended_at)
        .where(_LOGINS.c.client_external_id == talk.client,
               _LOGINS.c.started_at >= start - LONGEST_SESSION - grace, _LOGINS.c.started_at <= end + grace))
    return [Login(talk.client, begun.timestamp(), None if stop is None else stop.timestamp()) for begun, stop in rows]


def _as_login(client: str, login: MatchedLogin) -> Login:
    end = login.ended_at
    return Login(client, login.started_at.timestamp(), None if end is None else end.timestamp())


@dataclass(frozen=True, slots=True)
class MatchedLogin:
    contact_external_id: str
    started_at: datetime
    ended_at: datetime | None
    contact_name: str | None = None


@dataclass(frozen=True, slots=True)
class CallLogins:
    """`measured` None: the call's day has no usage data (the Expert's tick stands)."""

    measured: bool | None
    logins: tuple[MatchedLogin, ...]


