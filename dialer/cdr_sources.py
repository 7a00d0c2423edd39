"""Asterisk's CDR files as a CdrSource: `cdr_custom` CSV (DS Desk's documented mapping) or JSON lines.

The file is scanned on each look-up, in a thread, keeping only the rows wanted (a CSV line whose
first field is not a wanted linkedid is not even parsed): `cdr_custom` appends for ever, so rotate
it (logrotate, copytruncate) — a year of a regional centre is ~1,000,000 rows, seconds per scan.
Look-ups happen only after a gap. A line that cannot be read is skipped (and counted): Asterisk
may be writing the last one as it is read.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import tzinfo
from pathlib import Path
from typing import Literal

from dialer.cdr import CDR_COLUMNS, CdrRow, row_from_fields, rows_by_call

log = logging.getLogger(__name__)

CdrFormat = Literal["csv", "json"]


class CdrFileSource:
    def __init__(self, path: Path, tz: tzinfo, fmt: CdrFormat = "csv",
                 columns: tuple[str, ...] = CDR_COLUMNS) -> None:
        self.path, self.tz, self.format, self.columns = path, tz, fmt, columns
        self.skipped = 0

    async def rows_for(self, linkedids: Collection[str]) -> dict[str, list[CdrRow]]:
        wanted = frozenset(linkedids)
        return rows_by_call(await asyncio.to_thread(self._scan, lambda r: r.linkedid in wanted, wanted))

    async def rows_ended_between(self, start: float, end: float) -> dict[str, list[CdrRow]]:
        ending = await asyncio.to_thread(self._scan, lambda r: r.end is not None and start <= r.end <= end, None)
        return await self.rows_for({r.linkedid for r in ending})

    async def close(self) -> None:
        """Nothing held between look-ups."""

    def _scan(self, keep: Callable[[CdrRow], bool], linkedids: frozenset[str] | None) -> list[CdrRow]:
        """One pass over the file keeping only the rows wanted (a long-lived `cdr_custom` file is
        never held whole). A missing file raises: the backstop says so on /healthz and retries."""
        with self.path.open(encoding="utf-8", errors="replace", newline="") as file:
            lines: Iterable[str] = file
            if linkedids is not None and self.format == "csv" and self.columns[0] == "linkedid":
                lines = (line for line in file if _first_field(line) in linkedids)  # skip the parse
            return [row for row in self._rows(lines) if row is not None and keep(row)]

    def _rows(self, lines: Iterable[str]) -> Iterator[CdrRow | None]:
        if self.format == "json":
            for line in lines:
                yield self._json_row(line)
            return
        for values in csv.reader(lines):
            if len(values) != len(self.columns):
                self.skipped += bool(values)
                continue
            yield row_from_fields(dict(zip(self.columns, values, strict=True)), self.tz)

    def _json_row(self, line: str) -> CdrRow | None:
        if not line.strip():
            return None
        try:
            fields = json.loads(line)
        except ValueError:
            self.skipped += 1
            return None
        return row_from_fields(fields, self.tz) if isinstance(fields, dict) else None


def _first_field(line: str) -> str:
    """The first CSV field of a line as cdr_custom's CSV_QUOTE writes it (`"1796…",…`)."""
    head = line.split(",", 1)[0].strip()
    return head[1:-1] if len(head) >= 2 and head[0] == head[-1] == '"' else head
