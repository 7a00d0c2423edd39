"""Hostile import files (the probe's F8): a clear Russian message, nothing imported, bounded time and memory.

The files are built here, by hand where a spreadsheet program would never write them: a sheet
claiming a million formatted empty rows, shared strings or sheets hidden in parts not named .xml,
ZIP sizes and counts that lie, zip64, CSV fields over the csv module's limit, NUL bytes, UTF-16 without a BOM,
a text file named .xlsx. The guard's XLSX budgets are lowered to kilobytes (SMALL) to exercise
its logic on files of kilobytes; the full-size cases run the real `dsdesk import` in a
subprocess, whose peak memory (VmHWM) is read from /proc just before it exits (tracemalloc
cannot see expat's or zlib's C buffers).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from unittest import mock

import pytest
from sqlalchemy import func, select

from service.db import models as m
from service.db.engine import SessionMaker
from service.db.migrate import migrate
from service.imports import readers, runner
from service.imports.errors import FileFormatError, RowsRejected
from service.imports.limits import XlsxLimits
from service.imports.readers import open_table
from service.imports.runner import import_file
from service.imports.schemas import CLIENTS
from service.imports.xlsx_guard import scan_workbook

REPO = Path(__file__).resolve().parents[2]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
KB, MB = 1 << 10, 1 << 20
PEAK_MB = 200  # the CLI's own baseline (SQLAlchemy, openpyxl) is about 60 MB; before the fix: 0.25–3 GB
HEADER = ("external_id", "name", "segment")
# The XLSX budgets in kilobytes: the same checks as the real ones (limits.py), on files a thousand times smaller.
SMALL = XlsxLimits(parts=50, directory_bytes=16 * KB, sheet_bytes=256 * KB, part_bytes=64 * KB,
                   row_bytes=8 * KB, token_bytes=KB)

# --- hostile files -------------------------------------------------------------------------------


def _parts(sheet: str, strings: str, sheet_type: str, other: bool) -> dict[str, str]:
    """Every part but the sheets' and the shared strings', which name `sheet` and `strings` as their parts."""
    sheets = [("clients", sheet, sheet_type)] + [("other", "xl/worksheets/sheet2.xml", "worksheet")] * other
    overrides = "".join(f'<Override PartName="/{part}" ContentType="{CONTENT}.worksheet+xml"/>'
                        for _, part, _ in sheets)
    return {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="png" ContentType="image/png"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CONTENT}.sheet.main+xml"/>{overrides}'
            f'<Override PartName="/{strings}" ContentType="{CONTENT}.sharedStrings+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{CONTENT}.styles+xml"/></Types>'),
        "_rels/.rels": (
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Target="xl/workbook.xml" '
            f'Type="{DOC_RELS}/officeDocument"/></Relationships>'),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets>'
            + "".join(f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>' for n, (name, _, _) in enumerate(sheets, 1))
            + "</sheets></workbook>"),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{RELS}">'
            + "".join(f'<Relationship Id="rId{n}" Type="{DOC_RELS}/{kind}" Target="/{part}"/>'
                      for n, (_, part, kind) in enumerate(sheets, 1))
            + f'<Relationship Id="rId8" Type="{DOC_RELS}/sharedStrings" Target="/{strings}"/>'
            f'<Relationship Id="rId9" Type="{DOC_RELS}/styles" Target="styles.xml"/></Relationships>'),
        "xl/styles.xml": (
            f'<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
            '<cellXfs count="2"><xf/><xf fillId="0" applyFill="1"/></cellXfs></styleSheet>'),
    }


def write_xlsx(path: Path, sheet: Iterable[bytes], strings: Iterable[bytes], *,
               sheet_part: str = "xl/worksheets/sheet1.xml", strings_part: str = "xl/sharedStrings.xml",
               sheet_type: str = "worksheet", other: Iterable[bytes] | None = None,
               more: dict[str, str] | None = None) -> Path:
    """A workbook with the sheet «clients» (and «other», if given); the sheets' and the shared strings'
    XML streamed in. Their parts are found the way openpyxl finds them, whatever their names:
    the shared strings through [Content_Types].xml, a sheet through the workbook and its
    relationship (of type `sheet_type`)."""
    streamed = {strings_part: strings, sheet_part: sheet, **({"xl/worksheets/sheet2.xml": other} if other else {})}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in {**_parts(sheet_part, strings_part, sheet_type, other is not None), **(more or {})}.items():
            archive.writestr(name, text)
        for name, chunks in streamed.items():
            with archive.open(name, "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk)
    return path


def shared_strings(*texts: str, long_text_bytes: int = 0) -> Iterator[bytes]:
    """The texts as shared strings 0, 1, …; then, if asked, one more string of that many bytes."""
    yield f'<sst xmlns="{MAIN}">'.encode() + "".join(f"<si><t>{t}</t></si>" for t in texts).encode()
    if long_text_bytes:
        yield b"<si><t>"
        for done in range(0, long_text_bytes, MB):
            yield b"A" * min(MB, long_text_bytes - done)
        yield b"</t></si>"
    yield b"</sst>"


def sheet_rows(rows: list[list[int]], dimension: str = "A1:C2", tail: Iterable[bytes] = ()) -> Iterator[bytes]:
    """Rows of shared-string cells (by index), then `tail` (more <row>s, raw)."""
    yield f'<worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/><sheetData>'.encode()
    for number, row in enumerate(rows, start=1):
        cells = "".join(f'<c r="{"ABC"[i]}{number}" t="s"><v>{index}</v></c>' for i, index in enumerate(row))
        yield f'<row r="{number}">{cells}</row>'.encode()
    yield from tail
    yield b"</sheetData></worksheet>"


def formatted_empty_rows(first: int, last: int = 1_048_576) -> Iterator[bytes]:
    """What Excel keeps after whole rows were formatted: every one of them, styled and empty."""
    batch: list[str] = []
    for number in range(first, last + 1):
        batch.append(f'<row r="{number}" s="1" customFormat="1"/>')
        if len(batch) == 50_000:
            yield "".join(batch).encode()
            batch = []
    yield "".join(batch).encode()


def client_strings(long_text_bytes: int = 0) -> Iterator[bytes]:
    return shared_strings(*HEADER, "C-1", "ООО «Альфа»", "ДС", long_text_bytes=long_text_bytes)


def one_client(tmp_path: Path, dimension: str, tail: Iterable[bytes], **parts: object) -> Path:
    """The header, one good client in row 2, then `tail`."""
    rows = sheet_rows([[0, 1, 2], [3, 4, 5]], dimension, tail)
    return write_xlsx(tmp_path / "clients.xlsx", rows, client_strings(), **parts)  # type: ignore[arg-type]  # write_xlsx keywords


# --- the real command, in a subprocess, with its peak memory --------------------------------------

_MEASURED = """
import atexit, runpy, sys
def peak(path):
    with open('/proc/self/status') as status:
        kb = next(line.split()[1] for line in status if line.startswith('VmHWM:'))
    with open(path, 'w') as out:
        out.write(kb)
