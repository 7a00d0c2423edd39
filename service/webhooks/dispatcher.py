"""The sender: claims due deliveries from the outbox, posts them signed, records each attempt.

At least once: a delivery is marked delivered in its own transaction after the receiver's 2xx, so a
crash between the two sends it once more with the same X-DSDesk-Delivery id (the receiver dedupes on
it). A receiver that fails, hangs or cannot be reached gets a precise error in the log and the retry
schedule (service/webhooks/retry.py); nothing it does stops the dispatcher or the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import aiohttp

from service.db.engine import SessionMaker
from service.settings import WebhooksSettings
from service.webhooks import outbox, signing
from service.webhooks.errors import UnsafeUrlError
from service.webhooks.outbox import Attempt, Due
from service.webhooks.resolve import GuardedResolver
from service.webhooks.urls import UrlPolicy, check_addresses, parse_target

log = logging.getLogger(__name__)

BATCH = 16  # deliveries claimed (and sent side by side) at a time
MAX_BODY = 4096  # of a receiver's answer, read to quote in an error
ERROR_BODY = 200  # characters of it quoted
PURGE_EVERY = timedelta(hours=1)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """One per process (service/app.py: webhooks_ctx); `run()` until cancelled, `wake()` after a write."""

    def __init__(self, sessions: SessionMaker, settings: WebhooksSettings, policy: UrlPolicy,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._sessions, self._settings, self._policy, self._clock = sessions, settings, policy, clock
        self._wake = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self._purged_at: datetime | None = None
        self.last_error: str | None = None  # the last time the outbox itself could not be read or written

    @property
    def give_up(self) -> timedelta:
        return timedelta(hours=self._settings.give_up_hours)

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self._policy), use_dns_cache=False, limit=BATCH)
        self._http = aiohttp.ClientSession(connector=connector, trust_env=False, auto_decompress=False,
                                           timeout=aiohttp.ClientTimeout(total=self._settings.timeout_s))
        outbox.add_waker(self.wake)

    async def close(self) -> None:
        outbox.remove_waker(self.wake)
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def run(self) -> None:
        """Send whatever is due, then wait for a wake-up or `poll_s`; a database error is logged and retried."""
        while True:
            self._wake.clear()
            try:
                sent = await self.run_once()
                await self._purge_now_and_then()
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 — the outbox stays; the next pass tries again
                self.last_error = f"{type(e).__name__}: {e}"
                log.exception("webhooks: the outbox could not be read or written")
                sent = 0
            if sent < BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._settings.poll_s)

    async def run_once(self) -> int:
        """One pass: claim what is due, send it side by side, settle each; how many were attempted."""
        now = self._clock()
        lease = timedelta(seconds=self._settings.timeout_s + 60)
        claimed = await outbox.claim_due(self._sessions, now, lease, BATCH)
        await asyncio.gather(*(self._deliver(due) for due in claimed))
        return len(claimed)

    async def _deliver(self, due: Due) -> None:
        attempt = await self.attempt(due)
        status = await outbox.settle(self._sessions, due, attempt, self.give_up)
        if status != outbox.DELIVERED:
            log.warning("webhook %s %s to subscription %s: %s (%s)", due.event, due.delivery_id,
                        due.subscription_id, attempt.error, status)

    async def attempt(self, due: Due) -> Attempt:
        """Post one delivery; never raises for anything the receiver or the network does."""
        if self._http is None:
            raise RuntimeError("the dispatcher is not started")
        now = self._clock()
        content = signing.body(due.delivery_id, due.event, due.subject, due.created_at, due.payload)
        try:
            target = parse_target(due.url)
            if target.address is not None:  # an IP literal is not resolved: checked here
                check_addresses(target, [target.host], self._policy)
            async with self._http.post(due.url, data=content, allow_redirects=False,
                                       headers=signing.headers(due.secret, due.event, due.delivery_id, content, now),
                                       ) as response:
                answer = await response.content.read(MAX_BODY)
                if 200 <= response.status < 300:
                    return Attempt(now, True, response.status)
                return Attempt(now, False, response.status, http_error(response.status, response.reason,
                                                                       response.headers.get("Location"), answer))
        except UnsafeUrlError as e:
            return Attempt(now, False, None, f"Отказано: {e.message}")
        except TimeoutError:
            return Attempt(now, False, None, f"Нет ответа за {self._settings.timeout_s:g} с (таймаут).")
        except aiohttp.ClientError as e:
            return Attempt(now, False, None, connection_error(e))
        except Exception as e:  # noqa: BLE001 — whatever it was, it is this delivery's failure, not the loop's
            log.exception("webhook %s: unexpected error", due.delivery_id)
            return Attempt(now, False, None, f"Ошибка отправки: {type(e).__name__}: {e}"[:500])

    async def _purge_now_and_then(self) -> None:
        now = self._clock()
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = now
        removed = await outbox.purge(self._sessions, now - timedelta(days=self._settings.keep_days))
        if removed:
            log.info("webhooks: %d old deliveries removed from the log", removed)


def http_error(status: int, reason: str | None, location: str | None, answer: bytes) -> str:
    """«HTTP 500 Internal Server Error: <the start of the answer>»; a redirect says where (not followed)."""
    text = f"HTTP {status}" + (f" {reason}" if reason else "")
    if 300 <= status < 400:
        return f"{text}: перенаправление{f' на {location[:200]}' if location else ''} не выполняется."
    quoted = " ".join(answer.decode("utf-8", "replace").split())[:ERROR_BODY]
    return f"{text}: {quoted}" if quoted else text


def connection_error(error: aiohttp.ClientError) -> str:
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return f"Сертификат приёмника не принят: {error.certificate_error}"[:500]
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"Не удалось соединиться с {error.host}:{error.port}: {error.os_error.strerror or error.os_error}"[:500]
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "Приёмник закрыл соединение, не ответив."
    return f"Ошибка соединения: {type(error).__name__}: {error}"[:500]
