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
import logging
import multiprocessing
import resource
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import Any

import jinja2
from markupsafe import Markup
from pebble import ProcessExpired, ProcessPool

from service.scripts.catalog import ScriptEntry
from service.scripts.errors import ScriptError
from service.scripts.render import (
    RenderedScript,
    ScriptSource,
    check_script_source,
    default_environment,
    forbidden_html_error,
    render_script,
)
from service.scripts.html_policy import forbidden_markup, sanitize

log = logging.getLogger(__name__)

WORKERS = 2  # the machine's cores: renders take milliseconds, a hostile one holds a worker ≤ timeout
TIMEOUT_S = 3.0  # the hard stop; the in-worker budget (sandbox.MAX_RENDER_SECONDS) is 1 s
WAIT_S = 15.0  # queue wait plus run: beyond it the page shows an error rather than hang
MEMORY_BYTES = 256 * 2**20  # a script's output is ≤ 200,000 characters; 256 MB is generous
COMPILED_CACHE = 64  # edited scripts compiled once per worker, keyed by their text

_TIMED_OUT = ("Сценарий выполняется слишком долго и был остановлен: проверьте циклы и вычисления.",
              "too_long")
_DIED = ("Сценарий не удалось показать: обработчик сценариев остановился. Сообщите руководителю группы.",
         "runtime")


class ScriptRenderer:
    """The process pool scripts render in; one per application, closed with it."""

    def __init__(self, *, workers: int = WORKERS, timeout_s: float = TIMEOUT_S,
                 memory_bytes: int = MEMORY_BYTES, wait_s: float = WAIT_S) -> None:
        self._timeout_s = timeout_s
        self._wait_s = wait_s
        self._new_pool = functools.partial(ProcessPool, max_workers=workers, initializer=limit_worker,
                                           initargs=(memory_bytes,), context=_fork_server())
        # Started lazily by pebble at the first render: an app that shows no script spawns nothing.
        self._pool = self._new_pool()

    async def render(self, script: ScriptEntry | ScriptSource, variables: dict[str, Any]) -> RenderedScript:
        """Like render_script, in a worker; never raises (a killed render is a ScriptError too)."""
        name = script.file if isinstance(script, ScriptEntry) else script.name
        outcome = await self._run(render_in_worker, (script, variables), name)
        return outcome if isinstance(outcome, RenderedScript) else RenderedScript(template=name, error=outcome)

    async def preview(self, source: ScriptSource, variables: dict[str, Any]) -> RenderedScript:
        """The editor's preview: like render, but markup outside the allowlist is an error naming it."""
        outcome = await self._run(preview_in_worker, (source, variables), source.name)
        return outcome if isinstance(outcome, RenderedScript) else RenderedScript(template=source.name, error=outcome)

    async def check(self, text: str, *, today: date, name: str) -> ScriptError | None:
        """Like check_script_source, in a worker."""
        outcome = await self._run(check_in_worker, (text, today, name), name)
        return outcome if isinstance(outcome, ScriptError) or outcome is None else None

    def close(self) -> None:
        """Stop the workers at once (a render in flight is abandoned: the app is going away)."""
        self._pool.stop()
        self._pool.join(timeout=5)

    async def _run(self, function: Any, args: tuple[Any, ...], name: str) -> Any:
        future = self._pool.schedule(function, args=args, timeout=self._timeout_s)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self._wait_s)
        except (concurrent.futures.TimeoutError, TimeoutError):
            log.warning("script %s: render stopped after %.1f s (worker killed)", name, self._timeout_s)
            return _error(name, *_TIMED_OUT, "worker killed at the time limit")
        except ProcessExpired as e:
            log.warning("script %s: the render worker died (exit code %s)", name, e.exitcode)
            return _error(name, *_DIED, f"worker died: {e}")
        except BrokenProcessPool as e:  # workers cannot start at all: start afresh next time
            log.error("script %s: the render pool broke (%s); starting a new one", name, e)
            self._pool.stop()
            self._pool = self._new_pool()
            return _error(name, *_DIED, f"pool broken: {e}")


def limit_worker(memory_bytes: int) -> None:
    """Runs first in every worker: cap its data segment (heap and anonymous maps)."""
    resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))


def render_in_worker(script: ScriptEntry | ScriptSource, variables: dict[str, Any]) -> RenderedScript:
    if isinstance(script, ScriptSource):
        return render_script(_compiled(script.text, script.name), variables)
    return render_script(script, variables)


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


def _error(name: str, message: str, kind: str, detail: str) -> ScriptError:
    return ScriptError(kind=kind, message=message, detail=f"template {name}: {detail}",  # type: ignore[arg-type]
                       template=name)


@functools.cache
def _fork_server() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["service.scripts.worker"])
    return context
