"""An XLSX file checked before openpyxl opens it: its ZIP, what each part unpacks to, its XML.

openpyxl trusts a workbook: it unpacks the shared strings whole into memory, a cell's text
however long, and reads every row a sheet claims, empty formatted ones too. This reads each
part once as a stream (expat, fed in chunks), in memory bounded by the budgets of limits.py,
refuses a workbook that breaks one with a message naming the part or the cell, and tells the
reader the last row that holds a value, so trailing empty rows are never read at all.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from pyexpat import ExpatError, ParserCreate

from service.imports.errors import FileFormatError, quote
from service.imports.limits import (
    MAX_CELL_CHARS,
    MAX_XLSX_DIRECTORY_BYTES,
    MAX_XLSX_PART_BYTES,
    MAX_XLSX_PARTS,
    MAX_XLSX_ROW_BYTES,
    MAX_XLSX_SHEET_BYTES,
    MAX_XML_TOKEN_BYTES,
    show,
    show_bytes,
)

_CHUNK = 1 << 20
_END_OF_DIRECTORY = struct.Struct("<4s4H2LH")  # the ZIP's last record: counts and sizes
_END_SIGNATURE = b"PK\x05\x06"
_XML_SUFFIXES = (".xml", ".rels")  # .vml and binaries are not read by openpyxl's reader
_STRINGS = frozenset({"si", "is"})  # a shared string, an inline string: text of all their runs
_VALUES = frozenset({"v", "t"})
_REFERENCE = re.compile(r"[A-Z]{1,3}[0-9]{1,7}")
_BROKEN = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, EOFError, OSError, ValueError,
           NotImplementedError, RuntimeError)  # corrupt, zip64 disabled, unknown method, encrypted
TOO_LONG = f"текст длиннее {show(MAX_CELL_CHARS)} знаков (больше, чем вмещает ячейка Excel)"


def scan_workbook(path: Path) -> int:
    """The last row that holds a value in any sheet (0 when none); FileFormatError when over budget."""
    try:
        _check_directory(path)
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            for info in parts:
                _check_declared(info)
            return _scan_parts(archive, parts)
    except _BROKEN as e:
        raise FileFormatError("не книга Excel (.xlsx): ZIP-архив повреждён или зашифрован") from e


def _check_directory(path: Path) -> None:
    # zipfile reads the whole central directory into memory: check its size before it does.
    with path.open("rb") as file:
        size = file.seek(0, 2)
        file.seek(max(0, size - _END_OF_DIRECTORY.size - 0xFFFF))  # the record plus a longest comment
        tail = file.read()
    at = tail.rfind(_END_SIGNATURE)
    if at < 0 or len(tail) - at < _END_OF_DIRECTORY.size:
        raise FileFormatError("не книга Excel (.xlsx): файл не ZIP-архив или обрезан")
    entries, directory = _END_OF_DIRECTORY.unpack_from(tail, at)[4:6]
    if entries > MAX_XLSX_PARTS or directory > MAX_XLSX_DIRECTORY_BYTES:
        raise FileFormatError(f"не похоже на книгу Excel: в ZIP-архиве больше {show(MAX_XLSX_PARTS)} "
                              f"частей (предел импорта)")


def _limit(name: str) -> int:
    return MAX_XLSX_SHEET_BYTES if "worksheets/" in name else MAX_XLSX_PART_BYTES


def _too_big(name: str) -> FileFormatError:
    return FileFormatError(f"часть книги {quote(name)} распаковывается больше чем в "
                           f"{show_bytes(_limit(name))} (предел импорта): книга испорчена или слишком велика, "
                           f"сохраните данные как CSV")


def _check_declared(info: zipfile.ZipInfo) -> None:
    if info.file_size > _limit(info.filename):
        raise _too_big(info.filename)


def _scan_parts(archive: zipfile.ZipFile, parts: list[zipfile.ZipInfo]) -> int:
    # Shared strings first: a string too long there is then looked for in the sheets, to name its cell.
    parts = sorted(parts, key=lambda info: "sharedstrings" not in info.filename.lower())
    long_string: int | None = None
    last_row = 0
    for info in parts:
        xml = info.filename.lower().endswith(_XML_SUFFIXES)
        scanner = _XmlScanner(info.filename, long_string) if xml else None
        try:
            _unpack(archive, info, scanner.feed if scanner else None)
        except _LongSharedString as e:
            long_string = e.index
        if scanner:
            last_row = max(last_row, scanner.last_row)
    if long_string is not None:  # no cell uses it, yet openpyxl would still hold it in memory
        raise FileFormatError(f"в таблице строк книги строка № {show(long_string + 1)}: {TOO_LONG}")
    return last_row


def _unpack(archive: zipfile.ZipFile, info: zipfile.ZipInfo, feed: Callable[[bytes, bool], None] | None) -> None:
    """Every byte the part really unpacks to is counted, whatever its header declares."""
    done, limit = 0, _limit(info.filename)
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            done += len(chunk)
            if done > limit:
                raise _too_big(info.filename)
            if feed:
                feed(chunk, False)
    if feed:
        feed(b"", True)


class _LongSharedString(Exception):
    def __init__(self, index: int) -> None:
        self.index = index


class _XmlScanner:
    """One XML part: text per cell or string, rows holding values, no DTD, no endless token."""

    def __init__(self, name: str, long_string: int | None) -> None:
        self.name, self.long_string = name, long_string
        self.fed = self.row = self.row_start = self.last_row = self.chars = self.strings = 0
        self.cell, self.value, self.shared = "", "", False
        self.in_string = self.in_value = False
        parser = self.parser = ParserCreate()  # no namespace processing: prefixes are cut by hand
        parser.buffer_text = False  # text comes as it is read, never gathered whole
        parser.StartElementHandler, parser.EndElementHandler = self._start, self._end
        parser.CharacterDataHandler, parser.StartDoctypeDeclHandler = self._text, self._doctype

    def feed(self, chunk: bytes, final: bool) -> None:
        self.fed += len(chunk)
        try:
            self.parser.Parse(chunk, final)
        except ExpatError as e:
            raise FileFormatError(f"часть книги {quote(self.name)} — испорченный XML "
                                  f"(строка {e.lineno}, знак {e.offset})") from e
        # Outside a handler, CurrentByteIndex is just past the last thing parsed: the rest is a
        # tag, an attribute or a comment still open, which expat keeps whole in memory.
        if self.fed - self.parser.CurrentByteIndex > MAX_XML_TOKEN_BYTES:
            raise FileFormatError(f"часть книги {quote(self.name)}: XML-элемент длиннее "
                                  f"{show_bytes(MAX_XML_TOKEN_BYTES)} — книга испорчена")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "row":
            self.row, self.row_start = _number(attrs.get("r"), self.row + 1), self.parser.CurrentByteIndex
        elif local == "c":
            self.cell, self.shared = attrs.get("r", ""), attrs.get("t") == "s"
        elif local in _VALUES:
            self.in_value = True
        if not self.in_string:  # the runs of a rich-text string add up to one cell's text
            self.chars, self.value = 0, ""
            if local in _STRINGS:
                self.in_string = True
                self.strings += local == "si"

    def _end(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if local in _STRINGS:
            self.in_string = False
        elif local == "row" and self.parser.CurrentByteIndex - self.row_start > MAX_XLSX_ROW_BYTES:
            raise FileFormatError(f"строка {show(self.row)} листа занимает больше {show_bytes(MAX_XLSX_ROW_BYTES)} "
                                  f"(предел импорта для одной строки)")
        elif local in _VALUES:
            self.in_value = False
            if local == "v" and self.shared and self.long_string is not None \
                    and _number(self.value.strip(), -1) == self.long_string:
                raise FileFormatError(f"ячейка {_cell(self.cell)}: {TOO_LONG}")

    def _text(self, data: str) -> None:
        self.chars += len(data)
        if self.chars > MAX_CELL_CHARS:
            self._too_long()
        if self.in_value and self.row and not data.isspace():
            self.last_row = self.row
        if self.in_value and self.long_string is not None:
            self.value += data  # a cell's <v>, at most MAX_CELL_CHARS

    def _too_long(self) -> None:
        if self.in_string and self.strings and not self.row:  # a shared string: find the cell using it
            raise _LongSharedString(self.strings - 1)
        if self.cell:
            raise FileFormatError(f"ячейка {_cell(self.cell)}: {TOO_LONG}")
        raise FileFormatError(f"часть книги {quote(self.name)}: {TOO_LONG}")

    def _doctype(self, *_: object) -> None:
        # No part of a workbook has a DTD; one is the way to entity-expansion bombs.
        raise FileFormatError(f"часть книги {quote(self.name)} объявляет DTD — так книги Excel не пишут")


def _cell(reference: str) -> str:
    """B2 as a spreadsheet shows it; anything else the file calls a cell is quoted (and cut)."""
    return reference if _REFERENCE.fullmatch(reference) else quote(reference)


def _number(text: str | None, default: int) -> int:
    return int(text) if text and text.isascii() and text.isdigit() else default
