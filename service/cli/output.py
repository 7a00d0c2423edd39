"""What the commands print: JSON lines and fixed-width tables on a UTF-8 stdout (data on stdout, logs on stderr)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

Columns = Sequence[tuple[str, int]]  # (header, width)


def utf8_stdout() -> TextIO:
    """stdout, made UTF-8: names are Cyrillic, and a C/ASCII locale must not turn them into an error."""
    if (sys.stdout.encoding or "").lower().replace("-", "") != "utf8":
        sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]  # TextIO has no reconfigure; stdout does
    return sys.stdout


def print_json_lines(items: Iterable[dict[str, Any]]) -> None:
    print_lines(json.dumps(item, ensure_ascii=False) for item in items)


def print_lines(lines: Iterable[str]) -> None:
    out = utf8_stdout()
    for line in lines:
        out.write(line + "\n")
    out.flush()


def table_line(cells: Sequence[str], columns: Columns) -> str:
    """The cells cut and padded to the columns' widths, two spaces apart."""
    return "  ".join(cell[:width].ljust(width) for cell, (_, width) in zip(cells, columns, strict=True)).rstrip()


def table_header(columns: Columns) -> str:
    return table_line([name for name, _ in columns], columns)
