"""The outbox across a crash, on SQLite and PostgreSQL, with real processes killed by SIGKILL.

1. Killed between the commit and the send: the change and its deliveries were committed together;
   a sender started afterwards delivers every event exactly once, in order per call.
2. Killed after the send, before the mark: the receiver got the deliveries, DS Desk never learnt it;
   the next sender resends them under the same X-DSDesk-Delivery ids, so a receiver that dedupes on
   it keeps exactly one per event (at least once, never a new id for the same event).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.db.engine import SessionMaker
from service.webhooks.events import CALL_ANSWERED, CALL_ENDED, CALL_STARTED, WRAPUP_SAVED
from tests.service.planning import seed_portfolio
from tests.webhooks.receiver import Clock, Received, Receiver, dispatcher, drain, outbox, subscribe

ROOT = Path(__file__).resolve().parents[2]
IN_ORDER = {"call:L-1": [CALL_STARTED, CALL_ANSWERED, CALL_ENDED, WRAPUP_SAVED],
            "call:L-2": [CALL_STARTED, CALL_ENDED], "call:L-3": [CALL_STARTED, CALL_ANSWERED, CALL_ENDED]}
EVENTS = sum(len(kinds) for kinds in IN_ORDER.values())


@contextlib.asynccontextmanager
async def process(mode: str, db_url: str, first_line: bytes) -> AsyncIterator[asyncio.subprocess.Process]:
    """tests/webhooks/crash_process.py in a process of its own, once it printed `first_line`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.webhooks.crash_process", mode, db_url,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.strip() == first_line, line
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def kill(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGKILL)
    assert await proc.wait() == -signal.SIGKILL


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.start()
    yield found
    await found.stop()


def by_subject(received: list[Received]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in received:
        found.setdefault(item.subject, []).append(item.event)
    return found


async def test_killed_between_the_commit_and_the_send(migrated_db: str, db_sessions: SessionMaker,
                                                      receiver: Receiver) -> None:
    await seed_portfolio(db_sessions)
    _, receiver.secret = await subscribe(db_sessions, receiver.url)
    async with process("produce", migrated_db, b"committed") as producer:
        await kill(producer)
    assert receiver.received == []
    pending = await outbox(db_sessions)
    assert len(pending) == EVENTS and {row.status for row in pending} == {"pending"}

    sender = dispatcher(db_sessions)  # the restarted service's sender
    await sender.start()
    try:
        await drain(sender)
    finally:
        await sender.close()
    assert by_subject(receiver.received) == IN_ORDER  # each event exactly once, in order per call
    assert len({item.delivery_id for item in receiver.received}) == len(receiver.received) == EVENTS
    assert all(item.signed for item in receiver.received)
    assert {row.status for row in await outbox(db_sessions)} == {"delivered"}


async def test_killed_after_the_send_before_the_mark(migrated_db: str, db_sessions: SessionMaker,
                                                     receiver: Receiver) -> None:
    await seed_portfolio(db_sessions)
    _, receiver.secret = await subscribe(db_sessions, receiver.url)
    async with process("produce", migrated_db, b"committed") as producer:
        await kill(producer)
    receiver.mode = "hold"  # takes each request, then never answers: the sender waits for its 2xx
    async with process("send", migrated_db, b"ready") as sender_process:
        async with asyncio.timeout(30):
            while len(receiver.received) < 3:  # the first event of each call, sent side by side
                await receiver.arrived.wait()
                receiver.arrived.clear()
        await kill(sender_process)
    first = list(receiver.received)
    assert sorted((item.subject, item.event) for item in first) == [
        ("call:L-1", CALL_STARTED), ("call:L-2", CALL_STARTED), ("call:L-3", CALL_STARTED)]
    held = [row for row in await outbox(db_sessions) if row.locked_until is not None]
    assert len(held) == 3 and all(row.status == "pending" and row.attempts == 0 for row in held)

    receiver.mode = "ok"
    receiver.release.set()
    clock = Clock(datetime.now(UTC) + timedelta(seconds=30 + 61))  # the killed sender's claims ran out
    sender = dispatcher(db_sessions, clock)
    await sender.start()
    try:
        await drain(sender, clock)
    finally:
        await sender.close()
    resent = receiver.received[len(first):]
    assert {item.delivery_id for item in first} <= {item.delivery_id for item in resent}  # the same ids again
    assert by_subject(receiver.unique()) == IN_ORDER  # deduped on X-DSDesk-Delivery: one per event
    assert len(receiver.received) == EVENTS + 3
    assert {row.status for row in await outbox(db_sessions)} == {"delivered"}
