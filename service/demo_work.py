"""How the demo department's simulated Experts (anna, pavel) work: their past days' calls, how they
wrap a call up, and when the client really logged in during it. Pure; `now`, zone and RNG given.

A realistic mix, so a fresh `make run` shows figures that mean something: most answered calls of
several minutes are contacts, most of those long enough are marked productive (never one under the
threshold), about half of the longer contacts get the client into the system, and the Expert's
tick says so right most of the time, not always: the figures' «расхождения» are real.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialer.records import CallRecord, Direction, Outcome
from service.desk.wrapup import WrapUpInput, WrapUpResult
from texts.plan import TOPIC_TRANSITION

NOT_REACHED = frozenset({Outcome.NO_ANSWER, Outcome.BUSY, Outcome.REJECTED, Outcome.CONGESTION,
                         Outcome.CANCELLED, Outcome.MISSED})
# What a demo Expert writes, by result (None: nothing).
COMMENTS: dict[WrapUpResult, tuple[str | None, ...]] = {
    WrapUpResult.CONTACT_MADE: ("Показала поиск по ситуации, клиент сам нашёл документ",
                                "Рассказала об изменениях в НДФЛ, договорились о семинаре",
                                "Прошли вместе обзор новостей, вопросов нет", None),
    WrapUpResult.CALLBACK: ("Клиент занят, просил перезвонить после обеда", "Просили перезвонить завтра утром"),
    WrapUpResult.REFUSED: ("Отказались от разговора: нет времени", None),
    WrapUpResult.WRONG_NUMBER: ("Номер другой организации", None),
    WrapUpResult.NOT_REACHED: (None,),
}
# Past days' outcomes (outbound), by weight: what an Expert's day of planned calls looks like.
PAST_OUTCOMES = ((Outcome.ANSWERED, 62), (Outcome.NO_ANSWER, 18), (Outcome.BUSY, 8), (Outcome.REJECTED, 5),
                 (Outcome.CONGESTION, 2), (Outcome.EXPERT_NO_ANSWER, 3))
TICK_RIGHT = 0.88  # how often the Expert's «клиент заходил» matches what the usage data shows


@dataclass(frozen=True, slots=True)
class DemoWork:
    """A wrap-up as the demo Expert saves it, and the client's login during the talk (if any)."""

    wrapup: WrapUpInput
    login: tuple[datetime, datetime] | None


def demo_wrapup(call: CallRecord, rng: random.Random, topics: Sequence[str], min_productive_talk_s: float,
                tz: ZoneInfo) -> DemoWork | None:
    """The demo Expert's wrap-up of a finished call; None when there is nothing to wrap up (her own miss)."""
    if call.outcome is None or call.ended_at is None or call.outcome is Outcome.EXPERT_NO_ANSWER:
        return None
    # The demo's calls are to clients on ДС already: never the move to ДС (found trying issue 15:
    # «Переход на ДС» topped the month's topics while the funnel showed two offers).
    offered = [t for t in topics if t != TOPIC_TRANSITION]
    topic = rng.choice(offered) if offered else None
    if call.outcome in NOT_REACHED or call.answered_at is None:
        return DemoWork(WrapUpInput(WrapUpResult.NOT_REACHED, topic, False, False, None, None), None)
    talk = call.talk_s
    result = _answered_result(talk, rng)
    contact = result in (WrapUpResult.CONTACT_MADE, WrapUpResult.REFUSED)
    productive = result is WrapUpResult.CONTACT_MADE and talk >= min_productive_talk_s and rng.random() < 0.85
    login = _login(call.answered_at, talk, rng) if contact and rng.random() < (0.55 if talk >= 180 else 0.15) else None
    ticked = (login is not None) == (rng.random() < TICK_RIGHT) if contact else False
    next_contact = None
    if result is WrapUpResult.CALLBACK:
        tomorrow = call.ended_at.astimezone(tz).date() + timedelta(days=1)
        next_contact = datetime.combine(tomorrow, time(11, 0), tzinfo=tz)
    comment = rng.choice(COMMENTS[result])
    return DemoWork(WrapUpInput(result, topic, ticked, productive, comment, next_contact), login)


def _answered_result(talk_s: float, rng: random.Random) -> WrapUpResult:
    roll = rng.random()
    if talk_s >= 60:
        return (WrapUpResult.CONTACT_MADE if roll < 0.88 else
                WrapUpResult.REFUSED if roll < 0.92 else WrapUpResult.CALLBACK)
    return (WrapUpResult.CONTACT_MADE if roll < 0.4 else WrapUpResult.CALLBACK if roll < 0.7 else
            WrapUpResult.WRONG_NUMBER if roll < 0.85 else WrapUpResult.REFUSED)


def _login(answered_at: datetime, talk_s: float, rng: random.Random) -> tuple[datetime, datetime]:
    start = answered_at + timedelta(seconds=talk_s * rng.uniform(0.15, 0.6))
    return start, start + timedelta(seconds=rng.uniform(60, 60 + talk_s * 0.5))


def past_calls(day: date, ext: str, clients: Sequence[tuple[str, str]], rng: random.Random,
               tz: ZoneInfo) -> list[CallRecord]:
    """One demo Expert's outbound calls of a past working day: 14–17, 09:00–17:30, a call's talk
    mostly 3–12 minutes. `clients`: (client id, phone) to call."""
    records = []
    moment = datetime.combine(day, time(9, 0), tzinfo=tz) + timedelta(minutes=rng.uniform(0, 20))
    for n in range(rng.randint(14, 17)):
        client_id, phone = rng.choice(list(clients))
        outcome = rng.choices([o for o, _ in PAST_OUTCOMES], weights=[w for _, w in PAST_OUTCOMES])[0]
        ring = rng.uniform(3, 18)
        talk = min(max(rng.lognormvariate(6.0, 0.7), 20.0), 1500.0) if outcome is Outcome.ANSWERED else 0.0
        answered = moment + timedelta(seconds=ring) if outcome is Outcome.ANSWERED else None
        ended = moment + timedelta(seconds=ring + talk)
        records.append(CallRecord(
            linkedid=f"demo-{day:%Y%m%d}-{ext}-{n:02d}", direction=Direction.OUTBOUND, expert_ext=ext,
            client_number=phone, started_at=moment, answered_at=answered, ended_at=ended,
            duration_s=ring + talk, talk_s=talk, outcome=outcome, hangup_cause=16 if answered else 19,
            recording=None, planned_call_id=None, client_id=client_id, ringing_at=moment + timedelta(seconds=1),
            hangup_by="expert" if answered else None))
        moment = ended + timedelta(minutes=rng.uniform(4, 20))
        if moment.astimezone(tz).time() > time(17, 30):
            break
    return records
