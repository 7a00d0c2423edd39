"""The candidate list as an XLSX workbook (GET /selection.xlsx): the filtered list, every row. Pure.

Sheets: «Кандидаты» (one row per client: its scores as numbers), «Пояснения» (each score's
explanation) and «Параметры» (the filters, the counts, when generated). Names come from the CRM
import: every cell goes through service/exports_safety.py and every text cell is typed as text, so
no name becomes a formula (docs/figures.md, "XLSX"). Written in openpyxl's write-only mode, each
text cell typed as it is made: finding a row just appended (`sheet[sheet.max_row]`) scans every cell
written so far, and a department's 100,000 rows then take longer than anyone waits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from service.exports_safety import spreadsheet_row
from service.selection.candidates import ELIGIBLE_LABELS, RECOMMENDATION_LABELS, SORTS, Candidate, ListQuery
from service.selection.scoring import CRITERIA, CRITERION_LABELS
from texts.labels import TRANSITION_LABELS

Column = tuple[str, int]  # header, width
YES_NO = {True: "да", False: "нет"}
_HEAD: list[Column] = [("Код клиента", 12), ("Клиент", 40), ("Территория", 14), ("СИО", 20), ("Подходит", 9),
                       ("Почему не подходит", 30)]
_TAIL: list[Column] = [("Итого", 7), ("Рекомендация СИО", 12), ("Кандидат", 9), ("Статус перехода", 14),
                       ("Эксперт перехода", 24)]


def candidates_xlsx(rows: Sequence[Candidate], query: ListQuery, total: int, min_total: int,
                    generated_at: datetime) -> bytes:
    """The workbook's bytes; `generated_at` is shown in the organisation's time (naive: Excel has no zones)."""
    book = Workbook(write_only=True)
    scores = book.create_sheet("Кандидаты")
    _sheet(scores, _HEAD + [(CRITERION_LABELS[c], 12) for c in CRITERIA] + _TAIL, (_score_row(r) for r in rows))
    notes = book.create_sheet("Пояснения")
    _sheet(notes, _HEAD[:2] + [(CRITERION_LABELS[c], 30) for c in CRITERIA], (_notes_row(r) for r in rows))
    about = book.create_sheet("Параметры")
    _sheet(about, [("Параметр", 30), ("Значение", 50)], _about(query, len(rows), total, min_total, generated_at))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_name(generated_at: datetime) -> str:
    """An ASCII file name (the Russian one goes into the Content-Disposition filename*)."""
    return f"selection-{generated_at:%Y-%m-%d}.xlsx"


def _sheet(sheet: WriteOnlyWorksheet, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> None:
    for index, (_, width) in enumerate(columns, start=1):
        # A write-only sheet has them (borrowed from the normal sheet at run time); the stubs do not say so.
        sheet.column_dimensions[get_column_letter(index)].width = width  # type: ignore[attr-defined]
    sheet.freeze_panes = "A2"
    header = _cells(sheet, [name for name, _ in columns])
    for cell in header:
        cell.font = Font(bold=True)
    sheet.append(header)
    for values in rows:
        sheet.append(_cells(sheet, values))


def _cells(sheet: WriteOnlyWorksheet, values: Sequence[Any]) -> list[Any]:
    """The one way a row gets into a sheet: formula-like text apostrophed, every text cell typed as text.

    openpyxl makes any string starting with `=` a formula; after the apostrophe none does, and
    the explicit type keeps it so should the rule in exports_safety ever change. Numbers and empty
    cells pass as they are (a cell object each would cost a third more time).
    """
    cells: list[Any] = []
    for value in spreadsheet_row(values):
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells


def _score_row(row: Candidate) -> list[Any]:
    s = row.selection
    return [row.external_id, row.name, row.territory, row.sio, YES_NO[s.eligible], s.ineligible_reason,
            *(s.scores[c].value for c in CRITERIA), s.total,
            RECOMMENDATION_LABELS[s.recommendation] if s.recommendation else None, YES_NO[s.candidate],
            TRANSITION_LABELS.get(row.status or "", row.status), row.status_expert]


def _notes_row(row: Candidate) -> list[Any]:
    return [row.external_id, row.name, *(row.selection.scores[c].explanation for c in CRITERIA)]


def _about(query: ListQuery, shown: int, total: int, min_total: int, generated_at: datetime) -> list[list[Any]]:
    order = "по возрастанию" if query.ascending else "по убыванию"
    return [
        ["Отбор клиентов на ДС", "все критерии 0–3, итог 0–24"],
        ["Территория", query.territory or "все"],
        ["СИО", query.sio or "все"],
        ["Подходит", ELIGIBLE_LABELS.get(query.eligible, "все")],
        ["Только кандидаты", YES_NO[query.candidates]],
        ["Сортировка", f"{SORTS[query.sort]}, {order}"],
        ["Клиентов в списке", shown],
        ["Клиентов всего", total],
        ["Кандидат — итог не меньше", min_total],
        ["Сформировано", generated_at.replace(tzinfo=None).strftime("%d.%m.%Y %H:%M")],
    ]
