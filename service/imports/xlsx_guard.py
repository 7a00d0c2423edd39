"""An XLSX file checked before openpyxl opens it: its ZIP, what each part unpacks to, its XML.

openpyxl trusts a workbook: it unpacks the shared strings whole into memory, a cell's text
however long, and reads every row a sheet claims, empty formatted ones too. This reads each
part once as a stream (expat, fed in chunks), in memory bounded by the budgets of limits.py,
refuses a workbook that breaks one with a message naming the part or the cell, and tells the
reader the last row that holds a value in each sheet, so trailing empty rows are never read.

What a part is (shared strings, a worksheet, anything else) is never guessed from its name:
openpyxl finds the shared strings through [Content_Types].xml and the sheets through the
workbook and its relationships, whatever the parts are called, so the guard asks openpyxl's
own code the same question, once it has scanned the few small parts that answer it.
"""

from __future__ import annotations

import posixpath
import re
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from pyexpat import ExpatError, ParserCreate
from typing import TypeVar, cast

from service.imports.errors import FileFormatError, quote
from service.imports.limits import MAX_CELL_CHARS, XLSX_LIMITS, XlsxLimits, show, show_bytes

T = TypeVar("T")
OnStart = Callable[[str, dict[str, str]], None]

_CHUNK = 64 << 10  # what is unpacked and fed to expat at a time
_END_OF_DIRECTORY = struct.Struct("<4s4H2LH")  # the ZIP's last record: counts and sizes
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"  # right before the last record when the ZIP is zip64
_ZIP64_LOCATOR_SIZE = 20
_CONTENT_TYPES = "[Content_Types].xml"
# Parts openpyxl reads whole by their fixed names, whatever the relationships say.
_READ_BY_NAME = frozenset({"xl/styles.xml", "xl/theme/theme1.xml", "docProps/core.xml", "docProps/custom.xml"})
_XML_SUFFIXES = (".xml", ".rels")  # any other part is XML only when openpyxl reads it as such
_STRINGS = frozenset({"si", "is"})  # a shared string, an inline string: text of all their runs
_VALUES = frozenset({"v", "t"})
_REFERENCE = re.compile(r"[A-Z]{1,3}[0-9]{1,7}")
_BROKEN = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, EOFError, OSError, ValueError,
           NotImplementedError, RuntimeError)  # corrupt, zip64 disabled, unknown method, encrypted
TOO_LONG = f"текст длиннее {show(MAX_CELL_CHARS)} знаков (больше, чем вмещает ячейка Excel)"


def scan_workbook(path: Path, limits: XlsxLimits = XLSX_LIMITS) -> dict[str, int]:
    """Per worksheet part (as openpyxl names it), the last row holding a value (0 when none);
    FileFormatError when the workbook breaks a budget or cannot be read."""
    try:
        _check_directory(path, limits)
        with zipfile.ZipFile(path) as archive:
            return _Scan(archive, limits).run()
    except _BROKEN as e:
        raise FileFormatError("не книга Excel (.xlsx): ZIP-архив повреждён или зашифрован") from e


def unreadable(e: Exception) -> FileFormatError:
    """What openpyxl raised, when it raised because the workbook cannot be read."""
    # openpyxl's own words are English and technical: kept, but only as a detail for whoever supports the desk.
    return FileFormatError(f"книга Excel не читается: она повреждена или записана не так, как пишет Excel — "
                           f"откройте её в Excel и сохраните снова (подробности для поддержки: "
                           f"{quote(f'{type(e).__name__}: {e}')})")


def _check_directory(path: Path, limits: XlsxLimits) -> None:
    # zipfile reads the whole central directory into memory: check its size before it does.
    with path.open("rb") as file:
        size = file.seek(0, 2)
        # the record plus a longest comment, and the zip64 locator that may precede it
        file.seek(max(0, size - _END_OF_DIRECTORY.size - 0xFFFF - _ZIP64_LOCATOR_SIZE))
        tail = file.read()
    at = tail.rfind(_END_SIGNATURE)
    if at < 0 or len(tail) - at < _END_OF_DIRECTORY.size:
        raise FileFormatError("не книга Excel (.xlsx): файл не ZIP-архив или обрезан")
    # With a zip64 locator before it, zipfile takes the counts and sizes from the zip64 record
    # instead of this one. Excel writes zip64 only past 4 GB or 65,535 parts, far over the limits.
    if at >= _ZIP64_LOCATOR_SIZE and tail[at - _ZIP64_LOCATOR_SIZE:].startswith(_ZIP64_LOCATOR):
        raise FileFormatError("не похоже на книгу Excel: ZIP-архив в формате ZIP64 (Excel пишет его только "
                              "для книг больше 4 ГБ) — пересохраните книгу в Excel или сохраните данные как CSV")
    entries, directory = _END_OF_DIRECTORY.unpack_from(tail, at)[4:6]
    if entries > limits.parts or directory > limits.directory_bytes:
        raise _too_many_parts(limits)


