"""What the Expert's pages share: the desk day, the Expert being shown, access checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web

from service.appkeys import DB_SESSIONS, SETTINGS
from service.db.experts import ExpertProfile, ExpertsRepository
from service.settings import Settings
from service.web.auth import NO_ACCESS, refuse
from service.web.keys import USER_KEY, SignedInUser


@dataclass(frozen=True, slots=True)
class DeskDay:
    day: date
    is_today: bool  # False: today is a day off and the next working day's plan is shown


def desk_day(settings: Settings, now: datetime) -> DeskDay:
    """Today in the organisation's zone; on a day off, the next working day (its plan exists)."""
    today = now.astimezone(settings.organisation.tz).date()
    calendar = settings.plan.calendar()
    if calendar.is_working_day(today):
        return DeskDay(today, True)
    return DeskDay(calendar.next_working_day(today), False)


def utc_now() -> datetime:
    return datetime.now(UTC)


def signed_in(request: web.Request) -> SignedInUser:
    user = request.get(USER_KEY)
    if not isinstance(user, SignedInUser):  # the auth middleware guarantees it; fail closed anyway
        raise web.HTTPUnauthorized(text="Войдите в DS Desk")
    return user


async def shown_expert(request: web.Request, user: SignedInUser) -> ExpertProfile:
    """The Expert whose desk is shown: oneself; a supervisor may look at anyone's (`?expert=`)."""
    experts = ExpertsRepository(request.app[DB_SESSIONS])
    login = request.query.get("expert")
    if login and login != user.login:
        if not user.is_supervisor:
            raise forbidden("Можно смотреть только свой список звонков")
        shown = await experts.profile(login)
        if shown is None:
            raise web.HTTPNotFound(text=f"Нет Эксперта с логином {login}")
        return shown
    target = await experts.daily_target(user.id)
    return ExpertProfile(user.id, user.login, user.full_name, user.extension, target)


class AccessDenied(Exception):
    """Raised deep in a handler; the middleware answers 403 the way sign-in does (page or JSON)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def forbidden(message: str) -> AccessDenied:
    return AccessDenied(message)


@web.middleware
async def access_denied_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except AccessDenied as denied:
        return await refuse(request, NO_ACCESS, denied.message)


def settings_of(request: web.Request) -> Settings:
    return request.app[SETTINGS]
