"""Supervisors upload import files (GET/POST /imports) and see what every upload and the drop
folder did. The same import as `dsdesk import KIND FILE`: every row checked, nothing written from
a file with a bad row, each bad row named by row and column in Russian.

The upload is the one request allowed a large body (UPLOAD_MAX_BYTES): every other form keeps
aiohttp's 1 MiB. The file is saved to a temporary directory under a fixed name (never the name the
browser sent) and deleted after the import.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS, DROP_FOLDER
from service.db.file_imports import FileImportsRepository
from service.imports.files import FileOutcome, import_named_file
from service.imports.named import SUFFIXES, kind_of, unknown_name
from service.imports.schemas import KINDS, ImportContext
from service.web.auth import Handler, requires
from service.web.desk_context import settings_of, signed_in

UPLOAD_PATH = "/imports"
UPLOAD_MAX_BYTES = 200 << 20  # a month's usage report of a large department is tens of MB
BY_NAME = "auto"
KIND_LABELS = {
    "experts": "Эксперты и пользователи (experts)",
    "clients": "Клиенты (clients)",
    "contacts": "Контактные лица (contacts)",
    "history": "История контактов (history)",
    "signals": "Сигналы (signals)",
    "absences": "Отсутствия (absences)",
    "logins": "Заходы в систему — статистика online-версии (logins)",
}
ADMIN_ONLY = frozenset({"experts"})  # it sets roles: a supervisor must not be able to make an admin
NO_FILE = "Выберите файл для загрузки"
BAD_SUFFIX = f"Нужен файл CSV или XLSX ({', '.join(SUFFIXES)})"


def setup_imports(app: web.Application) -> None:
    app.router.add_get(UPLOAD_PATH, imports_page, name="imports")
    app.router.add_post(UPLOAD_PATH, upload)
    app.middlewares.insert(0, upload_size_middleware)  # ahead of the input guard, which reads the form


@web.middleware
async def upload_size_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "POST" and request.path == UPLOAD_PATH:
        request = request.clone(client_max_size=UPLOAD_MAX_BYTES)
    return await handler(request)


@requires("supervisor", "admin")
async def imports_page(request: web.Request) -> web.StreamResponse:
    return await _page(request)


@requires("supervisor", "admin")
async def upload(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    chosen = str(form.get("kind") or BY_NAME)
    field = form.get("file")
    if not isinstance(field, web.FileField) or not field.filename:
        return await _page(request, error=NO_FILE, chosen=chosen, status=422)
    name = Path(field.filename).name
    kind = kind_of(name) if chosen == BY_NAME else chosen
    problem = _kind_problem(request, chosen, kind, name)
    if problem is not None or kind is None:
        return await _page(request, error=problem or unknown_name(name), chosen=chosen, status=422)
    outcome = await _import_upload(request, field, kind, name)
    return await _page(request, outcome=outcome, chosen=chosen, status=200 if outcome.ok else 422)


def _kind_problem(request: web.Request, chosen: str, kind: str | None, name: str) -> str | None:
    if chosen != BY_NAME and chosen not in KINDS:
        return "Непонятный вид импорта"
    if Path(name).suffix.lower() not in SUFFIXES:
        return BAD_SUFFIX
    if kind in ADMIN_ONLY and signed_in(request).role != "admin":
        return "Импорт пользователей (experts) доступен только администратору: он задаёт роли"
    return None


async def _import_upload(request: web.Request, field: web.FileField, kind: str, name: str) -> FileOutcome:
    settings = settings_of(request)
    with tempfile.TemporaryDirectory(prefix="dsdesk-upload-") as directory:
        path = Path(directory) / f"upload{Path(name).suffix.lower()}"
        with path.open("wb") as target:
            shutil.copyfileobj(field.file, target)
        return await import_named_file(kind, path, name, request.app[DB_SESSIONS], ImportContext.of(settings),
                                       source="web", user_id=signed_in(request).id)


async def _page(request: web.Request, *, outcome: FileOutcome | None = None, error: str | None = None,
                chosen: str = BY_NAME, status: int = 200) -> web.StreamResponse:
    settings = settings_of(request)
    folder = request.app.get(DROP_FOLDER)
    context: dict[str, Any] = {
        "kinds": [(k, KIND_LABELS[k]) for k in KINDS], "by_name": BY_NAME, "chosen": chosen,
        "outcome": outcome, "error": error, "recent": await FileImportsRepository(request.app[DB_SESSIONS]).recent(),
        "watch_dir": settings.imports.watch_dir, "folder_error": folder.last_error if folder else None,
        "tz": settings.organisation.timezone, "max_mb": UPLOAD_MAX_BYTES >> 20,
    }
    return aiohttp_jinja2.render_template("imports/page.html", request, context, status=status)
