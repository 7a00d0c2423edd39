"""Files → a header and numbered rows. CSV (UTF-8 with or without BOM, Windows-1251, or UTF-16 with
its BOM; `;`, `,` or a tab, all detected) and XLSX (openpyxl, read-only). Rows can be read more than once (the
runner validates in one pass and writes in a second) without holding the file in memory.

A file is untrusted: it is read within the budgets of limits.py (its size, its rows and
columns, a CSV row's length; an XLSX is checked by xlsx_guard before openpyxl opens it), and
whatever breaks one, or cannot be read at all, is a FileFormatError saying so in Russian.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol, TypeVar

from service.imports import cells
from service.imports.aliases import normalise
from service.imports.errors import FileFormatError, quote
from service.imports.limits import MAX_COLUMNS, MAX_FILE_BYTES, MAX_LINE_CHARS, MAX_ROWS, show, show_bytes
from service.imports.sniff import SAVE_AS, UTF8, UTF16, bom_encoding, not_a_table
from service.imports.xlsx_guard import scan_workbook, unreadable

if TYPE_CHECKING:
    from openpyxl import Workbook

Row = dict[str, object]
NumberedRow = tuple[int, Row]  # (row number as the user sees it, header = 1; cells by column)
T = TypeVar("T")

_CHUNK = 1 << 20
_SAMPLE = 64 * 1024
_DELIMITERS = ";,\t"  # a tab: Excel's «Текст в Юникоде» (UTF-16) and «Текст (разделители — табуляция)»
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls (Excel 97–2003)
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_OS_REASONS = {errno.ENOENT: "такого файла нет", errno.EACCES: "нет прав на чтение",
               errno.EPERM: "нет прав на чтение", errno.EISDIR: "это папка, а не файл"}


class Table(Protocol):
    @property
    def header(self) -> tuple[str, ...]:
        """Column names of row 1, trimmed."""
        ...

    def rows(self) -> Iterator[NumberedRow]:
        """Data rows (blank ones skipped, their numbers kept), read from the file again each time."""
        ...


def open_table(path: Path, known_columns: Collection[str], sheet: str | None = None) -> Table:
    """A CSV or XLSX table; `known_columns` (any names a column goes by) help pick the CSV delimiter,
    `sheet` the XLSX sheet."""
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(_SAMPLE)
    except OSError as e:
        raise FileFormatError(f"файл не читается: {os_reason(e)}") from e
    if size > MAX_FILE_BYTES:
        raise FileFormatError(f"файл больше {show_bytes(MAX_FILE_BYTES)} (предел импорта): разделите его на части")
    if head.startswith(_OLE_MAGIC):
        raise FileFormatError("старая книга Excel (.xls): сохраните её как .xlsx или CSV")
    if head.startswith(_ZIP_MAGIC):
        return XlsxTable.open(path, sheet)
    if path.suffix.lower() in _XLSX_SUFFIXES:
        raise FileFormatError("файл назван .xlsx, но это не книга Excel (не ZIP-архив)")
    return CsvTable.open(path, head, known_columns)


@dataclass(frozen=True, slots=True)
class CsvTable:
    path: Path
    encoding: str
    delimiter: str
    header: tuple[str, ...]

    @classmethod
    def open(cls, path: Path, head: bytes, known_columns: Collection[str]) -> CsvTable:
        encoding = detect_encoding(path, head)
        sample = head.decode(encoding, errors="ignore")  # a cut multibyte tail is harmless here
        if not sample.strip():
            raise FileFormatError("файл пуст: в первой строке должны быть названия столбцов")
        delimiter = detect_delimiter(sample, known_columns)
        first = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
        return cls(path, encoding, delimiter, checked_header(clean_header(first)))

    def rows(self) -> Iterator[NumberedRow]:
        with self.path.open(encoding=self.encoding, newline="") as file:
            lines = _Lines(file)
            reader = csv.reader(lines, delimiter=self.delimiter)
            number = 1  # the header
            try:
                next(reader, None)
                lines.record = []
                # A record is a row as a spreadsheet shows it, even when a quoted cell spans lines.
                for number, cells_ in enumerate(reader, start=2):
                    lines.record = []
                    if number > MAX_ROWS + 1:
                        raise FileFormatError(too_many_rows())
                    if any(cell.strip() for cell in cells_):
                        yield number, dict(zip(self.header, cells_, strict=False))  # rows may be ragged
            except csv.Error as e:  # a field over the csv module's own limit (131,072 characters)
                raise FileFormatError(self._unreadable(number + 1, "".join(lines.record))) from e
            except _RowTooLong as e:
                raise FileFormatError(f"строка {number + 1} длиннее {show(MAX_LINE_CHARS)} знаков "
                                      f"(предел импорта для одной строки)") from e

    def _unreadable(self, number: int, record: str) -> str:
        limit = csv.field_size_limit()
        index = long_field(record, self.delimiter, limit)
        column = quote(self.header[index]) if index < len(self.header) else f"№ {index + 1} (без названия)"
        return (f"строка {number}, столбец {column}: ячейка длиннее {show(limit)} знаков "
                f"(предел чтения CSV) — не закрыта кавычка? Дальше файл не читается")


class _RowTooLong(Exception):
    pass


class _Lines:
    """The file's lines for csv.reader, remembering those of the record being read.

    `readline` with a size never reads more than the budget, so a file with no line ends is
    refused after MAX_LINE_CHARS instead of being read into memory whole.
    """

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.record: list[str] = []
        self._size = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if not self.record:
            self._size = 0
        line = self._file.readline(MAX_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self._size += len(line)
        if self._size > MAX_LINE_CHARS:
            raise _RowTooLong
        self.record.append(line)
        return line


def long_field(record: str, delimiter: str, limit: int) -> int:
    """Index of the first field of a CSV record's text longer than `limit` (quotes followed as the
    csv module does); the field the text ends in when none is."""
    index, length, state = 0, 0, "start"
    for char in record:
        if state == "quoted":
            state, length = ("closed", length) if char == '"' else (state, length + 1)
        elif char == '"' and state in ("start", "closed"):
            state, length = "quoted", length + (state == "closed")  # a doubled quote is one character
        elif char == delimiter:
            index, length, state = index + 1, 0, "start"
        else:
            state, length = "plain", length + 1
        if length > limit:
            break
    return index


@dataclass(frozen=True, slots=True)
class XlsxTable:
    path: Path
    sheet: str
    header: tuple[str, ...]
    last_row: int  # the last row holding a value in this sheet: its claimed size is never trusted

    @classmethod
    def open(cls, path: Path, wanted: str | None) -> XlsxTable:
        last_rows = scan_workbook(path)
        workbook = _load_workbook(path)
        try:
            names = workbook.sheetnames
            if not names:
                raise FileFormatError("в книге нет ни одного листа")
            sheet = wanted if wanted is not None and wanted in names else names[0]
            last_row = _last_row(workbook[sheet], last_rows)
            if last_row > MAX_ROWS + 1:
                raise FileFormatError(too_many_rows())
            first = _read(lambda: next(workbook[sheet].iter_rows(
                max_row=1, max_col=MAX_COLUMNS + 1, values_only=True), ()))
        finally:
            workbook.close()
        names_ = clean_header([cells.text(v) for v in first])
        return cls(path, sheet, checked_header(names_[:_width(names_)]), last_row)

    def rows(self) -> Iterator[NumberedRow]:
        if self.last_row < 2 or not self.header:
            return
        workbook = _load_workbook(self.path)
        try:
            # Bounded by the rows that hold values and the header's columns, not by the sheet's
            # claimed dimension (Excel counts formatted empty rows, up to 1,048,576 of them).
            values = _read(lambda: workbook[self.sheet].iter_rows(
                min_row=2, max_row=self.last_row, max_col=len(self.header), values_only=True))
            for number, row in enumerate(_guarded(values), start=2):
                if any(not cells.is_empty(v) for v in row):
                    yield number, dict(zip(self.header, row, strict=False))
        finally:
            workbook.close()


def _last_row(sheet: object, last_rows: Mapping[str, int]) -> int:
    """This sheet's own last row with a value: another sheet's row 1,000,000 must not make openpyxl
    walk this one's empty formatted rows. The part openpyxl streams the sheet from is the guard's key;
    were it ever missing, the largest of all sheets is still a bound that loses no row."""
    part = getattr(sheet, "_worksheet_path", None)  # openpyxl's ReadOnlyWorksheet (3.1)
    return last_rows[part] if isinstance(part, str) and part in last_rows else max(last_rows.values(), default=0)


def _width(names: tuple[str, ...]) -> int:
    """Without the empty cells that end the header (the claimed dimension pads them)."""
    width = len(names)
    while width and not names[width - 1]:
        width -= 1
    return width


def _load_workbook(path: Path) -> Workbook:
    from openpyxl import load_workbook  # imported on use: CSV imports never pay for it

    with warnings.catch_warnings():  # "no default style", "extension not supported": not the user's concern
        warnings.simplefilter("ignore", UserWarning)
        # External links (cached copies of other workbooks) and VBA are never needed: not read at all.
        return _read(lambda: load_workbook(path, read_only=True, data_only=True, keep_links=False, keep_vba=False))


def _read(step: Callable[[], T]) -> T:
    """One openpyxl step; whatever it raises means the workbook cannot be read."""
    try:
        return step()
    except FileFormatError:
        raise
    except Exception as e:  # zipfile, KeyError, XML and value errors: all mean "not a workbook we can read"
        raise unreadable(e) from e


def _guarded(rows: Iterator[tuple[object, ...]]) -> Iterator[tuple[object, ...]]:
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as e:  # as in _read, but raised while the rows are read
            raise unreadable(e) from e
        yield row


def clean_header(names: list[str]) -> tuple[str, ...]:
    # Surrounding spaces and a BOM left by some exporters are not part of a column's name.
    return tuple(name.strip().lstrip("\ufeff").strip() for name in names)


def checked_header(names: tuple[str, ...]) -> tuple[str, ...]:
    if len(names) > MAX_COLUMNS:
        raise FileFormatError(f"в первой строке больше {show(MAX_COLUMNS)} столбцов (предел импорта)")
    return names


def too_many_rows() -> str:
    return f"в файле больше {show(MAX_ROWS)} строк (предел импорта): разделите его на части"


def os_reason(e: OSError) -> str:
    """Why the system could not read a file, in Russian (its own words are English)."""
    return _OS_REASONS.get(e.errno or 0) or f"ошибка чтения ({errno.errorcode.get(e.errno or 0, e.errno)})"


def detect_encoding(path: Path, head: bytes = b"") -> str:
    """UTF-16 when the file starts with its BOM (LE or BE); otherwise utf-8-sig (with or without a
    BOM) when the whole file is valid UTF-8, else cp1251. What is no text at all is refused, saying
    what it looks like (sniff.py)."""
    refusal = not_a_table(head)
    if refusal:
        raise FileFormatError(refusal)
    if bom_encoding(head) == UTF16:
        if _decodes(path, UTF16):
            return UTF16
        raise FileFormatError(f"файл начинается с метки UTF-16, но дальше не текст в UTF-16 (обрезан или "
                              f"испорчен): {SAVE_AS}")
    for encoding in (UTF8, "cp1251"):
        if _decodes(path, encoding):
            return encoding
    raise FileFormatError(f"файл не в UTF-8 и не в Windows-1251 и без метки UTF-16: {SAVE_AS}")


def _decodes(path: Path, encoding: str) -> bool:
    # Incremental, so a 300 MB history file is checked without being held in memory.
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as file:
            while chunk := file.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_delimiter(sample: str, known_columns: Collection[str]) -> str:
    """`;`, `,` or a tab: the one that splits the header into the most known column names."""
    first_line = sample.splitlines()[0] if sample else ""
    known = {normalise(name) for name in known_columns}
    scores = {d: _known_count(first_line, d, known) for d in _DELIMITERS}
    best = max(scores.values())
    winners = [d for d in _DELIMITERS if scores[d] == best]
    if len(winners) == 1:
        return winners[0]
    try:  # no known names either way: let the Sniffer judge the data
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:  # then the one the header holds most of (`;` when it holds none)
        return max(_DELIMITERS, key=first_line.count) if any(d in first_line for d in _DELIMITERS) else ";"


def _known_count(line: str, delimiter: str, known: Collection[str]) -> int:
    names = clean_header(next(csv.reader([line], delimiter=delimiter), []))
    return sum(1 for name in names if normalise(name) in known)
