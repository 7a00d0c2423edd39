"""The exports directory (`exports.dir`): a day's file written whole or not at all, and the files listed.

A file is written into a temporary file beside it and moved over the old one (`os.replace`): the
CRM's import, reading the directory at any moment, sees the previous file or the new one, never
half of one. A file whose bytes are already those is left alone (its time too). Every failure of
the directory is an ExportsDirError with a Russian message that names it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from service.exports.errors import ExportsDirError

NIGHTLY_NAME = re.compile(r"works-(\d{4})-(\d{2})-(\d{2})\.(csv|xlsx)")
MAX_LISTED = 400  # more than a year of nightly files


@dataclass(frozen=True, slots=True)
class StoredFile:
    name: str
    day: date
    file_format: str
    size: int
    modified: datetime  # aware UTC


def nightly_name(day: date, file_format: str) -> str:
    return f"works-{day:%Y-%m-%d}.{file_format}"


def write_file(directory: Path, name: str, data: bytes) -> bool:
    """Write `directory/name` atomically; False when it already held exactly `data` (nothing written)."""
    target = directory / name
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if _holds(target, data):
            return False
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise ExportsDirError(f"папка выгрузки {directory} недоступна для записи: {_reason(e)}") from e
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600: the CRM's import may run as another user
        os.replace(temporary, target)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise ExportsDirError(f"файл {target} не записан: {_reason(e)}") from e
    return True


def list_files(directory: Path) -> list[StoredFile]:
    """The nightly files in the directory, the newest day first; none if it does not exist yet."""
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    except OSError as e:
        raise ExportsDirError(f"папка выгрузки {directory} не читается: {_reason(e)}") from e
    found = []
    for entry in entries:
        match = NIGHTLY_NAME.fullmatch(entry.name)
        if match is None:
            continue
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
            stat = entry.stat()
        except (ValueError, OSError):  # works-2026-13-45.csv, or removed meanwhile
            continue
        if entry.is_file(follow_symlinks=False):
            found.append(StoredFile(entry.name, day, match[4], stat.st_size,
                                    datetime.fromtimestamp(stat.st_mtime, UTC)))
    found.sort(key=lambda f: (f.day, f.name), reverse=True)
    return found[:MAX_LISTED]


def stored_file(directory: Path, name: str) -> Path | None:
    """The nightly file `name` in the directory, or None: only names the job writes, and never a link
    that leads out of the directory."""
    if NIGHTLY_NAME.fullmatch(name) is None:
        return None
    try:
        path = (directory / name).resolve()
        return path if path.is_relative_to(directory.resolve()) and path.is_file() else None
    except (OSError, RuntimeError):
        return None


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except FileNotFoundError:
        return False


_REASONS = {errno.EACCES: "нет прав на запись", errno.EPERM: "нет прав на запись", errno.ENOSPC: "нет места на диске",
            errno.EROFS: "диск только для чтения", errno.ENOTDIR: "часть пути — не папка",
            errno.EISDIR: "на месте файла — папка", errno.EEXIST: "на месте папки — файл",
            errno.ENOENT: "нет такой папки"}


def _reason(error: OSError) -> str:
    return _REASONS.get(error.errno or 0, error.strerror or str(error))
