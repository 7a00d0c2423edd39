"""AMI connection: asterisk-ami's reader thread made safe, bridged into asyncio, kept alive."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import socket
import threading
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import asterisk.ami.response
from asterisk.ami import AMIClient
from asterisk.ami.action import Action
from asterisk.ami.event import Event
from asterisk.ami.response import FutureResponse, Response

from dialer import actions
from dialer.actions import AmiAction
from dialer.ami.framing import DEFAULT_MAX_FRAME_BYTES, FrameSplitter
from dialer.ami.message import FrameError, Message, parse_frame
from dialer.errors import (
    AmiActionError,
    AmiActionTimeout,
    AmiBannerError,
    AmiConnectionError,
    AmiDisconnected,
    AmiListCancelled,
    AmiLoginError,
    AmiNotConnected,
    DialerError,
)

log = logging.getLogger(__name__)

# FutureResponse.set_response calls traceback.print_exc() without importing traceback, so a raising
# callback became a NameError inside the reader thread. (We also never pass callbacks.)
if not hasattr(asterisk.ami.response, "traceback"):
    asterisk.ami.response.traceback = traceback

Clock = Callable[[], float]
BatchSink = Callable[[list[Message], float], object]
ClosedSink = Callable[[BaseException | None], object]
OnEvents = Callable[[list[Message], float], None]
OnConnected = Callable[[bool], Awaitable[None]]
OnDisconnected = Callable[[BaseException | None], Awaitable[None]]

DEFAULT_BUFFER_SIZE = 64 * 1024  # the library's 1 KiB costs a third of the ingest rate
BANNER_LIMIT = 256
_CLIENT_SERIAL = itertools.count(1)


def _caused(error: DialerError, cause: BaseException | None) -> DialerError:
    """An error to hand over (not raise) that still says what caused it."""
    error.__cause__ = cause
    return error


@dataclass(slots=True)
class ReaderStats:
    """Counters kept by the reader thread (read them from anywhere; they only grow)."""

    batches: int = 0
    messages: int = 0
    garbage: int = 0
    oversized: int = 0
    cp1251: int = 0


class _QuietCondition(threading.Condition):
    notifyAll = threading.Condition.notify_all  # the library calls the deprecated name on every response


class _QuietFutureResponse(FutureResponse):  # type: ignore[misc]  # untyped library
    def __init__(self, callback: Callable[..., None] | None, timeout: float | None) -> None:
        super().__init__(callback, timeout)
        self._lock = _QuietCondition()


class DsAmiClient(AMIClient):  # type: ignore[misc]  # untyped library
    """asterisk-ami's client with its defects overridden; one reader thread per connection.

    Each chunk received becomes one batch of parsed frames (events and responses) passed to
    `on_batch(batch, received_at)` in the reader thread; nothing a listener or sink raises
    escapes into that thread. `on_closed(error)` is called once when the reader stops.
    """

    def __init__(
        self,
        address: str = "127.0.0.1",
        port: int = 5038,
        *,
        connect_timeout: float = 3.0,
        buffer_size: int = DEFAULT_BUFFER_SIZE,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        on_batch: BatchSink | None = None,
        on_closed: ClosedSink | None = None,
        clock: Clock = time.time,
        **listeners: Any,
    ) -> None:
        super().__init__(address=address, port=port, timeout=connect_timeout, buffer_size=buffer_size, **listeners)
        self.on_batch = on_batch
        self.on_closed = on_closed
        self.stats = ReaderStats()
        self.last_received_at: float | None = None
        self.last_received_mono = time.monotonic()  # for liveness, immune to an injected or stepped clock
        self.close_reason: DialerError | None = None
        self._clock = clock
        self._max_frame_bytes = max_frame_bytes
        self._splitter = FrameSplitter(max_frame_bytes, expect_banner=False)
        self._early_bytes = b""
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._id_prefix = f"ds{next(_CLIENT_SERIAL)}-"

    @property
    def where(self) -> str:
        return f"{self._address}:{self._port}"

    @property
    def ami_version(self) -> str | None:
        return self._ami_version

    def next_action_id(self) -> str:
        # the library's `counter += 1` is not atomic across threads; next() on a count is
        return f"{self._id_prefix}{next(self._ids)}"

    def connect(self) -> None:
        try:
            sock = socket.create_connection((self._address, self._port), timeout=self._timeout)
        except OSError as e:
            raise AmiConnectionError(f"cannot connect to AMI at {self.where}: {e}") from e
        try:
            self._ami_version, self._early_bytes = self._read_banner(sock)
            # The library keeps its 3 s timeout on reads, so a quiet PBX looked dead: reads block,
            # and liveness is the keepalive's job.
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        except BaseException:
            sock.close()
            raise
        self._socket = sock
        self.finished = threading.Event()
        self._thread = threading.Thread(target=self.listen, name=f"ami-reader-{self.where}", daemon=True)
        self._thread.start()

    def _read_banner(self, sock: socket.socket) -> tuple[str, bytes]:
        buf = b""
        while b"\r\n" not in buf and len(buf) < BANNER_LIMIT:
            try:
                chunk = sock.recv(BANNER_LIMIT)
            except TimeoutError as e:
                raise AmiBannerError(f"no AMI banner from {self.where} within {self._timeout} s (got {buf!r})") from e
            except OSError as e:
                raise AmiConnectionError(f"AMI connection to {self.where} broke before the banner: {e}") from e
            if not chunk:
                raise AmiConnectionError(f"{self.where} closed the connection before the AMI banner (got {buf!r})")
            buf += chunk
        line, _, rest = buf.partition(b"\r\n")
        match = self.asterisk_start_regex.match(line.decode("latin-1"))
        if not match:
            expected = "'Asterisk Call Manager/<version>'"
            raise AmiBannerError(f"{self.where} is not an AMI server: expected {expected}, got {line[:80]!r}")
        return str(match.group("version")), rest

    def send(self, pack: object) -> None:
        """sendall under a lock: the library's bare send() may write part of a frame, and
        concurrent senders could interleave their frames."""
        data = (str(pack) + "\r\n").encode(self.encoding)
        with self._send_lock:
            if self._socket is None or self.finished is None or self.finished.is_set():
                raise AmiNotConnected(f"AMI connection to {self.where} is closed")
            try:
                self._socket.sendall(data)
            except OSError as e:
                raise AmiConnectionError(f"sending to AMI at {self.where} failed: {e}") from e

    def send_action(self, action: Action, callback: Callable[..., None] | None = None) -> FutureResponse:
        """The library's, but a failed send does not leave a future behind that can never resolve."""
        action_id = action.keys.setdefault("ActionID", self.next_action_id())
        future = self._futures[action_id] = _QuietFutureResponse(callback, self._timeout)
        self._fire_on_action(action=action)
        try:
            self.send(action)
        except BaseException:
            self.forget(action_id)
            raise
        return future

    def forget(self, action_id: str | None) -> None:
        self._futures.pop(action_id, None)

    def shutdown_socket(self) -> None:
        """Wake a recv() blocked in the reader thread: close() alone does not, shutdown() does."""
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)

    def disconnect(self) -> None:
        if self.finished is None:
            return
        self.finished.set()
        self.shutdown_socket()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self._timeout)
        self._close_socket()
        self._futures.clear()

    def _close_socket(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()

    def _note_close(self, error: DialerError, cause: BaseException | None = None) -> None:
        if self.close_reason is None and not self.finished.is_set():
            self.close_reason = _caused(error, cause)

    def listen(self) -> None:
        self._fire_on_connect()
        try:
            for batch, received_at in self._next_pack():
                self._dispatch(batch, received_at)
        except OSError as e:
            self._note_close(AmiConnectionError(f"AMI connection to {self.where} broke: {e}"), e)
        except Exception as e:  # a bug of ours: report it as a drop so the session reconnects
            log.exception("AMI reader for %s failed", self.where)
            self._note_close(AmiConnectionError(f"AMI reader for {self.where} failed: {e!r}"), e)
        finally:
            self.finished.set()
            self._close_socket()
            self._fire_on_disconnect(error=self.close_reason)
            self._call_sink(self.on_closed, self.close_reason)

    def _next_pack(self) -> Iterator[tuple[list[Message], float]]:
        """One batch per received chunk (the library yields one decoded string per frame)."""
        data, self._early_bytes = self._early_bytes, b""
        while True:
            if data:
                received_at = self.last_received_at = self._clock()
                self.last_received_mono = time.monotonic()
                yield self._parse_chunk(data), received_at
            if self.finished.is_set():  # Goodbye, or a local disconnect()
                return
            data = self._socket.recv(self._buffer_size)
            if not data:
                self._note_close(AmiConnectionError(f"AMI server {self.where} closed the connection"))
                return

    def _parse_chunk(self, data: bytes) -> list[Message]:
        batch: list[Message] = []
        for frame in self._splitter.feed(data):
            if isinstance(frame, bytes):
                try:
                    msg = parse_frame(frame)
                except FrameError as e:
                    self.stats.garbage += 1
                    log.warning("unparsable AMI frame from %s skipped: %s", self.where, e)
                    continue
                if msg.encoding == "utf-8" and ("Event" in msg or "Response" in msg):
                    batch.append(msg)  # the hot path: a well-formed frame
                    continue
                if self._accept_odd(msg):
                    batch.append(msg)
            else:
                self.stats.oversized += 1
                log.warning("AMI frame of %d bytes from %s exceeds the %d-byte limit; skipped",
                            frame.size, self.where, self._max_frame_bytes)
        self.stats.batches += 1
        self.stats.messages += len(batch)
        return batch

    def _accept_odd(self, msg: Message) -> bool:
        """A frame decoded as Windows-1251 is kept; one that is neither event nor response is not."""
        if msg.encoding != "utf-8":
            self.stats.cp1251 += 1
            level = logging.WARNING if self.stats.cp1251 == 1 else logging.DEBUG  # a trunk repeats it on every event
            log.log(level, "AMI frame from %s is not UTF-8; decoded as %s: %s %s", self.where,
                    msg.encoding, msg.get("Event") or msg.get("Response"), msg.get("Uniqueid", ""))
        if "Event" in msg or "Response" in msg:
            return True
        self.stats.garbage += 1
        log.warning("AMI frame from %s with neither Event nor Response skipped: %.120r", self.where, dict(msg))
        self._fire_on_unknown(pack=msg)
        return False

    def _dispatch(self, batch: list[Message], received_at: float) -> None:
        # the library's per-frame machinery only for responses (futures, Goodbye), unless someone listens
        everything = bool(self._listeners or self._event_listeners)
        for msg in batch:
            if everything or "Event" not in msg:
                self.fire_recv_pack(msg)
        if batch:
            self._call_sink(self.on_batch, batch, received_at)

    def fire_recv_pack(self, pack: Message) -> None:
        try:
            if "Event" in pack:
                self.fire_recv_event(Event(pack["Event"], pack))
            elif "Response" in pack:
                self.fire_recv_reponse(Response(pack["Response"], pack, []))
            else:
                self._fire_on_unknown(pack=pack)
        except Exception:
            log.exception("AMI listener failed on a frame from %s; delivery continues", self.where)

    def fire_recv_reponse(self, response: Response) -> None:
        if response.status.lower() == "goodbye":  # the library then sets `finished`: the link is over
            self._note_close(AmiConnectionError(f"AMI server {self.where} said Goodbye"))
        super().fire_recv_reponse(response)

    def fire_recv_event(self, event: Event) -> None:
        self._fire_on_event(event=event)
        for listener in list(self._event_listeners):
            try:
                listener(event=event, source=self)
            except Exception:
                log.exception("AMI event listener %r raised; ignored", listener)

    def _fire(self, method: str, **kwargs: Any) -> None:
        """The library stops at the first raising listener (and kills its thread); we go on."""
        for listener in list(self._listeners):
            try:
                getattr(listener, method)(source=self, **kwargs)
            except Exception:
                log.exception("AMI listener %s.%s raised; ignored", type(listener).__name__, method)

    # every library _fire_on_* goes through _fire
    def _fire_on_connect(self, **kw: Any) -> None: self._fire("on_connect", **kw)  # noqa: E704
    def _fire_on_disconnect(self, **kw: Any) -> None: self._fire("on_disconnect", **kw)  # noqa: E704
    def _fire_on_response(self, **kw: Any) -> None: self._fire("on_response", **kw)  # noqa: E704
    def _fire_on_action(self, **kw: Any) -> None: self._fire("on_action", **kw)  # noqa: E704
    def _fire_on_event(self, **kw: Any) -> None: self._fire("on_event", **kw)  # noqa: E704
    def _fire_on_unknown(self, **kw: Any) -> None: self._fire("on_unknown", **kw)  # noqa: E704

    def _call_sink(self, sink: Callable[..., object] | None, *args: Any) -> None:
        if sink is None:
            return
        try:
            sink(*args)
        except RuntimeError as e:  # the event loop is already closed: nobody is listening
            log.debug("AMI reader for %s could not hand over: %s", self.where, e)
        except Exception:
            log.exception("AMI sink failed in the reader for %s; reading continues", self.where)


@dataclass(frozen=True, slots=True)
class AmiOptions:
    """Where the AMI server is and how to watch it; times in seconds."""

    host: str = "127.0.0.1"
    port: int = 5038
    username: str = ""
    secret: str = field(default="", repr=False)
    auth: Literal["plain", "md5"] = "plain"
    connect_timeout: float = 3.0
    action_timeout: float = 10.0
    ping_interval: float = 20.0
    ping_timeout: float = 5.0
    backoff_min: float = 0.5
    backoff_max: float = 30.0
    backoff_jitter: float = 0.2  # ± this fraction of each delay, so desks do not reconnect in lockstep
    buffer_size: int = DEFAULT_BUFFER_SIZE
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    send_threads: int = 4


def backoff_delay(attempt: int, minimum: float, maximum: float, jitter: float, rnd: Clock = random.random) -> float:
    """minimum · 2^attempt, capped at maximum, then spread by ± jitter."""
    base = min(maximum, minimum * 2.0 ** min(attempt, 32))
    return max(0.0, base * (1 + jitter * (2 * rnd() - 1)))


@dataclass(eq=False, slots=True)
class _Pending:
    action: str
    future: asyncio.Future[Any]
    items: list[Message] | None = None  # a list action's items so far; None for a plain action
    response: Message | None = None


@dataclass(eq=False, slots=True)
class _Link:
    """One TCP connection: its client and a future set (to the reason, or None) when it dies."""

    client: DsAmiClient
    dead: asyncio.Future[BaseException | None]


class AmiConnection:
    """A logged-in AMI session that keeps itself up: Ping keepalive, reconnect with backoff, hooks.

    Threads: each TCP connection has one asterisk-ami reader thread, which parses frames and posts
    one batch per received chunk to the loop with `call_soon_threadsafe`; sends and the blocking
    connect run on a small pool (`ami-send_*`) so a full socket buffer never blocks the loop.
    Futures, `on_events`, the hooks and `batches()` all run in the loop thread.
    """

    def __init__(
        self,
        options: AmiOptions,
        *,
        on_events: OnEvents | None = None,
        on_connected: OnConnected | None = None,
        on_disconnected: OnDisconnected | None = None,
        clock: Clock = time.time,
        rnd: Clock = random.random,
    ) -> None:
        self.options = options
        self.on_events = on_events
        self.on_connected = on_connected
        self.on_disconnected = on_disconnected
        self.connected_at: float | None = None  # wall clock (`clock`) of the last successful login
        self.disconnected_at: float | None = None  # when the last drop was noticed
        self.last_alive_at: float | None = None  # last bytes received before that drop
        self.last_error: BaseException | None = None
        self.ami_version: str | None = None
        self._clock, self._rnd = clock, rnd
        self._pending: dict[str, _Pending] = {}
        self._lists = 0  # pending list actions: only then is an event's ActionID looked up
        self._subscribers: set[asyncio.Queue[tuple[list[Message], float] | None]] = set()
        self._link: _Link | None = None
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._close_task: asyncio.Future[None] | None = None
        self._own_tasks: set[asyncio.Task[Any]] = set()  # the supervisor and the running on_connected hook
        self._executor = ThreadPoolExecutor(options.send_threads, thread_name_prefix="ami-send")

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    @property
    def pending_actions(self) -> int:
        return len(self._pending)

    async def start(self) -> None:
        """Start connecting (and reconnecting) in the background; see `wait_connected`."""
        if self._closing:
            raise AmiNotConnected("this AmiConnection was closed; create a new one")
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name="ami-supervisor")
            self._own_tasks.add(self._task)

    async def wait_connected(self, timeout: float | None = None) -> None:
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError as e:
            where = f"{self.options.host}:{self.options.port}"
            message = f"no AMI session with {where} within {timeout} s; last error: {self.last_error}"
            raise AmiNotConnected(message) from (self.last_error or e)

    async def __aenter__(self) -> AmiConnection:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def action(
        self, name: str, /, *, variables: Mapping[str, str] | None = None, timeout: float | None = None, **headers: str
    ) -> Message:
        """Send an action and return its response; `AmiActionError` on `Response: Error`."""
        return await self.perform(AmiAction(name, dict(headers), dict(variables or {})), timeout)

    async def perform(self, spec: AmiAction, timeout: float | None = None) -> Message:
        """`action` for a spec from `dialer.actions`."""
        return cast(Message, await self._request(self._current(), spec, timeout))

    async def list_action(
        self, name: str, /, *, variables: Mapping[str, str] | None = None, timeout: float | None = None, **headers: str
    ) -> tuple[Message, list[Message]]:
        """Send a list action (CoreShowChannels, Status…); return its response and its items."""
        spec = AmiAction(name, dict(headers), dict(variables or {}))
        return cast(tuple[Message, list[Message]], await self._request(self._current(), spec, timeout, collect=True))

    async def batches(self) -> AsyncIterator[tuple[list[Message], float]]:
        """Every batch of events from the first iteration until close(): the alternative to `on_events`."""
        queue: asyncio.Queue[tuple[list[Message], float] | None] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            self._subscribers.discard(queue)

    async def close(self) -> None:
        """Logoff, close the socket, stop every thread we started. Idempotent."""
        if self._close_task is None:
            self._close_task = asyncio.ensure_future(self._close())
        if asyncio.current_task() in self._own_tasks:
            return  # called from a hook: waiting here would wait for the hook itself; the close goes on
        await asyncio.shield(self._close_task)

    async def _close(self) -> None:
        self._closing = True
        self._wake.set()
        link = self._link
        if link is not None and self._ready.is_set():
            with contextlib.suppress(DialerError):
                await self._request(link, actions.logoff(), min(self.options.action_timeout, 2.0))
        if link is not None:
            self._kill(link, None)
        if self._task is not None:
            await self._task
        self._executor.shutdown(wait=True)  # idle by now: the sockets are shut, so no send can block
        for queue in self._subscribers:
            queue.put_nowait(None)

    def _current(self) -> _Link:
        if self._link is None or not self._ready.is_set():
            where = f"{self.options.host}:{self.options.port}"
            raise AmiNotConnected(f"no AMI session with {where} (last error: {self.last_error})")
        return self._link

    async def _supervise(self) -> None:
        attempt, is_reconnect, loop = 0, False, asyncio.get_running_loop()
        while not self._closing:
            try:
                link = await self._open()
            except Exception as e:
                if not isinstance(e, DialerError):
                    log.exception("unexpected failure while connecting to AMI")
                self.last_error = e
                await self._pause(attempt, e)
                attempt += 1
                continue
            up_since = loop.time()
            await self._serve(link, is_reconnect)
            is_reconnect = True
            if loop.time() - up_since >= self.options.backoff_max:
                attempt = 0  # a link that stayed up resets the backoff; a flapping one keeps growing it
            await self._pause(attempt, self.last_error)
            attempt += 1

    async def _pause(self, attempt: int, error: BaseException | None) -> None:
        if self._closing:
            return
        o = self.options
        delay = backoff_delay(attempt, o.backoff_min, o.backoff_max, o.backoff_jitter, self._rnd)
        log.warning("AMI %s:%s unavailable (%s); reconnecting in %.2f s", o.host, o.port, error, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    async def _open(self) -> _Link:
        o, loop = self.options, asyncio.get_running_loop()
        client = DsAmiClient(o.host, o.port, connect_timeout=o.connect_timeout, buffer_size=o.buffer_size,
                             max_frame_bytes=o.max_frame_bytes, clock=self._clock)
        link = _Link(client, loop.create_future())
        client.on_batch = lambda batch, at: loop.call_soon_threadsafe(self._handle_batch, batch, at)
        client.on_closed = lambda error: loop.call_soon_threadsafe(self._reader_exited, link, error)
        await loop.run_in_executor(self._executor, client.connect)
        self._link = link
        try:
            if self._closing:
                raise AmiNotConnected("closed while connecting")
            await self._login(link)
        except BaseException:
            await self._drop(link)
            raise
        return link

    async def _login(self, link: _Link) -> None:
        o = self.options
        try:
            spec = actions.login(o.username, o.secret)
            if o.auth == "md5":
                answer = await self._request(link, actions.challenge(), o.action_timeout)
                spec = actions.login_md5(o.username, o.secret, answer.get("Challenge", ""))
            await self._request(link, spec, o.action_timeout)
        except AmiActionError as e:
            raise AmiLoginError(f"AMI login as {o.username!r} at {o.host}:{o.port} refused: {e.message}") from e

    async def _serve(self, link: _Link, is_reconnect: bool) -> None:
        """Run one logged-in link until it dies; the hooks bracket it."""
        self.connected_at = self._clock()
        self.ami_version = link.client.ami_version
        self._ready.set()
        log.info("AMI session up with %s (Asterisk Call Manager/%s)", link.client.where, self.ami_version)
        keepalive = asyncio.create_task(self._keepalive(link), name="ami-keepalive")
        hook = asyncio.create_task(self._run_hook("on_connected", self.on_connected, is_reconnect))
        self._own_tasks.add(hook)
        hook.add_done_callback(self._own_tasks.discard)
        try:
            error = await asyncio.shield(link.dead)
        finally:
            keepalive.cancel()
            self._ready.clear()
            self.disconnected_at = self._clock()
            self.last_alive_at = max(link.client.last_received_at or 0.0, self.connected_at)
            await self._drop(link)
            await self._settle(hook)
        if error is not None:
            self.last_error = error
            log.warning("AMI connection to %s lost: %s", link.client.where, error)
        await self._run_hook("on_disconnected", self.on_disconnected, error)

    async def _keepalive(self, link: _Link) -> None:
        o = self.options
        while True:
            await asyncio.sleep(o.ping_interval)
            try:
                await self._request(link, actions.ping(), o.ping_timeout)
            except AmiActionTimeout as e:
                if time.monotonic() - link.client.last_received_mono < o.ping_timeout:
                    continue  # bytes keep arriving: the Pong is only queued behind a backlog of events
                self._kill(link, _caused(AmiConnectionError(f"no Pong within {o.ping_timeout} s: connection dead"), e))
                return
            except DialerError:
                return  # the link is already going down

    async def _run_hook(self, name: str, hook: Callable[[Any], Awaitable[None]] | None, arg: object) -> None:
        if hook is None:
            return
        try:
            await hook(arg)
        except Exception:
            log.exception("AMI %s hook failed", name)

    async def _settle(self, hook: asyncio.Task[None]) -> None:
        """Let on_connected finish (its actions now fail fast) before on_disconnected starts."""
        await asyncio.wait({hook}, timeout=self.options.action_timeout)
        if not hook.done():
            log.warning("AMI on_connected hook still running after the link died; cancelled")
            hook.cancel()
            await asyncio.wait({hook})

    def _kill(self, link: _Link, error: BaseException | None) -> None:
        if link.dead.done():
            return
        link.dead.set_result(error)
        self._ready.clear()
        for action_id, pending in list(self._pending.items()):
            if not pending.future.done():
                lost = AmiDisconnected(f"AMI connection lost before {pending.action} ({action_id}) was answered")
                pending.future.set_exception(lost)
        link.client.shutdown_socket()

    def _reader_exited(self, link: _Link, error: BaseException | None) -> None:
        self._kill(link, None if self._closing else error or AmiConnectionError("AMI connection closed"))

    async def _drop(self, link: _Link) -> None:
        self._kill(link, None)
        await asyncio.get_running_loop().run_in_executor(self._executor, link.client.disconnect)
        if self._link is link:
            self._link = None

    async def _request(self, link: _Link, spec: AmiAction, timeout: float | None, collect: bool = False) -> Any:
        actions.check_action(*spec)
        client, loop = link.client, asyncio.get_running_loop()
        # A caller may choose the ActionID (click-to-call registers it with the tracker first).
        action_id = spec.headers.get("ActionID") or client.next_action_id()
        action = Action(spec.name, {**spec.headers, "ActionID": action_id}, dict(spec.variables))
        pending = _Pending(spec.name, loop.create_future(), [] if collect else None)
        self._pending[action_id] = pending
        self._lists += collect
        limit = self.options.action_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):  # covers a send stuck on a full socket buffer, too
                await loop.run_in_executor(self._executor, client.send_action, action)
                return await pending.future
        except TimeoutError as e:
            raise AmiActionTimeout(f"AMI {spec.name} ({action_id}) got no response within {limit} s") from e
        finally:
            self._pending.pop(action_id, None)
            self._lists -= collect
            client.forget(action_id)
            _discard(pending.future)

    def _handle_batch(self, batch: list[Message], received_at: float) -> None:
        """In the loop thread: answer pending actions, then hand the events on."""
        events: list[Message] = []
        for msg in batch:
            if "Event" in msg:
                events.append(msg)
                if self._lists:
                    self._collect(msg)
            elif self._pending:
                self._resolve(msg)
        if events:
            self._deliver(events, received_at)

    def _resolve(self, msg: Message) -> None:
        pending = self._pending.get(msg.get("ActionID", ""))
        if pending is None or pending.future.done():
            return
        if msg.get("Response", "").lower() == "error":
            pending.future.set_exception(AmiActionError(pending.action, msg))
        elif pending.items is None:
            pending.future.set_result(msg)
        elif msg.get("EventList", "").lower() == "start":
            pending.response = msg
        else:
            pending.future.set_result((msg, []))  # a list action that had nothing to list

    def _collect(self, msg: Message) -> None:
        pending = self._pending.get(msg.get("ActionID", ""))
        if pending is None or pending.items is None or pending.future.done():
            return
        state = msg.get("EventList", "").lower()
        if state == "complete":
            pending.future.set_result((pending.response or msg, pending.items))
        elif state == "cancelled":
            pending.future.set_exception(AmiListCancelled(pending.action, msg))
        else:
            pending.items.append(msg)

    def _deliver(self, events: list[Message], received_at: float) -> None:
        if self.on_events is not None:
            try:
                self.on_events(events, received_at)
            except Exception:
                log.exception("AMI on_events consumer failed; delivery continues")
        for queue in self._subscribers:
            queue.put_nowait((events, received_at))


def _discard(future: asyncio.Future[Any]) -> None:
    """Mark a failed future's exception as seen, or cancel it: no 'never retrieved' noise."""
    if not future.done():
        future.cancel()
    elif not future.cancelled():
        future.exception()
