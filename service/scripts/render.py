"""Rendering a script to HTML, or to a readable ScriptError — never an exception out of here.

A script is either a catalog entry (the shipped file) or a ScriptSource: text from elsewhere,
e.g. a supervisor's version stored in the database (issue 5), which overrides the shipped file.
Its `{% include %}`/`{% import %}` still resolve against templates/scripts/ only.
"""

from __future__ import annotations

import functools
import traceback
from dataclasses import dataclass
from datetime import date
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from markupsafe import Markup

from service.scripts.catalog import ScriptEntry
from service.scripts.errors import ScriptError, ScriptErrorKind
from service.scripts.html_policy import forbidden_markup, sanitize
from service.scripts.sandbox import (
    MAX_OUTPUT_CHARS,
    MAX_RENDER_SECONDS,
    ScriptSandbox,
    ScriptTooLong,
    script_environment,
    time_budget,
)
from service.scripts.variables import sample_variables

EDITED_NAME = "<edited script>"


@dataclass(frozen=True, slots=True)
class ScriptSource:
    """Script text not read from the shipped file; `name` is what errors call it."""

    text: str
    name: str = EDITED_NAME


@dataclass(frozen=True, slots=True)
class RenderedScript:
    """Exactly one of `html` and `error` is set."""

    template: str
    html: Markup | None = None
    error: ScriptError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@functools.cache
def default_environment() -> ScriptSandbox:
    """The sandbox over the shipped templates/scripts/ (Jinja caches compiled templates in it)."""
    return script_environment()


def render_script(script: ScriptEntry | ScriptSource | jinja2.Template | str, variables: dict[str, Any], *,
                  env: ScriptSandbox | None = None, keep_markup: bool = False,
                  budget_s: float = MAX_RENDER_SECONDS) -> RenderedScript:
    """Render `script` with `variables` (see script_variables); a plain str is the source text,
    a jinja2.Template one compiled in `env` before (the render worker caches edited scripts).

    The HTML is cut down to the allowlist of service/scripts/html_policy.py, unless `keep_markup`
    (the editor's check, which names what would be cut).
    """
    env = env or default_environment()
    source = ScriptSource(script) if isinstance(script, str) else script
    name = _name(source)
    try:
        template = source if isinstance(source, jinja2.Template) else _template(env, source)
        with time_budget(budget_s, lambda file: file.endswith(".j2") or file == name):
            html = _render_bounded(template, variables)
        return RenderedScript(template=name, html=Markup(html if keep_markup else sanitize(html)))
    except Exception as e:  # noqa: BLE001 — the whole point: any failure becomes a message
        return RenderedScript(template=name, error=describe_failure(e, name))


def check_script_source(source: str, *, today: date | None = None, name: str = EDITED_NAME,
                        env: ScriptSandbox | None = None) -> ScriptError | None:
    """Validate edited script text: it compiles and renders for a planned and an unplanned call.

    Only branches those sample calls take are exercised; the editor's preview for a real client
    (issue 5) covers the rest.
    """
    today = today or date.today()
    planned = sample_variables(today)
    unplanned = sample_variables(today, item=None)
    sparse = sample_variables(today, client={"name": "ИП Петров"}, contact={"full_name": "Петров"}, item=None)
    for variables in (planned, unplanned, sparse):
        result = render_script(ScriptSource(source, name), variables, env=env, keep_markup=True)
        if result.error is not None:
            return result.error
        assert result.html is not None
        if forbidden := forbidden_markup(result.html):
            return forbidden_html_error(forbidden, name)
    return None


def forbidden_html_error(forbidden: list[str], name: str) -> ScriptError:
    """The editor's message for markup a script may not contain (it would be removed on the desk)."""
    listed = ", ".join(forbidden[:8]) + (" …" if len(forbidden) > 8 else "")
    return ScriptError(
        kind="forbidden_html",
        message=f"В сценарии недопустимый HTML: {listed}. Разрешены только заголовки, абзацы, списки, "
                "выделение, классы say, hint, ask, alert, script-… и атрибуты title, data-mark.",
        detail=f"template {name}: markup outside the allowlist: {listed}",
        template=name)


