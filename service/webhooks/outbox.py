"""The outbox: deliveries written in the transaction of the change they report, claimed and settled by
the dispatcher (service/webhooks/dispatcher.py).

Writing: `subscribers(session)` reads the active subscriptions (one small query); a source asks it
whether anyone takes its events before it builds them, then `enqueue` adds one row per (event,
subscription taking it). No subscription: nothing is read beyond that query, nothing is written.

Sending: `claim_due` takes, per (subscription, subject), only the oldest pending delivery, when it is
due and no one else is sending it (`locked_until`; SKIP LOCKED on PostgreSQL), so a call's events
go out in order; `settle` records the attempt in a transaction of its own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, event, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from service.db.engine import SessionMaker
from service.db.models import WebhookDelivery, WebhookSubscription
from service.webhooks.events import Event
from service.webhooks.retry import next_attempt

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATUSES = (PENDING, DELIVERED, FAILED)
_WAKERS: set[Callable[[], None]] = set()  # dispatchers of this process, woken after a commit with deliveries


@dataclass(frozen=True, slots=True)
class Subscribers:
    """The active subscriptions' ids by the event names they take."""

    by_event: dict[str, tuple[int, ...]]

    def wants(self, *kinds: str) -> bool:
        return any(self.by_event.get(kind) for kind in kinds)


NONE = Subscribers({})
QUIET_S = 1.0


@dataclass
class _Quiet:
    """Until when (monotonic) this process takes it that no subscription is active (see `subscribers`)."""

    until: float = 0.0


_QUIET = _Quiet()


async def subscribers(session: AsyncSession, *, hot_path: bool = False) -> Subscribers:
    """The active subscriptions, read in the caller's transaction.

    `hot_path` (the ledger's flush, measured by bench/ami_ingest.py): after a read found none, the
    next QUIET_S seconds skip the query. A subscription added or switched on in this process ends
    that at once (`subscriptions_changed`); one added by another process counts from then on within
    QUIET_S. Only "none" is remembered: a row is never written for a subscription not read here.
    """
    if hot_path and monotonic() < _QUIET.until:
        return NONE
    rows = await session.execute(select(WebhookSubscription.id, WebhookSubscription.events)
                                 .where(WebhookSubscription.active).order_by(WebhookSubscription.id))
    by_event: dict[str, list[int]] = {}
    for subscription_id, kinds in rows:
        for kind in kinds if isinstance(kinds, list) else ():
            by_event.setdefault(kind, []).append(subscription_id)
    _QUIET.until = 0.0 if by_event else monotonic() + QUIET_S
    return Subscribers({kind: tuple(ids) for kind, ids in by_event.items()})


def monotonic() -> float:
    """The quiet period's clock (a test moves it)."""
    return time.monotonic()


def subscriptions_changed() -> None:
    """A subscription was added or switched on in this process: every write looks again."""
    _QUIET.until = 0.0


async def enqueue(session: AsyncSession, events: Iterable[Event], now: datetime,
                  to: Subscribers | None = None) -> int:
    """One pending delivery per (event, subscription taking it), in the caller's transaction; how many."""
    hooks = to if to is not None else await subscribers(session)
    rows = [{"delivery_id": str(uuid.uuid4()), "subscription_id": subscription_id, "event": item.kind,
             "subject": item.subject, "payload": item.payload(), "created_at": now, "status": PENDING,
             "attempts": 0, "next_attempt_at": now}
            for item in events for subscription_id in hooks.by_event.get(item.kind, ())]
    if rows:
        await session.execute(insert(WebhookDelivery), rows)  # in event order: ids order each subject
        wake_after_commit(session)
    return len(rows)


def wake_after_commit(session: AsyncSession) -> None:
    """This process's dispatchers look at the outbox as soon as the session's transaction commits."""
    if not event.contains(session.sync_session, "after_commit", _wake_dispatchers):
        event.listen(session.sync_session, "after_commit", _wake_dispatchers)


def _wake_dispatchers(_session: Session) -> None:
    for wake in list(_WAKERS):
        wake()


def add_waker(wake: Callable[[], None]) -> None:
    _WAKERS.add(wake)


