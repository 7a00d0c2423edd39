"""Asterisk's CDR files as a CdrSource: `cdr_custom` CSV (DS Desk's documented mapping) or JSON lines.

The file is read whole on each look-up, in a thread: a regional centre's day is a few thousand
rows (a call writes 2–4), and look-ups happen only after a gap. A line that cannot be read is
skipped (and counted): Asterisk may be writing the last one as it is read.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
from collections.abc import Collection, Iterator
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
        wanted = set(linkedids)
        rows = await asyncio.to_thread(self._read)
        return rows_by_call(r for r in rows if r.linkedid in wanted)

    async def rows_ended_between(self, start: float, end: float) -> dict[str, list[CdrRow]]:
        grouped = rows_by_call(await asyncio.to_thread(self._read))
        return {k: v for k, v in grouped.items() if any(r.end is not None and start <= r.end <= end for r in v)}

    def _read(self) -> list[CdrRow]:
        # A missing file raises (FileNotFoundError): the backstop says so on /healthz and retries.
        with self.path.open(encoding="utf-8", errors="replace", newline="") as lines:
            return [row for row in self._rows(lines) if row is not None]

    def _rows(self, lines: Iterator[str]) -> Iterator[CdrRow | None]:
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
