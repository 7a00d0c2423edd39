"""The call scores' sheet of the figures' XLSX: each value beside the number of scored calls behind it. Pure."""

from __future__ import annotations

from typing import Any

from service.coaching.scorecards import ScoreFigures, ScoreLine
from service.figures.export import INT, PERCENT, Column, ExtraSheet

SHEET_TITLE = "Оценки звонков"
AVERAGE = "Средняя оценка"
COLUMNS: list[Column] = [("Эксперт", None, 30), ("Показатель", None, 44), ("Значение", PERCENT, 12),
                         ("Оценённых звонков", INT, 12)]


def scores_sheet(figures: ScoreFigures) -> ExtraSheet:
    """The scope's line first, then each Expert's: the average score, then each item's share of calls met."""
    if figures.empty:
        return ExtraSheet(SHEET_TITLE, COLUMNS, [["нет оценок за период"]])
    return ExtraSheet(SHEET_TITLE, COLUMNS, [row for line in figures.shown for row in _rows(figures, line)])


def _rows(figures: ScoreFigures, line: ScoreLine) -> list[list[Any]]:
    rows = [[line.full_name, AVERAGE, line.score.value, line.score.calls]]
    rows += [[line.full_name, f"Выполнено: {text}", figure.value, figure.calls]
             for text, figure in zip(figures.items, line.items, strict=True) if figure.calls]
    return rows
