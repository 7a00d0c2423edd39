"""Caller number → client, for the live channel: answered from memory, with the database as fallback.

An inbound call's first event waits for this lookup, and under load every database round trip
waits for a busy event loop several times. So the phone book (contacts' `phone_e164` → client,
up to `size` phones) is loaded in one query at start and every `refresh_s` in the background:
known callers are answered from memory. A number not in it (an unknown caller, or a contact
imported since the last load) is queried (at most `max_queries` at once, concurrent lookups of
one number sharing a query) and the answer cached for `ttl_s` (a miss for `miss_ttl_s`). The
ledger itself matches callers again when it writes the call, whatever this cache knew.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db import models

log = logging.getLogger(__name__)

Client = tuple[str, str]  # (external_id, name)
Source = Callable[[str], Awaitable[Client | None]]
BookSource = Callable[[int], Awaitable[dict[str, Client]]]  # (limit) → phone → client

TTL_S = 300.0  # how long one looked-up number is trusted
MISS_TTL_S = 60.0  # and a number nobody has (a contact imported meanwhile shows up after this)
REFRESH_S = 120.0  # how often the phone book is reloaded (well within TTL_S)
CACHE_SIZE = 100_000  # phones kept in memory (~100 bytes each)
MAX_QUERIES = 2  # at once: a burst of new callers must not take the ledger's database connections


class CachedClientLookup:
    """`await lookup(number)` → (external_id, name) or None; `start()`/`stop()` the book refresh."""

    def __init__(self, source: Source, *, book: BookSource | None = None, ttl_s: float = TTL_S,
                 miss_ttl_s: float = MISS_TTL_S, refresh_s: float = REFRESH_S, size: int = CACHE_SIZE,
                 max_queries: int = MAX_QUERIES, clock: Callable[[], float] = time.monotonic) -> None:
        self._source, self._book = source, book
        self._gate = asyncio.Semaphore(max(max_queries, 1))
        self._ttl, self._miss_ttl, self._refresh = ttl_s, miss_ttl_s, refresh_s
        self._size = max(size, 1)
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, Client | None]] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[Client | None]] = {}
        self._task: asyncio.Task[None] | None = None
        self.queries = 0  # single-number queries, for tests and the health page

    @classmethod
    def from_ledger(cls, ledger: LedgerRepository, sessions: SessionMaker) -> CachedClientLookup:
        async def book(limit: int) -> dict[str, Client]:
            return await load_phone_book(sessions, limit)
        return cls(ledger.match_client_by_phone, book=book)

    # ---- the background refresh ----------------------------------------------------
    def start(self) -> None:
        if self._book is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._refresh_loop(), name="live-phone-book")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def reload(self) -> None:
        """Load the phone book; numbers looked up one by one meanwhile are kept unless the book knows better."""
        assert self._book is not None
        book = await self._book(self._size)
        now = self._clock()
        fresh: OrderedDict[str, tuple[float, Client | None]] = OrderedDict(
            (number, entry) for number, entry in self._cache.items() if number not in book)
        fresh.update((phone, (now, client)) for phone, client in book.items())
        self._cache = fresh
        self._trim()

    async def _refresh_loop(self) -> None:
        while True:
            try:
                await self.reload()
            except Exception as e:  # the database is away: single lookups still work, or fail alone
                log.warning("live: could not load the phone book: %s: %s", type(e).__name__, e)
            await asyncio.sleep(self._refresh)

    # ---- lookups --------------------------------------------------------------------
    async def __call__(self, number: str) -> Client | None:
        hit = self._cached(number)
        if hit is not None:
            return hit[1]
        pending = self._inflight.get(number)
        if pending is not None:
            return await asyncio.shield(pending)
        return await self._query(number)

    def peek(self, number: str) -> tuple[bool, Client | None]:
        """(True, the answer) when it is cached; (False, None) when only `await lookup(number)` can tell."""
        hit = self._cached(number)
        return (False, None) if hit is None else (True, hit[1])

    def _cached(self, number: str) -> tuple[float, Client | None] | None:
        entry = self._cache.get(number)
        if entry is None:
            return None
        if self._clock() - entry[0] > (self._ttl if entry[1] is not None else self._miss_ttl):
            del self._cache[number]
            return None
        self._cache.move_to_end(number)
        return entry

    async def _query(self, number: str) -> Client | None:
        future: asyncio.Future[Client | None] = asyncio.get_running_loop().create_future()
        self._inflight[number] = future
        try:
            async with self._gate:
                self.queries += 1
                client = await self._source(number)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as e:
            future.set_exception(e)
            future.exception()  # retrieved here: waiters re-raise it, nobody else must log it
            raise
        finally:
            self._inflight.pop(number, None)
        future.set_result(client)
        self._store(number, client)
        return client

    def _store(self, number: str, client: Client | None) -> None:
        self._cache[number] = (self._clock(), client)
        self._cache.move_to_end(number)
        self._trim()

    def _trim(self) -> None:
        while len(self._cache) > self._size:
            self._cache.popitem(last=False)


async def load_phone_book(sessions: SessionMaker, limit: int) -> dict[str, Client]:
    """phone_e164 → (external_id, name) of up to `limit` phones; a phone shared by clients: the oldest contact's."""
    contact, client = models.ClientContact, models.Client
    query = (select(contact.phone_e164, client.external_id, client.name)
             .join(client, client.id == contact.client_id)
             .where(contact.phone_e164.is_not(None))
             .order_by(contact.id))
    book: dict[str, Client] = {}
    async with sessions() as session:
        for phone, external_id, name in await session.execute(query):
            if phone not in book:  # ascending ids: the oldest contact of a shared phone comes first
                book[phone] = (external_id, name)
                if len(book) >= limit:
                    break
    return book
