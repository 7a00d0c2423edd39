"""Protocol-level browsers for bench/live_push.py: sign in through POST /login, read GET /live as SSE."""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field

import aiohttp

CSRF_INPUT = re.compile(r'<input[^>]*name="_csrf"[^>]*value="([^"]+)"')


@dataclass
class Tally:
    """What every client saw once measuring started (shared by all clients of a run)."""

    measuring: bool = False
    latencies: list[float] = field(default_factory=list)  # seconds: receipt − received_at
    # The same, of the events that may wait for the caller lookup (an inbound call's first event).
    lookup_latencies: list[float] = field(default_factory=list)
    messages: int = 0
    wrong_expert: int = 0  # a `call` event for another Expert's extension: must stay 0
    snapshots: int = 0


class LiveClient:
    """One signed-in Expert with an open /live stream."""

    def __init__(self, base: str, login: str, password: str, extension: str, tally: Tally) -> None:
        self.base, self.login, self.password, self.extension = base, login, password, extension
        self.tally = tally
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                             timeout=aiohttp.ClientTimeout(total=None, sock_read=None))
        self._reader: asyncio.Task[None] | None = None
        self.snapshot = asyncio.Event()

    async def sign_in(self) -> None:
        async with self.session.get(f"{self.base}/login") as page:
            match = CSRF_INPUT.search(await page.text())
        if match is None:
            raise RuntimeError("no _csrf field on /login")
        form = {"login": self.login, "password": self.password, "_csrf": match.group(1)}
        async with self.session.post(f"{self.base}/login", data=form, allow_redirects=False) as answer:
            if answer.status not in (302, 303):
                raise RuntimeError(f"{self.login}: sign-in answered {answer.status}")

    async def open(self) -> None:
        response = await self.session.get(f"{self.base}/live", headers={"Accept": "text/event-stream"})
        if response.status != 200:
            raise RuntimeError(f"{self.login}: /live answered {response.status}")
        self._reader = asyncio.create_task(self._read(response))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self.session.close()

    async def _read(self, response: aiohttp.ClientResponse) -> None:
        name = "message"
        async for raw in response.content:
            received = time.time()  # first thing: the receipt time the latency is measured to
            if raw.startswith(b"event:"):
                name = raw[6:].strip().decode()
            elif raw.startswith(b"data:"):
                self._on_data(name, raw[5:], received)
            elif raw in (b"\r\n", b"\n"):
                name = "message"

    def _on_data(self, name: str, data: bytes, received: float) -> None:
        if name == "snapshot":
            self.snapshot.set()
            self.tally.snapshots += 1
            return
        if name != "call" or not self.tally.measuring:
            return
        payload = json.loads(data)
        self.tally.messages += 1
        latency = received - payload["received_at"]
        self.tally.latencies.append(latency)
        if payload["direction"] == "inbound" and payload["state"] == "ringing":
            self.tally.lookup_latencies.append(latency)
        if payload["expert_ext"] != self.extension:
            self.tally.wrong_expert += 1
