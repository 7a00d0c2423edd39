"""Supervisors edit the call scripts: the catalog, the editor with a preview for a real client, versions.

Only scripts listed in templates/scripts/catalog.yaml can be edited; the file name in the URL is
looked up in the catalog and never used as a path. A save is checked first (syntax, unknown
variables, sandbox violations): a failing check stores nothing and shows the message with its line.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.db.brief import BriefRepository, ClientBrief
from service.db.clients import ClientChoice, ClientsRepository
from service.db.records import ExpertName
from service.db.script_versions import ScriptVersionRow, ScriptVersionsRepository
from service.db.step_scripts import StepScriptsRepository
from service.db.users import UsersRepository
from service.scripts import (
    SCRIPTS_DIR,
    ScriptEntry,
    ScriptError,
    ScriptSource,
    script_variables,
)
from service.web.auth import requires
from service.web.desk_context import settings_of, signed_in, utc_now
from service.web.script_panel import SCRIPT_CATALOG, SCRIPT_RENDERER

MAX_SCRIPT_CHARS = 100_000
CHOICES_LIMIT = 20
PREVIEW_PUBLIC_ID = "PC-0000"
TOO_LONG = f"Текст сценария длиннее {MAX_SCRIPT_CHARS:,} символов: сократите его.".replace(",", "\u202f")
EMPTY = "Текст сценария пуст. Чтобы вернуться к поставленному тексту, нажмите «Вернуть исходный текст»."
UNCHANGED = "Текст не изменился: новая версия не сохранена."
SAVED = "Сохранено. Эксперты увидят новый текст при следующем открытии клиента."
RESET_DONE = "Возвращён исходный текст сценария."
NOTHING_TO_RESET = "Сценарий и так в исходном виде."
NOTICES = {"saved": SAVED, "unchanged": UNCHANGED, "reset": RESET_DONE, "shipped": NOTHING_TO_RESET}


def setup_admin_scripts(app: web.Application) -> None:
    app.router.add_get("/admin/scripts", catalog_page, name="admin_scripts")
    app.router.add_get("/admin/clients", client_search, name="admin_clients")
    app.router.add_get("/admin/scripts/{file}", editor_page, name="admin_script")
    app.router.add_post("/admin/scripts/{file}", save_script)
    app.router.add_post("/admin/scripts/{file}/preview", preview_script)
    app.router.add_post("/admin/scripts/{file}/reset", reset_script)


@requires("supervisor", "admin")
@aiohttp_jinja2.template("admin/scripts.html")
async def catalog_page(request: web.Request) -> dict[str, Any]:
    latest = await ScriptVersionsRepository(request.app[DB_SESSIONS]).latest_per_file()
    entries = request.app[SCRIPT_CATALOG].entries()
    steps = {row.catalog_file: row for row in await StepScriptsRepository(request.app[DB_SESSIONS]).all()}
    return {"entries": entries, "latest": latest, "steps": steps, "tz": settings_of(request).organisation.tz}


@requires("supervisor", "admin")
async def editor_page(request: web.Request) -> web.StreamResponse:
    entry = _entry(request)
    notice = NOTICES.get(request.query.get("done", ""))
    return await _editor(request, entry, notice=notice)


@requires("supervisor", "admin")
async def save_script(request: web.Request) -> web.StreamResponse:
    entry = _entry(request)
    form = await request.post()
    text = normalised_text(form.get("source"))
    error = _text_problem(text) or await request.app[SCRIPT_RENDERER].check(
        text, today=_today(request), name=entry.file)
    if error is not None:
        return await _editor(request, entry, text=text, error=error, status=422)
    repo = ScriptVersionsRepository(request.app[DB_SESSIONS])
    if text == await _current_text(repo, entry):
        raise web.HTTPSeeOther(f"/admin/scripts/{entry.file}?done=unchanged")
    await repo.add(entry.file, text, signed_in(request).id, utc_now())
    raise web.HTTPSeeOther(f"/admin/scripts/{entry.file}?done=saved")


@requires("supervisor", "admin")
async def reset_script(request: web.Request) -> web.StreamResponse:
    entry = _entry(request)
    repo = ScriptVersionsRepository(request.app[DB_SESSIONS])
    if await repo.override_text(entry.file) is None:
        raise web.HTTPSeeOther(f"/admin/scripts/{entry.file}?done=shipped")
    await repo.reset(entry.file, signed_in(request).id, utc_now())
    raise web.HTTPSeeOther(f"/admin/scripts/{entry.file}?done=reset")


@requires("supervisor", "admin")
async def preview_script(request: web.Request) -> web.StreamResponse:
    """The edited (unsaved) text rendered for a real client and contact: an HTML fragment for fetch()."""
    entry = _entry(request)
    form = await request.post()
    text = normalised_text(form.get("source"))
    brief = await BriefRepository(request.app[DB_SESSIONS]).brief(_field(form, "client"), None, all_calls=False)
    if brief is None:
        return _fragment(request, {"error": None, "html": None, "missing": "Выберите клиента из списка."}, 404)
    expert = await _preview_expert(request, brief)
    variables = _preview_variables(request, entry, brief, expert, _field(form, "contact"), _field(form, "kind"))
    problem = _text_problem(text)
    rendered = None if problem else await request.app[SCRIPT_RENDERER].preview(
        ScriptSource(text, name=entry.file), variables)
    error = problem or (rendered.error if rendered else None)
    context = {"error": error, "html": rendered.html if rendered else None, "missing": None,
               "client": brief.name, "contact": variables["contact"].full_name}
    return _fragment(request, context, 200 if error is None else 422)


@requires("supervisor", "admin")
async def client_search(request: web.Request) -> web.StreamResponse:
    """Clients whose name or ID contains `q` (any case), with their contacts, for the preview picker."""
    choices = await find_clients(request, request.query.get("q", ""))
    return web.json_response({"clients": [choice.as_json() for choice in choices]})


def normalised_text(value: object) -> str:
    """The textarea's text with the browser's CRLF line ends made LF (line numbers stay the same)."""
    text = value if isinstance(value, str) else ""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _text_problem(text: str) -> ScriptError | None:
    if len(text) > MAX_SCRIPT_CHARS:
        return ScriptError(kind="too_long", message=TOO_LONG, detail=f"over {MAX_SCRIPT_CHARS} characters",
                           template="")
    if not text.strip():
        return ScriptError(kind="syntax", message=EMPTY, detail="empty text", template="")
    return None


def _entry(request: web.Request) -> ScriptEntry:
    """The catalog entry named in the URL; anything else (parts, paths, unknown names) is 404."""
    entry = request.app[SCRIPT_CATALOG].by_file(request.match_info["file"])
    if entry is None:
        raise web.HTTPNotFound(text="Нет такого сценария в каталоге")
    return entry


def shipped_text(entry: ScriptEntry) -> str:
    return (SCRIPTS_DIR / entry.file).read_text(encoding="utf-8")


async def _current_text(repo: ScriptVersionsRepository, entry: ScriptEntry) -> str:
    override = await repo.override_text(entry.file)
    return shipped_text(entry) if override is None else override


async def _editor(request: web.Request, entry: ScriptEntry, *, text: str | None = None,
                  error: ScriptError | None = None, notice: str | None = None, status: int = 200) -> web.Response:
    repo = ScriptVersionsRepository(request.app[DB_SESSIONS])
    history = await repo.history(entry.file)
    current = _current_of(history)
    context = {
        "entry": entry, "text": text if text is not None else (current or shipped_text(entry)),
        "edited": current is not None, "history": history, "error": error, "notice": notice,
        "clients": await find_clients(request, ""), "tz": settings_of(request).organisation.tz,
        "max_chars": MAX_SCRIPT_CHARS,
    }
    return aiohttp_jinja2.render_template("admin/script_edit.html", request, context, status=status)


def _current_of(history: list[ScriptVersionRow]) -> str | None:
    return history[0].source if history else None


async def _preview_expert(request: web.Request, brief: ClientBrief) -> ExpertName | None:
    """The client's Expert by their stored name parts; without one, whoever is previewing."""
    users = UsersRepository(request.app[DB_SESSIONS])
    name = await users.name_of(brief.expert_id) if brief.expert_id is not None else None
    return name or await users.name_of(signed_in(request).id)