atexit.register(peak, sys.argv[1])
sys.argv = ['dsdesk', *sys.argv[2:]]
runpy.run_module('service', run_name='__main__')
"""


@pytest.fixture
async def cli_db(tmp_path: Path) -> Path:
    path = tmp_path / "dsdesk.db"
    await migrate(f"sqlite+aiosqlite:///{path}")
    return path


def import_cli(db: Path, kind: str, file: Path, timeout: float = 90) -> tuple[subprocess.CompletedProcess[str], float]:
    """`dsdesk -q import KIND FILE`: its result and its peak memory in MB."""
    peak = file.with_suffix(".peak")
    env = {**os.environ, "DSDESK_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    env.pop("DSDESK_CONFIG", None)
    result = subprocess.run([sys.executable, "-c", _MEASURED, str(peak), "-q", "import", kind, str(file)],
                            env=env, cwd=REPO, capture_output=True, text=True, encoding="utf-8", timeout=timeout)
    assert peak.exists(), result.stderr[-3000:]
    return result, int(peak.read_text()) / 1024


def clients_in(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        count: int = connection.execute("SELECT count(*) FROM clients").fetchone()[0]
    return count


def assert_clear_refusal(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert all(len(line) < 400 for line in result.stderr.splitlines()), result.stderr[:2000]
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr[-2000:]


# --- XLSX: full size, the real command -------------------------------------------------------------

@pytest.mark.timeout(120)
async def test_a_million_formatted_empty_rows_are_not_read(cli_db: Path, tmp_path: Path) -> None:
    # F8: 1.9 MB, a dimension claiming A1:XFD1048576; before: > 300 s and 3 GB.
    path = one_client(tmp_path, dimension="A1:XFD1048576", tail=formatted_empty_rows(3))
    assert path.stat().st_size < 4 * MB
    started = time.monotonic()
    result, peak = import_cli(cli_db, "clients", path)
    assert (result.returncode, result.stdout) == (
        0, "clients: импортировано строк: 1 (новых 1, изменённых 0, без изменений 0)\n"), \
        result.stderr[-2000:]
    assert time.monotonic() - started < 60 and peak < PEAK_MB
    assert clients_in(cli_db) == 1


@pytest.mark.timeout(120)
async def test_shared_strings_not_named_xml_are_scanned_in_bounded_memory(cli_db: Path, tmp_path: Path) -> None:
    # F8 review: openpyxl finds the shared strings through [Content_Types].xml whatever the part is
    # called; in xl/worksheets/strings.bin they were neither scanned nor held to a part's budget,
    # and openpyxl held a 60M-character cell (xl/strings.bin: 253 MB; 262M characters: 827 MB).
    path = write_xlsx(tmp_path / "clients.xlsx", sheet_rows([[0, 1, 2], [3, 6, 5]]),
                      client_strings(long_text_bytes=60 * MB), strings_part="xl/worksheets/strings.bin")
    assert path.stat().st_size < MB
    result, peak = import_cli(cli_db, "clients", path)
    assert peak < PEAK_MB
    assert_clear_refusal(result, "ячейка B2: текст длиннее 32 767 знаков (больше, чем вмещает ячейка Excel)")
    assert clients_in(cli_db) == 0


# --- XLSX: the guard's logic, its budgets in kilobytes ---------------------------------------------

async def test_a_shared_string_too_long_for_a_cell_is_found_in_its_cell(db_sessions: SessionMaker,
                                                                      tmp_path: Path) -> None:
    # Under the part's limit, but longer than any Excel cell: refused before openpyxl holds it.
    path = write_xlsx(tmp_path / "clients.xlsx", sheet_rows([[0, 1, 2], [3, 6, 5]]),
                      client_strings(long_text_bytes=40 * KB))
    with pytest.raises(FileFormatError) as raised:
        await import_file("clients", path, db_sessions)
    assert str(raised.value) == "ячейка B2: текст длиннее 32 767 знаков (больше, чем вмещает ячейка Excel)"
    assert await count_clients(db_sessions) == 0


def _inline_string(row: int = 3) -> Iterator[bytes]:
    yield f'<row r="{row}"><c r="B{row}" t="inlineStr"><is>'.encode()
    for _ in range(2):  # rich-text runs, each short enough, add up in one cell
        yield b"<r><t>" + b"B" * 20_000 + b"</t></r>"
    yield b"</is></c></row>"


def _long_attribute() -> Iterator[bytes]:
    # Over the guard's 64 KB reading chunk, so expat holds it unfinished between two chunks.
    yield b'<row r="3"><c r="A3" x="' + b"B" * (200 * KB) + b'"/></row>'


def _lying_sizes(path: Path) -> None:
    """Declared unpacked size of the shared strings: 1,000 bytes; real: 300 KB."""
    data = bytearray(path.read_bytes())
    at = data.rfind(b"xl/sharedStrings.xml") - 46  # its entry in the central directory, at the end
    assert data[at:at + 4] == b"PK\x01\x02"
    data[at + 24:at + 28] = (1000).to_bytes(4, "little")
    path.write_bytes(bytes(data))


def _many_parts(path: Path, count: int, zip64: bool = False, claimed: int | None = None) -> Path:
    """`count` tiny XML parts; the zip64 end records if asked; the last record's counts patched to `claimed`."""
    with mock.patch.object(zipfile, "ZIP_FILECOUNT_LIMIT", 1 if zip64 else zipfile.ZIP_FILECOUNT_LIMIT), \
            zipfile.ZipFile(path, "w") as archive:
        for number in range(count):
            archive.writestr(f"part{number}.xml", "<a/>")
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x05\x06")
    assert (data[at - 20:at - 16] == b"PK\x06\x07") == zip64
    if claimed is not None:
        data[at + 8:at + 12] = claimed.to_bytes(2, "little") * 2
    path.write_bytes(bytes(data))
    return path


