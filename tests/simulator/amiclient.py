"""A tiny raw-bytes AMI client for the simulator tests: FrameSplitter over a real TCP socket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from dialer.ami.framing import FrameSplitter, OversizedFrame, is_banner
from dialer.ami.message import Message, parse_frame

HeaderValue = str | list[str]


class AmiTestClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.splitter = FrameSplitter()
        self.pending: list[bytes | OversizedFrame] = []
        self.banner: bytes | None = None
        self.raw = bytearray()  # everything received, for byte-level assertions

    @classmethod
    async def connect(cls, port: int) -> AmiTestClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        first = await client.next_frame()
        assert isinstance(first, bytes) and is_banner(first), first
        client.banner = first
        return client

    async def send(self, action: str, **headers: HeaderValue) -> None:
        lines = [f"Action: {action}"]
        for key, value in headers.items():
            for one in value if isinstance(value, list) else [value]:
                lines.append(f"{key}: {one}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        await self.writer.drain()

    async def next_frame(self, timeout: float = 5.0) -> bytes | OversizedFrame:
        while not self.pending:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                raise ConnectionResetError("server closed the connection")
            self.raw += data
            self.pending.extend(self.splitter.feed(data))
        return self.pending.pop(0)

    async def next_message(self, timeout: float = 5.0) -> Message:
        frame = await self.next_frame(timeout)
        assert isinstance(frame, bytes), frame
        return parse_frame(frame)

    async def until(self, predicate: Callable[[Message], bool], timeout: float = 5.0) -> list[Message]:
        """Messages up to and including the first that matches."""
        seen: list[Message] = []
        while True:
            message = await self.next_message(timeout)
            seen.append(message)
            if predicate(message):
                return seen

    async def response(self, action_id: str, timeout: float = 5.0) -> Message:
        found = await self.until(lambda m: "Event" not in m and m.get("ActionID") == action_id, timeout)
        return found[-1]

    async def drain(self, quiet: float = 0.1) -> list[Message]:
        """Everything that arrives until the line has been quiet for `quiet` seconds."""
        out: list[Message] = []
        while True:
            try:
                out.append(await self.next_message(quiet))
            except TimeoutError:
                return out

    async def login(self, username: str = "dsdesk", secret: str = "dsdesk", **extra: str) -> Message:
        await self.send("Login", ActionID="login-1", Username=username, Secret=secret, **extra)
        return await self.response("login-1")

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


async def eventually(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Poll until `condition()` is truthy (real seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.002)
