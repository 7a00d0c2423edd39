"""The admins' webhook subscriptions and their delivery log (the pages: service/webhooks/views.py)."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update

from service.db.engine import SessionMaker
from service.db.models import Expert, WebhookDelivery, WebhookSubscription
from service.webhooks.errors import UnknownSubscription
from service.webhooks.events import EVENTS
from service.webhooks.outbox import STATUSES, retry_now, subscriptions_changed

LOG_ROWS = 200  # deliveries on one page of the log


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    id: int
    url: str
    events: tuple[str, ...]
    secret: str
    active: bool
    created_at: datetime
    created_by: str | None  # the admin's name
    counts: dict[str, int]  # status → deliveries in the log


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    delivery_id: str
    event: str
    subject: str
    created_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None


def new_secret() -> str:
    """The signing secret: generated here, never typed (256 bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


class SubscriptionsRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def create(self, url: str, events: Collection[str], author_id: int | None, now: datetime) -> int:
        """A new active subscription (the URL already checked: service/webhooks/resolve.py); its id."""
        unknown = set(events) - set(EVENTS)
        if unknown or not events:
            raise ValueError(f"unknown or no events: {sorted(unknown)}")
        row = WebhookSubscription(url=url, events=[e for e in EVENTS if e in events], secret=new_secret(),
                                  active=True, created_at=now, created_by=author_id)
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()
        subscriptions_changed()
        return row.id

    async def all(self) -> list[SubscriptionRow]:
        s, d = WebhookSubscription, WebhookDelivery
        async with self._sessions() as session:
            rows = (await session.execute(select(s, Expert.full_name).outerjoin(Expert, Expert.id == s.created_by)
                                          .order_by(s.id))).all()
            counted = await session.execute(select(d.subscription_id, d.status, func.count())
                                            .group_by(d.subscription_id, d.status))
        counts: dict[int, dict[str, int]] = {}
        for subscription_id, status, n in counted:
            counts.setdefault(subscription_id, dict.fromkeys(STATUSES, 0))[status] = n
        return [SubscriptionRow(sub.id, sub.url, tuple(sub.events or ()), sub.secret, sub.active, sub.created_at,
                                name, counts.get(sub.id, dict.fromkeys(STATUSES, 0))) for sub, name in rows]

    async def get(self, subscription_id: int) -> SubscriptionRow:
        found = [row for row in await self.all() if row.id == subscription_id]
        if not found:
            raise UnknownSubscription("Нет такой подписки: её могли удалить.")
        return found[0]

    async def set_active(self, subscription_id: int, active: bool) -> None:
        async with self._sessions.begin() as session:
            result = await session.execute(update(WebhookSubscription)
                                           .where(WebhookSubscription.id == subscription_id).values(active=active))
            _found(result.rowcount)  # type: ignore[attr-defined]
        subscriptions_changed()

    async def delete(self, subscription_id: int) -> None:
        """The subscription and its whole delivery log (pending deliveries are not sent)."""
        async with self._sessions.begin() as session:
            result = await session.execute(delete(WebhookSubscription)
                                           .where(WebhookSubscription.id == subscription_id))
            _found(result.rowcount)  # type: ignore[attr-defined]

    async def deliveries(self, subscription_id: int, limit: int = LOG_ROWS) -> list[DeliveryRow]:
        """The newest deliveries first."""
        d = WebhookDelivery
        query = (select(d.id, d.delivery_id, d.event, d.subject, d.created_at, d.status, d.attempts,
                        d.next_attempt_at, d.last_attempt_at, d.last_status_code, d.last_error, d.delivered_at)
                 .where(d.subscription_id == subscription_id).order_by(d.id.desc()).limit(limit))
        async with self._sessions() as session:
            return [DeliveryRow(**row._mapping) for row in await session.execute(query)]

    async def retry(self, subscription_id: int, delivery_ids: Sequence[int] | None, now: datetime) -> int:
        """Failed deliveries (these, or all of the subscription) tried again now; how many."""
        async with self._sessions.begin() as session:
            return await retry_now(session, subscription_id, delivery_ids, now)


def _found(rowcount: int) -> None:
    if not rowcount:
        raise UnknownSubscription("Нет такой подписки: её могли удалить.")