def _too_many_parts(limits: XlsxLimits) -> FileFormatError:
    return FileFormatError(f"не похоже на книгу Excel: в ZIP-архиве больше {show(limits.parts)} частей "
                           f"(предел импорта)")


@dataclass(frozen=True)
class _Roles:
    """What openpyxl reads each part as. Only `sheets` it streams; every other part it reads whole."""

    xml: frozenset[str]  # parts openpyxl parses as XML, whatever their names end in
    strings: frozenset[str]  # shared strings: scanned first, so a string too long is found in its cell
    sheets: frozenset[str]  # worksheets, their last rows returned
    streamed: frozenset[str]  # worksheets that nothing else reads whole: the larger budget


class _Scan:
    def __init__(self, archive: zipfile.ZipFile, limits: XlsxLimits) -> None:
        self.archive, self.limits = archive, limits
        self.parts = archive.infolist()
        if len(self.parts) > limits.parts:  # the last record's count can lie; the directory cannot
            raise _too_many_parts(limits)
        self.names = frozenset(info.filename for info in self.parts)
        self.scanned: set[int] = set()
        self.last_rows: dict[str, int] = {}
        self.long_string: int | None = None
        self.streamed: frozenset[str] = frozenset()

    def run(self) -> dict[str, int]:
        roles = self._roles()
        self.streamed = roles.streamed
        rest = [info for info in self.parts if id(info) not in self.scanned]
        for info in rest:  # a part that declares too much is refused before anything more is unpacked
            self._check_declared(info)
        # Shared strings first: a string too long there is then looked for in the sheets, to name its cell.
        for info in sorted(rest, key=lambda info: info.filename not in roles.strings):
            self._part(info, xml=info.filename.lower().endswith(_XML_SUFFIXES) or info.filename in roles.xml)
        if self.long_string is not None:  # no cell uses it, yet openpyxl would still hold it in memory
            raise FileFormatError(f"в таблице строк книги строка № {show(self.long_string + 1)}: {TOO_LONG}")
        return {name: row for name, row in self.last_rows.items() if name in roles.sheets}

    def _roles(self) -> _Roles:
        """The parts that say what the others are, scanned first, then read by openpyxl's own code."""
        from openpyxl.packaging.manifest import Manifest
        from openpyxl.packaging.relationship import get_rels_path
        from openpyxl.reader.excel import _find_workbook_part  # type: ignore[attr-defined]  # private: not in the stubs
        from openpyxl.reader.workbook import WorkbookParser
        from openpyxl.xml.constants import SHARED_STRINGS
        from openpyxl.xml.functions import fromstring

        self._part(self._info(_CONTENT_TYPES), xml=True)
        tree = _openpyxl(lambda: fromstring(self.archive.read(_CONTENT_TYPES)))
        # types-openpyxl: from_tree takes a protocol that ElementTree's Element (what openpyxl itself passes)
        # does not meet, and may return None, which Serialisable.from_tree never does.
        manifest = cast(Manifest, _openpyxl(lambda: Manifest.from_tree(tree)))  # type: ignore[arg-type]
        workbook = _openpyxl(lambda: _find_workbook_part(manifest).PartName[1:])
        workbook_rels = get_rels_path(workbook)
        linked: set[str] = set()  # parts a relationship points to, but for the workbook's own ones
        for info in self.parts:
            if info.filename.lower().endswith(".rels"):
                links = None if info.filename == workbook_rels else _links(info.filename, self.names, linked)
                self._part(info, xml=True, on_start=links)
        self._part(self._info(workbook), xml=True)
        parser = WorkbookParser(self.archive, workbook, keep_links=False)
        _openpyxl(parser.parse)
        found = _openpyxl(lambda: {(rel.target, "chartsheet" in rel.Type) for _, rel in parser.find_sheets()
                                   if rel.target in self.names})
        sheets = frozenset(name for name, chart in found if not chart)
        charts = frozenset(name for name, chart in found if chart)
        strings = _openpyxl(lambda: frozenset(part.PartName[1:] for part in manifest.Override
                                              if part.ContentType == SHARED_STRINGS))
        whole = strings | charts | linked | _READ_BY_NAME | {_CONTENT_TYPES, workbook, workbook_rels}
        return _Roles(xml=strings | sheets | charts, strings=strings, sheets=sheets,
                      streamed=frozenset(name for name in sheets - whole if not name.lower().endswith(".rels")))

    def _info(self, name: str) -> zipfile.ZipInfo:
        if name not in self.names:
            raise FileFormatError(f"не книга Excel (.xlsx): в ZIP-архиве нет части {quote(name)}")
        return self.archive.getinfo(name)

    def _limit(self, name: str) -> int:
        return self.limits.sheet_bytes if name in self.streamed else self.limits.part_bytes

    def _too_big(self, name: str) -> FileFormatError:
        return FileFormatError(f"часть книги {quote(name)} распаковывается больше чем в "
                               f"{show_bytes(self._limit(name))} (предел импорта): книга испорчена или слишком "
                               f"велика, сохраните данные как CSV")

    def _check_declared(self, info: zipfile.ZipInfo) -> None:
        if info.file_size > self._limit(info.filename):
            raise self._too_big(info.filename)

    def _part(self, info: zipfile.ZipInfo, xml: bool, on_start: OnStart | None = None) -> None:
        """Every byte the part really unpacks to is counted, whatever its header declares."""
        if id(info) in self.scanned:
            return
        self.scanned.add(id(info))
        self._check_declared(info)
        scanner = _XmlScanner(info.filename, self.long_string, self.limits, on_start) if xml else None
        done, limit = 0, self._limit(info.filename)
        try:
            with self.archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    done += len(chunk)
                    if done > limit:
                        raise self._too_big(info.filename)
                    if scanner:
                        scanner.feed(chunk, False)
            if scanner:
                scanner.feed(b"", True)
        except _LongSharedString as e:
            self.long_string = e.index
        if scanner:
            self.last_rows[info.filename] = max(scanner.last_row, self.last_rows.get(info.filename, 0))


