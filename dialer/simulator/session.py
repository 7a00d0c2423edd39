"""One AMI client connection: banner, action reading, and a single writer task per socket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from dialer.ami.framing import FrameSplitter, OversizedFrame
from dialer.ami.message import FrameError, Message, parse_frame
from dialer.simulator.events import OutEvent
from dialer.simulator.frames import Headers, format_frame

log = logging.getLogger(__name__)

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
READ_CHUNK = 64 * 1024


@dataclass(slots=True)
class EventPolicy:
    """What a session wants: its EventMask (None = all classes) and its Filter regexes."""

    mask: frozenset[str] | None = None
    include: list[re.Pattern[str]] = field(default_factory=list)
    exclude: list[re.Pattern[str]] = field(default_factory=list)

    def allows(self, event: OutEvent) -> bool:
        if self.mask is not None and not (event.classes & self.mask):
            return False
        # Asterisk: with include filters an event must match one; any exclude match drops it.
        if self.include and not any(p.search(event.text) for p in self.include):
            return False
        return not any(p.search(event.text) for p in self.exclude)

    def add_filter(self, expression: str) -> None:
        if expression.startswith("!"):
            self.exclude.append(re.compile(expression[1:]))
        else:
            self.include.append(re.compile(expression))


def parse_event_mask(value: str) -> frozenset[str] | None:
    """`on` → all (None), `off` → nothing, `call,cdr` → those classes."""
    lowered = value.strip().lower()
    if lowered in ("on", "yes", "true", "all", "1"):
        return None
    if lowered in ("off", "no", "false", "", "0"):
        return frozenset()
    parts = frozenset(p.strip() for p in lowered.split(",") if p.strip())
    return None if "all" in parts else parts


ActionHandler = Callable[["AmiSession", Message], Awaitable[None]]


class AmiSession:
    """Reads actions, hands them to `dispatch`, writes responses and events in order."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
        dispatch: ActionHandler, max_queued: int, opened_at: float,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.dispatch = dispatch
        self.max_queued = max_queued
        self.opened_at = opened_at
        self.authenticated = False
        self.username = ""
        self.challenge: str | None = None
        self.policy = EventPolicy()
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._closing = False

    @property
    def peer(self) -> tuple[str, int]:
        return _address(self.writer.get_extra_info("peername"))

    @property
    def local(self) -> tuple[str, int]:
        return _address(self.writer.get_extra_info("sockname"))

    async def serve(self) -> None:
        writer_task = asyncio.get_running_loop().create_task(self._write_loop())
        self.send(BANNER)
        try:
            await self._read_loop()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer_task, timeout=2)
            self.abort()

    async def _read_loop(self) -> None:
        splitter = FrameSplitter(expect_banner=False)
        while not self._closing:
            chunk = await self.reader.read(READ_CHUNK)
            if not chunk:
                return
            for frame in splitter.feed(chunk):
                if isinstance(frame, OversizedFrame) or self._closing:
                    continue
                await self._handle(frame)

    async def _handle(self, frame: bytes) -> None:
        try:
            message = parse_frame(frame.strip(b"\r\n"))
        except FrameError:
            return
        await self.dispatch(self, message)

    async def _write_loop(self) -> None:
        while True:
            data = await self._queue.get()
            if data is None:
                break
            chunks = [data]
            while not self._queue.empty():  # batch what piled up: fewer syscalls
                more = self._queue.get_nowait()
                if more is None:
                    self._queue.put_nowait(None)
                    break
                chunks.append(more)
            self.writer.write(b"".join(chunks))
            await self.writer.drain()
        with contextlib.suppress(Exception):
            self.writer.close()

    def send(self, data: bytes) -> None:
        if self._closing and data is not BANNER:
            return
        if self._queue.qsize() >= self.max_queued:
            log.warning("AMI client %s fell %d frames behind; disconnecting", self.peer, self.max_queued)
            self.abort()
            return
        self._queue.put_nowait(data)

    def respond(self, headers: Headers) -> None:
        self.send(format_frame(headers).encode("utf-8"))

    def deliver(self, event: OutEvent) -> None:
        if self.authenticated and self.policy.allows(event):
            self.send(event.data)

    def close_after_flush(self) -> None:
        """Logoff or failed login: what is queued still goes out, then the socket closes."""
        self._closing = True
        self._queue.put_nowait(None)

    def abort(self) -> None:
        """Close abruptly (RST), as a crashing PBX would."""
        self._closing = True
        transport = self.writer.transport
        if transport is not None and not transport.is_closing():
            transport.abort()


def _address(info: object) -> tuple[str, int]:
    if isinstance(info, tuple) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return ("", 0)
