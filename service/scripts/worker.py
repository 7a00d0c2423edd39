"""Scripts render in worker processes with hard limits: the event loop never runs script code.

A script is code a supervisor wrote. The sandbox refuses the obvious abuses with a clear message,
but some cost sits inside one C call where no trace function can interrupt it (a huge integer
power, a padded string of 300 MB, a formatting width), and while the event loop runs it every
Expert's screen waits. So every render and every check runs in a pebble process pool:

- each worker's data segment is capped (RLIMIT_DATA): an allocation over it is a MemoryError
  inside the worker, reported as «не хватило памяти»;
- a render still running after `timeout_s` has its worker killed and replaced (pebble), reported
  as «выполняется слишком долго»; the in-worker 1 s trace budget usually stops it first, with
  the script's line;
- the service only awaits a future, so other requests go on meanwhile.

Workers start from a fork server that has imported only the renderer, not the service's
database and web stack, so a worker is small and starts in milliseconds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import logging
import multiprocessing
import multiprocessing.forkserver
import resource
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import Any, TypeVar

import jinja2
from markupsafe import Markup
from pebble import ProcessExpired, ProcessPool

from service.scripts.catalog import ScriptEntry
from service.scripts.errors import ScriptError, ScriptErrorKind
from service.scripts.html_policy import forbidden_markup, sanitize
from service.scripts.render import (
    RenderedScript,
    ScriptSource,
    check_script_source,
    default_environment,
    forbidden_html_error,
    render_script,
)
from service.scripts.sandbox import MAX_RENDER_SECONDS

log = logging.getLogger(__name__)

WORKERS = 2  # the machine's cores: renders take milliseconds, a hostile one holds a worker ≤ timeout
TIMEOUT_S = 3.0  # the hard stop; the in-worker budget (sandbox.MAX_RENDER_SECONDS) is 1 s
WAIT_S = 15.0  # queue wait plus run: beyond it the page shows an error rather than hang
MEMORY_BYTES = 256 * 2**20  # a script's output is ≤ 200,000 characters; 256 MB is generous
COMPILED_CACHE = 64  # edited scripts compiled once per worker, keyed by their text
TASKS_PER_WORKER = 1_000  # then a fresh worker: nothing a script leaves behind accumulates
SUSPEND_S = 600.0  # a script stopped for time or memory shows its error at once for 10 minutes
SUSPENDED_KEPT = 1_000
SUSPENDING_KINDS = frozenset({"too_long", "too_big"})

T = TypeVar("T")

_TIMED_OUT: tuple[str, ScriptErrorKind] = (
    "Сценарий выполняется слишком долго и был остановлен: проверьте циклы и вычисления.", "too_long")
_DIED: tuple[str, ScriptErrorKind] = (
    "Сценарий не удалось показать: обработчик сценариев остановился. Сообщите руководителю группы.", "runtime")
_BUSY: tuple[str, ScriptErrorKind] = (
    "Сценарий не успел подготовиться: обработчик сценариев занят. Обновите страницу через минуту.", "runtime")
SUSPENDED_NOTE = "Показ этого текста приостановлен на 10 минут: руководителю группы нужно его исправить."


class ScriptRenderer:
    """The process pool scripts render in; one per application, closed with it."""

    def __init__(self, *, workers: int = WORKERS, timeout_s: float = TIMEOUT_S,
                 memory_bytes: int = MEMORY_BYTES, wait_s: float = WAIT_S,
                 clock: Callable[[], float] = time.monotonic, budget_s: float = MAX_RENDER_SECONDS) -> None:
        self._timeout_s = timeout_s
        self._budget_s = budget_s  # the in-worker budget (tests raise it to reach the hard limit)
        self._wait_s = wait_s
        self._new_pool = functools.partial(ProcessPool, max_workers=workers, max_tasks=TASKS_PER_WORKER,
                                           initializer=limit_worker, initargs=(memory_bytes,),
                                           context=_fork_server())
        # Started lazily by pebble at the first render: an app that shows no script spawns nothing.
        self._pool = self._new_pool()
        self._suspended = SuspendedScripts(clock)

    async def start(self) -> None:
        """Start the fork server off the event loop (it imports the renderer once, ~0.3 s)."""
        await asyncio.get_running_loop().run_in_executor(None, multiprocessing.forkserver.ensure_running)

    async def render(self, script: ScriptEntry | ScriptSource, variables: dict[str, Any]) -> RenderedScript:
        """Like render_script, in a worker; never raises (a killed render is a ScriptError too).

        A script that was stopped for time or memory is not run again for a while: its error
        shows at once, so one broken script cannot keep both workers busy for every Expert.
        """
        name, key = _identity(script)
        if (known := self._suspended.error(key)) is not None:
            return RenderedScript(template=name, error=known)
        outcome = await self._run(render_in_worker, (script, variables, self._budget_s), name)
        rendered = outcome if isinstance(outcome, RenderedScript) else RenderedScript(template=name, error=outcome)
        if rendered.error is not None and rendered.error.kind in SUSPENDING_KINDS:
            self._suspended.add(key, rendered.error)
        return rendered

    async def preview(self, source: ScriptSource, variables: dict[str, Any]) -> RenderedScript:
        """The editor's preview: like render, but markup outside the allowlist is an error naming it."""
        outcome = await self._run(preview_in_worker, (source, variables), source.name)
        return outcome if isinstance(outcome, RenderedScript) else RenderedScript(template=source.name, error=outcome)

    async def check(self, text: str, *, today: date, name: str) -> ScriptError | None:
        """Like check_script_source, in a worker."""
        return await self._run(check_in_worker, (text, today, name), name)

    def close(self) -> None:
        """Stop the workers at once (a render in flight is abandoned: the app is going away)."""
        self._pool.stop()
        self._pool.join(timeout=5)

    async def _run(self, function: Callable[..., T], args: tuple[Any, ...], name: str) -> T | ScriptError:
        future = self._schedule(function, args)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self._wait_s)
        except TimeoutError:  # pebble's (the worker ran over, killed) or asyncio's (waited too long)
            if future.done() and not future.cancelled():
                log.warning("script %s: render stopped after %.1f s (worker killed)", name, self._timeout_s)
                return _error(name, *_TIMED_OUT, "worker killed at the time limit")
            future.cancel()
            log.warning("script %s: no worker free within %.1f s", name, self._wait_s)
            return _error(name, *_BUSY, f"no worker within {self._wait_s} s")
        except ProcessExpired as e:
            log.warning("script %s: the render worker died (exit code %s)", name, e.exitcode)
            return _error(name, *_DIED, f"worker died: {e}")
        except BrokenProcessPool as e:
            log.error("script %s: the render pool broke (%s); starting a new one", name, e)
            self._replace_pool()
            return _error(name, *_DIED, f"pool broken: {e}")

    def _schedule(self, function: Callable[..., T], args: tuple[Any, ...]) -> concurrent.futures.Future[T]:
        """Schedule on the pool; a pool that broke while idle (a worker killed from outside) is
        replaced first, so one dead worker never stops every later render."""
        if not self._pool.active:
            self._replace_pool()
        try:
            return self._pool.schedule(function, args=args, timeout=self._timeout_s)
        except RuntimeError as e:  # pebble: "Unexpected error within the Pool"
            log.error("the script render pool failed (%s); starting a new one", e)
            self._replace_pool()
            return self._pool.schedule(function, args=args, timeout=self._timeout_s)

    def _replace_pool(self) -> None:
        self._pool.stop()
        self._pool = self._new_pool()


