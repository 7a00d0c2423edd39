"""One file imported on someone's behalf (the web upload, the drop folder): the outcome in Russian,
recorded in `file_imports`. Nothing is written from a file with a bad row (runner's rule)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from service.db.engine import SessionMaker, create_engine, create_sessionmaker
from service.imports.errors import ImportFailed, RowsRejected
from service.imports.limits import show
from service.imports.records import FileImportRow, FileImportsRepository
from service.imports.runner import import_file
from service.imports.schemas import KINDS, ImportContext

log = logging.getLogger(__name__)
MAX_ERRORS_SHOWN = 200  # on the page and in the record; the drop folder's .errors.txt has them all
_READ = 1 << 20


@dataclass(frozen=True, slots=True)
class FileOutcome:
    kind: str
    name: str
    ok: bool
    rows: int
    message: str  # what was written, or why nothing was (Russian)
    errors: tuple[str, ...] = ()  # each bad row: «строка 5, столбец «started_at», …»
    more_errors: int = 0  # bad cells beyond `errors`
    already: bool = False  # the same bytes were imported before: nothing done
    record_id: int | None = None  # its row in file_imports (none when `already`)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_READ):
            digest.update(chunk)
    return digest.hexdigest()


async def import_named_file(kind: str, path: Path, name: str, sessions: SessionMaker, context: ImportContext, *,
                            source: str, user_id: int | None = None, skip_known: bool = False) -> FileOutcome:
    """Import `path` (shown as `name`) as `kind` and record the outcome; never raises for a bad file.

    `skip_known`: a file whose exact bytes were imported before is not imported again (the drop
    folder: a CRM that drops the same export twice). A re-import would change nothing anyway.
    """
    records = FileImportsRepository(sessions)
    digest = await asyncio.to_thread(sha256_of, path)
    if skip_known and (before := await records.imported_before(digest)) is not None:
        message = f"этот же файл уже импортирован {before.at.astimezone(context.tz):%d.%m.%Y %H:%M}: пропущен"
        return FileOutcome(kind, name, True, before.rows, message, already=True)
    outcome = await _import(kind, path, name, sessions, context)
    record_id = await records.record(kind=kind, name=name, sha256=digest, source=source, ok=outcome.ok,
                                     rows=outcome.rows, message=_recorded(outcome), user_id=user_id,
                                     at=datetime.now(UTC))
    log.info("import %s %s (%s): %s", kind, name, source, "ok" if outcome.ok else "refused")
    return replace(outcome, record_id=record_id)


def outcome_of(row: FileImportRow) -> FileOutcome:
    """An outcome again from its record (the upload page after its redirect): the message is the
    record's first line, each further line a bad row or the «… и ещё» count."""
    message, *errors = row.message.split("\n")
    return FileOutcome(row.kind, row.name, row.ok, row.rows, message, tuple(errors), record_id=row.id)


async def record_refusal(sessions: SessionMaker, outcome: FileOutcome, path: Path) -> None:
    """A drop-folder file refused before any import (its name): on record like any other."""
    await FileImportsRepository(sessions).record(
        kind=outcome.kind, name=outcome.name, sha256=await asyncio.to_thread(sha256_of, path), source="folder",
        ok=False, rows=0, message=outcome.message, user_id=None, at=datetime.now(UTC))


async def _import(kind: str, path: Path, name: str, sessions: SessionMaker, context: ImportContext) -> FileOutcome:
    """The import runs in a process of its own, with its own connections: reading and checking a
    million rows takes tens of seconds of CPU, which must not stop the desks' server (in a thread it
    still would, for most of a second at a time: the interpreter runs one thread at once)."""
    url = sessions.kw["bind"].url.render_as_string(hide_password=False)
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        return await asyncio.get_running_loop().run_in_executor(
            pool, _import_in_process, kind, path, name, url, context)
    finally:
        # Shutting down waits for the child to exit (0.2–1 s on a loaded machine): not on the event loop.
        await asyncio.to_thread(pool.shutdown)


def _import_in_process(kind: str, path: Path, name: str, url: str, context: ImportContext) -> FileOutcome:
    return asyncio.run(_import_on_own_engine(kind, path, name, url, context))


async def _import_on_own_engine(kind: str, path: Path, name: str, url: str, context: ImportContext) -> FileOutcome:
    engine = create_engine(url)
    try:
        return await _import_with(kind, path, name, create_sessionmaker(engine), context)
    finally:
        await engine.dispose()


async def _import_with(kind: str, path: Path, name: str, sessions: SessionMaker, context: ImportContext) -> FileOutcome:
    try:
        report = await import_file(kind, path, sessions, progress=False, context=context)
    except RowsRejected as e:
        errors = tuple(str(error) for error in e.errors)
        return FileOutcome(kind, name, False, 0, f"{e}: исправьте файл и загрузите его снова",
                           errors, e.total - len(errors))
    except ImportFailed as e:
        return FileOutcome(kind, name, False, 0, f"файл не импортирован: {e}")
    return FileOutcome(kind, name, True, report.rows, report.summary())


def _recorded(outcome: FileOutcome) -> str:
    lines = [outcome.message, *outcome.errors[:MAX_ERRORS_SHOWN]]
    if outcome.more_errors or len(outcome.errors) > MAX_ERRORS_SHOWN:
        lines.append(f"… и ещё {show(outcome.more_errors + max(len(outcome.errors) - MAX_ERRORS_SHOWN, 0))}")
    return "\n".join(lines)


def errors_text(outcome: FileOutcome) -> str:
    """The `.errors.txt` beside a failed file: the reason and every bad row kept."""
    kind = f" ({outcome.kind})" if outcome.kind in KINDS else ""
    lines = [f"Файл {outcome.name}{kind} не импортирован.", outcome.message, *outcome.errors]
    if outcome.more_errors:
        lines.append(f"… и ещё {show(outcome.more_errors)}")
    return "\n".join(lines) + "\n"
