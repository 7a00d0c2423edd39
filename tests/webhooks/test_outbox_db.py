"""The outbox on SQLite and PostgreSQL: each source writes its events in its own transaction, only for the
subscriptions taking them; the dispatcher's claim keeps a subject's order and settles each attempt."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from dialer.errors import RecordsRefused
from dialer.records import Outcome
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.models import WebhookDelivery, WebhookSubscription
from service.db.plan import PlanRepository
from service.db.transitions import TransitionsRepository
from service.db.wrapups import WrapUpRepository
from service.desk.wrapup import TransitionChoice, WrapUpInput, WrapUpResult
from service.transition.machine import Status
from service.webhooks import outbox
from service.webhooks.events import (
    CALL_ANSWERED,
    CALL_ENDED,
    CALL_STARTED,
    PLAN_BUILT,
    TRANSITION_CHANGED,
    WRAPUP_SAVED,
)
from service.webhooks.outbox import Attempt
from service.webhooks.subscriptions import SubscriptionsRepository
from tests.service.builders import T0, closed_call, open_call
from tests.service.planning import at, item, plan, seed_portfolio
from tests.webhooks.receiver import outbox as rows
from tests.webhooks.receiver import subscribe

URL = "https://crm.example.ru/hook"
CALLS = (CALL_STARTED, CALL_ANSWERED, CALL_ENDED)


def kinds(found: list[WebhookDelivery]) -> list[tuple[str, str]]:
    return [(row.event, row.subject) for row in found]


async def test_without_a_subscription_nothing_is_written(db_sessions: SessionMaker) -> None:
    await seed_portfolio(db_sessions)
    await LedgerRepository(db_sessions).upsert_calls([open_call("L-1"), closed_call("L-2")])
    hook_id, _ = await subscribe(db_sessions, URL, (WRAPUP_SAVED,))  # takes no call event
    await LedgerRepository(db_sessions).upsert_calls([closed_call("L-1"), closed_call("L-3")])
    await SubscriptionsRepository(db_sessions).set_active(hook_id, False)
    await WrapUpRepository(db_sessions).save("L-1", 1, wrapup(), T0.date(), T0)
    assert await rows(db_sessions) == []


async def test_a_calls_events_follow_its_writes(db_sessions: SessionMaker) -> None:
    await seed_portfolio(db_sessions)
    await subscribe(db_sessions, URL, CALLS)
    ledger = LedgerRepository(db_sessions)
    await ledger.upsert_calls([open_call("L-1")])
    await ledger.upsert_calls([open_call("L-1")])  # the same again: nothing
    await ledger.upsert_calls([dataclasses.replace(open_call("L-1"), answered_at=T0 + timedelta(seconds=5))])
    await ledger.upsert_calls([closed_call("L-1", planned_call_id=None)])
    await ledger.upsert_calls([closed_call("L-1"), open_call("L-1")])  # replayed, and an open one late
    await ledger.upsert_calls([open_call("L-1")])  # a closed call is never reopened
    found = await rows(db_sessions)
    assert kinds(found) == [(CALL_STARTED, "call:L-1"), (CALL_ANSWERED, "call:L-1"), (CALL_ENDED, "call:L-1")]
    ended = json.loads(found[-1].payload)
    assert (ended["expert_login"], ended["client_id"], ended["planned_call_id"], ended["outcome"]) == (
        "ivanova", "C-501", "PC-1001", "answered")  # the plan id the last record lacked is the ledger's
    assert {row.status for row in found} == {"pending"} and len({row.delivery_id for row in found}) == 3


async def test_a_call_first_seen_closed_gives_all_its_events_in_order(db_sessions: SessionMaker) -> None:
    first, second = (await subscribe(db_sessions, URL, CALLS))[0], (await subscribe(db_sessions, URL, (CALL_ENDED,)))[0]
    missed = closed_call("L-2", answered_at=None, talk_s=0.0, outcome=Outcome.NO_ANSWER)
    await LedgerRepository(db_sessions).upsert_calls([closed_call("L-1"), missed])
    found = await rows(db_sessions)
    assert [(r.subscription_id, r.event, r.subject) for r in found] == [
        (first, CALL_STARTED, "call:L-1"), (first, CALL_ANSWERED, "call:L-1"), (first, CALL_ENDED, "call:L-1"),
        (second, CALL_ENDED, "call:L-1"),
        (first, CALL_STARTED, "call:L-2"), (first, CALL_ENDED, "call:L-2"), (second, CALL_ENDED, "call:L-2")]


async def test_a_failed_write_leaves_no_event(db_sessions: SessionMaker) -> None:
    """The outbox is written in the ledger's transaction: a refused batch leaves neither."""
    await subscribe(db_sessions, URL, CALLS)
    too_long = closed_call("L-1", client_number="7" * 40)  # over calls.client_number's 32 (PostgreSQL refuses)
    try:
        await LedgerRepository(db_sessions).upsert_calls([closed_call("L-0"), too_long])
    except RecordsRefused:  # the ledger's own error mapping (store_error) is unchanged
        assert await rows(db_sessions) == []
    else:  # SQLite does not enforce VARCHAR lengths: both calls and their events are in
        assert len(await rows(db_sessions)) == 6


