"""Errors of the transition campaign; every message is Russian and shown as it is.

    ServiceError (service.errors)
    └── TransitionError      a status change the machine refuses (a skipped step, a missing reason or date)
        └── AssignError      a supervisor's assignment refused as a whole (unknown client, Expert absent, …)
"""

from __future__ import annotations

from service.errors import ServiceError


class TransitionError(ServiceError, ValueError):
    """A change of a client's transition status that cannot be made; nothing was saved.

    `field` names what is wrong, so a form can show it beside that field: `status`, `reason` or `until`.
    """

    def __init__(self, message: str, field: str = "status") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class AssignError(TransitionError):
    """An assignment of candidates to an Expert that cannot be made; no client was assigned."""