def remove_waker(wake: Callable[[], None]) -> None:
    _WAKERS.discard(wake)


@dataclass(frozen=True, slots=True)
class Due:
    """A claimed delivery with what sending it needs."""

    id: int
    delivery_id: str
    subscription_id: int
    url: str
    secret: str
    event: str
    subject: str
    payload: str
    created_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one attempt went: `ok` for a 2xx; `error` the precise reason otherwise (Russian)."""

    at: datetime
    ok: bool
    status_code: int | None = None
    error: str | None = None


async def claim_due(sessions: SessionMaker, now: datetime, lease: timedelta, limit: int) -> list[Due]:
    """Claim up to `limit` deliveries to send now: each the oldest pending one of its subscription
    and subject, due, and not being sent; they are this caller's until `now + lease`."""
    d, earlier, s = WebhookDelivery, aliased(WebhookDelivery), WebhookSubscription
    blocked = exists().where(earlier.subscription_id == d.subscription_id, earlier.subject == d.subject,
                             earlier.status == PENDING, earlier.id < d.id)
    query = (select(d.id, d.delivery_id, d.subscription_id, s.url, s.secret, d.event, d.subject, d.payload,
                    d.created_at, d.attempts)
             .join(s, s.id == d.subscription_id)
             .where(d.status == PENDING, d.next_attempt_at <= now, s.active,
                    or_(d.locked_until.is_(None), d.locked_until <= now), ~blocked)
             .order_by(d.next_attempt_at, d.id).limit(limit)
             .with_for_update(of=d, skip_locked=True))
    async with sessions.begin() as session:
        claimed = [Due(**row._mapping) for row in await session.execute(query)]
        if claimed:
            await session.execute(update(d).where(d.id.in_([c.id for c in claimed]))
                                  .values(locked_until=now + lease, last_attempt_at=now))
    return claimed


async def settle(sessions: SessionMaker, due: Due, attempt: Attempt, give_up: timedelta) -> str:
    """Record an attempt in its own transaction: delivered, pending again (with the next time) or
    failed for good; returns the status. A success brings forward the subscription's retries that
    found no receiver (no HTTP status): it is back. One it answered with an error keeps its backoff."""
    failures = due.attempts + 1
    values: dict[str, Any] = {"attempts": failures, "last_attempt_at": attempt.at, "locked_until": None,
                              "last_status_code": attempt.status_code}
    if attempt.ok:
        values.update(status=DELIVERED, delivered_at=attempt.at)
    else:
        retry_at = next_attempt(due.created_at, failures, attempt.at, give_up)
        values.update(status=FAILED if retry_at is None else PENDING, last_error=attempt.error)
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
    d = WebhookDelivery
    async with sessions.begin() as session:
        await session.execute(update(d).where(d.id == due.id).values(values))
        if attempt.ok:
            await session.execute(update(d).where(
                d.subscription_id == due.subscription_id, d.status == PENDING, d.next_attempt_at > attempt.at,
                d.last_status_code.is_(None), or_(d.locked_until.is_(None), d.locked_until <= attempt.at))
                .values(next_attempt_at=attempt.at))
    return str(values["status"])


async def retry_now(session: AsyncSession, subscription_id: int, delivery_ids: Sequence[int] | None,
                    now: datetime) -> int:
    """Failed deliveries of the subscription (these ids, or all) pending again, due now: one more
    attempt each (a failure then is final again once the give-up period is over)."""
    d = WebhookDelivery
    condition = and_(d.subscription_id == subscription_id, d.status == FAILED)
    if delivery_ids is not None:
        condition = and_(condition, d.id.in_(list(delivery_ids)))
    result = await session.execute(update(d).where(condition).values(status=PENDING, next_attempt_at=now,
                                                                      locked_until=None))
    if result.rowcount:  # type: ignore[attr-defined]
        wake_after_commit(session)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def purge(sessions: SessionMaker, before: datetime) -> int:
    """Delete delivered and failed deliveries of events older than `before`; how many."""
    d = WebhookDelivery
    async with sessions.begin() as session:
        result = await session.execute(delete(d).where(d.status.in_((DELIVERED, FAILED)), d.created_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