# case → what the message says; each is built by _hostile_workbook, checked with the SMALL budgets
WORKBOOKS = {
    "inline string of 40 KB": "ячейка B3: текст длиннее 32 767 знаков",
    "attribute of 200 KB": "«xl/worksheets/sheet1.xml»: XML-элемент длиннее 1 024 байт",
    "DTD": "«xl/sharedStrings.xml» объявляет DTD",
    "sizes that lie": "не книга Excel (.xlsx): ZIP-архив повреждён",
    "60 parts": "в ZIP-архиве больше 50 частей",
    "60 parts, the last record says 5": "в ZIP-архиве больше 50 частей",
    "zip64, the last record says 5": "ZIP-архив в формате ZIP64 (Excel пишет его только для книг больше 4 ГБ)",
    "not a zip": "не книга Excel (.xlsx): файл не ZIP-архив или обрезан",
    "no [Content_Types].xml": "не книга Excel (.xlsx): в ZIP-архиве нет части «[Content_Types].xml»",
    "sheet of 300 KB": "«xl/worksheets/sheet1.xml» распаковывается больше чем в 262 144 байт",
    "row of 10 KB": "строка 3 листа занимает больше 8 192 байт",
    "shared strings of 100 KB": "«xl/sharedStrings.xml» распаковывается больше чем в 65 536 байт",
    # What a part is comes from [Content_Types].xml and the relationships, as openpyxl finds it, never its name:
    "shared strings in xl/strings.bin": "ячейка B2: текст длиннее 32 767 знаков",
    "shared strings of 100 KB in xl/worksheets/":
        "«xl/worksheets/sharedStrings.xml» распаковывается больше чем в 65 536 байт",
    "sheet in xl/worksheets/sheet1.bin": "ячейка B3: текст длиннее 32 767 знаков",
    "sheet in a part called an image": "ячейка B3: текст длиннее 32 767 знаков",
    "sheet of 100 KB a drawing also links to": "«xl/worksheets/sheet1.xml» распаковывается больше чем в 65 536 байт",
}