def wrapup(transition: TransitionChoice | None = None) -> WrapUpInput:
    return WrapUpInput(result=WrapUpResult.CONTACT_MADE, topic="Обучение", logged_in=True, productive=False,
                       comment="Договорились", next_contact_at=None, transition=transition)


async def test_a_wrapup_is_ordered_after_its_call_and_carries_the_campaign_step(db_sessions: SessionMaker) -> None:
    await seed_portfolio(db_sessions)
    await subscribe(db_sessions, URL, (CALL_ENDED, WRAPUP_SAVED, TRANSITION_CHANGED))
    await LedgerRepository(db_sessions).upsert_calls([closed_call("L-1", client_id="C-3")])
    await TransitionsRepository(db_sessions).assign(["C-3"], "ivanova", None, T0)
    step = TransitionChoice(Status.AGREED)
    await WrapUpRepository(db_sessions).save("L-1", 1, wrapup(transition=step), T0.date(), T0 + timedelta(hours=1))
    found = await rows(db_sessions)
    assert kinds(found) == [(CALL_ENDED, "call:L-1"), (TRANSITION_CHANGED, "client:C-3"),
                            (TRANSITION_CHANGED, "client:C-3"), (WRAPUP_SAVED, "call:L-1")]
    saved = json.loads(found[-1].payload)
    assert {k: saved[k] for k in ("linkedid", "expert_login", "client_id", "result", "topic", "transition")} == {
        "linkedid": "L-1", "expert_login": "ivanova", "client_id": "C-3", "result": "contact_made",
        "topic": "Обучение", "transition": "agreed"}
    candidate, agreed = json.loads(found[1].payload), json.loads(found[2].payload)
    assert (candidate["status"], candidate["steps"], candidate["expert_login"]) == ("candidate", ["candidate"],
                                                                                   "ivanova")
    assert (agreed["status"], agreed["steps"], agreed["call_linkedid"], agreed["client_name"]) == (
        "agreed", ["offered", "agreed"], "L-1", "ИП Кедров")


async def test_a_refused_campaign_step_writes_no_event(db_sessions: SessionMaker) -> None:
    await seed_portfolio(db_sessions)
    await LedgerRepository(db_sessions).upsert_calls([closed_call("L-1", client_id="C-3")])
    await subscribe(db_sessions, URL, (WRAPUP_SAVED, TRANSITION_CHANGED))
    with pytest.raises(ValueError):  # MOVED straight from nothing: the machine refuses, nothing is saved
        await WrapUpRepository(db_sessions).save("L-1", 1, wrapup(transition=TransitionChoice(Status.MOVED)),
                                                 T0.date(), T0)
    assert await rows(db_sessions) == []


async def test_a_plan_build_is_one_event_per_experts_day(db_sessions: SessionMaker) -> None:
    await seed_portfolio(db_sessions)
    await subscribe(db_sessions, URL, (PLAN_BUILT,))
    day = T0.date()
    built = plan(day, item("K-1", "C-1", at(day, 10)), item("K-3", "C-2", at(day, 9)),
                 item("K-6", "C-4", at(day, 11), expert="petrov"), notes=("меньше 15",))
    repo = PlanRepository(db_sessions)
    await repo.save_plan(built, T0)
    await repo.save_plan(built, T0)  # saved again: nothing new, no event
    found = await rows(db_sessions)
    assert kinds(found) == [(PLAN_BUILT, f"plan:{day}:ivanova"), (PLAN_BUILT, f"plan:{day}:petrov")]
    ivanova = json.loads(found[0].payload)
    assert [(i["contact_id"], i["client_id"]) for i in ivanova["items"]] == [("K-3", "C-2"), ("K-1", "C-1")]
    assert ivanova["notes"] == ["меньше 15"] and ivanova["items"][0]["public_id"].startswith("PC-")
    await repo.save_plan(plan(day, item("K-2", "C-1", at(day, 12))), T0)  # a top-up: one more
    assert len(await rows(db_sessions)) == 3


# ---- claiming and settling ---------------------------------------------------------------------

LEASE = timedelta(seconds=70)
DAY = timedelta(hours=24)


