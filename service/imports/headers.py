"""A file's header read against a schema: which file column is which schema column. Pure.

Each file column is matched by its name or an alias (aliases.py), whatever its case or spacing;
columns no schema column is named by are ignored. The rows a reader gives are keyed by the file's
names; `Header.renamed` keys them by the schema's, so validation never sees an alias.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from service.imports.aliases import aliases_of, normalise
from service.imports.schemas import Schema


@dataclass(frozen=True, slots=True)
class Header:
    names: tuple[str, ...]  # as in the file's first row
    found: tuple[tuple[str, str], ...]  # (file name, schema column), in the file's order
    missing: tuple[str, ...]  # required schema columns no file column is named for
    repeated: tuple[tuple[str, tuple[str, ...]], ...]  # a schema column and the file names that all mean it
    plain: bool = False  # every column found is named as the schema names it: rows need no renaming

    @property
    def labels(self) -> dict[str, str]:
        """Schema column → its name in the file, where the file calls it something else."""
        first: dict[str, str] = {}
        for name, column in self.found:
            first.setdefault(column, name)
        return {column: name for column, name in first.items() if name != column}

    def renamed(self, row: dict[str, object]) -> dict[str, object]:
        """The row keyed by schema columns (only those the file has), in the file's order."""
        if self.plain:
            return row  # the usual export: nothing to rename, and a million rows are not copied
        return {column: row[name] for name, column in self.found if name in row}


def accepted_names(schema: Schema) -> dict[str, tuple[str, ...]]:
    """Per schema column, every name it is found by: its own first, then its aliases."""
    return {name: (name, *aliases_of(schema.kind, name)) for name in schema.names}


def all_names(schema: Schema) -> tuple[str, ...]:
    """Every name any of the schema's columns is found by (the CSV reader picks its delimiter by them)."""
    return tuple(name for names in accepted_names(schema).values() for name in names)


def read_header(schema: Schema, names: Iterable[str]) -> Header:
    """Which file column is which schema column; what is missing and what is there twice."""
    names = tuple(names)
    by_name = {normalise(alias): column for column, aliases in accepted_names(schema).items() for alias in aliases}
    found = tuple((name, by_name[normalise(name)]) for name in names if normalise(name) in by_name)
    present = {column for _, column in found}
    missing = tuple(col.name for col in schema.columns if (col.required or col.in_header) and col.name not in present)
    repeated = tuple((column, tuple(name for name, c in found if c == column))
                     for column in schema.names if sum(c == column for _, c in found) > 1)
    return Header(names, found, missing, repeated, plain=all(name == column for name, column in found))
