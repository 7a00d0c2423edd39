"""Geometry of the server-rendered SVG charts (no JavaScript, no CDN: the desk may be offline). Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from service.figures.compute import FigureTargets, per_day
from service.figures.model import Share, Totals
from texts.words import decimal

ROW_H = 22
LABEL_W = 300
BAR_W = 320
CHART_W = LABEL_W + BAR_W + 80
COLUMN_W = 22
PLOT_H = 160
AXIS_H = 34


@dataclass(frozen=True, slots=True)
class HBar:
    y: int
    label: str
    width: float
    value: str
    href: str | None


@dataclass(frozen=True, slots=True)
class HBars:
    width: int
    height: int
    label_w: int
    bars: list[HBar]


def horizontal_bars(shares: Sequence[Share], href: Callable[[Share], str | None]) -> HBars:
    """One bar per share, scaled to the largest; the label links to the calls behind it."""
    top = max((s.count for s in shares), default=0) or 1
    bars = [HBar(i * ROW_H, s.label, round(BAR_W * s.count / top, 1),
                 f"{s.count} ({decimal(round(s.share * 100, 1))} %)", href(s)) for i, s in enumerate(shares)]
    return HBars(CHART_W, max(len(bars), 1) * ROW_H, LABEL_W, bars)


@dataclass(frozen=True, slots=True)
class Column:
    x: int
    day: str  # 02.03
    made_h: float
    productive_h: float
    title: str


@dataclass(frozen=True, slots=True)
class Guide:
    y: float
    label: str
    css: str


@dataclass(frozen=True, slots=True)
class Columns:
    width: int
    height: int
    plot_h: int
    columns: list[Column]
    guides: list[Guide]


def daily_columns(daily: Sequence[tuple[date, Totals]], targets: FigureTargets) -> Columns:
    """Per day: calls made and productive calls per Expert at work, against the daily targets."""
    values = [(day, per_day(t.made, t.expert_days) or 0.0, per_day(t.productive, t.expert_days) or 0.0)
              for day, t in daily]
    top = max([targets.planned_max * 1.2, *(made for _, made, _ in values)])
    scale = PLOT_H / top
    columns = [Column(40 + i * (COLUMN_W + 6), f"{day:%d.%m}", round(made * scale, 1), round(prod * scale, 1),
                      f"{day:%d.%m.%Y}: звонков {decimal(made)}, результативных {decimal(prod)} на Эксперта")
               for i, (day, made, prod) in enumerate(values)]
    guides = [Guide(round(PLOT_H - targets.planned_min * scale, 1), f"{decimal(targets.planned_min)}", "band"),
              Guide(round(PLOT_H - targets.planned_max * scale, 1), f"{decimal(targets.planned_max)}", "band"),
              Guide(round(PLOT_H - targets.productive_per_day * scale, 1),
                    f"{decimal(targets.productive_per_day)}", "productive")]
    width = 40 + len(columns) * (COLUMN_W + 6) + 10
    return Columns(width, PLOT_H + AXIS_H, PLOT_H, columns, guides)
