"""A scripted fake AMI server for the client tests: asyncio TCP on 127.0.0.1, port 0."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami" / "asterisk-22"
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
USERNAME, SECRET = "desk", "s3cret"
CHALLENGE = "840075213"
ENDLESS_EVENT = b"Event: Newexten\r\nPrivilege: dialplan,all\r\nAppData: " + b"x" * 100_000


def frame(*lines: str | bytes) -> bytes:
    """One AMI frame from its lines (str is sent as UTF-8, bytes as they are)."""
    raw = [line.encode("utf-8") if isinstance(line, str) else line for line in lines]
    return b"\r\n".join(raw) + b"\r\n\r\n"


def capture_body(name: str) -> bytes:
    """A capture's bytes after its banner line: what follows our own banner on the wire."""
    data = (FIXTURES / name).read_bytes()
    return data[data.index(b"\r\n") + 2 :]


def count_event_frames(body: bytes) -> int:
    """Counted independently of the code under test: frames whose first line is `Event: …`."""
    return sum(1 for raw in body.split(b"\r\n\r\n") if raw.startswith(b"Event: "))


def _status_probe_items() -> list[bytes]:
    frames = (FIXTURES / "status-probe.ami").read_bytes().split(b"\r\n\r\n")
    return [raw for raw in frames if raw.startswith(b"Event: CoreShowChannel\r\n")]


CORE_SHOW_CHANNEL_ITEMS = _status_probe_items()


def _status_all_variables_item() -> bytes:
    frames = (FIXTURES / "status-probe.ami").read_bytes().split(b"\r\n\r\n")
    return next(raw for raw in frames if raw.startswith(b"Event: Status\r\n") and b"\r\nVariable: " in raw)


STATUS_ALL_VARIABLES_ITEM = _status_all_variables_item()


@dataclass
class FakeAction:
    """An action as the server read it: every `Key: Value` line in order."""

    lines: list[tuple[str, str]]
    raw: bytes

    @property
    def name(self) -> str:
        return self.get("Action")

    @property
    def action_id(self) -> str:
        return self.get("ActionID")

    def get(self, key: str) -> str:
        return next((v for k, v in self.lines if k.lower() == key.lower()), "")

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.lines if k == key]


