"""SQL for the control figures per Expert and organisation-time day, grouped in the database.

One definition serves both the summary's build (service/db/figures_summary.py) and the
from-scratch reads it must always equal (FiguresRepository.day_aggregates, topics, outcomes).

Calls belong to their owner, `calls.expert_id` (who held the extension when the call was
recorded, migration 0008), so an extension passed on does not move its old calls; a call with no
owner counts for nobody. Calls are bucketed by the organisation-time date of `started_at`
(SPEC-NOTES: day of a call): the period is first narrowed to its UTC bounds (an index range on
calls.started_at), then each call's local date is computed: on PostgreSQL with `AT TIME ZONE`
(tz database, DST-correct); SQLite knows no zones, so each day's UTC bounds are computed in Python
and the date is picked by a CASE over them (right for any zone, DST included).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Select, and_, case, cast, false, func, literal_column, or_, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from scheduler.model import FINISHED_STATES, PlanState
from service.days import day_bounds
from service.db.models import Call, CallLogin, Expert, PlannedCall, WrapUp
from service.db.plan_links import unplanned
from service.figures.model import SECONDS_FIELDS, WRAPUP_COUNT_MAX_S, Period, Scope, ScopeKind

CallIds = tuple[int, int]
CALL_FIELDS = ("calls", "made", "unplanned", "wrapped", "contacts", "productive", "productive_talk_s", "logged_in",
               "guessed", "login_measured", "login_disagree", "talk_total_s", "on_call_s", "wrapup_s")
PLAN_FIELDS = ("planned", "finished")
FINISHED = sorted(s.value for s in FINISHED_STATES)
# A month of a large department is ~440,000 joined rows: grouping them in memory instead of in
# temporary files (PostgreSQL's default work_mem is 4 MB) is most of the speed. Per transaction.
REPORT_WORK_MEM = "64MB"


def utc_range(period: Period, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return day_bounds(period.first, tz)[0], day_bounds(period.last, tz)[1]


def local_day(dialect: str, column: Any, period: Period, tz: ZoneInfo) -> ColumnElement[Any]:
    """SQL for the organisation-time date of `column` (a UTC timestamp inside `period`)."""
    if dialect == "postgresql":
        # Inlined (not a bind parameter) so that GROUP BY repeats exactly the selected expression.
        # A fixed offset is much cheaper per row than a zone name; it is used only when the zone's
        # offset does not change within the period (no DST change: Moscow, always since 2014).
        offset = fixed_offset(period, tz)
        zone: ColumnElement[Any] = literal_column(f"INTERVAL '{offset}'" if offset else _quoted(tz.key))
        return cast(func.timezone(zone, column), Date)
    days = period.days
    whens = [(column < day_bounds(d, tz)[1], d.isoformat()) for d in days[:-1]]
    return case(*whens, else_=days[-1].isoformat()) if whens else literal_column(_quoted(days[0].isoformat()))


def fixed_offset(period: Period, tz: ZoneInfo) -> str | None:
    """'+03:00' when `tz` keeps one UTC offset over the whole period, else None."""
    bounds = [datetime.combine(d, time.min, tzinfo=tz) for d in [*period.days, period.last + timedelta(days=1)]]
    offsets = {b.utcoffset() for b in bounds}
    if len(offsets) != 1:
        return None
    minutes = int((offsets.pop() or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _quoted(value: str) -> str:
    if "'" in value:
        raise ValueError(f"unexpected quote in {value!r}")
    return f"'{value}'"


def as_date(value: Any) -> date:
    """A date column's value (SQLite's CASE gives 'YYYY-MM-DD' text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def numbers(values: dict[str, Any]) -> dict[str, Any]:
    """Counts as int, times as float (sums come back as Decimal or None on some backends)."""
    return {k: (float(v or 0) if k in SECONDS_FIELDS else int(v or 0)) for k, v in values.items()}


