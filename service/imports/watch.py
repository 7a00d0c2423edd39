"""The drop folder (`imports.watch_dir`): a file put there is imported once, by its name's kind,
then moved to `done/`, or to `failed/` with `NAME.errors.txt` beside it saying why.

A file is taken only when its size and modification time have stayed the same for one whole
poll and it was last written at least `settle_s` ago, so a CRM export still being written (even
by a writer that pauses) is not read half-way. Hidden files and files ending in .part, .tmp or ~
are left alone (a writer's temporary names); so is anything that is not a regular file in the
folder itself (a symbolic link could point anywhere). `experts` files are never taken from the
folder: they set roles, which only an admin may do (on the upload page). A failed import leaves
the database as it was (runner's rule); the folder loop never stops on one file's trouble.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import stat
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from service.db.engine import SessionMaker
from service.imports.files import FileOutcome, errors_text, import_named_file, record_refusal
from service.imports.named import kind_of, unknown_name
from service.imports.schemas import ImportContext

log = logging.getLogger(__name__)
DONE, FAILED = "done", "failed"
_TEMPORARY = (".part", ".tmp", "~", ".crdownload")
NOT_FROM_FOLDER = {"experts": "импорт пользователей (experts) из папки не выполняется: он задаёт роли; "
                              "его загружает администратор на странице «Загрузка данных»"}

Signature = tuple[int, int]  # (size, mtime in ns)


class DropFolder:
    """Polls one folder; `poll_once` is one look (tests call it), `run` loops until cancelled."""

    def __init__(self, root: Path, sessions: SessionMaker, context: Callable[[], ImportContext],
                 poll_s: float, settle_s: float = 30.0) -> None:
        self._root = root
        self._settle_ns = int(settle_s * 1e9)
        self._sessions = sessions
        self._context = context
        self._poll_s = poll_s
        self._seen: dict[Path, Signature] = {}
        self.last_error: str | None = None  # the folder itself is unusable (shown on the imports page)

    async def run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self._poll_s)

    async def poll_once(self) -> list[FileOutcome]:
        """Import every file that has been still since the last look; returns what was done."""
        try:
            ready = self._ready_files()
            self.last_error = None
        except OSError as e:
            self.last_error = f"папка {self._root} недоступна: {e.strerror or e}"
            log.warning("drop folder: %s", self.last_error)
            return []
        outcomes = []
        for path in ready:
            try:
                outcomes.append(await self._take(path))
            except Exception:  # one file's surprise (a database restart) must not stop the folder
                log.exception("drop folder: %s was not imported; it stays for the next look", path.name)
                self._seen.pop(path, None)
        return outcomes

    def _ready_files(self) -> list[Path]:
        self._root.mkdir(parents=True, exist_ok=True)
        current: dict[Path, Signature] = {}
        for path in sorted(self._root.iterdir()):
            if path.name.startswith(".") or path.name.endswith(_TEMPORARY):
                continue
            found = path.lstat()  # a link is not followed: it is not a regular file
            if stat.S_ISREG(found.st_mode):
                current[path] = (found.st_size, found.st_mtime_ns)
        settled_before = time.time_ns() - self._settle_ns
        ready = [path for path, signature in current.items()
                 if self._seen.get(path) == signature and signature[1] <= settled_before]
        self._seen = {path: signature for path, signature in current.items() if path not in ready}
        return ready

    async def _take(self, path: Path) -> FileOutcome:
        kind = kind_of(path.name)
        if kind is None or kind in NOT_FROM_FOLDER:
            message = unknown_name(path.name) if kind is None else NOT_FROM_FOLDER[kind]
            outcome = FileOutcome(kind or "—", path.name, False, 0, message)
            await record_refusal(self._sessions, outcome, path)  # the imports page lists it too
        else:
            outcome = await import_named_file(kind, path, path.name, self._sessions, self._context(),
                                              source="folder", skip_known=True)
        self._set_aside(path, outcome)
        return outcome

    def _set_aside(self, path: Path, outcome: FileOutcome) -> None:
        target_dir = self._root / (DONE if outcome.ok else FAILED)
        target_dir.mkdir(exist_ok=True)
        target = _free_name(target_dir / path.name)
        shutil.move(path, target)
        if not outcome.ok:
            target.with_name(target.name + ".errors.txt").write_text(errors_text(outcome), encoding="utf-8")
        log.info("drop folder: %s → %s", path.name, target.relative_to(self._root))


def _free_name(wanted: Path) -> Path:
    """`wanted`, or the same name with the time added when a file of that name was set aside before."""
    if not wanted.exists():
        return wanted
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return wanted.with_name(f"{wanted.stem}.{stamp}{wanted.suffix}")
