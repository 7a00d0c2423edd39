"""GET /exports/works: «Работы» for the CRM (ВЭ), for supervisors and admins (docs/exports.md).

The page has the form for any day or range (?from=…&to=…&format=csv|xlsx, downloaded from
/exports/works/download), the nightly files in `exports.dir` and the nightly job's last runs — a
failed one on top, in red. A range that cannot be exported gives the page back with a Russian
message (400); the file of a download is made from the database, so it is the nightly file's
twin for a day whose works did not change since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from scheduler.works_export import WORKS_EXPORT_JOB
from service.appkeys import DB_SESSIONS
from service.db.job_runs import JobRunsRepository, JobRunView
from service.exports.errors import BadPeriod, ExportsDirError
from service.exports.export import export_bytes, works_config
from service.exports.files import CONTENT_TYPES, FORMATS
from service.exports.period import DATE_FORMS, Days, read_days
from service.exports.store import StoredFile, list_files, stored_file
from service.web.auth import requires
from service.web.desk_context import settings_of, utc_now

PAGE = "exports/works.html"
RUNS_SHOWN = 14
RUN_STATUS_LABELS = {"running": "идёт", "ok": "успешно", "failed": "ошибка"}
FORMAT_LABELS = {"csv": "CSV (Windows-1251, «;»)", "xlsx": "XLSX"}
BAD_FORMAT = "Формат файла — CSV или XLSX"


def setup_exports(app: web.Application) -> None:
    app.router.add_get("/exports/works", works_page, name="exports_works")
    app.router.add_get("/exports/works/download", works_download, name="exports_works_download")
    app.router.add_get("/exports/works/files/{name}", works_file, name="exports_works_file")


@dataclass(frozen=True, slots=True)
class Typed:
    """The form as typed, to show it again."""

    first: str
    last: str
    file_format: str


@requires("supervisor", "admin")
async def works_page(request: web.Request) -> web.StreamResponse:
    today = utc_now().astimezone(settings_of(request).organisation.tz).date()
    return await _page(request, Typed(today.isoformat(), today.isoformat(), settings_of(request).exports.format))


@requires("supervisor", "admin")
async def works_download(request: web.Request) -> web.StreamResponse:
    settings = settings_of(request)
    query = request.query
    typed = Typed(query.get("from", ""), query.get("to", ""), query.get("format", "") or settings.exports.format)
    try:
        days = read_days(typed.first, typed.last, settings.exports.max_range_days)
        if typed.file_format not in FORMATS:
            raise BadPeriod(BAD_FORMAT)
    except BadPeriod as e:
        return await _page(request, typed, error=str(e), status=400)
    data, _ = await export_bytes(request.app[DB_SESSIONS], days, works_config(settings), typed.file_format)
    return _attachment(data, f"{days.stem}.{typed.file_format}", typed.file_format)


@requires("supervisor", "admin")
async def works_file(request: web.Request) -> web.StreamResponse:
    """A nightly file as the job wrote it (only the names it writes: works-YYYY-MM-DD.csv|xlsx)."""
    name = request.match_info["name"]
    path = stored_file(settings_of(request).exports.dir, name)
    if path is None:
        raise web.HTTPNotFound(text="Такого файла выгрузки нет")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise web.HTTPNotFound(text="Файл выгрузки не читается") from e
    return _attachment(data, name, name.rsplit(".", 1)[1])


def _attachment(data: bytes, name: str, file_format: str) -> web.Response:
    return web.Response(body=data, content_type=CONTENT_TYPES[file_format].split(";")[0],
                        charset="windows-1251" if file_format == "csv" else None,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def _page(request: web.Request, typed: Typed, *, error: str | None = None,
                status: int = 200) -> web.StreamResponse:
    settings = settings_of(request)
    exports = settings.exports
    files: list[StoredFile] = []
    files_error = None
    try:
        files = list_files(exports.dir)
    except ExportsDirError as e:
        files_error = str(e)
    runs = await JobRunsRepository(request.app[DB_SESSIONS]).recent(RUNS_SHOWN, job=WORKS_EXPORT_JOB)
    context: dict[str, Any] = {
        "error": error, "typed": typed, "formats": [(f, FORMAT_LABELS[f]) for f in FORMATS],
        "files": files, "files_error": files_error, "runs": [_run(r, settings.organisation.tz) for r in runs],
        "failed": _failed(runs, settings.organisation.tz), "exports": exports, "date_forms": DATE_FORMS,
        "tz": settings.organisation.timezone, "day_link": _day_link,
    }
    return aiohttp_jinja2.render_template(PAGE, request, context, status=status)


@dataclass(frozen=True, slots=True)
class RunRow:
    started: str
    status: str
    ok: bool
    detail: str


def _run(run: JobRunView, tz: ZoneInfo) -> RunRow:
    return RunRow(f"{run.started_at.astimezone(tz):%d.%m.%Y %H:%M}", RUN_STATUS_LABELS.get(run.status, run.status),
                  run.status != "failed", run.detail or "")


def _failed(runs: list[JobRunView], tz: ZoneInfo) -> str | None:
    """The latest finished run's error, when it failed: what the supervisor must see first."""
    latest = next((r for r in runs if r.status != "running"), None)
    if latest is None or latest.status != "failed":
        return None
    # The night it ran for (its fire time), not the clock when it ran: a run caught up in the morning is that night's.
    moment: datetime = latest.fire_time.astimezone(tz)
    return f"Ночная выгрузка {moment:%d.%m.%Y} в {moment:%H:%M} не удалась: {latest.detail or 'причина не записана'}"


def _day_link(day: date, file_format: str) -> str:
    """The download of one day (made from the database now), beside its nightly file."""
    days = Days(day, day)
    return f"/exports/works/download?from={days.first.isoformat()}&to={days.last.isoformat()}&format={file_format}"
