"""AmiConnection lifecycle over real TCP: login, keepalive, reconnect with backoff, hooks, close."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from dialer import actions
from dialer.ami_options import AmiOptions
from dialer.client import AmiConnection
from dialer.errors import AmiActionTimeout, AmiBannerError, AmiConnectionError, AmiLoginError, AmiNotConnected
from tests.dialer.fake_ami import SECRET, USERNAME, FakeAmi, eventually, frame
from tests.dialer.fake_ami_consumer import Connector, Recorder, options


async def test_actions_before_connecting_raise_not_connected(fake: FakeAmi) -> None:
    conn = AmiConnection(options(fake))
    with pytest.raises(AmiNotConnected):
        await conn.action("Ping")
    await conn.close()


async def test_an_idle_connection_outlives_the_librarys_3_second_timeout(
    fake: FakeAmi, connect: Connector, rec: Recorder
) -> None:
    conn = await connect(fake, connect_timeout=3.0)
    await asyncio.sleep(3.3)  # no traffic at all
    assert conn.connected and rec.disconnected == [] and len(fake.sessions) == 1
    assert (await conn.action("Ping"))["Ping"] == "Pong"
    await conn.close()


async def test_keepalive_declares_a_silent_server_dead_and_reconnects(connect: Connector, rec: Recorder) -> None:
    async with FakeAmi(silent={"Ping"}) as fake:
        conn = await connect(fake, ping_interval=0.1, ping_timeout=0.2)
        await eventually(lambda: rec.connected[:2] == [False, True])
        assert isinstance(rec.disconnected[0], AmiConnectionError) and "no Pong" in str(rec.disconnected[0])
        assert isinstance(rec.disconnected[0].__cause__, AmiActionTimeout)
        await conn.close()


async def test_a_server_that_keeps_sending_is_alive_even_if_the_pong_is_late(connect: Connector, rec: Recorder) -> None:
    """A Pong queued behind a backlog of events gets until the action timeout (here 4 s)."""
    async with FakeAmi(silent={"Ping"}) as fake:
        conn = await connect(fake, ping_interval=0.1, ping_timeout=0.5, action_timeout=4.0)
        for n in range(50):  # 2.5 s of steady traffic, five times the ping timeout (a 10× margin per event)
            await fake.sessions[0].write(frame("Event: Newexten", f"Uniqueid: 1.{n}"))
            await asyncio.sleep(0.05)
        assert rec.disconnected == [] and conn.connected
        await eventually(lambda: rec.disconnected != [])  # traffic stopped: now the missing Pong counts
        await conn.close()


@pytest.mark.timeout(20)
async def test_a_peer_trickling_bytes_without_a_pong_is_dead_within_the_action_timeout(
    connect: Connector, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 10, F9: one byte every 0.3 s (more often than the ping timeout) kept the link up, Pings unanswered."""
    async with FakeAmi(trickle_first=1, trickle_s=0.3) as fake:
        conn = await connect(fake, ping_interval=0.2, ping_timeout=0.6, action_timeout=1.5)
        trickling_since = time.monotonic()
        await eventually(lambda: not conn.connected, timeout=10.0)
        # ping interval + action timeout + slack for a loaded machine (the old code never dropped it)
        assert time.monotonic() - trickling_since < 0.2 + 1.5 + 3.0
        assert fake.sessions[0].trickler is not None and len(fake.received("Ping")) >= 1
        await eventually(lambda: rec.connected == [False, True] and conn.connected)  # the next session behaves
        assert (await conn.action("Ping"))["Ping"] == "Pong"
        error = rec.disconnected[0]
        assert isinstance(error, AmiConnectionError) and isinstance(error.__cause__, AmiActionTimeout)
        assert "no Pong within 1.5 s although bytes kept arriving" in str(error)
        lost = [r for r in caplog.records if r.levelno == logging.WARNING and "no Pong within 1.5 s" in r.getMessage()]
        assert lost and "connection dead" in lost[0].getMessage()
        await conn.close()


async def test_reconnects_after_a_drop_and_reports_the_gap(fake: FakeAmi, connect: Connector, rec: Recorder) -> None:
    conn = await connect(fake)
    first_connected_at = conn.connected_at
    fake.sessions[0].drop()
    await eventually(lambda: rec.connected == [False, True])
    assert len(rec.disconnected) == 1 and isinstance(rec.disconnected[0], AmiConnectionError)
    times = [first_connected_at, conn.last_alive_at, conn.disconnected_at, conn.connected_at]
    assert None not in times and times == sorted(times)  # type: ignore[type-var]  # no None: checked first
    assert len(fake.received("Login")) == 2
    await conn.close()


