"""One flood process for bench/login_flood.py: N keep-alive connections posting wrong passwords to /login.

Run by login_flood.py, never by hand:

    python bench/_flood_worker.py --base http://127.0.0.1:PORT --connections 200 --seconds 30 \
        --logins maria,anna,... --seed 1

Protocol on stdin/stdout (one JSON object a line):
  1. every connection opens its own browser-like session (its own cookie jar, one keep-alive connection)
     and GETs /login for its CSRF token; then the worker prints {"ready": true, ...};
  2. it waits for a line "go" on stdin, then every connection loops, closed: POST /login (a wrong
     password, a login drawn from the existing ones or invented) as soon as the previous answer has
     been read; a 403 (stale CSRF) makes that connection GET /login again;
  3. after --seconds it stops on the spot: the POSTs still unanswered are abandoned and counted apart;
     it prints {"result": {...}}: answers, status counts, its own CPU, the answered POSTs' latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import string
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

CSRF_INPUT = re.compile(r'<input[^>]*name="_csrf"[^>]*value="([^"]+)"')
HTML_ACCEPT = {"Accept": "text/html,application/xhtml+xml"}
INVENTED_SHARE = 0.5  # half the attempts go to logins that do not exist
REQUEST_TIMEOUT_S = 30.0


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)  # POST /login answers: "401", "429", …, "error"
    errors: Counter[str] = field(default_factory=Counter)  # exception type names
    token_gets: int = 0  # GET /login (the first one per connection and every refresh after a 403)
    latencies: list[float] = field(default_factory=list)  # seconds, POST /login
    in_flight: int = 0  # POSTs sent and not yet answered
    frozen: bool = False  # the flood is over: nothing more is counted


class Attacker:
    """One browser-like connection: its own cookies (so its own CSRF token), one keep-alive socket."""

    def __init__(self, base: str, logins: list[str], rng: random.Random, tally: Tally) -> None:
        self.base, self.logins, self.rng, self.tally = base, logins, rng, tally
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1, force_close=False),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            headers=HTML_ACCEPT)
        self.token: str | None = None

    async def refresh_token(self) -> None:
        self.tally.token_gets += 1
        async with self.session.get(f"{self.base}/login") as page:
            match = CSRF_INPUT.search(await page.text())
        if match is None:
            raise RuntimeError(f"no _csrf field on /login (status {page.status})")
        self.token = match.group(1)

    async def run(self) -> None:
        """Until cancelled at the end of the flood."""
        while True:
            try:
                if self.token is None:
                    await self.refresh_token()
                await self.attempt()
            except (TimeoutError, aiohttp.ClientError, RuntimeError) as error:
                if self.tally.frozen:
                    return
                self.tally.statuses["error"] += 1
                self.tally.errors[type(error).__name__] += 1
                self.token = None
                await asyncio.sleep(0.05)  # a refused connection must not spin this process

    async def attempt(self) -> None:
        form = {"_csrf": self.token or "", "login": self.login(), "password": self.password()}
        started = time.monotonic()
        self.tally.in_flight += 1
        try:
            async with self.session.post(f"{self.base}/login", data=form, allow_redirects=False) as answer:
                await answer.read()
                status = answer.status
        finally:
            self.tally.in_flight -= 1
        if self.tally.frozen:
            return
        self.tally.latencies.append(time.monotonic() - started)
        self.tally.statuses[str(status)] += 1
        if status == 403:
            self.token = None  # the form went stale: fetch a fresh one, as a browser reloading would

    def login(self) -> str:
        if self.rng.random() < INVENTED_SHARE:
            stem = self.rng.choice(("user", "admin", "test", "ivanov", "operator", "expert", "root", "manager"))
            return f"{stem}{self.rng.randrange(100_000)}"
        return self.rng.choice(self.logins)

    def password(self) -> str:
        return "".join(self.rng.choices(string.ascii_letters + string.digits, k=self.rng.randrange(8, 16)))

    async def close(self) -> None:
        await self.session.close()


async def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    tally = Tally()
    attackers = [Attacker(args.base, args.logins, random.Random(rng.random()), tally)
                 for _ in range(args.connections)]
    try:
        await asyncio.gather(*(a.refresh_token() for a in attackers))
        emit({"ready": True, "connections": len(attackers)})
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "go"
        cpu0, t0 = own_cpu_s(), time.monotonic()
        tasks = [asyncio.create_task(a.run()) for a in attackers]
        _, pending = await asyncio.wait(tasks, timeout=args.seconds)
        # The flood ends on time: requests still unanswered are abandoned (an attacker walking away),
        # counted apart, and not in the rate.
        tally.frozen = True
        unanswered = tally.in_flight
        elapsed, cpu = time.monotonic() - t0, own_cpu_s() - cpu0
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    finally:
        await asyncio.gather(*(a.close() for a in attackers), return_exceptions=True)
    ordered = sorted(tally.latencies)
    emit({"result": {
        "connections": len(attackers), "elapsed_s": elapsed, "cpu_s": cpu, "posts": sum(tally.statuses.values()),
        "statuses": dict(tally.statuses), "errors": dict(tally.errors), "token_gets": tally.token_gets,
        "unanswered_at_end": unanswered,
        "latencies": ordered,
    }})


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--connections", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--logins", type=lambda s: [x for x in s.split(",") if x], required=True)
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


def emit(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


if __name__ == "__main__":
    asyncio.run(main())
