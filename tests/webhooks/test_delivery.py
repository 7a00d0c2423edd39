"""Deliveries to a real receiver on 127.0.0.1, on SQLite and PostgreSQL: down for an hour, then 500s, then
back — it gets everything, in order per call, each delivery once; slow, redirecting and forbidden
receivers get a precise error and the sender goes on."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from dialer.records import CallRecord
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.webhooks.events import CALL_ANSWERED, CALL_ENDED, CALL_STARTED
from service.webhooks.subscriptions import SubscriptionsRepository
from tests.service.builders import T0, closed_call, open_call
from tests.webhooks.receiver import Clock, Receiver, dispatcher, drain, outbox, subscribe


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.start()
    yield found
    await found.stop()


def accepted(receiver: Receiver) -> dict[str, list[str]]:
    """Subject → the events the receiver answered 2xx to, in arrival order (the 500s left out)."""
    by_subject: dict[str, list[str]] = {}
    for item in receiver.received:
        by_subject.setdefault(item.subject, []).append(item.event)
    return by_subject


def talking(linkedid: str) -> CallRecord:
    return dataclasses.replace(open_call(linkedid), answered_at=T0 + timedelta(seconds=5))


async def write_calls(ledger: LedgerRepository) -> None:
    """Three calls in four batches: L-1 rings, is answered, ends; L-2 rings and ends; L-3 is first seen ended."""
    await ledger.upsert_calls([open_call("L-1"), open_call("L-2")])
    await ledger.upsert_calls([talking("L-1")])
    await ledger.upsert_calls([closed_call("L-1"), closed_call("L-2", answered_at=None, talk_s=0.0)])
    await ledger.upsert_calls([closed_call("L-3")])


IN_ORDER = {"call:L-1": [CALL_STARTED, CALL_ANSWERED, CALL_ENDED], "call:L-2": [CALL_STARTED, CALL_ENDED],
            "call:L-3": [CALL_STARTED, CALL_ANSWERED, CALL_ENDED]}


async def test_a_receiver_down_for_an_hour_gets_everything_in_order(db_sessions: SessionMaker,
                                                                  receiver: Receiver) -> None:
    _, receiver.secret = await subscribe(db_sessions, receiver.url)
    await receiver.stop()  # down: nothing listens on its port
    clock = Clock()
    sender = dispatcher(db_sessions, clock)
    await sender.start()
    try:
        ledger = LedgerRepository(db_sessions)
        await ledger.upsert_calls([open_call("L-1"), open_call("L-2")])
        for minute in range(60):  # an hour of attempts while the calls go on
            await sender.run_once()
            if minute == 10:
                await ledger.upsert_calls([talking("L-1")])
            if minute == 30:
                await ledger.upsert_calls([closed_call("L-1"), closed_call("L-2", answered_at=None, talk_s=0.0)])
            clock.advance(minutes=1)
        await ledger.upsert_calls([closed_call("L-3")])
        await sender.run_once()
        tried = [row for row in await outbox(db_sessions) if row.attempts]
        assert {row.event for row in tried} == {CALL_STARTED}  # only each call's first event was tried
        assert all(f"Не удалось соединиться с 127.0.0.1:{receiver.port}" in (row.last_error or "") for row in tried)
        assert {row.status for row in await outbox(db_sessions)} == {"pending"}

        receiver.mode = "fail"
        await receiver.start()
        clock.advance(hours=1)
        await sender.run_once()
        assert {r.subject for r in receiver.received} == {"call:L-1", "call:L-2", "call:L-3"}
        failed = [row for row in await outbox(db_sessions) if row.last_status_code == 500]
        assert len(failed) == 3 and all(row.last_error == "HTTP 500 Internal Server Error: база CRM недоступна"
                                        for row in failed)

        receiver.mode, receiver.received = "ok", []
        clock.advance(hours=1)
        await drain(sender, clock)
    finally:
        await sender.close()
    assert accepted(receiver) == IN_ORDER
    assert len(receiver.unique()) == len(receiver.received) == 8  # each delivery once
    assert all(item.signed for item in receiver.received)
    rows = await outbox(db_sessions)
    assert {row.status for row in rows} == {"delivered"}
    assert sorted(item.delivery_id for item in receiver.received) == sorted(row.delivery_id for row in rows)


async def test_the_running_sender_is_woken_by_a_commit(db_sessions: SessionMaker, receiver: Receiver) -> None:
    """poll_s is long here: the delivery goes out at once because the commit wakes the sender."""
    _, receiver.secret = await subscribe(db_sessions, receiver.url, (CALL_ENDED,))
    sender = dispatcher(db_sessions, poll_s=60)
    await sender.start()
    task = asyncio.create_task(sender.run())
    try:
        await asyncio.sleep(0.1)  # the first pass found nothing and waits
        await write_calls(LedgerRepository(db_sessions))
        async with asyncio.timeout(10):
            while len(receiver.received) < 3:
                await receiver.arrived.wait()
                receiver.arrived.clear()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sender.close()
    assert sorted(item.subject for item in receiver.received) == ["call:L-1", "call:L-2", "call:L-3"]


async def test_a_slow_receiver_times_out_and_the_sender_goes_on(db_sessions: SessionMaker,
                                                                receiver: Receiver) -> None:
    _, receiver.secret = await subscribe(db_sessions, receiver.url, (CALL_ENDED,))
    receiver.mode, receiver.delay_s = "slow", 2.0
    await LedgerRepository(db_sessions).upsert_calls([closed_call("L-1")])
    clock = Clock()
    sender = dispatcher(db_sessions, clock, timeout_s=0.3)
    await sender.start()
    try:
        assert await sender.run_once() == 1
        (row,) = await outbox(db_sessions)
        assert (row.status, row.attempts, row.last_status_code, row.last_error, row.locked_until) == (
            "pending", 1, None, "Нет ответа за 0.3 с (таймаут).", None)
        assert row.next_attempt_at == clock.now + timedelta(seconds=10)
        receiver.mode = "ok"
        clock.advance(seconds=10)
        assert await sender.run_once() == 1
    finally:
        await sender.close()
    (row,) = await outbox(db_sessions)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 2, 204)
    assert [item.delivery_id for item in receiver.received] == [row.delivery_id] * 2  # resent under its own id


async def test_redirects_are_not_followed(db_sessions: SessionMaker, receiver: Receiver) -> None:
    await subscribe(db_sessions, receiver.url, (CALL_ENDED,))
    receiver.mode = "redirect"
    sender = dispatcher(db_sessions)
    await sender.start()
    try:
        await LedgerRepository(db_sessions).upsert_calls([closed_call("L-1")])
        await sender.run_once()
    finally:
        await sender.close()
    (row,) = await outbox(db_sessions)
    assert (row.status, row.last_status_code) == ("pending", 302)
    assert row.last_error == ("HTTP 302 Found: перенаправление на http://169.254.169.254/latest/meta-data/ "
                              "не выполняется.")
    assert len(receiver.received) == 1  # and nothing was asked of the address it pointed to


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_an_address_no_longer_allowed_is_refused_at_send_time(db_sessions: SessionMaker, receiver: Receiver,
                                                                    host: str) -> None:
    """Saved while allowed; the config (or the DNS answer) changed since: checked again before connecting."""
    hook_id, _ = await subscribe(db_sessions, receiver.url.replace("127.0.0.1", host), (CALL_ENDED,))
    sender = dispatcher(db_sessions, allow_private_hosts=())
    await sender.start()
    try:
        await LedgerRepository(db_sessions).upsert_calls([closed_call("L-1")])
        await sender.run_once()
    finally:
        await sender.close()
    assert receiver.received == []
    (row,) = await outbox(db_sessions)
    assert row.status == "pending" and (row.last_error or "").startswith("Отказано: Адрес ")
    assert "loopback" in (row.last_error or "")
    assert (await SubscriptionsRepository(db_sessions).get(hook_id)).counts["pending"] == 1
