"""The consumer side of the client tests: a recorder for events and hooks, fast options, a connector."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from dialer.ami.message import Message
from dialer.ami_options import AmiOptions
from dialer.client import AmiConnection
from tests.dialer.fake_ami import SECRET, USERNAME, FakeAmi, eventually


@dataclass
class Recorder:
    """Events, batches and hook calls, as the connection made them."""

    events: list[Message] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    connected: list[bool] = field(default_factory=list)
    disconnected: list[BaseException | None] = field(default_factory=list)
    events_at_disconnect: list[int] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)

    def on_events(self, batch: list[Message], received_at: float) -> None:
        self.threads.add(threading.current_thread().name)
        self.batch_sizes.append(len(batch))
        self.events.extend(batch)

    async def on_connected(self, is_reconnect: bool) -> None:
        self.connected.append(is_reconnect)

    async def on_disconnected(self, error: BaseException | None) -> None:
        self.disconnected.append(error)
        self.events_at_disconnect.append(len(self.events))

    def named(self, name: str) -> list[Message]:
        return [e for e in self.events if e.name == name]


def options(fake: FakeAmi, **overrides: Any) -> AmiOptions:
    """Small timeouts and backoff so the tests stay fast; no jitter so delays are predictable."""
    fast = dict(connect_timeout=1.0, action_timeout=1.0, ping_interval=60.0, ping_timeout=0.3,
                backoff_min=0.05, backoff_max=0.4, backoff_jitter=0.0)
    return AmiOptions(port=fake.port, username=USERNAME, secret=SECRET, **{**fast, **overrides})


class Connector:
    """Starts AmiConnections wired to a Recorder; `close_all()` after the test."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.opened: list[AmiConnection] = []

    async def __call__(self, fake: FakeAmi, wait: bool = True, **overrides: Any) -> AmiConnection:
        rec = self.rec
        conn = AmiConnection(options(fake, **overrides), on_events=rec.on_events,
                             on_connected=rec.on_connected, on_disconnected=rec.on_disconnected)
        self.opened.append(conn)
        await conn.start()
        if wait:
            await conn.wait_connected(3.0)
            await eventually(lambda: rec.named("FullyBooted") != [] and rec.connected != [])
        return conn

    async def close_all(self) -> None:
        for conn in self.opened:
            await conn.close()
