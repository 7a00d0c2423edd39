"""Supervisors upload import files (GET/POST /imports) and see what every upload and the drop
folder did. The same import as `dsdesk import KIND FILE`: every row checked, nothing written from
a file with a bad row, each bad row named by row and column in Russian.

The upload is read as a stream, after the sign-in and role checks and field by field: the CSRF
token (the form's first field) is checked before anything else is read, the file is written to a
temporary directory under a fixed name (never the name the browser sent) and cut off at
UPLOAD_MAX_BYTES, and deleted after the import. Nothing of it is parsed before that (the input
guard and the CSRF middleware leave streamed forms to their handler: service/web/csrf.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import BodyPartReader, web

from service.appkeys import DB_SESSIONS, DROP_FOLDER
from service.imports.files import FileOutcome, import_named_file, outcome_of
from service.imports.named import SUFFIXES, kind_of, unknown_name
from service.imports.records import FileImportsRepository
from service.imports.schemas import KINDS, ImportContext
from service.web.auth import FORM_EXPIRED, refuse, requires
from service.web.csrf import CSRF_MESSAGE, tokens_match
from service.web.desk_context import settings_of, signed_in
from service.web.input_guard import UNREADABLE_FORM
from service.web.keys import CSRF_FIELD, CSRF_KEY
from texts.imports import FILE_FORMS, KIND_NAMES

UPLOAD_PATH = "/imports"
UPLOAD_QUERY = "upload"  # GET /imports?upload=ID: that upload's outcome (where the POST redirects)
MAX_RECORD_ID = 2**31 - 1
UPLOAD_MAX_BYTES = 200 << 20  # a month's usage report of a large department is tens of MB
BY_NAME = "auto"
# The form's choices: the Russian name, then the word a file's name starts with (the «по имени файла» choice).
KIND_LABELS = {kind: f"{name} ({kind})" for kind, name in KIND_NAMES.items()}
ADMIN_ONLY = frozenset({"experts"})  # it sets roles: a supervisor must not be able to make an admin
NO_FILE = "Выберите файл для загрузки"
BAD_SUFFIX = f"Нужен файл CSV или XLSX ({', '.join(SUFFIXES)})"
TOO_LARGE = f"Файл больше {UPLOAD_MAX_BYTES >> 20} МБ: разделите его на части или положите в папку для загрузки"
SMALL_FIELD_BYTES = 1024  # the token and the kind: a few dozen bytes
_CHUNK = 1 << 16


class BadUpload(Exception):
    """The form is not what the page sends; the message is shown (Russian)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def setup_imports(app: web.Application) -> None:
    app.router.add_get(UPLOAD_PATH, imports_page, name="imports")
    app.router.add_post(UPLOAD_PATH, upload)


@requires("supervisor", "admin")
async def imports_page(request: web.Request) -> web.StreamResponse:
    return await _page(request, outcome=await _own_upload(request))


@requires("supervisor", "admin")
async def upload(request: web.Request) -> web.StreamResponse:
    with tempfile.TemporaryDirectory(prefix="dsdesk-upload-") as directory:
        try:
            chosen, name, path = await _read_form(request, Path(directory))
        except BadUpload as e:
            if e.status == 403:
                return await refuse(request, FORM_EXPIRED, CSRF_MESSAGE)
            return await _page(request, error=str(e), status=e.status)
        if name is None or path is None:
            return await _page(request, error=NO_FILE, chosen=chosen, status=422)
        kind = kind_of(name) if chosen == BY_NAME else chosen
        problem = _kind_problem(request, chosen, kind, name)
        if problem is not None or kind is None:
            return await _page(request, error=problem or unknown_name(name), chosen=chosen, status=422)
        settings = settings_of(request)
        outcome = await import_named_file(kind, path, name, request.app[DB_SESSIONS], ImportContext.of(settings),
                                          source="web", user_id=signed_in(request).id)
    if outcome.record_id is None:  # not recorded (web uploads always are): show it here
        return await _page(request, outcome=outcome, chosen=chosen, status=200 if outcome.ok else 422)
    # Post/redirect/get: F5 on the outcome reloads the page instead of sending the file again.
    raise web.HTTPSeeOther(f"{UPLOAD_PATH}?{UPLOAD_QUERY}={outcome.record_id}")