class SuspendedScripts:
    """Scripts stopped for time or memory, not run again for SUSPEND_S (pure; `clock` is an argument)."""

    def __init__(self, clock: Callable[[], float], suspend_s: float = SUSPEND_S) -> None:
        self._clock = clock
        self._suspend_s = suspend_s
        self._until: dict[str, tuple[float, ScriptError]] = {}

    def add(self, key: str, error: ScriptError) -> None:
        suspended = ScriptError(kind=error.kind, message=f"{error.message} {SUSPENDED_NOTE}",
                                detail=f"{error.detail} (suspended for {self._suspend_s:.0f} s)",
                                template=error.template, line=error.line)
        self._until[key] = (self._clock() + self._suspend_s, suspended)
        if len(self._until) > SUSPENDED_KEPT:
            self._until.pop(next(iter(self._until)))

    def error(self, key: str) -> ScriptError | None:
        entry = self._until.get(key)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            del self._until[key]
            return None
        return entry[1]


def _identity(script: ScriptEntry | ScriptSource) -> tuple[str, str]:
    """The script's name and a key for its exact text (an edit is a new script for suspension)."""
    if isinstance(script, ScriptEntry):
        return script.file, f"shipped:{script.file}"
    return script.name, f"{script.name}:{hashlib.sha256(script.text.encode('utf-8')).hexdigest()}"


def limit_worker(memory_bytes: int) -> None:
    """Runs first in every worker: cap its data segment (heap and anonymous maps)."""
    resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))


def render_in_worker(script: ScriptEntry | ScriptSource, variables: dict[str, Any],
                     budget_s: float = MAX_RENDER_SECONDS) -> RenderedScript:
    if isinstance(script, ScriptSource):
        return render_script(_compiled(script.text, script.name), variables, budget_s=budget_s)
    return render_script(script, variables, budget_s=budget_s)


def preview_in_worker(source: ScriptSource, variables: dict[str, Any]) -> RenderedScript:
    rendered = render_script(_compiled(source.text, source.name), variables, keep_markup=True)
    if rendered.html is None:
        return rendered
    if forbidden := forbidden_markup(rendered.html):
        return RenderedScript(template=source.name, error=forbidden_html_error(forbidden, source.name))
    return RenderedScript(template=source.name, html=Markup(sanitize(rendered.html)))


def check_in_worker(text: str, today: date, name: str) -> ScriptError | None:
    return check_script_source(text, today=today, name=name)


@functools.lru_cache(maxsize=COMPILED_CACHE)
def _compiled(text: str, name: str) -> jinja2.Template | ScriptSource:
    """An edited script compiled once per worker; its source back when it does not compile
    (render_script then reports the syntax error with its line)."""
    env = default_environment()
    try:
        code = env.compile(text, name=name, filename=name)
    except jinja2.TemplateSyntaxError:
        return ScriptSource(text, name)
    return env.template_class.from_code(env, code, env.make_globals(None))


def _error(name: str, message: str, kind: ScriptErrorKind, detail: str) -> ScriptError:
    return ScriptError(kind=kind, message=message, detail=f"template {name}: {detail}", template=name)


@functools.cache
def _fork_server() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["service.scripts.worker"])
    return context
