"""One spelling of each product name (templates/glossary.yaml): variants are read as the spelling.

The glossary is a file in templates/ so the department can add a variant without a release; it is
read once. `canonical` is for names that arrive whole (a configured topic, a stored wrap-up topic).
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

GLOSSARY = Path(__file__).resolve().parents[1] / "templates" / "glossary.yaml"


@functools.cache
def spellings() -> dict[str, str]:
    """variant → the one spelling (each spelling maps to itself)."""
    raw = yaml.safe_load(GLOSSARY.read_text(encoding="utf-8")) or {}
    table: dict[str, str] = {}
    for spelling, variants in raw.items():
        table[str(spelling)] = str(spelling)
        for variant in variants or ():
            table[str(variant)] = str(spelling)
    return table


def canonical(name: str) -> str:
    """The glossary's spelling of a whole name («Комплект SMART» → «СМАРТ-комплект»); others unchanged."""
    return spellings().get(" ".join(name.split()), name)


def variants() -> dict[str, str]:
    """Only the variants (not the spellings themselves): what must not be written in the product."""
    return {variant: spelling for variant, spelling in spellings().items() if variant != spelling}