async def tuned(session: AsyncSession) -> str:
    """The session's dialect; on PostgreSQL, this transaction gets REPORT_WORK_MEM."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
        # asyncpg prepares statements; after five runs PostgreSQL may switch to a generic plan,
        # which cannot see how narrow the period's bounds are and scans far more (7 s instead of
        # 2 s at 10,000,000 calls). Planning each time costs about a millisecond.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    return dialect


async def call_ids(session: AsyncSession, period: Period, tz: ZoneInfo) -> CallIds:
    """The lowest and highest id of the period's calls.

    An exact bound for the wrap-ups to join (a wrap-up carries its call's id), which lets the
    database read only the wrap-ups of about that period instead of the whole history.
    """
    start, end = utc_range(period, tz)
    # `id + 0`: PostgreSQL would otherwise walk the primary key from one end, filtering by
    # time, past every older call (9 s at 10,000,000 calls); this reads the period only.
    lo, hi = (await session.execute(select(func.min(Call.id + 0), func.max(Call.id + 0))
                                    .where(Call.started_at >= start, Call.started_at < end))).one()
    return (lo, hi) if lo is not None else (0, -1)


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


def expert_filter(query: _Query, scope: Scope) -> _Query:
    """`query` (which joins Expert) narrowed to the scope's Experts (role expert)."""
    if scope.kind is ScopeKind.EXPERT:
        return query.where(Expert.login == scope.name)
    query = query.where(Expert.role == "expert")
    return query.where(Expert.group_name == scope.name) if scope.kind is ScopeKind.GROUP else query


def _flag(condition: ColumnElement[bool], value: Any = 1) -> ColumnElement[Any]:
    return func.sum(case((condition, value), else_=0))


def _owned_calls(period: Period, tz: ZoneInfo, expert_id: int | None = None) -> list[ColumnElement[bool]]:
    start, end = utc_range(period, tz)
    owner = Call.expert_id.is_not(None) if expert_id is None else Call.expert_id == expert_id
    return [Call.started_at >= start, Call.started_at < end, owner]


def _wrapup_of_call(ids: CallIds) -> ColumnElement[bool]:
    return and_(WrapUp.call_id == Call.id, WrapUp.call_id.between(*ids))


def calls_per_expert_day(dialect: str, period: Period, tz: ZoneInfo, ids: CallIds,
                         expert_id: int | None = None) -> Select[Any]:
    """(expert_id, day, *CALL_FIELDS) of every owned call of the period, with its wrap-up; `expert_id`:
    only that Expert's (one Expert's day reads her calls, not the department's)."""
    # SPEC-NOTES: a refusal is a contact (not productive); a wrong number is not.
    contact = WrapUp.result.in_(("contact_made", "refused"))
    productive = and_(contact, WrapUp.productive == true())
    rows = (select(
        Call.expert_id, local_day(dialect, Call.started_at, period, tz).label("day"),
        Call.direction, Call.outcome, unplanned(Call).label("unplanned"), Call.talk_s, WrapUp.id.label("wrapup_id"),
        Call.guessed, Call.duration_s, Call.ended_at.is_not(None).label("ended"),
        wrapup_wait_s(dialect).label("wrapup_wait_s"),
        contact.label("contact"), productive.label("productive"),
        and_(contact, logged_in_effective(True)).label("logged_in"),
        and_(contact, CallLogin.measured.is_not(None)).label("login_measured"),
        and_(contact, login_disagrees()).label("login_disagree"),
    ).select_from(Call).outerjoin(WrapUp, _wrapup_of_call(ids)).outerjoin(CallLogin, CallLogin.call_id == Call.id)
        .where(*_owned_calls(period, tz, expert_id))).subquery()
    # Grouped over a subquery so that GROUP BY names the day column, not a repeat of its CASE.
    # A call whose outcome or talk time is a guess (issue 12) is counted apart, in none of these.
    exact = rows.c.guessed == false()
    dialled = and_(rows.c.direction == "outbound", rows.c.outcome.is_not(None),
                   rows.c.outcome != "expert_no_answer", exact)
    productive_call = and_(rows.c.productive == true(), exact)
    return select(
        rows.c.expert_id, rows.c.day,
        func.count().label("calls"),
        _flag(dialled).label("made"),
        _flag(rows.c.unplanned == true()).label("unplanned"),
        _flag(rows.c.wrapup_id.is_not(None)).label("wrapped"),
        _flag(rows.c.contact == true()).label("contacts"),
        _flag(productive_call).label("productive"),
        _flag(productive_call, rows.c.talk_s).label("productive_talk_s"),
        _flag(rows.c.logged_in == true()).label("logged_in"),
        _flag(rows.c.guessed == true()).label("guessed"),
        _flag(rows.c.login_measured == true()).label("login_measured"),
        _flag(rows.c.login_disagree == true()).label("login_disagree"),
        _flag(exact, rows.c.talk_s).label("talk_total_s"),
        _flag(and_(exact, rows.c.ended == true()), rows.c.duration_s).label("on_call_s"),
        _flag(and_(exact, rows.c.wrapup_wait_s.is_not(None)), rows.c.wrapup_wait_s).label("wrapup_s"),
    ).group_by(rows.c.expert_id, rows.c.day)


def wrapup_wait_s(dialect: str) -> ColumnElement[Any]:
    """Seconds from a call's end to its wrap-up's first save, within [0, WRAPUP_COUNT_MAX_S]; NULL
    without a wrap-up (or a call still up). For a query that outer-joins WrapUp to Call."""
    if dialect == "postgresql":
        wait: ColumnElement[Any] = func.extract("epoch", WrapUp.created_at - Call.ended_at)
    else:  # SQLite keeps UTC text; julianday() reads it (to ~10 µs: rounded to 1 ms, as the ledger keeps times)
        wait = func.round((func.julianday(WrapUp.created_at) - func.julianday(Call.ended_at)) * 86_400.0, 3)
    return case((or_(WrapUp.id.is_(None), Call.ended_at.is_(None)), None),
                (wait > WRAPUP_COUNT_MAX_S, WRAPUP_COUNT_MAX_S), (wait < 0, 0.0), else_=wait)


def logged_in_effective(value: bool) -> ColumnElement[bool]:
    """"Logged in during the call" is `value`: measured where the usage data covers the call's day,
    else as the Expert ticked it (a call with neither is neither). For a query that outer-joins
    CallLogin and WrapUp to Call (SPEC-NOTES: share with login)."""
    flag = true() if value else false()
    return or_(CallLogin.measured == flag, and_(CallLogin.measured.is_(None), WrapUp.logged_in == flag))


def login_disagrees() -> ColumnElement[bool]:
    """Measured and ticked differ: ticked with no login found, or a login found but not ticked."""
    return and_(CallLogin.measured.is_not(None), CallLogin.measured != WrapUp.logged_in)


def planned_per_expert_day(period: Period, expert_id: int | None = None) -> Select[Any]:
    """(expert_id, day, planned, finished): planned items by their plan date (`expert_id`: hers only)."""
    live = PlannedCall.state != PlanState.CANCELLED.value
    query = (select(
        PlannedCall.expert_id.label("expert_id"), PlannedCall.plan_date.label("day"),
        _flag(live).label("planned"),
        _flag(PlannedCall.state.in_(FINISHED)).label("finished"),
    ).where(PlannedCall.plan_date >= period.first, PlannedCall.plan_date <= period.last)
        .group_by(PlannedCall.expert_id, PlannedCall.plan_date))
    return query if expert_id is None else query.where(PlannedCall.expert_id == expert_id)


def counts_per_expert_day(dialect: str, kind: str, period: Period, tz: ZoneInfo, ids: CallIds) -> Select[Any]:
    """(expert_id, day, key, n): wrapped-up calls by topic (`kind` topic) or calls by outcome."""
    key = WrapUp.topic if kind == "topic" else Call.outcome
    rows = select(Call.expert_id, local_day(dialect, Call.started_at, period, tz).label("day"), key.label("key"))
    if kind == "topic":
        rows = rows.select_from(Call).join(WrapUp, _wrapup_of_call(ids))
    if kind != "topic":  # a guessed outcome is no outcome to count (issue 12): those calls are shown apart
        rows = rows.where(Call.guessed == false())
    sub = rows.where(*_owned_calls(period, tz)).subquery()
    return (select(sub.c.expert_id, sub.c.day, sub.c.key, func.count().label("n"))
            .group_by(sub.c.expert_id, sub.c.day, sub.c.key))
