"""The rows «Что работает» counts (service/coaching/what_works.py): the calls of a period on which a step
script's steps were logged, each with its steps' times and its wrap-up's result."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select, true

from service.coaching.step_times import StepEntry, step_times
from service.coaching.what_works import LoggedCall
from service.db.engine import SessionMaker
from service.db.figures_queries import logged_in_effective, utc_range
from service.db.models import Call, CallLogin, CallStep, Expert, StepScriptVersion, WrapUp
from service.figures.model import Period

CONTACT_RESULTS = ("contact_made", "refused")  # SPEC-NOTES: a refusal is a contact, not productive
CALL_SPAN = timedelta(hours=12)  # longer than any call: a call started in the period has its steps before this


async def logged_calls(sessions: SessionMaker, script_id: int, period: Period, tz: ZoneInfo,
                       now: datetime) -> list[LoggedCall]:
    start, end = utc_range(period, tz)
    contact = WrapUp.result.in_(CONTACT_RESULTS)
    query = (
        select(Call.id, CallStep.seq, CallStep.step_key, CallStep.entered_at, Call.ended_at, Call.talk_s,
               Call.guessed, Expert.full_name, and_(contact, WrapUp.productive == true()).label("productive"),
               and_(contact, logged_in_effective(True)).label("logged_in"))
        .select_from(CallStep)
        .join(StepScriptVersion, StepScriptVersion.id == CallStep.version_id)
        .join(Call, Call.linkedid == CallStep.linkedid)
        .join(Expert, Expert.id == CallStep.expert_id)
        .outerjoin(WrapUp, WrapUp.call_id == Call.id)
        .outerjoin(CallLogin, CallLogin.call_id == Call.id)
        .where(StepScriptVersion.script_id == script_id, Call.started_at >= start, Call.started_at < end,
               # A step is entered during its call: this bound lets the steps' time index narrow the rows
               # read to the period's instead of every step ever logged under the script.
               CallStep.entered_at >= start, CallStep.entered_at < end + CALL_SPAN)
        .order_by(Call.id, CallStep.seq))
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    entries: dict[int, list[StepEntry]] = defaultdict(list)
    calls: dict[int, tuple[datetime | None, float, bool, str, bool, bool]] = {}
    for row in rows:
        entries[row.id].append(StepEntry(row.seq, row.step_key, row.entered_at))
        calls[row.id] = (row.ended_at, float(row.talk_s or 0), bool(row.guessed), row.full_name,
                         bool(row.productive), bool(row.logged_in))
    return [LoggedCall(expert=name, steps=step_times(entries[call_id], ended_at, now), talk_s=talk_s,
                       productive=productive, logged_in=logged_in, guessed=guessed)
            for call_id, (ended_at, talk_s, guessed, name, productive, logged_in) in calls.items()]