async def test_failed_attempts_back_off_exponentially(connect: Connector, rec: Recorder) -> None:
    async with FakeAmi(drop_first=4) as fake:
        conn = await connect(fake, wait=False, backoff_min=0.05, backoff_max=1.0)
        await conn.wait_connected(5.0)
        gaps = [b - a for a, b in zip(fake.accepted_at, fake.accepted_at[1:], strict=False)]
        assert len(gaps) == 4
        for n, gap in enumerate(gaps):
            assert gap >= 0.05 * 2**n * 0.9
        assert rec.connected == [] or rec.connected == [False]  # the failures never counted as connects
        await conn.close()


async def test_on_connected_can_read_status_and_channels(fake: FakeAmi) -> None:
    seen: list[tuple[bool, str, int]] = []
    conn: AmiConnection

    async def on_connected(is_reconnect: bool) -> None:
        status = await conn.perform(actions.core_status())
        _, channels = await conn.list_action("CoreShowChannels")
        seen.append((is_reconnect, status["CoreStartupTime"], len(channels)))

    conn = AmiConnection(options(fake), on_connected=on_connected)
    await conn.start()
    await eventually(lambda: len(seen) == 1)
    fake.sessions[0].drop()
    await eventually(lambda: len(seen) == 2)
    assert seen == [(False, "23:55:15", 4), (True, "23:55:15", 4)]
    await conn.close()


async def test_md5_challenge_login() -> None:
    async with FakeAmi(md5=True) as fake:
        conn = AmiConnection(options(fake, auth="md5"))
        await conn.start()
        await conn.wait_connected(3.0)
        assert "Secret" not in fake.received("Login")[0].raw.decode()
        await conn.close()


async def test_a_refused_login_is_a_login_error_and_is_retried(fake: FakeAmi) -> None:
    conn = AmiConnection(AmiOptions(port=fake.port, username=USERNAME, secret="wrong", backoff_min=0.05))
    await conn.start()
    with pytest.raises(AmiNotConnected) as caught:
        await conn.wait_connected(0.5)
    assert isinstance(caught.value.__cause__, AmiLoginError) and isinstance(conn.last_error, AmiLoginError)
    assert len(fake.received("Login")) >= 2
    await conn.close()


async def test_a_peer_without_banner_is_reported_clearly(caplog: pytest.LogCaptureFixture) -> None:
    async with FakeAmi(banner=b"HTTP/1.1 400 Bad Request\r\n") as fake:
        conn = AmiConnection(options(fake))
        await conn.start()
        await eventually(lambda: conn.last_error is not None)
        assert isinstance(conn.last_error, AmiBannerError)
        assert "not an AMI server" in str(conn.last_error)
        await conn.close()


async def test_close_logs_off_leaves_no_threads_and_is_idempotent(
    fake: FakeAmi, connect: Connector, rec: Recorder
) -> None:
    before = {t.ident for t in threading.enumerate()}
    conn = await connect(fake)
    await conn.action("Ping")
    await conn.close()
    await conn.close()
    assert len(fake.received("Logoff")) == 1
    assert rec.disconnected == [None] and not conn.connected
    stray = [t.name for t in threading.enumerate() if t.ident not in before or t.name.startswith("ami-")]
    assert stray == []
    with pytest.raises(AmiNotConnected):
        await conn.action("Ping")


@pytest.mark.parametrize("hook", ["on_connected", "on_disconnected"])
async def test_close_may_be_called_from_a_hook(fake: FakeAmi, hook: str) -> None:
    conn = AmiConnection(options(fake, action_timeout=5.0))

    async def close_now(arg: object) -> None:
        await conn.close()

    setattr(conn, hook, close_now)
    await conn.start()
    await conn.wait_connected(3.0)
    if hook == "on_disconnected":
        fake.sessions[0].drop()
    await asyncio.wait_for(conn.close(), 1.0)  # not after the 5 s hook grace: nothing waits for itself
    assert not conn.connected and not [t for t in threading.enumerate() if t.name.startswith("ami-")]


async def test_times_come_from_the_injected_clock(fake: FakeAmi) -> None:
    ticks = iter(float(n) for n in range(1000, 100_000))
    batches: list[float] = []
    conn = AmiConnection(options(fake), clock=lambda: next(ticks), on_events=lambda b, at: batches.append(at))
    await conn.start()
    await conn.wait_connected(3.0)
    await eventually(lambda: batches != [])
    assert conn.connected_at is not None and 1000.0 <= conn.connected_at < 100_000.0
    assert all(1000.0 <= at < 100_000.0 for at in batches)
    await conn.close()


async def test_the_secret_is_never_logged(fake: FakeAmi, connect: Connector, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    conn = await connect(fake)
    fake.sessions[0].drop()
    await eventually(lambda: len(fake.received("Login")) == 2 and conn.connected)
    await conn.close()
    assert SECRET not in caplog.text and SECRET not in repr(conn.options)