@pytest.mark.parametrize("case", WORKBOOKS)
def test_hostile_workbooks_are_refused(tmp_path: Path, case: str) -> None:
    # The guard refuses these before openpyxl opens them: nothing can reach the database.
    path = _hostile_workbook(tmp_path / "clients.xlsx", case)
    assert path.stat().st_size < MB
    with pytest.raises(FileFormatError) as raised:
        scan_workbook(path, SMALL)
    assert WORKBOOKS[case] in str(raised.value) and len(str(raised.value)) < 300


def _hostile_workbook(path: Path, case: str) -> Path:
    two_rows = [[0, 1, 2], [3, 4, 5]]
    if case == "inline string of 40 KB":
        return write_xlsx(path, sheet_rows(two_rows, tail=_inline_string()), client_strings())
    if case == "attribute of 200 KB":
        return write_xlsx(path, sheet_rows(two_rows, tail=_long_attribute()), client_strings())
    if case == "DTD":
        dtd = (f'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
               f'<sst xmlns="{MAIN}"><si><t>&b;</t></si></sst>').encode()
        return write_xlsx(path, sheet_rows([[0, 0, 0]]), [dtd])
    if case == "sizes that lie":
        write_xlsx(path, sheet_rows(two_rows), client_strings(long_text_bytes=300 * KB))
        _lying_sizes(path)
        return path
    if case == "60 parts":
        return _many_parts(path, 60)
    if case == "60 parts, the last record says 5":  # zipfile reads the directory by its size, not its count
        return _many_parts(path, 60, claimed=5)
    if case == "zip64, the last record says 5":  # zipfile then trusts the zip64 record's count
        return _many_parts(path, 60, zip64=True, claimed=5)
    if case == "not a zip":
        path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
        return path
    if case == "no [Content_Types].xml":
        full_path = write_xlsx(path.with_suffix(".full.xlsx"), sheet_rows(two_rows), client_strings())
        with zipfile.ZipFile(full_path) as full, zipfile.ZipFile(path, "w") as archive:
            for info in full.infolist():
                if info.filename != "[Content_Types].xml":
                    archive.writestr(info.filename, full.read(info))
        return path
    if case == "row of 10 KB":  # cells under a cell's limit: openpyxl would hold them all at once
        cell = '<c t="inlineStr"><is><t>' + "x" * 1000 + "</t></is></c>"
        return write_xlsx(path, sheet_rows(two_rows, tail=[f'<row r="3">{cell * 10}</row>'.encode()]),
                          client_strings())
    if case == "shared strings of 100 KB":  # the shared-string bomb, honest about its size: refused unread
        return write_xlsx(path, sheet_rows(two_rows), client_strings(long_text_bytes=100 * KB))
    if case == "shared strings in xl/strings.bin":
        return write_xlsx(path, sheet_rows([[0, 1, 2], [3, 6, 5]]), client_strings(long_text_bytes=40 * KB),
                          strings_part="xl/strings.bin")
    if case == "shared strings of 100 KB in xl/worksheets/":  # a sheet's budget, were it judged by its name
        return write_xlsx(path, sheet_rows(two_rows), client_strings(long_text_bytes=100 * KB),
                          strings_part="xl/worksheets/sharedStrings.xml")
    if case == "sheet in xl/worksheets/sheet1.bin":
        return write_xlsx(path, sheet_rows(two_rows, tail=_inline_string()), client_strings(),
                          sheet_part="xl/worksheets/sheet1.bin")
    if case == "sheet in a part called an image":  # openpyxl reads what a <sheet> points to, whatever its type
        return write_xlsx(path, sheet_rows(two_rows, tail=_inline_string()), client_strings(),
                          sheet_part="xl/media/image1.png", sheet_type="image")
    if case == "sheet of 100 KB a drawing also links to":  # read whole as that too: a whole part's budget
        rels = (f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/chart" '
                'Target="../worksheets/sheet1.xml"/></Relationships>')
        return one_client(path.parent, "A1:C2", formatted_empty_rows(3, 3_000),
                          more={"xl/drawings/_rels/drawing1.xml.rels": rels})
    assert case == "sheet of 300 KB"
    return one_client(path.parent, "A1:C2", formatted_empty_rows(3, 9_000))