def _preview_variables(request: web.Request, entry: ScriptEntry, brief: ClientBrief, expert: ExpertName | None,
                       contact: str, kind: str) -> dict[str, Any]:
    settings = settings_of(request)
    item: dict[str, Any] | None = None if kind == "unplanned" else {
        "public_id": PREVIEW_PUBLIC_ID, "topic": entry.topics[0] if entry.topics else None,
        "comment": next((line.comment for line in brief.history if line.comment), None), "reasons": []}
    return script_variables(brief, _contact_at(brief, contact), expert, item, _today(request),
                            not_logged_in_days=settings.plan.not_logged_in_days,
                            terms_ending_days=settings.plan.terms_ending_days)


def _contact_at(brief: ClientBrief, index: str) -> Any:
    if not brief.contacts:
        return None
    # isdigit() alone lets "²" through (int() then raises) and 5,000 digits (over int()'s limit).
    position = int(index) if index.isascii() and index.isdigit() and len(index) <= 4 else 0
    return brief.contacts[position] if position < len(brief.contacts) else brief.contacts[0]


async def find_clients(request: web.Request, query: str, limit: int = CHOICES_LIMIT) -> list[ClientChoice]:
    """Up to `limit` clients for the preview, by name or external id (all of them for an empty query)."""
    return await ClientsRepository(request.app[DB_SESSIONS]).preview_choices(query, limit)


def _fragment(request: web.Request, context: dict[str, Any], status: int) -> web.Response:
    return aiohttp_jinja2.render_template("admin/_preview.html", request, context, status=status)


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _today(request: web.Request) -> date:
    return utc_now().astimezone(settings_of(request).organisation.tz).date()
