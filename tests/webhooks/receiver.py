"""A real webhook receiver on 127.0.0.1 for the tests, and the small helpers they share.

The receiver can be down (not listening), answer 500, answer late, or hold a request until released;
it checks every signature and records every request, duplicates included (`unique()` drops them).
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from service.db.engine import SessionMaker
from service.db.models import WebhookDelivery
from service.settings import WebhooksSettings
from service.webhooks import signing
from service.webhooks.dispatcher import Dispatcher
from service.webhooks.events import EVENTS
from service.webhooks.subscriptions import SubscriptionsRepository
from service.webhooks.urls import UrlPolicy

LOCAL_ONLY = ("127.0.0.1",)  # the receiver's address: allowed explicitly, as a deployer would


@dataclass(frozen=True)
class Received:
    delivery_id: str
    event: str
    subject: str
    data: dict[str, Any]
    signed: bool  # the signature verified with the subscription's secret


@dataclass
class Receiver:
    """`mode`: ok | fail (500) | redirect (302 to the metadata address) | slow (answers after `delay_s`) |
    hold (waits for `release`)."""

    secret: str = ""
    mode: str = "ok"
    delay_s: float = 0.0
    port: int = 0
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        if not self.port:
            with socket.socket() as probe:  # a fixed port, so a restart comes back at the same URL
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        content = await request.read()
        body = json.loads(content)
        signed = signing.verify(self.secret, request.headers.get(signing.SIGNATURE_HEADER, ""), content,
                                datetime.now(UTC), tolerance_s=10 ** 9)  # the tests' clocks run ahead
        assert request.headers[signing.DELIVERY_HEADER] == body["delivery_id"]
        assert request.headers[signing.EVENT_HEADER] == body["event"]
        self.received.append(Received(body["delivery_id"], body["event"], body["subject"], body["data"], signed))
        self.arrived.set()
        if self.mode == "fail":
            return web.Response(status=500, text="база CRM недоступна")
        if self.mode == "redirect":
            raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")
        if self.mode == "slow":
            await asyncio.sleep(self.delay_s)
        if self.mode == "hold":
            await self.release.wait()
        return web.Response(status=204)

    def unique(self) -> list[Received]:
        """What a receiver that dedupes on X-DSDesk-Delivery keeps, in arrival order."""
        seen: dict[str, Received] = {}
        for item in self.received:
            seen.setdefault(item.delivery_id, item)
        return list(seen.values())


class Clock:
    """The dispatcher's time, moved by the test."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def subscribe(sessions: SessionMaker, url: str, events: tuple[str, ...] = EVENTS) -> tuple[int, str]:
    """A subscription written as the admin page writes it; (id, secret)."""
    repo = SubscriptionsRepository(sessions)
    hook_id = await repo.create(url, events, None, datetime.now(UTC))
    return hook_id, (await repo.get(hook_id)).secret


def dispatcher(sessions: SessionMaker, clock: Clock | None = None, **settings: Any) -> Dispatcher:
    options = WebhooksSettings.model_validate({"allow_private_hosts": LOCAL_ONLY, **settings})
    policy = UrlPolicy.of(options.allow_private_hosts, "127.0.0.1", 8080)
    return Dispatcher(sessions, options, policy, clock or (lambda: datetime.now(UTC)))


async def outbox(sessions: SessionMaker) -> list[WebhookDelivery]:
    async with sessions() as session:
        return list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


async def drain(sender: Dispatcher, clock: Clock | None = None, rounds: int = 50) -> None:
    """Run passes until nothing is due (moving the clock a minute between passes when given)."""
    for _ in range(rounds):
        if not await sender.run_once():
            if clock is None:
                return
            clock.advance(minutes=1)
            if not await sender.run_once():
                return
