"""Which import a file is, by its name: `logins-2026-12-06.csv` → logins. Pure.

The drop folder and the web upload's «по имени файла» choice both read it: a nightly CRM export
is named for what it holds, so no one has to say it.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from service.imports.schemas import KINDS

SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
# The kind, then the end of the name or a separator: «logins_2026», «clients.xlsx», not «loginsx».
_KIND = re.compile(rf"^({'|'.join(sorted(KINDS, key=len, reverse=True))})(?:$|[-_. ])", re.IGNORECASE)


def kind_of(name: str) -> str | None:
    """The import kind a file's name starts with, or None."""
    path = PurePath(name)
    if path.suffix.lower() not in SUFFIXES:
        return None
    found = _KIND.match(path.stem)
    return found[1].lower() if found else None


def unknown_name(name: str) -> str:
    """Why a file's name says no kind (Russian: the supervisor reads it)."""
    return (f"по имени файла «{name}» не понять, что в нём: имя должно начинаться с вида импорта "
            f"({', '.join(KINDS)}) и кончаться на .csv или .xlsx, например logins-2026-12-06.csv")
