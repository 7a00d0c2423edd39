"""An import in two passes: validate every row (nothing written if one is bad), then write.

The second pass reads the file again instead of keeping millions of records in memory, and
writes everything in one transaction, in batches, with a progress bar on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from service.db.bulk import chunks
from service.db.engine import SessionMaker
from service.db.records import Counts
from service.imports.errors import ImportFailed, RowError, RowsRejected
from service.imports.limits import MAX_KEPT_ERRORS
from service.imports.readers import NumberedRow, open_table
from service.imports.schemas import SCHEMAS, Schema
from service.imports.validation import Validator, header_errors, parse_row
from service.imports.writers import WRITERS, load_references

BATCH = 5000
LARGE_FILE_ROWS = 10_000  # a progress bar even when stderr is not a terminal
Rows = Callable[[], Iterator[NumberedRow]]


@dataclass(frozen=True, slots=True)
class ImportReport:
    kind: str
    rows: int
    counts: Counts

    def __str__(self) -> str:
        return f"{self.kind}: {self.rows} row(s): {self.counts}"


async def import_file(kind: str, path: Path, sessions: SessionMaker, *,
                      progress: bool | None = None) -> ImportReport:
    """Import a CSV/XLSX file of `kind`; raises FileFormatError or RowsRejected (nothing written)."""
    schema = _schema(kind)
    table = open_table(path, schema.names, sheet=kind)
    return await _import(schema, table.header, table.rows, sessions, progress)


async def import_rows(kind: str, rows: Iterable[Mapping[str, object]], sessions: SessionMaker, *,
                      progress: bool | None = False) -> ImportReport:
    """Import rows given as dicts (column → cell), numbered as a file would be (first = row 2)."""
    numbered = [(number, dict(row)) for number, row in enumerate(rows, start=2)]
    header = tuple(dict.fromkeys(name for _, row in numbered for name in row))
    return await _import(_schema(kind), header, lambda: iter(numbered), sessions, progress)


def _schema(kind: str) -> Schema:
    try:
        return SCHEMAS[kind]
    except KeyError as e:
        raise ImportFailed(f"неизвестный вид импорта {kind!r} (один из: {', '.join(SCHEMAS)})") from e


async def _import(schema: Schema, header: tuple[str, ...], rows: Rows, sessions: SessionMaker,
                  progress: bool | None) -> ImportReport:
    errors = header_errors(schema, header)
    if errors:
        raise RowsRejected(errors)
    validator = Validator(schema, await load_references(schema.kind, sessions))
    count = total = 0
    for number, row in rows():
        count += 1
        found = validator.check(number, row)[1]
        total += len(found)
        errors += found[:MAX_KEPT_ERRORS - len(errors)]  # a file of bad rows must not fill the memory
    if total:
        raise RowsRejected(errors, total)
    counts = await _write(schema, rows, count, sessions, progress)
    return ImportReport(schema.kind, count, counts)


async def _write(schema: Schema, rows: Rows, count: int, sessions: SessionMaker,
                 progress: bool | None) -> Counts:
    write = WRITERS[schema.kind]
    show = progress if progress is not None else (sys.stderr.isatty() or count >= LARGE_FILE_ROWS)
    counts = Counts()
    with tqdm(total=count, desc=schema.kind, unit="row", file=sys.stderr, disable=not show,
              mininterval=0.5) as bar:
        async with sessions.begin() as session:
            for batch in chunks(_records(schema, rows), BATCH):
                counts += await write(sessions, batch, session)
                bar.update(len(batch))
    return counts


def _records(schema: Schema, rows: Rows) -> Iterator[Any]:
    for number, row in rows():
        record, errors = parse_row(schema, number, row)
        if errors:  # the file changed since it was validated: give up, the transaction rolls back
            raise RowsRejected(errors)
        yield record


def format_errors(errors: Iterable[RowError]) -> str:
    return "\n".join(str(error) for error in errors)