def parse_action(raw: bytes) -> FakeAction:
    lines = []
    for line in raw.decode("utf-8").split("\r\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            raise ValueError(f"broken action line {line!r} in {raw[:200]!r}")
        lines.append((key, value))
    return FakeAction(lines, raw)


@dataclass(eq=False)
class FakeSession:
    """One accepted connection; tests push bytes into it, drop it, or make it trickle."""

    writer: asyncio.StreamWriter
    actions: list[FakeAction] = field(default_factory=list)
    _backlog: bytearray = field(default_factory=bytearray)
    _trickler: asyncio.Task[None] | None = None

    async def write(self, data: bytes) -> None:
        if self._trickler is not None:
            self._backlog += data  # queued behind what is still trickling out
            return
        self.writer.write(data)
        await self.writer.drain()

    def trickle(self, interval: float, first: bytes = b"") -> None:
        """From now on send `first`, then everything written, one byte every `interval` s."""
        self._backlog += first
        self._trickler = asyncio.create_task(self._trickle(interval))

    async def _trickle(self, interval: float) -> None:
        with contextlib.suppress(ConnectionError):
            while not self.writer.is_closing():
                if self._backlog:
                    self.writer.write(bytes(self._backlog[:1]))
                    del self._backlog[:1]
                    await self.writer.drain()
                await asyncio.sleep(interval)

    def drop(self) -> None:
        self.stop_trickle()
        self.writer.transport.abort()

    def stop_trickle(self) -> None:
        if self._trickler is not None:
            self._trickler.cancel()

    @property
    def trickler(self) -> asyncio.Task[None] | None:
        return self._trickler


Handler = Callable[[FakeSession, FakeAction], Awaitable[bytes | None]]


class FakeAmi:
    """Greets, answers Login (plain/MD5), Ping, CoreStatus, CoreShowChannels, Originate, Hangup, Logoff.

    `silent` names actions never answered; `handlers` overrides an action's answer; `drop_first`
    accepts and at once closes that many connections; `read_delay` stalls reading after the banner;
    `trickle_first` sessions, once logged in, send an endless event and everything after it one
    byte every `trickle_s` seconds (a stalled or hostile PBX: bytes arrive, answers never do);
    `trickle_banner_s` sends the banner itself (and all after it) one byte every that many seconds.
    """

    def __init__(self, *, banner: bytes | None = BANNER, md5: bool = False, silent: set[str] | None = None,
                 drop_first: int = 0, read_delay: float = 0.0, trickle_first: int = 0,
                 trickle_s: float = 0.3, trickle_banner_s: float = 0.0) -> None:
        self.banner, self.md5, self.silent = banner, md5, silent or set()
        self.drop_first, self.read_delay = drop_first, read_delay
        self.trickle_first, self.trickle_s, self.trickle_banner_s = trickle_first, trickle_s, trickle_banner_s
        self.handlers: dict[str, Handler] = {}
        self.sessions: list[FakeSession] = []
        self.accepted_at: list[float] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> FakeAmi:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for session in self.sessions:
            session.drop()
        if self._handlers:  # let every connection handler finish before the test's loop closes
            await asyncio.wait(self._handlers, timeout=2.0)
        await asyncio.gather(*(s.trickler for s in self.sessions if s.trickler), return_exceptions=True)
        await self._server.wait_closed()

    def received(self, name: str) -> list[FakeAction]:
        return [a for s in self.sessions for a in s.actions if a.name == name]

    async def session(self, index: int, timeout: float = 5.0) -> FakeSession:
        await eventually(lambda: len(self.sessions) > index, timeout)
        return self.sessions[index]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted_at.append(time.monotonic())
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        if self.drop_first > 0:
            self.drop_first -= 1
            writer.transport.abort()
            return
        session = FakeSession(writer)
        self.sessions.append(session)
        try:
            if self.banner and self.trickle_banner_s:
                session.trickle(self.trickle_banner_s, self.banner)
            elif self.banner:
                await session.write(self.banner)
            await asyncio.sleep(self.read_delay)
            await self._read_actions(reader, session)
        except ConnectionError:
            pass
        finally:
            session.stop_trickle()
            writer.close()

    async def _read_actions(self, reader: asyncio.StreamReader, session: FakeSession) -> None:
        buf = b""
        while chunk := await reader.read(65536):
            *frames, buf = (buf + chunk).split(b"\r\n\r\n")
            for raw in frames:
                action = parse_action(raw)
                session.actions.append(action)
                if action.name in self.silent:
                    continue
                handler = self.handlers.get(action.name, self._default)
                reply = await handler(session, action)
                if reply:
                    await session.write(reply)
                if action.name == "Login" and b"Authentication accepted" in (reply or b"") and self.trickle_first:
                    self.trickle_first -= 1
                    session.trickle(self.trickle_s, ENDLESS_EVENT)
                if action.name == "Logoff":
                    return

    async def _default(self, session: FakeSession, action: FakeAction) -> bytes | None:
        aid = f"ActionID: {action.action_id}"
        answers: dict[str, Callable[[], bytes]] = {
            "Login": lambda: self._login(action),
            "Challenge": lambda: frame("Response: Success", aid, f"Challenge: {CHALLENGE}"),
            "Ping": lambda: frame("Response: Success", aid, "Ping: Pong", f"Timestamp: {time.time():.6f}"),
            "CoreStatus": lambda: frame("Response: Success", aid, "CoreStartupDate: 2026-11-27",
                                        "CoreStartupTime: 23:55:15", "CoreReloadDate: 2026-11-27",
                                        "CoreReloadTime: 23:55:15", "CoreCurrentCalls: 1"),
            "CoreShowChannels": lambda: core_show_channels(action.action_id),
            "Status": lambda: status_all_variables(action.action_id),
            "Originate": lambda: frame("Response: Success", aid, "Message: Originate successfully queued"),
            "Hangup": lambda: frame("Response: Error", aid, "Message: No such channel"),
            "Logoff": lambda: frame("Response: Goodbye", aid, "Message: Thanks for all the fish."),
        }
        answer = answers.get(action.name)
        return answer() if answer else frame("Response: Error", aid, "Message: Invalid/unknown command")

    def _login(self, action: FakeAction) -> bytes:
        aid = f"ActionID: {action.action_id}"
        key = hashlib.md5((CHALLENGE + SECRET).encode()).hexdigest()
        if self.md5:
            ok = action.get("AuthType").lower() == "md5" and action.get("Key") == key
        else:
            ok = action.get("Secret") == SECRET
        if not ok or action.get("Username") != USERNAME:
            return frame("Response: Error", aid, "Message: Authentication failed")
        booted = frame("Event: FullyBooted", "Privilege: system,all", "Uptime: 126", "LastReload: 126",
                       "Status: Fully Booted")
        return frame("Response: Success", aid, "Message: Authentication accepted") + booted


def core_show_channels(action_id: str) -> bytes:
    """The list-response shape recorded in status-probe.ami, under the caller's ActionID."""
    aid = f"ActionID: {action_id}"
    items = [raw.replace(b"ActionID: probe-coreshowchannels", aid.encode()) + b"\r\n\r\n"
             for raw in CORE_SHOW_CHANNEL_ITEMS]
    start = frame("Response: Success", aid, "EventList: start", "Message: Channels will follow")
    done = frame("Event: CoreShowChannelsComplete", aid, "EventList: Complete", f"ListItems: {len(items)}")
    return start + b"".join(items) + done


def status_all_variables(action_id: str) -> bytes:
    """`Status` with `AllVariables: true` as status-probe.ami recorded it, under the caller's ActionID."""
    aid = f"ActionID: {action_id}"
    item = STATUS_ALL_VARIABLES_ITEM.replace(b"ActionID: probe-status-agent", aid.encode()) + b"\r\n\r\n"
    start = frame("Response: Success", aid, "EventList: start", "Message: Channel status will follow")
    done = frame("Event: StatusComplete", aid, "EventList: Complete", "ListItems: 1", "Items: 1")
    return start + item + done


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until predicate() is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)
