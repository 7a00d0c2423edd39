"""Errors of the control figures.

    FiguresError
    ├── BadFiguresQuery   a query parameter the supervisor can fix (shown as a 400 with the message)
    └── UnknownScope      the group or Expert named does not exist (404)
"""

from __future__ import annotations


class FiguresError(Exception):
    """Base of the figures' errors; the message is Russian and shown to the user."""


class BadFiguresQuery(FiguresError):
    pass


class UnknownScope(FiguresError):
    pass
