"""Errors of the selection for ДС (issue 15); views turn them into Russian answers.

    SelectionError            base of everything below
    ├── BadListQuery          a filter, sort or page of the candidate list that cannot be what it claims (400)
    └── BadManualScore        a manual score the form cannot take (the form lists the problems)
"""

from __future__ import annotations


class SelectionError(Exception):
    """Base class of the selection's errors; the message is Russian, for the user."""


class BadListQuery(SelectionError, ValueError):
    """The candidate list's address names an unknown filter value, sort or page."""


class BadManualScore(SelectionError, ValueError):
    """A manual score or recommendation entered on the web that cannot be stored; `problems` lists why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
