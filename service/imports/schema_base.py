"""What an import format is made of: its columns, the schema, and the context a schema may depend on. Pure.

service/imports/schemas.py and compare_schemas.py define the formats themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from service.compare.survey import DEFAULT_SURVEY, SurveyMapping
from service.imports import cells as c

Values = dict[str, Any]  # column name → typed value (None when the cell was empty)
Problem = tuple[str, str]  # (column, reason) found by a check across the row's cells
# (who, start, end, overlap checked) of a row: two rows of one `who` may not start at the same
# moment, and, when checked, one may not begin before another has ended (service/imports/validation.py)
Span = tuple[tuple[str, ...], datetime, datetime, bool]
CLOCK_SKEW = timedelta(minutes=5)  # a usage report's clock may run a little ahead of ours


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    parse: c.Parser
    required: bool = False
    default: Any = None
    in_header: bool = False  # the header must name it, though a cell may be empty (a survey's question)


@dataclass(frozen=True, slots=True)
class Schema:
    kind: str
    columns: tuple[Column, ...]
    build: Callable[[Values], Any]  # typed values → the record the repository writes
    # A column (or columns) whose value may appear once per file; or a function giving a row's key and
    # the column to report a repeat on (a survey's respondent: its id, else its e-mail).
    unique: str | tuple[str, ...] | Callable[[Values], tuple[str, object] | None] | None = None
    checks: Callable[[Values], list[Problem]] = field(default=lambda values: [])
    span: Callable[[Values], Span] | None = None  # rows of one `who` may not overlap (logins)
    skip: Callable[[Mapping[str, object]], bool] | None = None  # a row that is no record (a second header row)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(col.name for col in self.columns)



@dataclass(frozen=True, slots=True)
class ImportContext:
    """What a schema may depend on: the organisation's zone (local times) and the clock (no future)."""

    tz: ZoneInfo = ZoneInfo("Europe/Moscow")
    now: datetime | None = None  # None: the real clock
    login_grace_s: float = 120.0  # targets.login_grace_s: the measurement after a logins import
    # compare.mailing_kinds: (words in a SendPulse campaign's name, its kind), in order
    mailing_rules: tuple[tuple[str, str], ...] = ()
    survey: SurveyMapping = field(default_factory=lambda: DEFAULT_SURVEY)  # compare.survey

    @classmethod
    def of(cls, settings: Any, now: datetime | None = None) -> ImportContext:
        """From Settings: the organisation's zone, targets.login_grace_s and the comparison's mappings."""
        return cls(settings.organisation.tz, now, settings.targets.login_grace_s,
                   settings.compare.mailing_rules(), settings.compare.survey_mapping())

    def clock(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)


