"""Errors raised by the dialer's AMI connection; the hierarchy is drawn below.

    DialerError
     ├── AmiConnectionError       the PBX cannot be reached, or the link broke
     │    ├── AmiBannerError      the peer did not greet as an AMI server
     │    ├── AmiNotConnected     an action was attempted while no session is up
     │    └── AmiDisconnected     the link dropped while an action was waiting for its answer
     ├── AmiLoginError            the PBX refused our credentials
     ├── AmiActionTimeout         no response to an action within its timeout
     └── AmiActionError           the PBX answered `Response: Error` (carries the response)
          └── AmiListCancelled    a list action ended with `EventList: cancelled`

    StoreError                    raised by a CallStore (the ledger's database), never by the dialer
     ├── StoreUnavailable         the store cannot be reached now (down, restarting): retry later
     └── RecordsRefused           the store refused the data itself (a value too long, a constraint):
                                  retrying the same records cannot help

Callers catch `DialerError` for "the PBX side failed", `AmiConnectionError` for "retry later".
A store maps its driver's errors to StoreError, so the dialer never knows which database it is.
"""

from __future__ import annotations

from collections.abc import Mapping


class DialerError(Exception):
    """Base of every error raised by the `dialer` package."""


class AmiConnectionError(DialerError):
    """The AMI server cannot be reached, or the connection to it broke."""


class AmiBannerError(AmiConnectionError):
    """The peer accepted TCP but did not send `Asterisk Call Manager/<version>`."""


class AmiNotConnected(AmiConnectionError):
    """An action was attempted while there is no logged-in AMI session."""


class AmiDisconnected(AmiConnectionError):
    """The connection dropped (or was closed) while an action was waiting for its response."""


class AmiLoginError(DialerError):
    """The AMI server refused the login (wrong user, secret or permitted network)."""


class AmiActionTimeout(DialerError):
    """No response to an action arrived within its timeout."""


class AmiActionError(DialerError):
    """The AMI server answered an action with `Response: Error`."""

    def __init__(self, action: str, response: Mapping[str, str]) -> None:
        self.action = action
        self.response = response
        self.message = response.get("Message", "")
        super().__init__(f"AMI {action} failed: {self.message or 'Response: Error'}")


class AmiListCancelled(AmiActionError):
    """A list action's items stopped with `EventList: cancelled` instead of `Complete`."""


class StoreError(Exception):
    """A CallStore failed to write or read call records."""


class StoreUnavailable(StoreError):
    """The store cannot be reached now (down, restarting, timing out): the same write may succeed later."""


class RecordsRefused(StoreError):
    """The store refused the records themselves (a value too long, a constraint): retrying cannot help."""
