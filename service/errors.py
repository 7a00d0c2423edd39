"""Errors raised by the service package.

    ServiceError                 base of everything below
    ├── SettingsError            config.yaml (or an env override) is invalid; names the key
    ├── LedgerError              the ledger/clients repositories refused a request
    │   ├── UnknownClientError   a contact was added for a client that does not exist
    │   ├── UnknownExpertError   an absence or a plan names an Expert login that does not exist
    │   └── ClosedMonthError     a monthly plan for a month that is closed
    └── CommandError             a `dsdesk` command cannot run (exit status 1, message shown)
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base class of the service package's errors."""


class SettingsError(ServiceError, ValueError):
    """The configuration cannot be loaded; the message names the file and the key."""


class LedgerError(ServiceError):
    """A repository request that cannot be carried out."""


class UnknownClientError(LedgerError, LookupError):
    """No client with the given external id."""


class UnknownExpertError(LedgerError, LookupError):
    """No Expert with the given login."""


class ClosedMonthError(LedgerError):
    """Plans of a closed month do not change; the message (Russian) names the month."""


class CommandError(ServiceError):
    """A `dsdesk` command cannot do what was asked; the CLI prints the message and exits 1."""
