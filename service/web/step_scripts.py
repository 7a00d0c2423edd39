"""The group lead's step-script editor (issue 18, docs/coaching.md): make a catalog script a step script, edit
the draft (add, reorder, branch, variables from a picker), preview it with a real client, publish, roll back.

Every button posts the whole form, so what was typed is saved as the draft before anything else happens and is
never lost to an error. Publishing checks everything first (steps.problems, the form's own reading problems,
each Jinja2 step in the sandbox) and writes the next version only when nothing is wrong.
"""

from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.db.brief import BriefRepository
from service.db.step_scripts import StepScriptRow, StepScriptsRepository
from service.digits import small_int
from service.scripts import ScriptEntry
from service.scripts.step_form import apply_op, branches_text, read_form, target_text
from service.scripts.steps import VARIABLES, Branch, Step, StepProblem, StepScript, problems
from service.scripts.variables import offer_view
from service.web.admin_scripts import _preview_expert, _preview_variables, find_clients
from service.web.auth import requires
from service.web.desk_context import settings_of, signed_in, utc_now
from service.web.script_panel import SCRIPT_CATALOG, SCRIPT_RENDERER, offer_of
from service.web.step_render import render_steps

MAX_FORM_BYTES = 512 * 1024
NOTICES = {
    "created": "Создана заготовка по шагам: перепишите её под этот сценарий. Пока вы не опубликуете, Эксперты "
               "видят прежний текст сценария.",
    "withdrawn": "Снят с публикации: Эксперты снова видят сценарий-шаблон. Версии по шагам сохранены — "
                 "любую можно вернуть.",
    "published": "Опубликовано. Эксперты увидят новую версию при следующем открытии клиента.",
    "rolled": "Возвращена прежняя версия: она опубликована как новая.",
    "discarded": "Черновик удалён: в редакторе опубликованная версия.",
}


def setup_step_scripts(app: web.Application) -> None:
    app.router.add_post("/admin/steps", create_script, name="step_scripts_create")
    app.router.add_get("/admin/steps/{key}", editor_page, name="step_script")
    app.router.add_post("/admin/steps/{key}", editor_post)
    app.router.add_post("/admin/steps/{key}/rollback", rollback)


def starter(entry: ScriptEntry) -> StepScript:
    """A new step script's first draft: the department's usual call, a frame to rewrite for this script (publishing
    it untouched is refused: it would replace the script's real text on every desk with a generic one)."""
    return StepScript(entry.title, (
        Step("приветствие", "Приветствие", "Здравствуйте, {ИО контакта}! Это {Имя эксперта}, КонсультантПлюс.",
             target_s=30, branches=(Branch("клиент говорит, что занят", "перезвонить"),)),
        Step("инфоповод", "Инфоповод", "Я звоню по поводу: {Инфоповод}.", target_s=60),
        Step("вход", "Заход в систему", "Давайте откроем систему вместе: я покажу на вашем экране.",
             target_s=300, login=True),
        Step("следующий-контакт", "Следующий контакт", "Давайте договоримся, когда мы созвонимся в следующий раз.",
             target_s=60),
        Step("перезвонить", "Перезвонить", "Когда вам удобно, чтобы мы созвонились?"),
    ))


UNTOUCHED = ("Это заготовка без изменений: перепишите шаги под сценарий «{title}» — иначе у Экспертов вместо "
             "его текста окажется общий")


