"""Sign-in under pressure: wrong-password throttling, a bounded argon2 pool, refusals that cost nothing.

Each check costs tens of milliseconds of a core (argon2 is slow on purpose, and spreads over
several threads); a flood of sign-in attempts must neither guess passwords at leisure nor take
the cores from the Experts' pages. Three defences, cheapest first:

- an address already paused is refused before anything else reads the request (no session, no
  form, no template), by `login_flood_middleware`;
- every refusal (429) is answered only after `refusal_delay_s`, longer when many refusals
  already wait (REFUSALS_PER_S): the connection waits without using the CPU, so a flood gets
  about fifty answers a second however many connections it holds, not thousands;
- argon2 runs on one lower-priority thread of its own (at most MAX_WAITING_CHECKS queued):
  the event loop's thread always wins the core.

Checks in flight count against the quota (service/login_throttle.py), so simultaneous guesses
cannot slip past it.
"""

from __future__ import annotations

import asyncio
import html
import math
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TypeVar

from aiohttp import web
from aiohttp.typedefs import Middleware

from service.login_throttle import LoginThrottle

MAX_FAILURES_PER_LOGIN = 10
MAX_FAILURES_PER_ADDRESS = 50
WINDOW_S = 600.0
CONCURRENT_CHECKS = 1  # one argon2 at a time (it spreads over its own threads); a core stays free
MAX_WAITING_CHECKS = 16
REFUSAL_DELAY_S = 2.0
# The more refusals already wait, the longer the next one waits: answers go out at about this
# rate whatever the number of connections a flood holds (the rate, not the count, costs CPU).
REFUSALS_PER_S = 50.0
MAX_REFUSAL_DELAY_S = 60.0
MAX_DELAYED_REFUSALS = 10_000  # beyond this many waiting refusals, close the connection unanswered
ARGON2_NICE = 10  # the kernel gives the event loop's thread the core first

T = TypeVar("T")

TOO_MANY_AT_ONCE = "Слишком много попыток входа одновременно. Повторите через минуту."


class TooManyAttempts(Exception):
    """Sign-in refused for now; `message` says why and for how long, in Russian."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s


class LoginGuard:
    def __init__(self, refusal_delay_s: float = REFUSAL_DELAY_S) -> None:
        self.refusal_delay_s = refusal_delay_s
        self._by_login = LoginThrottle(MAX_FAILURES_PER_LOGIN, WINDOW_S)
        self._by_address = LoginThrottle(MAX_FAILURES_PER_ADDRESS, WINDOW_S)
        self._checks = asyncio.Semaphore(CONCURRENT_CHECKS)
        self._waiting = 0
        self._delayed = 0
        self._executor = ThreadPoolExecutor(max_workers=CONCURRENT_CHECKS, thread_name_prefix="argon2",
                                            initializer=_lower_priority)

    def check_address(self, address: str, now: float) -> None:
        """Raises TooManyAttempts while the address is paused (needs nothing but the address)."""
        _raise_if_waiting(self._by_address.retry_after(address, now))

    def check_allowed(self, login: str, address: str, now: float) -> None:
        """Raises TooManyAttempts while the login or the address is paused."""
        _raise_if_waiting(max(self._by_login.retry_after(_login_key(login), now),
                              self._by_address.retry_after(address, now)))

    @asynccontextmanager
    async def attempt(self, login: str, address: str, now: float) -> AsyncIterator[None]:
        """One password check: refused (TooManyAttempts) when paused or when too many wait.

        From the check of the quota until the end of the block, the attempt counts as a failure
        of the login and of the address; call `failed` or `succeeded` inside the block.
        """
        self.check_allowed(login, address, now)
        if self._waiting >= MAX_WAITING_CHECKS:
            raise TooManyAttempts(TOO_MANY_AT_ONCE, 60)
        key = _login_key(login)
        self._by_login.begin(key)
        self._by_address.begin(address)
        self._waiting += 1
        try:
            async with self._checks:
                yield
        finally:
            self._waiting -= 1
            self._by_login.end(key)
            self._by_address.end(address)

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """Run an argon2 call (hash, verify) on the guard's own low-priority thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def delay_refusal(self, request: web.Request) -> None:
        """Hold a refused attempt's answer a while (no CPU used).

        When MAX_DELAYED_REFUSALS already wait, the connection is closed without an answer: a
        flood opening a new connection per attempt must not get its answers at once instead.
        """
        if self.refusal_delay_s <= 0:
            return
        if self._delayed >= MAX_DELAYED_REFUSALS:
            if request.transport is not None:
                request.transport.close()
            return
        self._delayed += 1
        try:
            await asyncio.sleep(refusal_delay(self.refusal_delay_s, self._delayed))
        finally:
            self._delayed -= 1

    def failed(self, login: str, address: str, now: float) -> None:
        self._by_login.failed(_login_key(login), now)
        self._by_address.failed(address, now)

    def succeeded(self, login: str) -> None:
        self._by_login.succeeded(_login_key(login))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


LOGIN_GUARD = web.AppKey("login_guard", LoginGuard)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def login_flood_middleware(login_path: str) -> Middleware:
    """First in line: a sign-in from a paused address is refused before the session, the form
    and the templates cost anything (the answer still waits `refusal_delay_s`)."""

    @web.middleware
    async def refuse_paused_addresses(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or request.path != login_path:
            return await handler(request)
        guard = request.app[LOGIN_GUARD]
        try:
            guard.check_address(request.remote or "", time.monotonic())
        except TooManyAttempts as refused:
            await guard.delay_refusal(request)
            return bare_refusal(refused, login_path)
        return await handler(request)

    return refuse_paused_addresses


def bare_refusal(refused: TooManyAttempts, login_path: str) -> web.Response:
    """429 without a template: a line of text and the way back to the login page."""
    body = (f'<!doctype html><html lang="ru"><meta charset="utf-8"><title>Вход в DS Desk</title>'
            f'<p role="alert">{html.escape(refused.message)}</p><p><a href="{login_path}">Ко входу</a></p></html>')
    return web.Response(status=429, text=body, content_type="text/html",
                        headers={"Retry-After": str(refused.retry_after_s)})


def refusal_delay(base_s: float, waiting: int) -> float:
    """How long a refusal waits when `waiting` refusals (itself included) are held: at least
    `base_s`, and long enough that they drain at REFUSALS_PER_S, up to MAX_REFUSAL_DELAY_S."""
    return min(MAX_REFUSAL_DELAY_S, max(base_s, waiting / REFUSALS_PER_S))


def _raise_if_waiting(wait: float) -> None:
    if wait > 0:
        minutes = max(1, math.ceil(wait / 60))
        raise TooManyAttempts(f"Слишком много неудачных попыток входа. Повторите через {minutes} мин.",
                              math.ceil(wait))


def _login_key(login: str) -> str:
    return login.strip().casefold()


def _lower_priority() -> None:
    """Linux nice values are per thread; argon2's own worker threads inherit this one's."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ARGON2_NICE)
    except (AttributeError, OSError):  # not Linux, or not permitted: the pool bound still holds
        pass
