"""Request- and app-level keys shared by the web modules, and the signed-in user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiohttp import web

Role = Literal["expert", "supervisor", "admin", "sio", "pm"]
# sio: a СИО, who only scores clients for ДС (/selection; service/web/role_scope.py keeps them there).
# pm: a ПМ по ДС (personal manager, issue 16): a portfolio and calls like an Expert's, and visits (/visits).
ROLES: tuple[Role, ...] = ("expert", "supervisor", "admin", "sio", "pm")
CALLING_ROLES = ("expert", "pm")  # who works the desk and owns calls (a phone extension, a status)

# request[USER_KEY]: the SignedInUser, set by the auth middleware on every signed-in request.
USER_KEY: web.RequestKey[SignedInUser] = web.RequestKey("dsdesk.user")
# request[CSRF_KEY]: the session's CSRF token, for templates and the JS fetch header.
CSRF_KEY: web.RequestKey[str] = web.RequestKey("dsdesk.csrf")
CSRF_FIELD = "_csrf"  # the hidden form field
CSRF_HEADER = "X-CSRF-Token"  # the header fetch() sends


@dataclass(frozen=True, slots=True)
class SignedInUser:
    id: int  # experts.id
    login: str
    full_name: str
    role: Role
    extension: str | None

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and admins see every Expert's calls."""
        return self.role in ("supervisor", "admin")
