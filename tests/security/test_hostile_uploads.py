"""Hostile import files (the probe's F8): a clear Russian message, nothing imported, bounded time and memory.

The files are built here, by hand where a spreadsheet program would never write them: a sheet
claiming a million formatted empty rows, a shared string that unpacks to 400 MB, ZIP sizes that
lie, CSV fields over the csv module's limit, NUL bytes, UTF-16, a text file named .xlsx. The ones
that cost gigabytes before the fix run the real `dsdesk import` in a subprocess, whose peak
memory (VmHWM) is read from /proc just before it exits.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.db import models as m
from service.db.engine import SessionMaker
from service.db.migrate import migrate
from service.imports import readers, runner
from service.imports.errors import FileFormatError, RowsRejected
from service.imports.readers import open_table
from service.imports.runner import import_file
from service.imports.schemas import CLIENTS

REPO = Path(__file__).resolve().parents[2]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MB = 1 << 20
PEAK_MB = 200  # the CLI's own baseline (SQLAlchemy, openpyxl) is about 60 MB; before the fix: 1.2–3 GB
HEADER = ("external_id", "name", "segment")

# --- hostile files -------------------------------------------------------------------------------

_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'),
    "_rels/.rels": (
        f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Target="xl/workbook.xml" '
        f'Type="{DOC_RELS}/officeDocument"/></Relationships>'),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets>'
        '<sheet name="clients" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{RELS}">'
        f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId3" Type="{DOC_RELS}/styles" Target="styles.xml"/></Relationships>'),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
        '<cellXfs count="2"><xf/><xf fillId="0" applyFill="1"/></cellXfs></styleSheet>'),
}


def write_xlsx(path: Path, sheet: Iterable[bytes], strings: Iterable[bytes]) -> Path:
    """A workbook with one sheet «clients»; the sheet's and the shared strings' XML streamed in."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        for name, chunks in (("xl/sharedStrings.xml", strings), ("xl/worksheets/sheet1.xml", sheet)):
            with archive.open(name, "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk)
    return path


def shared_strings(*texts: str, long_text_bytes: int = 0) -> Iterator[bytes]:
    """The texts as shared strings 0, 1, …; then, if asked, one more string of that many bytes."""
    yield f'<sst xmlns="{MAIN}">'.encode() + "".join(f"<si><t>{t}</t></si>" for t in texts).encode()
    if long_text_bytes:
        yield b"<si><t>"
        block = b"A" * MB
        for _ in range(long_text_bytes // MB):
            yield block
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


def one_client(tmp_path: Path, dimension: str, tail: Iterable[bytes]) -> Path:
    """The header, one good client in row 2, then `tail`."""
    rows = sheet_rows([[0, 1, 2], [3, 4, 5]], dimension, tail)
    return write_xlsx(tmp_path / "clients.xlsx", rows, shared_strings(*HEADER, "C-1", "ООО «Альфа»", "ДС"))


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


# --- XLSX ------------------------------------------------------------------------------------------

@pytest.mark.timeout(120)
async def test_a_million_formatted_empty_rows_are_not_read(cli_db: Path, tmp_path: Path) -> None:
    # F8: 1.9 MB, a dimension claiming A1:XFD1048576; before: > 300 s and 3 GB.
    path = one_client(tmp_path, dimension="A1:XFD1048576", tail=formatted_empty_rows(3))
    assert path.stat().st_size < 4 * MB
    started = time.monotonic()
    result, peak = import_cli(cli_db, "clients", path)
    assert (result.returncode, result.stdout) == (0, "clients: 1 row(s): 1 new, 0 updated, 0 unchanged\n"), \
        result.stderr[-2000:]
    assert time.monotonic() - started < 60 and peak < PEAK_MB
    assert clients_in(cli_db) == 1


@pytest.mark.timeout(120)
async def test_a_shared_string_bomb_is_refused_before_it_is_unpacked(cli_db: Path, tmp_path: Path) -> None:
    # F8: a 400 KB workbook whose shared strings unpack to 400 MB; before: 1.5 GB and a 419 MB line.
    path = write_xlsx(tmp_path / "clients.xlsx", sheet_rows([[0, 1, 2], [3, 6, 5]]),
                      shared_strings(*HEADER, "C-1", "ООО «Альфа»", "ДС", long_text_bytes=400 * MB))
    assert path.stat().st_size < MB
    result, peak = import_cli(cli_db, "clients", path)
    assert peak < PEAK_MB
    assert_clear_refusal(result, "xl/sharedStrings.xml", "64 МБ", "предел импорта")
    assert clients_in(cli_db) == 0


@pytest.mark.timeout(60)
async def test_a_shared_string_too_long_for_a_cell_is_found_in_its_cell(db_sessions: SessionMaker,
                                                                      tmp_path: Path) -> None:
    # Under the part's limit, but longer than any Excel cell: refused before openpyxl holds it.
    path = write_xlsx(tmp_path / "clients.xlsx", sheet_rows([[0, 1, 2], [3, 6, 5]]),
                      shared_strings(*HEADER, "C-1", "ООО «Альфа»", "ДС", long_text_bytes=40 * MB))
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError) as raised:
            await import_file("clients", path, db_sessions)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(raised.value) == "ячейка B2: текст длиннее 32 767 знаков (больше, чем вмещает ячейка Excel)"
    assert peak < 20 * MB and await count_clients(db_sessions) == 0


def _inline_string_bomb() -> Iterator[bytes]:
    yield b'<row r="3"><c r="B3" t="inlineStr"><is>'
    for _ in range(40):  # rich-text runs, each short enough, add up in one cell
        yield b"<r><t>" + b"B" * MB + b"</t></r>"
    yield b"</is></c></row>"


def _long_attribute() -> Iterator[bytes]:
    yield b'<row r="3"><c r="A3" x="' + b"B" * (20 * MB) + b'"/></row>'


def _lying_sizes(path: Path) -> None:
    """Declared unpacked size of the shared strings: 1,000 bytes; real: 300 MB."""
    data = bytearray(path.read_bytes())
    at = data.rfind(b"xl/sharedStrings.xml") - 46  # its entry in the central directory, at the end
    assert data[at:at + 4] == b"PK\x01\x02"
    data[at + 24:at + 28] = (1000).to_bytes(4, "little")
    path.write_bytes(bytes(data))


# case → what the message says; each is built by _hostile_workbook
WORKBOOKS = {
    "inline string of 40 MB": "ячейка B3: текст длиннее 32 767 знаков",
    "20 MB attribute": "«xl/worksheets/sheet1.xml»: XML-элемент длиннее 1 МБ",
    "DTD": "«xl/sharedStrings.xml» объявляет DTD",
    "sizes that lie": "не книга Excel (.xlsx): ZIP-архив повреждён",
    "5000 parts": "в ZIP-архиве больше 1 000 частей",
    "not a zip": "не книга Excel (.xlsx): файл не ZIP-архив или обрезан",
    "text named .xlsx": "файл назван .xlsx, но это не книга Excel",
    "sheet of 300 MB": "«xl/worksheets/sheet1.xml» распаковывается больше чем в 256 МБ",
    "row of 9 MB": "строка 3 листа занимает больше 8 МБ",
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", WORKBOOKS)
def test_hostile_workbooks_are_refused_in_bounded_memory(tmp_path: Path, case: str) -> None:
    # The reader refuses these before a row is read: nothing can reach the database.
    path = _hostile_workbook(tmp_path / "clients.xlsx", case)
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError) as raised:
            list(open_table(path, CLIENTS.names, "clients").rows())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert WORKBOOKS[case] in str(raised.value) and len(str(raised.value)) < 300
    assert peak < 20 * MB


def _hostile_workbook(path: Path, case: str) -> Path:
    strings = shared_strings(*HEADER, "C-1", "ООО «Альфа»", "ДС")
    if case == "inline string of 40 MB":
        return write_xlsx(path, sheet_rows([[0, 1, 2], [3, 4, 5]], tail=_inline_string_bomb()), strings)
    if case == "20 MB attribute":
        return write_xlsx(path, sheet_rows([[0, 1, 2], [3, 4, 5]], tail=_long_attribute()), strings)
    if case == "DTD":
        dtd = (f'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
               f'<sst xmlns="{MAIN}"><si><t>&b;</t></si></sst>').encode()
        return write_xlsx(path, sheet_rows([[0, 0, 0]]), [dtd])
    if case == "sizes that lie":
        write_xlsx(path, sheet_rows([[0, 1, 2], [3, 4, 5]]),
                   shared_strings(*HEADER, "C-1", "ООО «Альфа»", "ДС", long_text_bytes=300 * MB))
        _lying_sizes(path)
        return path
    if case == "5000 parts":
        with zipfile.ZipFile(path, "w") as archive:
            for number in range(5000):
                archive.writestr(f"part{number}.xml", b"")
        return path
    if case == "not a zip":
        path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
        return path
    if case == "text named .xlsx":
        path.write_text("external_id;name;segment\nC-1;Альфа;ДС\n", encoding="utf-8")
        return path
    if case == "row of 9 MB":  # 300 cells just under a cell's limit: openpyxl would hold them all at once
        cell = '<c t="inlineStr"><is><t>' + "x" * 30_000 + "</t></is></c>"
        return write_xlsx(path, sheet_rows([[0, 1, 2], [3, 4, 5]], tail=[f'<row r="3">{cell * 300}</row>'.encode()]),
                          strings)
    assert case == "sheet of 300 MB"
    block = b'<row s="1"/>' * (MB // 12)
    return write_xlsx(path, sheet_rows([[0, 1, 2], [3, 4, 5]], tail=(block for _ in range(300))), strings)


# --- CSV -------------------------------------------------------------------------------------------

@pytest.mark.timeout(60)
async def test_a_csv_field_over_the_csv_limit_is_a_clear_message(cli_db: Path, tmp_path: Path) -> None:
    # F8: before, a raw `_csv.Error: field larger than field limit (131072)` traceback.
    path = tmp_path / "clients.csv"
    path.write_text(f'external_id;name;segment\nC-1;Альфа;ДС\nC-2;"{"Б" * 200_000}";ДС\n', encoding="utf-8")
    result, peak = import_cli(cli_db, "clients", path)
    assert_clear_refusal(result, "строка 3, столбец name: ячейка длиннее 131 072 знаков", "не закрыта кавычка?")
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
    assert [str(e) for e in raised.value.errors] == [f"строка 3, столбец name, {reason}: уберите его из файла"]
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
    assert str(error) == (f"строка 2, столбец name, значение «{'Я' * 60}…» (всего 100 000 знаков): "
                          f"длиннее 32 767 знаков (предел для ячейки)")
    assert len(error.value) == 60  # what the error keeps of it


@pytest.mark.parametrize(("content", "message"), [
    ("external_id;name;segment\nC-1;Альфа;ДС\n".encode("utf-16"), "файл в кодировке UTF-16"),
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
