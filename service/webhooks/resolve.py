"""Resolving a receiver's host and checking every address (service/webhooks/urls.py), when a URL is
saved and again at every send: the sender connects only to the addresses this resolver checked."""

from __future__ import annotations

import asyncio
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from service.settings import Settings
from service.webhooks.errors import UnsafeUrlError
from service.webhooks.urls import Target, UrlPolicy, check_addresses, parse_target

RESOLVE_TIMEOUT_S = 5.0


async def resolve(host: str, port: int, timeout_s: float = RESOLVE_TIMEOUT_S) -> list[str]:
    """Every address `host` resolves to (UnsafeUrlError when it resolves to none in time)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout_s)
    except (OSError, TimeoutError) as e:
        raise UnsafeUrlError(f"Имя «{host}» не найдено в DNS ({type(e).__name__}).") from e
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_url(url: str, policy: UrlPolicy) -> Target:
    """The URL's target, if its form and every address of its host may be called (else UnsafeUrlError)."""
    target = parse_target(url)
    addresses = [target.host] if target.address is not None else await resolve(target.host, target.port)
    check_addresses(target, addresses, policy)
    return target


async def url_policy(settings: Settings) -> UrlPolicy:
    """The policy from config: the allow-list, and DS Desk's own address (its host name resolved too)."""
    host, port = settings.service.host, settings.service.port
    own: list[str] = []
    try:
        own = await resolve(host, port) if host.strip("[]") not in ("", "0.0.0.0", "::") else \
            await resolve(socket.gethostname(), port)
    except UnsafeUrlError:
        pass  # an unresolvable own name: its literal spelling and port are still refused
    return UrlPolicy.of(settings.webhooks.allow_private_hosts, host, port, own)


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, refusing (UnsafeUrlError) a host with any address the policy forbids.

    The connection is then made to exactly the addresses checked: a DNS answer that changes between
    the check and the connect cannot slip a private address in.
    """

    def __init__(self, policy: UrlPolicy) -> None:
        self._policy = policy
        self._inner = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        try:
            results = await asyncio.wait_for(self._inner.resolve(host, port, family), RESOLVE_TIMEOUT_S)
        except (OSError, TimeoutError) as e:
            raise UnsafeUrlError(f"Имя «{host}» не найдено в DNS ({type(e).__name__}).") from e
        check_addresses(Target("http", host.rstrip(".").lower(), port), [r["host"] for r in results], self._policy)
        return results

    async def close(self) -> None:
        await self._inner.close()
