"""AMI connection: the reader's batches bridged into asyncio, actions, keepalive, reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

from asterisk.ami.action import Action

from dialer import actions
from dialer.actions import AmiAction
from dialer.ami.message import Message
from dialer.ami_client import Clock, DsAmiClient
from dialer.ami_options import AmiOptions, backoff_delay
from dialer.errors import (
    AmiActionError,
    AmiActionTimeout,
    AmiConnectionError,
    AmiDisconnected,
    AmiListCancelled,
    AmiLoginError,
    AmiNotConnected,
    DialerError,
)
from dialer.keepalive import ping_verdict

log = logging.getLogger(__name__)

OnEvents = Callable[[list[Message], float], None]
OnConnected = Callable[[bool], Awaitable[None]]
OnDisconnected = Callable[[BaseException | None], Awaitable[None]]
OnAttemptFailed = Callable[[BaseException], None]


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
        self.on_attempt_failed: OnAttemptFailed | None = None  # a connect or login failed (sync, in the loop)
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
                if self.on_attempt_failed is not None:
                    self.on_attempt_failed(e)
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
        while True:
            await asyncio.sleep(self.options.ping_interval)
            error = await self._ping(link)
            if error is not None:
                self._kill(link, error)  # `_serve` logs why and the supervisor reconnects
                return

    async def _ping(self, link: _Link) -> DialerError | None:
        """One keepalive Ping: None when its Pong came back, else why the link is dead."""
        o = self.options
        bound = max(o.ping_timeout, o.action_timeout)
        return await ping_verdict(self._request(link, actions.ping(), bound),
                                  lambda: link.client.last_received_mono, o.ping_timeout, bound)

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