def test_roles_not_names_choose_the_budget(tmp_path: Path) -> None:
    # A sheet of 100 KB outside xl/worksheets/ is still a sheet: read as a stream, with a sheet's budget.
    path = one_client(tmp_path, "A1:C2", formatted_empty_rows(3, 3_000), sheet_part="xl/sheet1.xml")
    assert scan_workbook(path, SMALL) == {"xl/sheet1.xml": 2}
    assert [row for _, row in open_table(path, CLIENTS.names, "clients").rows()] == [
        {"external_id": "C-1", "name": "ООО «Альфа»", "segment": "ДС"}]


def test_each_sheet_is_read_to_its_own_last_row(tmp_path: Path) -> None:
    # F8 review: a value in row 1,000,000 of another sheet made openpyxl walk this one's empty rows.
    far = sheet_rows([], tail=[b'<row r="1000000"><c r="A1000000" t="s"><v>0</v></c></row>'])
    path = one_client(tmp_path, "A1:XFD1048576", formatted_empty_rows(3, 100_000), other=far)
    assert scan_workbook(path) == {"xl/worksheets/sheet1.xml": 2, "xl/worksheets/sheet2.xml": 1_000_000}
    table = open_table(path, CLIENTS.names, "clients")
    assert isinstance(table, readers.XlsxTable) and table.last_row == 2
    assert [number for number, _ in table.rows()] == [2]
    other = open_table(path, CLIENTS.names, "other")
    assert isinstance(other, readers.XlsxTable) and other.last_row == 1_000_000


