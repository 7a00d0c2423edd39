"""Cells of the month's imports (issue 16): a kind by its Russian name, a month, a plan's value. Pure."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from service.imports import cells as c
from service.month.kinds import first_of_month, kind_of, read_month


def spelled(spellings: dict[str, str], codes: tuple[str, ...]) -> c.Parser:
    """A kind by its code or one of its Russian names (service/month/kinds.py)."""
    def parse(raw: object) -> str:
        found = kind_of(spellings, c.text(raw))
        if found is None:
            raise c.CellError(f"допустимо одно из: {', '.join(codes)} — или их русские названия (docs/import.md)")
        return found
    return parse


def month(raw: object) -> date:
    """`YYYY-MM`, `MM.YYYY`, «март 2026», or a date (any day of the month): the month's 1st."""
    if isinstance(raw, date):  # an XLSX date (or date-time) cell
        return first_of_month(raw.date() if isinstance(raw, datetime) else raw)
    text = c.text(raw)
    try:
        found = read_month(text)
    except ValueError as e:
        raise c.CellError("нет такого месяца") from e
    if found is not None:
        return found
    if text.count(".") + text.count("-") >= 2:  # a whole date: its own errors («нет такой даты»)
        return first_of_month(c.parse_date(text))
    raise c.CellError("не месяц (ГГГГ-ММ, ММ.ГГГГ или дата)")


def plan_value(raw: object) -> tuple[Decimal, bool]:
    """A number, and whether it was given in per cent («82,5 %»: the share 0.825). Kept to 4 places:
    a share like Полнота сбора 0.695 must not become 0.70 and cross a КТУ threshold by rounding."""
    if isinstance(raw, str) and raw.strip().endswith("%"):
        share = c.number(raw.strip()[:-1]) / 100
        return share.quantize(PLAN_PLACES, rounding=ROUND_HALF_UP), True
    return c.number(raw).quantize(PLAN_PLACES, rounding=ROUND_HALF_UP), False


PLAN_PLACES = Decimal("0.0001")


def share(raw: object) -> Decimal:
    """A share from 0 to 1: «0,8», «80 %» (Полнота сбора of a client)."""
    value, _ = plan_value(raw)
    if not 0 <= value <= 1:
        raise c.CellError("доля от 0 до 1: 0,8 или 80 %")
    return value
