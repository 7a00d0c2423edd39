"""The Jinja2 sandbox scripts run in: autoescaped, strict about names, lenient about None.

Scripts are edited by supervisors (issue 5), so a script is untrusted code as far as the server
is concerned: the immutable sandbox blocks internals (`__class__`, `__globals__`) and mutation,
the loader serves only `*.j2` files from templates/scripts/, and size limits stop a script from
exhausting memory with `'x' * 10**9` or an endless output.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from service.settings import REPO_ROOT
from texts.words import days, ddmm, dmy, plural, rubles

if TYPE_CHECKING:
    from _typeshed import TraceFunction

SCRIPTS_DIR = REPO_ROOT / "templates" / "scripts"
# Flat names only: no directories, no dots but the extension, so nothing outside SCRIPTS_DIR.
SCRIPT_NAME = re.compile(r"[a-z0-9_][a-z0-9_-]*\.j2")
MAX_SEQUENCE_LEN = 10_000  # 'ab' * n and [x] * n in a script; also str.ljust(n) and friends
MAX_EXPONENT = 64
MAX_INT_BITS = 4_096  # ~1,200 digits: no script needs more; (10**64)**64 would take seconds in C
# str methods whose first argument is the length of the result: one C call, no trace event inside.
_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
MAX_OUTPUT_CHARS = 200_000  # a long script is ~10k; anything near this is a runaway loop
MAX_RENDER_SECONDS = 1.0  # a script renders in milliseconds; a worker must not be held long


class ScriptTooLong(Exception):
    """The script produced over MAX_OUTPUT_CHARS or ran over its time budget (caught by render)."""


@contextmanager
def time_budget(seconds: float, is_script_code: Callable[[str], bool]) -> Iterator[None]:
    """Stop script code that runs longer than `seconds` (nested loops that print nothing).

    It stops a slow script with a message naming its line; the worker's hard limit
    (service/scripts/worker.py) is the backstop. Only frames of compiled scripts are traced (by file
    name), each loop iteration is a line event; the previous tracer (a debugger, coverage) is restored afterwards.
    """
    deadline = time.monotonic() + seconds

    def in_script(frame: FrameType, event: str, arg: object) -> TraceFunction | None:
        if time.monotonic() > deadline:
            raise ScriptTooLong(f"rendering took over {seconds} s")
        return in_script

    def on_call(frame: FrameType, event: str, arg: object) -> TraceFunction | None:
        return in_script if is_script_code(frame.f_code.co_filename) else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        yield
    finally:
        sys.settrace(previous)


class ScriptLoader(jinja2.FileSystemLoader):
    """FileSystemLoader that refuses anything but a flat `name.j2` (includes and imports too)."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        if not SCRIPT_NAME.fullmatch(template):
            raise jinja2.TemplateNotFound(template)
        return super().get_source(environment, template)

    def list_templates(self) -> list[str]:
        return [name for name in super().list_templates() if SCRIPT_NAME.fullmatch(name)]


class ScriptSandbox(ImmutableSandboxedEnvironment):
    """Immutable sandbox that also bounds the cheap ways to exhaust memory or CPU in one C call.

    These checks give the supervisor a clear message for the obvious cases (`*`, `**`, padding
    methods, width filters); the worker process's hard limits (service/scripts/worker.py) catch
    whatever they miss.
    """

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            _check_power(left, right)
            return left**right
        _check_repeat(left, right)
        _check_repeat(right, left)
        _check_product(left, right)
        return left * right

    def call(__self, __context: jinja2.runtime.Context, __obj: Any,  # noqa: N805 — Jinja's signature
             *args: Any, **kwargs: Any) -> Any:
        _check_width_method(__obj, args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)


def _check_repeat(sequence: Any, times: Any) -> None:
    if isinstance(sequence, str | list | tuple) and isinstance(times, int):
        if len(sequence) * times > MAX_SEQUENCE_LEN:
            raise SecurityError(f"repeating a sequence to over {MAX_SEQUENCE_LEN} items")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_power(base: Any, exponent: Any) -> None:
    if not _is_int(exponent):
        return
    if abs(exponent) > MAX_EXPONENT:
        raise SecurityError(f"exponent {exponent} is over the limit of {MAX_EXPONENT}")
    if _is_int(base) and exponent > 0 and abs(base).bit_length() * exponent > MAX_INT_BITS:
        raise SecurityError(f"a power over {MAX_INT_BITS} bits")


def _check_product(left: Any, right: Any) -> None:
    if _is_int(left) and _is_int(right) and abs(left).bit_length() + abs(right).bit_length() > MAX_INT_BITS:
        raise SecurityError(f"a product over {MAX_INT_BITS} bits")


def _check_width_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """`'x'.ljust(300000000)` allocates 300 MB in a single C call: bound the requested width."""
    if not isinstance(getattr(method, "__self__", None), str) or getattr(method, "__name__", "") not in _WIDTH_METHODS:
        return
    for value in (*args, *kwargs.values()):
        if _is_int(value) and value > MAX_SEQUENCE_LEN:
            raise SecurityError(f"str.{method.__name__}({value}) is over the limit of {MAX_SEQUENCE_LEN}")


def _bounded_width_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """The built-in `center`/`indent`/`wordwrap` filters with their width argument bounded."""

    def checked(value: Any, *args: Any, **kwargs: Any) -> Any:
        for arg in (*args, *kwargs.values()):
            if _is_int(arg) and arg > MAX_SEQUENCE_LEN:
                raise SecurityError(f"filter {name}({arg}) is over the limit of {MAX_SEQUENCE_LEN}")
        return original(value, *args, **kwargs)

    return checked


def finalize(value: Any) -> Any:
    """How a bare `{{ value }}` prints: None as nothing, dates the Russian way (15.12.2026)."""
    if value is None:
        return ""
    if isinstance(value, date) and not isinstance(value, datetime):
        return dmy(value)
    return value


def date_ru(value: date | None) -> str:
    return "" if value is None else finalize(value)


def ddmm_or_blank(value: date | None) -> str:
    return "" if value is None else ddmm(value)


def rubles_or_blank(value: float | None) -> str:
    return "" if value is None else rubles(value)


def days_or_blank(value: int | None) -> str:
    return "" if value is None else days(value)


def script_environment(scripts_dir: Path = SCRIPTS_DIR) -> ScriptSandbox:
    """A fresh sandbox loading from `scripts_dir` (tests pass a temporary directory)."""
    env = ScriptSandbox(
        loader=ScriptLoader(scripts_dir),
        autoescape=True,  # the output goes straight into the Expert's HTML page
        # A misspelt variable or field must fail loudly (the supervisor sees it in the preview);
        # an optional field that is None is still defined and prints as nothing (finalize).
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update({"date_ru": date_ru, "ddmm": ddmm_or_blank, "rubles": rubles_or_blank,
                        "days": days_or_blank, "plural": plural})
    for name in ("center", "indent", "wordwrap"):
        env.filters[name] = _bounded_width_filter(name, env.filters[name])
    # lipsum(40000) spends seconds generating nonsense; no script needs placeholder text.
    env.globals.pop("lipsum", None)
    return env


def as_markup(html: str) -> Markup:
    """The rendered text is already escaped by the sandbox; mark it safe for the page template."""
    return Markup(html)
