"""A minimal AMI server for the ingest benchmark, run in its own process (it must not share our GIL).

It greets with the banner, answers Login and the few actions DS Desk sends on connect (Ping,
CoreStatus, CoreShowChannels; anything else gets a plain Success), then sends the benchmark stream
as fast as the client reads it and keeps the connection open, without Goodbye, until the client
goes. One connection at a time; every connection gets the same stream.

When the stream starts: after the Login response, except for the user `GATED_USER` (DS Desk),
for whom it starts after the CoreShowChannels response. DS Desk reconciles its open calls with
that channel list on connect; a list saying "no channels" while the stream already carries live
calls is a state no real PBX reports, and would close those calls as "ended in the gap".
"""

from __future__ import annotations

import multiprocessing
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from multiprocessing.connection import Connection

from _stream import StreamPlan

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
Blocks = Callable[[], Iterable[bytes | memoryview]]  # a fresh pass over the stream per connection
GATED_USER = "dsdesk"
BLOCK_BYTES = 1 << 20  # the stream is sent in blocks of whole repetitions; responses go in between
STARTUP_DATE, STARTUP_TIME = "2026-11-28", "00:00:00"


@dataclass(frozen=True, slots=True)
class StreamFacts:
    """What the parent needs to know about the stream (the server process holds the bytes)."""

    port: int
    events: int
    calls: int
    outcomes: dict[str, int]
    bytes: int | None  # None when the stream is generated while it is sent
    build_s: float


class AmiStreamServer:
    """The server process, seen from the benchmark: start, read its facts, stop."""

    def __init__(self, calls: int, *, prebuilt: bool, with_mixed: bool = True) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._pipe, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child, calls, prebuilt, with_mixed),
                                    name="ami-bench-server", daemon=True)
        self.facts: StreamFacts | None = None

    def start(self, timeout: float = 600.0) -> StreamFacts:
        self._process.start()
        if not self._pipe.poll(timeout):
            raise RuntimeError("the benchmark AMI server did not come up")
        self.facts = self._pipe.recv()
        return self.facts

    def stop(self) -> None:
        if self._process.is_alive():
            self._pipe.send("stop")
            self._process.join(5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)


def _serve(pipe: Connection, calls: int, prebuilt: bool, with_mixed: bool) -> None:
    started = time.perf_counter()
    plan = StreamPlan.for_calls(calls, with_mixed)
    blocks = _Prebuilt(plan) if prebuilt else None
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    size = None if blocks is None else len(blocks.blob)
    pipe.send(StreamFacts(port, plan.events, plan.calls, dict(plan.outcomes), size,
                          time.perf_counter() - started))
    source: Blocks = blocks.blocks if blocks is not None else (lambda: _generated_blocks(plan))
    threading.Thread(target=_accept_loop, args=(listener, source, plan.first_timestamp), daemon=True).start()
    pipe.recv()  # "stop" (or EOF when the parent dies)


class _Prebuilt:
    """The whole stream as one bytes object, cut into blocks at repetition boundaries."""

    def __init__(self, plan: StreamPlan) -> None:
        units = [unit for unit, _ in plan.units()]
        self.blob = b"".join(units)
        self._cuts = [0]
        size = 0
        for unit in units:
            size += len(unit)
            if size - self._cuts[-1] >= BLOCK_BYTES:
                self._cuts.append(size)
        if self._cuts[-1] != size:
            self._cuts.append(size)

    def blocks(self) -> Iterator[memoryview]:
        view = memoryview(self.blob)
        for a, b in pairwise(self._cuts):
            yield view[a:b]


def _generated_blocks(plan: StreamPlan) -> Iterator[bytes]:
    parts: list[bytes] = []
    size = 0
    for unit, _ in plan.units():
        parts.append(unit)
        size += len(unit)
        if size >= BLOCK_BYTES:
            yield b"".join(parts)
            parts, size = [], 0
    if parts:
        yield b"".join(parts)


def _accept_loop(listener: socket.socket, source: Blocks, first_timestamp: str) -> None:
    while True:
        sock, _ = listener.accept()
        try:
            _Session(sock, first_timestamp).run(source())
        except OSError:
            pass  # the client went away mid-stream
        finally:
            sock.close()


class _Session:
    """One connection: a reader thread turns actions into responses; this thread does all writes."""

    def __init__(self, sock: socket.socket, first_timestamp: str) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._stamp = first_timestamp
        self._responses: queue.Queue[bytes] = queue.Queue()
        self._go = threading.Event()
        self._gone = threading.Event()

    def run(self, blocks: Iterable[bytes | memoryview]) -> None:
        self._sock.sendall(BANNER)
        threading.Thread(target=self._read, daemon=True).start()
        while not self._go.is_set():
            self._flush(timeout=0.01)
            if self._gone.is_set():
                return
        self._flush()
        for block in blocks:
            self._flush()
            self._sock.sendall(block)
        while not self._gone.is_set():  # no Goodbye: stay until the client leaves
            self._flush(timeout=0.05)

    def _flush(self, timeout: float | None = None) -> None:
        try:
            while True:
                self._sock.sendall(self._responses.get(timeout=timeout) if timeout else self._responses.get_nowait())
                timeout = None
        except queue.Empty:
            return

    def _read(self) -> None:
        buf = b""
        try:
            while chunk := self._sock.recv(65536):
                buf += chunk
                *frames, buf = buf.split(b"\r\n\r\n")
                for frame in frames:
                    self._answer(frame)
        except OSError:
            pass
        self._gone.set()

    def _answer(self, frame: bytes) -> None:
        headers: dict[str, str] = {}
        for line in frame.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(": ")
            headers.setdefault(key.lower(), value)
        action, action_id = headers.get("action", "").lower(), headers.get("actionid", "")
        for reply in _replies(action, action_id, self._stamp):
            self._responses.put(reply)
        if (action == "login" and headers.get("username") != GATED_USER) or action == "coreshowchannels":
            self._go.set()


def _replies(action: str, action_id: str, stamp: str) -> list[bytes]:
    aid = ("ActionID", action_id)
    if action == "login":
        return [_frame(("Response", "Success"), aid, ("Message", "Authentication accepted"))]
    if action == "ping":
        return [_frame(("Response", "Success"), aid, ("Ping", "Pong"), ("Timestamp", stamp))]
    if action == "corestatus":
        return [_frame(("Response", "Success"), aid, ("CoreStartupDate", STARTUP_DATE),
                       ("CoreStartupTime", STARTUP_TIME), ("CoreCurrentCalls", "0"))]
    if action == "coreshowchannels":
        return [
            _frame(("Response", "Success"), aid, ("EventList", "start"), ("Message", "Channels will follow")),
            _frame(("Event", "CoreShowChannelsComplete"), aid, ("EventList", "Complete"), ("ListItems", "0")),
        ]
    return [_frame(("Response", "Success"), aid)]


def _frame(*headers: tuple[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in headers).encode() + b"\r\n"
