"""An import in two passes: validate every row (nothing written if one is bad), then write.

The second pass reads the file again instead of keeping millions of records in memory, and
writes everything in one transaction, in batches, with a progress bar on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from service.db.bulk import chunks
from service.db.engine import SessionMaker
from service.db.logins import Measured
from service.db.records import Counts
from service.imports.errors import ImportFailed, RowError, RowsRejected
from service.imports.headers import Header, all_names, read_header
from service.imports.limits import MAX_KEPT_ERRORS, show
from service.imports.readers import NumberedRow, open_table
from service.imports.schemas import KINDS, ImportContext, Schema, schema_for
from service.imports.validation import Validator, header_errors, parse_row
from service.imports.writers import WRITERS, after_import, load_references, summary_of

BATCH = 5000
LARGE_FILE_ROWS = 10_000  # a progress bar even when stderr is not a terminal
_BAR = "{desc}: {percentage:3.0f}% |{bar}| {n_fmt} из {total_fmt} строк [{elapsed}, осталось {remaining}]"
Rows = Callable[[], Iterator[NumberedRow]]


@dataclass(frozen=True, slots=True)
class ImportReport:
    kind: str
    rows: int
    counts: Counts
    measured: Measured | None = None  # logins: the calls of the covered days, measured again

    def __str__(self) -> str:
        return f"{self.kind}: {self.summary()}"

    def summary(self) -> str:
        """What was written, in Russian: the CLI prints it after the kind, the upload page as it is."""
        c = self.counts
        text = (f"импортировано строк: {show(self.rows)} (новых {show(c.new)}, изменённых {show(c.updated)}, "
                f"без изменений {show(c.unchanged)})")
        if self.measured is None:
            return text
        m = self.measured
        days = f"{m.first:%d.%m.%Y}" if m.first == m.last else f"{m.first:%d.%m.%Y}–{m.last:%d.%m.%Y}"
        return (f"{text}; звонков за {days} проверено по статистике: {show(m.calls)}, "
                f"из них клиент заходил во время разговора: {show(m.logged_in)}")


async def import_file(kind: str, path: Path, sessions: SessionMaker, *,
                      progress: bool | None = None, context: ImportContext | None = None) -> ImportReport:
    """Import a CSV/XLSX file of `kind`; raises FileFormatError or RowsRejected (nothing written)."""
    schema = _schema(kind, context)
    table = open_table(path, all_names(schema), sheet=kind)
    return await _import(schema, table.header, table.rows, sessions, progress, context or ImportContext(),
                         keep_records=False)


async def import_rows(kind: str, rows: Iterable[Mapping[str, object]], sessions: SessionMaker, *,
                      progress: bool | None = False, context: ImportContext | None = None) -> ImportReport:
    """Import rows given as dicts (column → cell), numbered as a file would be (first = row 2)."""
    numbered = [(number, dict(row)) for number, row in enumerate(rows, start=2)]
    header = tuple(dict.fromkeys(name for _, row in numbered for name in row))
    # Rows given in memory (the API's bulk upserts): the records the validation built are written as they are,
    # not parsed again (a second parse was 0.5 s of 2.5 s for 10,000 clients).
    return await _import(_schema(kind, context), header, lambda: iter(numbered), sessions, progress,
                         context or ImportContext(), keep_records=True)


def _schema(kind: str, context: ImportContext | None) -> Schema:
    try:
        return schema_for(kind, context)
    except KeyError as e:
        raise ImportFailed(f"неизвестный вид импорта «{kind}» (один из: {', '.join(KINDS)})") from e


async def _import(schema: Schema, names: tuple[str, ...], file_rows: Rows, sessions: SessionMaker,
                  progress: bool | None, context: ImportContext, *, keep_records: bool) -> ImportReport:
    header = read_header(schema, names)
    errors = header_errors(schema, header)
    if errors:
        raise RowsRejected(labelled(errors, header))

    def rows() -> Iterator[NumberedRow]:  # keyed by the schema's column names, whatever the file calls them
        renamed = ((number, header.renamed(row)) for number, row in file_rows())
        skip = schema.skip
        return renamed if skip is None else ((number, row) for number, row in renamed if not skip(row))

    validator = Validator(schema, await load_references(schema.kind, sessions))
    count = total = 0
    kept: list[Any] = []
    for number, row in rows():
        count += 1
        record, found = validator.check(number, row)
        if keep_records and not total:
            kept.append(record)
        total += len(found)
        errors += found[:MAX_KEPT_ERRORS - len(errors)]  # a file of bad rows must not fill the memory
    found = validator.finish()
    total += len(found)
    errors += found[:MAX_KEPT_ERRORS - len(errors)]
    if total:
        raise RowsRejected(labelled(sorted(errors, key=lambda e: e.row), header), total)
    records = kept if keep_records else _records(schema, rows, header)
    counts, measured = await _write(schema, records, count, sessions, progress, context)
    return ImportReport(schema.kind, count, counts, measured)


async def _write(schema: Schema, records: Iterable[Any], count: int, sessions: SessionMaker,
                 progress: bool | None, context: ImportContext) -> tuple[Counts, Measured | None]:
    write = WRITERS[schema.kind]
    shown = progress if progress is not None else (sys.stderr.isatty() or count >= LARGE_FILE_ROWS)
    counts = Counts()
    written: list[Any] = []
    with tqdm(total=count, desc=schema.kind, file=sys.stderr, disable=not shown, mininterval=0.5,
              bar_format=_BAR) as bar:
        async with sessions.begin() as session:
            for batch in chunks(records, BATCH):
                counts += await write(sessions, batch, session)
                written.append(summary_of(schema.kind, batch, context))
                bar.update(len(batch))
            measured = await after_import(schema.kind, written, session, context)
    return counts, measured


def _records(schema: Schema, rows: Rows, header: Header) -> Iterator[Any]:
    for number, row in rows():
        record, errors = parse_row(schema, number, row)
        if errors:  # the file changed since it was validated: give up, the transaction rolls back
            raise RowsRejected(labelled(errors, header))
        yield record


def labelled(errors: Iterable[RowError], header: Header) -> list[RowError]:
    """The errors with each column's name in the file, where the file names it by an alias."""
    labels = header.labels
    return [replace(e, label=labels[e.column]) if e.column in labels else e for e in errors]


def format_errors(errors: Iterable[RowError]) -> str:
    return "\n".join(str(error) for error in errors)