async def test_only_the_oldest_pending_delivery_of_a_subject_is_claimed(db_sessions: SessionMaker) -> None:
    await subscribe(db_sessions, URL, CALLS)
    await LedgerRepository(db_sessions).upsert_calls([closed_call("L-1"), open_call("L-2")])
    now = datetime.now(UTC) + timedelta(seconds=1)
    first = await outbox.claim_due(db_sessions, now, LEASE, 10)
    assert [(d.event, d.subject) for d in first] == [(CALL_STARTED, "call:L-1"), (CALL_STARTED, "call:L-2")]
    assert await outbox.claim_due(db_sessions, now, LEASE, 10) == []  # claimed: not twice
    refused = Attempt(now, False, None, "Не удалось соединиться")
    assert await outbox.settle(db_sessions, first[0], refused, DAY) == "pending"
    assert await outbox.claim_due(db_sessions, now + timedelta(seconds=5), LEASE, 10) == []  # waits its 10 s
    assert await outbox.settle(db_sessions, first[1], Attempt(now, True, 204), DAY) == "delivered"
    # The success brought the unreached one forward (the receiver is back): it, and only it, comes next.
    again = await outbox.claim_due(db_sessions, now, LEASE, 10)
    assert [(d.event, d.subject, d.attempts) for d in again] == [(CALL_STARTED, "call:L-1", 1)]
    # One the receiver answered with an error keeps its backoff, whatever succeeds meanwhile.
    assert await outbox.settle(db_sessions, again[0], Attempt(now, False, 500, "HTTP 500"), DAY) == "pending"
    await LedgerRepository(db_sessions).upsert_calls([open_call("L-9")])
    written = datetime.now(UTC) + timedelta(seconds=1)  # L-9's event is due from when it was written
    (other,) = await outbox.claim_due(db_sessions, written, LEASE, 10)
    await outbox.settle(db_sessions, other, Attempt(written, True, 204), DAY)
    assert await outbox.claim_due(db_sessions, now + timedelta(seconds=29), LEASE, 10) == []
    again = await outbox.claim_due(db_sessions, now + timedelta(seconds=30), LEASE, 10)
    assert [(d.subject, d.attempts) for d in again] == [("call:L-1", 2)]
    # A crashed sender's claim runs out: the same delivery is claimed again, with the same id.
    later = await outbox.claim_due(db_sessions, now + timedelta(seconds=30) + LEASE, LEASE, 10)
    assert [d.delivery_id for d in later] == [again[0].delivery_id]


async def test_a_delivery_given_up_does_not_block_the_next(db_sessions: SessionMaker) -> None:
    hook_id, _ = await subscribe(db_sessions, URL, CALLS)
    await LedgerRepository(db_sessions).upsert_calls([closed_call("L-1")])
    late = datetime.now(UTC) + DAY
    head = (await outbox.claim_due(db_sessions, late, LEASE, 10))[0]
    assert await outbox.settle(db_sessions, head, Attempt(late, False, None, "таймаут"), DAY) == "failed"
    nxt = await outbox.claim_due(db_sessions, late, LEASE, 10)
    assert [d.event for d in nxt] == [CALL_ANSWERED]
    failed = [r for r in await rows(db_sessions) if r.status == "failed"]
    assert [(r.event, r.attempts, r.last_error, r.next_attempt_at < late) for r in failed] == [
        (CALL_STARTED, 1, "таймаут", True)]
    repo = SubscriptionsRepository(db_sessions)
    assert await repo.retry(hook_id, [failed[0].id + 100], late) == 0  # another's id: nothing
    assert await repo.retry(hook_id, [failed[0].id], late) == 1
    assert (await repo.get(hook_id)).counts == {"pending": 3, "delivered": 0, "failed": 0}


async def test_deleting_a_subscription_deletes_its_log_and_old_rows_are_purged(db_sessions: SessionMaker) -> None:
    first, _ = await subscribe(db_sessions, URL, CALLS)
    await subscribe(db_sessions, URL, (CALL_ENDED,))
    await LedgerRepository(db_sessions).upsert_calls([closed_call("L-1")])
    await SubscriptionsRepository(db_sessions).delete(first)
    assert [r.event for r in await rows(db_sessions)] == [CALL_ENDED]
    due = (await outbox.claim_due(db_sessions, datetime.now(UTC) + timedelta(seconds=1), LEASE, 10))[0]
    await outbox.settle(db_sessions, due, Attempt(datetime.now(UTC), True, 200), DAY)
    assert await outbox.purge(db_sessions, datetime.now(UTC) - timedelta(days=1)) == 0
    assert await outbox.purge(db_sessions, datetime.now(UTC) + timedelta(seconds=1)) == 1
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


async def test_the_ledgers_flush_looks_for_subscriptions_at_most_once_a_second_while_there_are_none(
        db_sessions: SessionMaker, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(outbox, "monotonic", lambda: clock[0])
    ledger = LedgerRepository(db_sessions)
    await ledger.upsert_calls([closed_call("L-1")])  # none active: remembered for a second
    async with db_sessions.begin() as session:  # another process adds one (not through this one's repository)
        await session.execute(insert(WebhookSubscription).values(
            url=URL, events=[CALL_ENDED], secret="s", active=True, created_at=datetime.now(UTC)))
    await ledger.upsert_calls([closed_call("L-2")])
    assert await rows(db_sessions) == []
    clock[0] += outbox.QUIET_S
    await ledger.upsert_calls([closed_call("L-3")])
    assert kinds(await rows(db_sessions)) == [(CALL_ENDED, "call:L-3")]
    # In this process, adding one ends the quiet at once; the other sources never skip the query.
    await SubscriptionsRepository(db_sessions).delete((await SubscriptionsRepository(db_sessions).all())[0].id)
    await ledger.upsert_calls([closed_call("L-4")])
    await subscribe(db_sessions, URL, (CALL_ENDED,))
    await ledger.upsert_calls([closed_call("L-5")])
    assert kinds(await rows(db_sessions)) == [(CALL_ENDED, "call:L-5")]
