"""Errors of the import package; their messages are what the user reads, in Russian.

    ImportFailed          base: nothing was imported
    ├── FileFormatError   the file cannot be read at all (format, encoding, no header, a budget)
    └── RowsRejected      rows are bad; `.errors` lists them (RowError), `.total` counts them all
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from service.errors import ServiceError
from service.imports.limits import MAX_QUOTED_CHARS, show

# Control characters are shown escaped (\x00, \n), so a bad value stays visible and on one line.
_VISIBLE = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}
_VISIBLE.update({ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"})


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell: row as numbered in the file (header = row 1), column (the import's name for it;
    `label` is the file's, when that is an alias), value as given.

    A long value is kept cut to its first MAX_QUOTED_CHARS characters (`length` is the whole
    length), so a 400 MB cell neither stays in memory nor floods the terminal.
    """

    row: int
    column: str
    value: str
    reason: str
    length: int = field(default=-1, compare=False)
    label: str = field(default="", compare=False)  # the column's name in the file, when it is an alias

    def __post_init__(self) -> None:
        if self.length < 0:
            object.__setattr__(self, "length", len(self.value))
        if len(self.value) > MAX_QUOTED_CHARS:
            object.__setattr__(self, "value", self.value[:MAX_QUOTED_CHARS])

    def __str__(self) -> str:
        where = f"строка {self.row}, столбец {self.named_column}"
        if not self.length:  # a missing column or an empty cell: there is no value to quote
            return f"{where}: {self.reason}"
        return f"{where}, значение {quote(self.value, self.length)}: {self.reason}"

    @property
    def named_column(self) -> str:
        """«Телефон» (phone): the file's name first, the way the person sees the column; the import's
        own name after it, because reasons name the other columns that way (`позже call_from`)."""
        if not self.label or self.label == self.column:
            return quote(self.column)
        return f"{quote(self.label)} ({self.column})"


def quote(value: str, length: int | None = None) -> str:
    """«value» with control characters escaped; a long one cut, with its length."""
    length = len(value) if length is None else length
    shown = value[:MAX_QUOTED_CHARS].translate(_VISIBLE)
    if length <= MAX_QUOTED_CHARS:
        return f"«{shown}»"
    return f"«{shown}…» (всего {show(length)} знаков)"


class ImportFailed(ServiceError):
    """Nothing was imported."""


class FileFormatError(ImportFailed):
    """The file is not CSV/XLSX we can read, or breaks a budget (the message says why)."""


class RowsRejected(ImportFailed):
    """At least one row is bad; nothing was written. `errors` may stop short of `total`."""

    def __init__(self, errors: Sequence[RowError], total: int | None = None) -> None:
        self.errors = tuple(errors)
        self.total = len(self.errors) if total is None else total
        super().__init__(f"ошибок: {show(self.total)}; ничего не импортировано")
