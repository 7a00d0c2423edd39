"""asterisk-ami's client with its defects overridden: one reader thread, framing, safe sends."""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asterisk.ami.response
from asterisk.ami import AMIClient
from asterisk.ami.action import Action
from asterisk.ami.event import Event
from asterisk.ami.response import FutureResponse, Response

from dialer.ami.framing import DEFAULT_MAX_FRAME_BYTES, FrameSplitter
from dialer.ami.message import FrameError, Message, parse_frame
from dialer.errors import AmiBannerError, AmiConnectionError, AmiNotConnected, DialerError

log = logging.getLogger(__name__)

# FutureResponse.set_response calls traceback.print_exc() without importing traceback, so a raising
# callback became a NameError inside the reader thread. (We also never pass callbacks.)
if not hasattr(asterisk.ami.response, "traceback"):
    asterisk.ami.response.traceback = traceback

Clock = Callable[[], float]
BatchSink = Callable[[list[Message], float], object]
ClosedSink = Callable[[BaseException | None], object]

DEFAULT_BUFFER_SIZE = 64 * 1024  # the library's 1 KiB costs a third of the ingest rate
BANNER_LIMIT = 256
_CLIENT_SERIAL = itertools.count(1)


def caused(error: DialerError, cause: BaseException | None) -> DialerError:
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
        # One deadline for the whole line: a per-read timeout let a peer sending a byte now and
        # then hold the connect (and a close() waiting for it) for minutes.
        buf, deadline = b"", time.monotonic() + self._timeout
        while b"\r\n" not in buf and len(buf) < BANNER_LIMIT:
            try:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
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
            self.close_reason = caused(error, cause)

    def listen(self) -> None:
        self._fire_on_connect()
        try:
            for batch, received_at in self._next_pack():
                self._dispatch(batch, received_at)
        except OSError as e:
            self._note_close(AmiConnectionError(f"AMI connection to {self.where} broke{self._midway()}: {e}"), e)
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
                self._note_close(AmiConnectionError(f"AMI server {self.where} closed the connection{self._midway()}"))
                return

    def _midway(self) -> str:
        unfinished = self._splitter.unfinished_bytes
        return f" in the middle of a frame ({unfinished} bytes of it dropped)" if unfinished else ""

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
