"""An approved sheet frozen as JSON and read back (docs/ktu.md «Storage»). Pure.

Every Decimal is written as a string («-0.2», «1500», «5250.00»), so the money an approved version
was paid with reads back exactly, whatever the rate or the data become later.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from service.ktu.rules import ComponentValue, KtuSheet, Role

FORMAT = 1  # bump when the layout changes; readers of older snapshots stay


def freeze(sheet: KtuSheet) -> dict[str, Any]:
    return {
        "format": FORMAT, "person": sheet.person, "month": sheet.month.isoformat(), "role": sheet.role.value,
        "values": [{"key": v.key, "label": v.label, "value": str(v.value), "source": v.source,
                    "explanation": v.explanation, "missing": v.missing} for v in sheet.values],
        "points": str(sheet.points), "rub_per_0_1": str(sheet.rub_per_0_1), "money": str(sheet.money),
    }


def thaw(data: dict[str, Any]) -> KtuSheet:
    values = tuple(ComponentValue(v["key"], v["label"], Decimal(v["value"]), v["source"], v["explanation"],
                                  bool(v.get("missing", False))) for v in data["values"])
    return KtuSheet(data["person"], date.fromisoformat(data["month"]), Role(data["role"]), values,
                    Decimal(data["points"]), Decimal(data["rub_per_0_1"]), Decimal(data["money"]))
