"""Errors of the works export; each message is Russian and shown as it is.

    ExportError           base of everything below
    ├── BadPeriod         the range of days asked for cannot be exported (a bad date, reversed, too long)
    └── ExportsDirError   the exports directory cannot be written (missing rights, not a directory, full disk)
"""

from __future__ import annotations


class ExportError(Exception):
    """The works export cannot do what was asked; the message says why, in Russian."""


class BadPeriod(ExportError, ValueError):
    """The days asked for: not a date, the end before the start, longer than allowed."""


class ExportsDirError(ExportError, OSError):
    """The exports directory (`exports.dir`) or a file in it cannot be written."""
