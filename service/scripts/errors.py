"""Errors of the call scripts.

    ServiceError (service.errors)
    └── CatalogError     templates/scripts/catalog.yaml is invalid; raised at start-up, names the entry

    ScriptError          not an exception: the value a failed render or check returns, so that a
                         broken script shows as a readable message on the Expert's screen, never a 500
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from service.errors import ServiceError

ScriptErrorKind = Literal["syntax", "undefined", "security", "not_found", "too_long", "too_big",
                          "forbidden_html", "runtime"]


class CatalogError(ServiceError, ValueError):
    """The script catalog cannot be loaded; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class ScriptError:
    """Why a script could not be rendered: Russian for the screen, English detail for the log."""

    kind: ScriptErrorKind
    message: str  # Russian, shown to the Expert or the supervisor editing the script
    detail: str  # English: template, line and the underlying error, for the log and the editor
    template: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.message} ({self.detail})"
