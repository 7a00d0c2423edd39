"""The Expert's day at a glance on her desk: today's calls, productive calls, their average talk,
the login share and the pace, each against its target. Pure.

The same figures and definitions as /figures (service/figures/compute.py: SPEC-NOTES "Figures"),
for one Expert and today; the strip only chooses and words them.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.figures.compute import FigureTargets, figure_rows
from service.figures.model import Pacing, Status, Totals
from service.figures.report import show_target, show_value


@dataclass(frozen=True, slots=True)
class StripItem:
    key: str
    label: str
    value: str
    status: Status
    note: str  # the target (a tooltip)
    source: str = ""  # how the value is known, shown beside it (the login share: by usage data or tick)

    @property
    def css(self) -> str:
        return f"status-{self.status.value}"


# (figure key, the strip's label): the figures page's rows the strip shows, in its order.
_SHOWN = (
    ("calls_per_day", "Звонков"),
    ("productive", "Результативных"),
    ("avg_productive", "Ср. результативный разговор"),
    ("login_share", "С заходом в систему"),
)


def day_strip(today: Totals, targets: FigureTargets, pace: Pacing | None) -> list[StripItem]:
    """The strip for one Expert's totals of today; `pace` None when she has no plan today."""
    rows = {row.key: row for row in figure_rows(today, targets)}
    items = []
    for key, label in _SHOWN:
        row = rows[key]
        # One Expert, one day: each total is her day's value (the status compares it per day).
        value = row.total
        if value is None and key in ("calls_per_day", "productive"):
            value = 0  # no working day yet: nothing made
        shown = "—" if value is None else show_value(value, "count" if key == "calls_per_day" else row.kind)
        note = f"цель {show_target(row.target, row.kind)}"
        source = ""
        if key == "login_share" and today.contacts:
            measured = today.login_measured
            source = ("по статистике" if measured == today.contacts else
                      "по отметке" if measured == 0 else f"по статистике {measured} из {today.contacts}")
        items.append(StripItem(key, label, shown, row.status, note, source))
    if pace is not None:
        status = Status.LOW if pace.behind else Status.OK
        items.append(StripItem("pace", "Темп", pace.text, status,
                               f"выполнено {pace.finished}; к этому часу по плану {pace.due}"))
    return items
