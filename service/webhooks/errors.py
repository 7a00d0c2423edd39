"""Errors of the webhooks package; every message is Russian and shown to the admin as it is.

    ServiceError (service.errors)
    └── WebhookError            a webhook request that cannot be carried out
        ├── UnsafeUrlError      a receiver URL refused: not http(s), credentials in it, or it leads to
        │                       DS Desk itself, a loopback, private, link-local or metadata address
        └── UnknownSubscription no such subscription (or delivery of it)
"""

from __future__ import annotations

from service.errors import ServiceError


class WebhookError(ServiceError):
    """Base of the webhooks package's errors; `message` is the Russian text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsafeUrlError(WebhookError, ValueError):
    """The receiver URL may not be called (server-side request forgery); nothing was saved or sent."""


class UnknownSubscription(WebhookError, LookupError):
    """No subscription (or no delivery of it) with that id."""