async def _own_upload(request: web.Request) -> FileOutcome | None:
    """The outcome of the upload named by `?upload=ID`, if it is the signed-in user's own web upload;
    anything else (another's, a bogus or unknown id) shows nothing."""
    record_id = upload_id(request.query.get(UPLOAD_QUERY, ""))
    if record_id is None:
        return None
    row = await FileImportsRepository(request.app[DB_SESSIONS]).get(record_id)
    if row is None or row.source != "web" or row.user_id != signed_in(request).id:
        return None
    return outcome_of(row)


def upload_id(text: str) -> int | None:
    """`?upload=` as a record id; None unless it is one (PostgreSQL refuses an id over its INTEGER)."""
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_RECORD_ID else None


async def _read_form(request: web.Request, directory: Path) -> tuple[str, str | None, Path | None]:
    """(kind chosen, the file's name, where it was saved) from the stream; BadUpload if it is not the page's form."""
    try:
        reader = await request.multipart()
        part = await reader.next()
        if not isinstance(part, BodyPartReader) or part.name != CSRF_FIELD or not tokens_match(
                request[CSRF_KEY], await _small(part)):
            raise BadUpload(CSRF_MESSAGE, 403)
        chosen, name, path = BY_NAME, None, None
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise BadUpload(UNREADABLE_FORM)
            if part.name == "kind":
                chosen = await _small(part) or BY_NAME
            elif part.name == "file" and part.filename:
                name = Path(part.filename.replace("\\", "/")).name
                path = directory / f"upload{Path(name).suffix.lower()[:8]}"
                await _save(part, path)
            else:
                await part.release()
    except BadUpload:
        raise
    except (ValueError, UnicodeDecodeError, AssertionError) as e:  # a body no browser would send
        raise BadUpload(UNREADABLE_FORM) from e
    if name is not None and "\x00" in name:
        raise BadUpload(UNREADABLE_FORM)
    return chosen, name, path


async def _small(part: BodyPartReader) -> str:
    data = b""
    while chunk := await part.read_chunk(SMALL_FIELD_BYTES):
        data += chunk
        if len(data) > SMALL_FIELD_BYTES:
            raise BadUpload(UNREADABLE_FORM)
    return data.decode("utf-8").strip()


async def _save(part: BodyPartReader, path: Path) -> None:
    size = 0
    with path.open("wb") as target:
        while chunk := await part.read_chunk(_CHUNK):
            size += len(chunk)
            if size > UPLOAD_MAX_BYTES:
                raise BadUpload(TOO_LARGE, 413)
            target.write(chunk)


def _kind_problem(request: web.Request, chosen: str, kind: str | None, name: str) -> str | None:
    if chosen != BY_NAME and chosen not in KINDS:
        return "Непонятный вид импорта"
    if Path(name).suffix.lower() not in SUFFIXES:
        return BAD_SUFFIX
    if kind in ADMIN_ONLY and signed_in(request).role != "admin":
        return "Импорт пользователей (experts) доступен только администратору: он задаёт роли"
    return None


async def _page(request: web.Request, *, outcome: FileOutcome | None = None, error: str | None = None,
                chosen: str = BY_NAME, status: int = 200) -> web.StreamResponse:
    settings = settings_of(request)
    folder = request.app.get(DROP_FOLDER)
    context: dict[str, Any] = {
        "kinds": [(k, KIND_LABELS[k]) for k in KINDS], "by_name": BY_NAME, "chosen": chosen,
        "outcome": outcome, "error": error, "recent": await FileImportsRepository(request.app[DB_SESSIONS]).recent(),
        "watch_dir": settings.imports.watch_dir, "folder_error": folder.last_error if folder else None,
        "tz": settings.organisation.timezone, "max_mb": UPLOAD_MAX_BYTES >> 20,
        "kind_names": KIND_NAMES, "file_forms": FILE_FORMS,
    }
    return aiohttp_jinja2.render_template("imports/page.html", request, context, status=status)
