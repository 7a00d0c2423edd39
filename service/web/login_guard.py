"""Sign-in under pressure: wrong-password throttling and a bound on concurrent argon2 checks.

Each check costs tens of milliseconds of a core (argon2 is slow on purpose); a flood of
sign-in attempts must neither guess passwords at leisure nor take every core from the Experts.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from service.login_throttle import LoginThrottle

MAX_FAILURES_PER_LOGIN = 10
MAX_FAILURES_PER_ADDRESS = 50
WINDOW_S = 600.0
CONCURRENT_CHECKS = 2  # the machine's cores; more would only queue inside the executor
MAX_WAITING_CHECKS = 16


class TooManyAttempts(Exception):
    """Sign-in refused for now; `message` says why and for how long, in Russian."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s


class LoginGuard:
    def __init__(self) -> None:
        self._by_login = LoginThrottle(MAX_FAILURES_PER_LOGIN, WINDOW_S)
        self._by_address = LoginThrottle(MAX_FAILURES_PER_ADDRESS, WINDOW_S)
        self._checks = asyncio.Semaphore(CONCURRENT_CHECKS)
        self._waiting = 0

    def check_allowed(self, login: str, address: str, now: float) -> None:
        """Raises TooManyAttempts while the login or the address is paused."""
        wait = max(self._by_login.retry_after(_login_key(login), now),
                   self._by_address.retry_after(address, now))
        if wait > 0:
            minutes = max(1, math.ceil(wait / 60))
            raise TooManyAttempts(f"Слишком много неудачных попыток входа. Повторите через {minutes} мин.",
                                  math.ceil(wait))

    @asynccontextmanager
    async def checking(self) -> AsyncIterator[None]:
        """A slot for one password check; refused when too many are already waiting."""
        if self._waiting >= MAX_WAITING_CHECKS:
            raise TooManyAttempts("Слишком много попыток входа одновременно. Повторите через минуту.", 60)
        self._waiting += 1
        try:
            async with self._checks:
                yield
        finally:
            self._waiting -= 1

    def failed(self, login: str, address: str, now: float) -> None:
        self._by_login.failed(_login_key(login), now)
        self._by_address.failed(address, now)

    def succeeded(self, login: str) -> None:
        self._by_login.succeeded(_login_key(login))


LOGIN_GUARD = web.AppKey("login_guard", LoginGuard)


def _login_key(login: str) -> str:
    return login.strip().casefold()