@requires("supervisor", "admin")
async def create_script(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    entry = request.app[SCRIPT_CATALOG].by_file(str(form.get("file", "")))
    if entry is None:
        raise web.HTTPNotFound(text="Нет такого сценария в каталоге")
    repo = StepScriptsRepository(request.app[DB_SESSIONS])
    key = PurePosixPath(entry.file).stem[:40]
    if not await repo.create(key, entry.file, starter(entry), signed_in(request).id, utc_now()):
        existing = next((row for row in await repo.all() if row.catalog_file == entry.file), None)
        raise web.HTTPSeeOther(f"/admin/steps/{existing.key if existing else key}")
    raise web.HTTPSeeOther(f"/admin/steps/{key}?done=created")


@requires("supervisor", "admin")
async def editor_page(request: web.Request) -> web.StreamResponse:
    row = await _script_row(request)
    return await _editor(request, row, notice=NOTICES.get(request.query.get("done", "")))


@requires("supervisor", "admin")
async def editor_post(request: web.Request) -> web.StreamResponse:
    row = await _script_row(request)
    form = {name: value for name, value in (await request.post()).items() if isinstance(value, str)}
    script, reading = read_form(form)
    op = form.get("op", "save")
    repo = StepScriptsRepository(request.app[DB_SESSIONS])
    if op == "discard":
        await repo.discard_draft(row.id)
        raise web.HTTPSeeOther(f"/admin/steps/{row.key}?done=discarded")
    if op == "withdraw":
        if row.published and not row.withdrawn:
            await repo.withdraw(row.id, script.name, signed_in(request).id, utc_now())
        raise web.HTTPSeeOther(f"/admin/steps/{row.key}?done=withdrawn")
    script = apply_op(script, op)
    await repo.save_draft(row.id, script, signed_in(request).id, utc_now())
    row = await _script_row(request)
    if op == "publish":
        found = reading + problems(script) + await _jinja_problems(request, script) + _untouched(request, row, script)
        if found:
            return await _editor(request, row, script=script, found=found, status=422)
        await repo.publish(row.id, script, signed_in(request).id, utc_now())
        raise web.HTTPSeeOther(f"/admin/steps/{row.key}?done=published")
    preview = await _preview(request, row, script, form) if op in ("preview", "find") else None
    return await _editor(request, row, script=script, found=reading, preview=preview,
                         client_q=form.get("client_q", ""), client=form.get("client", ""),
                         focus=_focus(op, len(script.steps)))


def _untouched(request: web.Request, row: StepScriptRow, script: StepScript) -> list[StepProblem]:
    entry = request.app[SCRIPT_CATALOG].by_file(row.catalog_file)
    if entry is None or script.steps != starter(entry).steps:
        return []
    return [StepProblem(None, UNTOUCHED.format(title=entry.title))]


def _focus(op: str, count: int) -> int | None:
    """The row (0-based) the editor scrolls to after a button: the new step, or the step just moved."""
    name, _, place = op.partition(":")
    if name == "add":
        return count - 1
    if (index := small_int(place, 4)) is not None:
        moved = index + (-1 if name == "up" else 1 if name == "down" else 0)
        return moved if name in ("up", "down") and 0 <= moved < count else None
    return None


@requires("supervisor", "admin")
async def rollback(request: web.Request) -> web.StreamResponse:
    row = await _script_row(request)
    form = await request.post()
    number = str(form.get("number", ""))
    repo = StepScriptsRepository(request.app[DB_SESSIONS])
    wanted = small_int(number, 6)
    version = await repo.version(row.id, wanted) if wanted is not None else None
    if version is None:
        raise web.HTTPNotFound(text="Нет такой версии сценария")
    await repo.publish(row.id, version.script, signed_in(request).id, utc_now(), rolled_back_to=version.number)
    raise web.HTTPSeeOther(f"/admin/steps/{row.key}?done=rolled")


async def _script_row(request: web.Request) -> StepScriptRow:
    key = request.match_info["key"]
    row = await StepScriptsRepository(request.app[DB_SESSIONS]).by_key(key) if len(key) <= 40 else None
    if row is None:
        raise web.HTTPNotFound(text="Нет такого сценария по шагам")
    return row


async def _current(request: web.Request, row: StepScriptRow) -> StepScript:
    """The draft, else the latest version with steps (a withdrawal has none)."""
    if row.draft is not None:
        return row.draft
    versions = await StepScriptsRepository(request.app[DB_SESSIONS]).versions(row.id)
    return next((version.script for version in versions if version.script.steps), StepScript(""))


async def _jinja_problems(request: web.Request, script: StepScript) -> list[StepProblem]:
    renderer = request.app[SCRIPT_RENDERER]
    found = []
    for step in (step for step in script.steps if step.jinja and step.text.strip()):
        error = await renderer.check(step.text, today=_today(request), name=f"шаг «{step.key}»")
        if error is not None:
            place = script.steps.index(step) + 1
            found.append(StepProblem(step.key, error.message, place, step.title))  # its message names the line
    return found


async def _preview(request: web.Request, row: StepScriptRow, script: StepScript,
                   form: dict[str, str]) -> dict[str, Any]:
    brief = await BriefRepository(request.app[DB_SESSIONS]).brief(form.get("client", ""), None, all_calls=False)
    if brief is None:
        return {"missing": "Выберите клиента из списка и нажмите «Предпросмотр».", "client": None, "steps": []}
    entry = request.app[SCRIPT_CATALOG].by_file(row.catalog_file) or request.app[SCRIPT_CATALOG].default
    variables = _preview_variables(request, entry, brief, await _preview_expert(request, brief), "0", "planned")
    variables["offer"] = offer_view(offer_of(settings_of(request)))  # as the desk's script_variables has it
    steps = await render_steps(request.app[SCRIPT_RENDERER], script, variables, preview=True)
    return {"missing": None, "client": brief.name, "steps": steps}


async def _editor(request: web.Request, row: StepScriptRow, *, script: StepScript | None = None,
                  found: list[StepProblem] | None = None, preview: dict[str, Any] | None = None,
                  notice: str | None = None, client_q: str = "", client: str = "", focus: int | None = None,
                  status: int = 200) -> web.Response:
    repo = StepScriptsRepository(request.app[DB_SESSIONS])
    script = script if script is not None else await _current(request, row)
    context = {
        "row": row, "script": script, "entry": request.app[SCRIPT_CATALOG].by_file(row.catalog_file),
        "found": found or [], "preview": preview, "notice": notice, "variables": VARIABLES,
        "versions": await repo.versions(row.id), "clients": await find_clients(request, client_q),
        "client_q": client_q, "client": client, "target_text": target_text, "branches_text": branches_text,
        "focus": focus, "row_problems": _by_place(found or []),
        "tz": settings_of(request).organisation.tz,
    }
    return aiohttp_jinja2.render_template("admin/steps_edit.html", request, context, status=status)


def _by_place(found: list[StepProblem]) -> dict[int, list[str]]:
    """Each step row's own problems (0-based like the form's rows), shown under it."""
    rows: dict[int, list[str]] = {}
    for problem in found:
        if problem.place is not None:
            rows.setdefault(problem.place - 1, []).append(problem.message)
    return rows


def _today(request: web.Request) -> date:
    return utc_now().astimezone(settings_of(request).organisation.tz).date()