def _name(source: ScriptEntry | ScriptSource | jinja2.Template) -> str:
    if isinstance(source, ScriptEntry):
        return source.file
    if isinstance(source, ScriptSource):
        return source.name
    return source.name or EDITED_NAME


def _template(env: ScriptSandbox, source: ScriptEntry | ScriptSource) -> jinja2.Template:
    if isinstance(source, ScriptEntry):
        return env.get_template(source.file)
    # Compiled under its own name so tracebacks and syntax errors point at it, not at "<template>".
    code = env.compile(source.text, name=source.name, filename=source.name)
    return env.template_class.from_code(env, code, env.make_globals(None))


def _render_bounded(template: jinja2.Template, variables: dict[str, Any]) -> str:
    """Stream the output so a runaway loop stops at MAX_OUTPUT_CHARS instead of filling memory."""
    parts: list[str] = []
    size = 0
    for chunk in template.generate(variables):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise ScriptTooLong(f"output over {MAX_OUTPUT_CHARS} characters")
        parts.append(chunk)
    return "".join(parts).strip()


_MESSAGES: dict[ScriptErrorKind, str] = {
    "syntax": "Ошибка в тексте сценария: незакрытый или неверный тег {{ … }} / {% … %}.",
    "undefined": "В сценарии неизвестная переменная или поле. Доступны: client, contact, expert, item, offer, today.",
    "security": "Сценарий обращается к недоступным данным; такие конструкции запрещены.",
    "not_found": "Сценарий ссылается на файл, которого нет в templates/scripts/.",
    "too_long": "Сценарий получился слишком длинным или выполняется слишком долго: проверьте циклы.",
    "too_big": "Сценарию не хватило памяти: он строит слишком длинные строки или списки.",
    "runtime": "Ошибка при выполнении сценария.",
}


def describe_failure(error: Exception, name: str) -> ScriptError:
    """Turn any exception from compiling or rendering into a ScriptError naming template and line."""
    kind = _kind(error)
    template, line = _location(error, name)
    message = f"Строка {line}. {_MESSAGES[kind]}" if line else _MESSAGES[kind]
    detail = f"template {template}" + (f", line {line}" if line else "")
    detail += f": {type(error).__name__}: {_error_text(error)}"
    return ScriptError(kind=kind, message=message, detail=detail, template=template, line=line)


def _kind(error: Exception) -> ScriptErrorKind:
    if isinstance(error, jinja2.TemplateSyntaxError):
        return "syntax"
    if isinstance(error, jinja2.TemplateNotFound):
        return "not_found"
    if isinstance(error, jinja2.UndefinedError):
        return "undefined"
    if isinstance(error, SecurityError):
        return "security"
    if isinstance(error, ScriptTooLong):
        return "too_long"
    if isinstance(error, MemoryError):
        return "too_big"
    return "runtime"


def _location(error: Exception, name: str) -> tuple[str, int | None]:
    """Template and line: from a syntax error itself, else from the innermost template frame."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        return _short(error.name or error.filename or name), error.lineno
    frames = [(frame.f_code.co_filename, lineno) for frame, lineno in traceback.walk_tb(error.__traceback__)]
    in_templates = [(file, lineno) for file, lineno in frames if file.endswith(".j2") or file == name]
    if not in_templates:
        return name, None
    file, lineno = in_templates[-1]
    return _short(file), lineno


def _short(filename: str) -> str:
    """A script's file name without the server's directories (they are not the editor's business)."""
    return filename.rsplit("/", 1)[-1]


def _error_text(error: Exception) -> str:
    text = error.message if isinstance(error, jinja2.TemplateError) and error.message else str(error)
    return " ".join(text.split())[:300]