def test_a_text_file_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "clients.xlsx"
    path.write_text("external_id;name;segment\nC-1;Альфа;ДС\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="файл назван .xlsx, но это не книга Excel"):
        open_table(path, CLIENTS.names, "clients")


# --- CSV -------------------------------------------------------------------------------------------

@pytest.mark.timeout(60)
async def test_a_csv_field_over_the_csv_limit_is_a_clear_message(cli_db: Path, tmp_path: Path) -> None:
    # F8: before, a raw `_csv.Error: field larger than field limit (131072)` traceback.
    path = tmp_path / "clients.csv"
    path.write_text(f'external_id;name;segment\nC-1;Альфа;ДС\nC-2;"{"Б" * 200_000}";ДС\n', encoding="utf-8")
    result, peak = import_cli(cli_db, "clients", path)
    assert_clear_refusal(result, "строка 3, столбец «name»: ячейка длиннее 131 072 знаков", "не закрыта кавычка?")
    assert peak < PEAK_MB and clients_in(cli_db) == 0


@pytest.mark.parametrize(("cell", "reason"), [
    ("ООО \x00Альфа", "значение «ООО \\x00Альфа»: недопустимый управляющий символ U+0000 (знак 5)"),
    ("\x1b[31mАльфа", "значение «\\x1b[31mАльфа»: недопустимый управляющий символ U+001B (знак 1)"),
    ("Альфа\x7f", "значение «Альфа\\x7f»: недопустимый управляющий символ U+007F (знак 6)"),
    ("Альфа\x85", "значение «Альфа\\x85»: недопустимый управляющий символ U+0085 (знак 6)"),
])
async def test_control_characters_are_a_row_error(db_sessions: SessionMaker, tmp_path: Path,
                                                  cell: str, reason: str) -> None:
    # F8: a NUL byte landed in clients.name (and PostgreSQL cannot store one at all).
    path = tmp_path / "clients.csv"
    path.write_text(f"external_id;name;segment\nC-1;Беta;ДС\nC-2;{cell};ДС\n", encoding="utf-8")
    with pytest.raises(RowsRejected) as raised:
        await import_file("clients", path, db_sessions)
    assert [str(e) for e in raised.value.errors] == [f"строка 3, столбец «name», {reason}: уберите его из файла"]
    assert await count_clients(db_sessions) == 0


async def test_tabs_and_line_ends_in_free_text_are_kept(db_sessions: SessionMaker, tmp_path: Path) -> None:
    await import_file("clients", _write(tmp_path / "c.csv", "external_id;name;segment\nC-501;Альфа;ДС\n"),
                      db_sessions)
    path = _write(tmp_path / "h.csv", 'client_external_id;date;result;comment\n'
                                      'C-501;2026-02-01;contact_made;"первая строка\r\n\tвторая"\n')
    assert (await import_file("history", path, db_sessions)).rows == 1


async def test_a_long_value_is_quoted_cut_in_its_error(db_sessions: SessionMaker, tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", f"external_id;name;segment\nC-1;{'Я' * 100_000};ДС\n")
    with pytest.raises(RowsRejected) as raised:
        await import_file("clients", path, db_sessions)
    (error,) = raised.value.errors
    assert str(error) == (f"строка 2, столбец «name», значение «{'Я' * 60}…» (всего 100 000 знаков): "
                          f"длиннее 32 767 знаков (предел для ячейки)")
    assert len(error.value) == 60  # what the error keeps of it


@pytest.mark.parametrize(("content", "message"), [
    ("external_id;name;segment\nC-1;Альфа;ДС\n".encode("utf-16-le"), "файл в кодировке UTF-16"),
    (b"external_id;name;segment\nC-1;\x98\x98;DS\n", "файл не в UTF-8 и не в Windows-1251"),
    (b"external_id;name;segment\nC-1;" + b";" * (2 * MB) + b"\n", "строка 2 длиннее 1 048 576 знаков"),
])
async def test_unreadable_csv_files(db_sessions: SessionMaker, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match=message):
        await import_file("clients", path, db_sessions)
    assert await count_clients(db_sessions) == 0


async def test_row_and_size_budgets(db_sessions: SessionMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "c.csv", "external_id;name;segment\n" + "".join(f"C-{i};А;ДС\n" for i in range(30)))
    monkeypatch.setattr(readers, "MAX_ROWS", 20)
    with pytest.raises(FileFormatError, match="в файле больше 20 строк"):
        await import_file("clients", path, db_sessions)
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 100)
    with pytest.raises(FileFormatError, match="файл больше 100 байт"):
        await import_file("clients", path, db_sessions)


async def test_a_file_of_bad_rows_keeps_only_the_first_errors(db_sessions: SessionMaker, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "MAX_KEPT_ERRORS", 10)
    path = _write(tmp_path / "c.csv", "external_id;name;segment\n" + "".join(f"C-{i};А;XX\n" for i in range(30)))
    with pytest.raises(RowsRejected) as raised:
        await import_file("clients", path, db_sessions)
    assert (len(raised.value.errors), raised.value.total) == (10, 30)
    assert str(raised.value) == "ошибок: 30; ничего не импортировано"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def count_clients(sessions: SessionMaker) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(m.Client)) or 0)
