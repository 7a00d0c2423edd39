"""A figure's monthly values for ДС and КС as an SVG line chart's geometry. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 360, 150, 40, 10, 24
RIGHT = 30  # room for the last month's name (found trying it: «ноя 26» was cut to «ноя»)
MONTHS_RU = ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    label: str  # «мар 2026: 8,8»


@dataclass(frozen=True, slots=True)
class Line:
    segment: str
    points: list[Point]  # months with no data are left out (the line skips them)

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True, slots=True)
class Chart:
    lines: list[Line]
    ticks: list[tuple[float, str]]  # x and the month's short name
    top: str  # the value at the top of the scale
    width: int = WIDTH
    height: int = HEIGHT


def line_chart(months: Sequence[date], series: dict[str, list[Decimal | None]], shown: dict[str, str]) -> Chart:
    """`series`: segment → a value per month; `shown`: how a value is written («8,8 %»)."""
    known = [v for values in series.values() for v in values if v is not None]
    top = max(known, default=Decimal(0)) or Decimal(1)
    span_x = (WIDTH - LEFT - RIGHT) / max(len(months) - 1, 1)
    span_y = HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        return LEFT + index * span_x if len(months) > 1 else LEFT + (WIDTH - LEFT) / 2

    lines = []
    for segment, values in series.items():
        points = [Point(x(i), TOP + span_y * (1 - float(v / top)), f"{_month(months[i])}: {shown.get(str(v), v)}")
                  for i, v in enumerate(values) if v is not None]
        lines.append(Line(segment, points))
    return Chart(lines, [(x(i), _month(m)) for i, m in enumerate(months)], shown.get(str(top), str(top)))


def _month(month: date) -> str:
    return f"{MONTHS_RU[month.month - 1]} {month:%y}"