def _openpyxl(step: Callable[[], T]) -> T:
    """One step of openpyxl's own reading; whatever it raises means the workbook cannot be read."""
    try:
        with warnings.catch_warnings():  # "no default style", "invalid specification": not the user's concern
            warnings.simplefilter("ignore", UserWarning)
            return step()
    except FileFormatError:
        raise
    except Exception as e:  # KeyError, TypeError, XML and value errors from a workbook openpyxl cannot read
        raise unreadable(e) from e


def _links(rels: str, names: Collection[str], linked: set[str]) -> OnStart:
    """Notes the parts a relationships part points to, resolved as openpyxl's get_dependents does."""
    parent = posixpath.split(posixpath.dirname(rels))[0]

    def note(local: str, attrs: dict[str, str]) -> None:
        if local != "Relationship" or attrs.get("TargetMode") == "External":
            return
        target = attrs.get("Target", "")
        target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(parent, target))
        if target in names:  # at most one entry per part, however many relationships there are
            linked.add(target)

    return note


class _LongSharedString(Exception):
    def __init__(self, index: int) -> None:
        self.index = index


class _XmlScanner:
    """One XML part: text per cell or string, rows holding values, no DTD, no endless token."""

    def __init__(self, name: str, long_string: int | None, limits: XlsxLimits, on_start: OnStart | None) -> None:
        self.name, self.long_string, self.limits, self.on_start = name, long_string, limits, on_start
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
        if self.fed - self.parser.CurrentByteIndex > self.limits.token_bytes:
            raise FileFormatError(f"часть книги {quote(self.name)}: XML-элемент длиннее "
                                  f"{show_bytes(self.limits.token_bytes)} — книга испорчена")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if self.on_start:
            self.on_start(local, attrs)
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
        elif local == "row" and self.parser.CurrentByteIndex - self.row_start > self.limits.row_bytes:
            raise FileFormatError(f"строка {show(self.row)} листа занимает больше {show_bytes(self.limits.row_bytes)} "
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
