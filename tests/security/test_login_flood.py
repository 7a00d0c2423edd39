"""Sign-in floods: the quota holds under concurrency (F7) and refusals cost the server nothing (F5).

The probe sent 40 wrong passwords for one login at once and 16 were checked (the limit is 10);
1,600 refused sign-ins a second pushed an Expert's /desk from 14 ms to 3–5 s. The figure for the
latter is a benchmark (bench/login_flood.py); here, the mechanisms it rests on.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from service.app import create_app
from service.web.keys import CSRF_FIELD
from service.web.login_guard import ARGON2_NICE, MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_LOGIN
from tests.security.conftest import Office
from tests.service.web_helpers import DEFAULT_PASSWORD, HTML_ACCEPT, csrf_token


async def login_token(client: TestClient) -> str:
    return csrf_token(await (await client.get("/login", headers=HTML_ACCEPT)).text())


async def attempt(client: TestClient, token: str, login: str, password: str) -> int:
    response = await client.post("/login", data={CSRF_FIELD: token, "login": login, "password": password},
                                 headers=HTML_ACCEPT, allow_redirects=False)
    response.release()
    return response.status


@pytest.mark.timeout(120)
async def test_forty_simultaneous_guesses_for_one_login_check_exactly_the_quota(office: Office) -> None:
    client = await office.client()
    token = await login_token(client)
    statuses = await asyncio.gather(*(attempt(client, token, "ivanova", f"guess-{i}") for i in range(40)))
    assert statuses.count(401) == MAX_FAILURES_PER_LOGIN, statuses  # checked and wrong
    assert statuses.count(429) == 40 - MAX_FAILURES_PER_LOGIN
    assert await attempt(client, token, "ivanova", DEFAULT_PASSWORD) == 429  # paused, even the right one
    assert await attempt(client, token, "petrov", DEFAULT_PASSWORD) == 302  # others go on


@pytest.mark.timeout(120)
async def test_a_paused_address_is_refused_before_the_session_after_a_delay(office: Office, tmp_path: Path) -> None:
    settings = office.settings.model_copy(update={"service": office.settings.service.model_copy(
        update={"login_refusal_delay_s": 0.5})})
    client: TestClient = await office.aiohttp_client(create_app(settings, with_pbx=False))
    token = await login_token(client)
    for i in range(MAX_FAILURES_PER_ADDRESS // MAX_FAILURES_PER_LOGIN):
        statuses = await asyncio.gather(*(attempt(client, token, f"nobody{i}", "x") for _ in range(10)))
        assert set(statuses) == {401}
    started = time.monotonic()
    response = await client.post("/login", data={CSRF_FIELD: token, "login": "petrov", "password": DEFAULT_PASSWORD},
                                 headers=HTML_ACCEPT, allow_redirects=False)
    elapsed = time.monotonic() - started
    text = await response.text()
    assert response.status == 429 and int(response.headers["Retry-After"]) > 0
    assert "Слишком много неудачных попыток входа" in text
    assert 'name="password"' not in text  # the bare refusal: no template was rendered
    assert "Set-Cookie" not in response.headers  # nor a session read or written
    assert 0.5 <= elapsed < 3.0
    # Many refusals wait side by side: the delay holds sockets, not the event loop.
    started = time.monotonic()
    statuses = await asyncio.gather(*(attempt(client, token, "petrov", "x") for _ in range(50)))
    # Side by side they take about one delay (3.4 s seen under the full suite's load); one after another, 50
    # delays of at least 0.5 s would take 25 s or more.
    assert set(statuses) == {429} and time.monotonic() - started < 10.0


@pytest.mark.timeout(60)
async def test_argon2_runs_on_one_lower_priority_thread(office: Office) -> None:
    client = await office.client("ivanova")  # one sign-in: one verification on the guard's thread
    assert client.app is not None
    threads = [t for t in threading.enumerate() if t.name.startswith("argon2")]
    assert threads  # (an earlier test's app may still be letting its own thread go)
    for thread in threads:
        with open(f"/proc/{os.getpid()}/task/{thread.native_id}/stat") as stat:
            nice = int(stat.read().rsplit(")", 1)[1].split()[16])  # field 19 of proc(5)
        assert nice == ARGON2_NICE


@pytest.mark.parametrize(("base", "waiting", "expected"), [
    (2.0, 1, 2.0), (2.0, 100, 2.0), (2.0, 200, 4.0), (2.0, 1000, 20.0), (2.0, 100_000, 60.0), (0.5, 10, 0.5),
])
def test_refusals_drain_at_a_bounded_rate_whatever_the_connection_count(base: float, waiting: int,
                                                                        expected: float) -> None:
    """1,000 flood connections with a fixed 2 s delay still got 454 answers a second (bench/login_flood.py)."""
    from service.web.login_guard import refusal_delay

    assert refusal_delay(base, waiting) == pytest.approx(expected)
