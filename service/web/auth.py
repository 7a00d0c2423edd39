"""Sign-in: the session and CSRF middleware, the login and logout pages, role checks.

Every request except /login, /healthz and /static/… needs a signed-in user. The session holds
the user's id and a fingerprint of their password hash; each request reloads the user by id, so
deactivating someone or changing their password ends their sessions at once.
"""

from __future__ import annotations

import functools
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import Session, get_session, new_session, session_middleware
from yarl import URL

from service.appkeys import DB_SESSIONS, SETTINGS
from service.db.expert_status import ExpertStatusRepository
from service.db.users import UserRow, UsersRepository
from service.desk.status import DeskStatus
from service.passwords import burn_a_verification, fingerprint, hash_password, needs_rehash, verify_password
from service.web.csrf import CSRF_MESSAGE, ensure_token, request_is_trusted
from service.web.keys import CALLING_ROLES, CSRF_KEY, ROLES, USER_KEY, Role, SignedInUser
from service.web.login_guard import LOGIN_GUARD, LoginGuard, TooManyAttempts, login_flood_middleware
from service.web.sessions import session_storage
from texts.labels import ROLE_LABELS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOGIN_PATH = "/login"
SESSION_PATH = "/session"
PUBLIC_PATHS = frozenset({LOGIN_PATH})  # reachable signed out, but with a session (for CSRF)
SESSIONLESS_PATHS = frozenset({"/healthz"})
SESSIONLESS_PREFIXES = ("/static/", "/api/")  # the API signs in by token, per request (service/api)
SESSION_USER = "uid"
SESSION_FINGERPRINT = "pwf"
SESSION_STARTED = "iat"  # UNIX time of the sign-in: «Выйти» ends the sessions started before it

WRONG_CREDENTIALS = "Неверный логин или пароль"
SIGN_IN_NEEDED = "Нужно войти в DS Desk"
NO_ACCESS = "Нет доступа"
FORM_EXPIRED = "Форма устарела"


def setup_auth(app: web.Application) -> None:
    """Sessions, then sign-in and CSRF checks, ahead of every other middleware; the login routes.

    First in line, so that the page context (templating's context processors, a middleware
    too) already sees the user and the CSRF token.
    """
    app.middlewares[0:0] = [session_middleware(session_storage(app[SETTINGS].service)), auth_middleware]
    app.cleanup_ctx.append(login_guard_ctx)
    app.router.add_get(LOGIN_PATH, login_page, name="login")
    app.router.add_post(LOGIN_PATH, login_submit)
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get(SESSION_PATH, session_info, name="session")


def setup_login_flood_guard(app: web.Application) -> None:
    """Ahead of every other middleware: a sign-in from a paused address costs nothing."""
    app.middlewares.insert(0, login_flood_middleware(LOGIN_PATH))


async def login_guard_ctx(app: web.Application) -> AsyncIterator[None]:
    """The throttle and the argon2 thread live as long as the app (tests may set their own guard)."""
    guard = app.get(LOGIN_GUARD) or LoginGuard(app[SETTINGS].service.login_refusal_delay_s)
    app[LOGIN_GUARD] = guard
    yield
    guard.close()


def current_user(request: web.Request) -> SignedInUser:
    """The signed-in user (the middleware guarantees one outside the public paths)."""
    user = request.get(USER_KEY)
    if user is None:
        raise web.HTTPUnauthorized(text=json.dumps({"error": SIGN_IN_NEEDED, "login": LOGIN_PATH}),
                                   content_type="application/json")
    return cast(SignedInUser, user)


def requires(*roles: Role) -> Callable[[Handler], Handler]:
    """Only users with one of `roles` may call the handler; others get 403 «Нет доступа».

    Roles are not ranked: list every role allowed, e.g. `@requires("supervisor", "admin")`.
    """
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise ValueError(f"requires() needs roles from {ROLES}; got {roles}")

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            if current_user(request).role not in roles:
                allowed = " или ".join(f"«{ROLE_LABELS[r]}»" for r in roles)
                return await refuse(request, NO_ACCESS, f"Эта страница доступна только для роли {allowed}.")
            return await handler(request)
        return guarded
    return decorate


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _is_sessionless(request.path):
        return await handler(request)
    session = await get_session(request)
    user = await _session_user(request, session)
    if user is None and request.path not in PUBLIC_PATHS:
        return _unauthenticated(request)
    if user is not None:
        request[USER_KEY] = user
    # Signed-in sessions have a token since the sign-in; a signed-out one gets it for the login form.
    request[CSRF_KEY] = ensure_token(session)
    if not await request_is_trusted(request, request[CSRF_KEY]):
        return await refuse(request, FORM_EXPIRED, CSRF_MESSAGE)
    return await handler(request)


async def login_page(request: web.Request) -> web.StreamResponse:
    next_path = safe_next(request.query.get("next"))
    if USER_KEY in request:
        raise web.HTTPFound(next_path)
    return await _login_form(request, next_path)


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    login = _text(form.get("login")).strip()
    next_path = safe_next(_text(form.get("next")) or request.query.get("next"))
    guard, address, now = request.app[LOGIN_GUARD], request.remote or "", time.monotonic()
    # The session starts when the user row is read, not after argon2: a deactivation landing
    # during the check must still end it (and a later reactivation must not revive it).
    started = time.time()
    try:
        async with guard.attempt(login, address, now):
            row = await _check_credentials(request.app, guard, login, _text(form.get("password")))
            if row is None:
                guard.failed(login, address, now)
            else:
                guard.succeeded(login)
    except TooManyAttempts as refused:
        await guard.delay_refusal(request)
        response = await _login_form(request, next_path, login=login, error=refused.message, status=429)
        response.headers["Retry-After"] = str(refused.retry_after_s)
        return response
    if row is None:
        return await _login_form(request, next_path, login=login, error=WRONG_CREDENTIALS, status=401)
    await _start_session(request, row, started)
    raise web.HTTPFound(next_path)


async def logout(request: web.Request) -> web.StreamResponse:
    """Ends this session and every other one of the user (a copied cookie too)."""
    user = request.get(USER_KEY)
    if user is not None:
        now = datetime.now(UTC)
        await UsersRepository(request.app[DB_SESSIONS]).sign_out_everywhere(user.id, now)
        if user.role in CALLING_ROLES:  # the day's last status ends here (a pause does not run on all night)
            await ExpertStatusRepository(request.app[DB_SESSIONS]).add(user.id, DeskStatus.OFF, None, now)
    (await get_session(request)).invalidate()  # the cookie is deleted on the way out
    raise web.HTTPFound(LOGIN_PATH)


async def session_info(request: web.Request) -> web.StreamResponse:
    """Who is signed in and the CSRF token for fetch() (same-origin only: no CORS is ever sent)."""
    user = current_user(request)
    return web.json_response({"id": user.id, "login": user.login, "full_name": user.full_name,
                              "role": user.role, "extension": user.extension,
                              "csrf_token": request[CSRF_KEY]})


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site, else "/": never a redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    # Browsers read "/\evil" as "//evil"; control characters can smuggle the same.
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def wants_html(request: web.Request) -> bool:
    """A browser page load or form; fetch(), EventSource and scripts get JSON instead."""
    return ("text/html" in request.headers.get("Accept", "")
            or request.headers.get("Sec-Fetch-Mode") == "navigate")


async def refuse(request: web.Request, title: str, message: str) -> web.Response:
    """403: the «Нет доступа» page for a browser, {"error": …} for a script."""
    if not wants_html(request):
        # «Форма устарела: Форма устарела или…» said it twice: a message that starts with its title is whole.
        said = message if message.startswith(title) else f"{title}: {message}"
        return web.json_response({"error": said}, status=403)
    return await render_page(request, "forbidden.html", {"title": title, "message": message}, status=403)


async def render_page(request: web.Request, template: str, context: dict[str, Any],
                      status: int = 200) -> web.Response:
    """A page, also for a request stopped before the templating middleware filled the page context."""
    if aiohttp_jinja2.REQUEST_CONTEXT_KEY not in request:
        await aiohttp_jinja2.context_processors_middleware(request, _no_handler)
    return aiohttp_jinja2.render_template(template, request, context, status=status)


async def _no_handler(request: web.Request) -> web.StreamResponse:
    return web.Response()


def _is_sessionless(path: str) -> bool:
    return path in SESSIONLESS_PATHS or path.startswith(SESSIONLESS_PREFIXES)


def _unauthenticated(request: web.Request) -> web.StreamResponse:
    """A browser goes to the login page (and comes back after it); a script gets 401."""
    if not wants_html(request):
        return web.json_response({"error": SIGN_IN_NEEDED, "login": LOGIN_PATH}, status=401)
    if request.method in ("GET", "HEAD"):
        raise web.HTTPFound(URL(LOGIN_PATH).with_query(next=request.path_qs))
    raise web.HTTPSeeOther(LOGIN_PATH)  # a form posted after the session ended: start again


async def _session_user(request: web.Request, session: Session) -> SignedInUser | None:
    """The session's user, if they still may sign in with the same password; else the session ends."""
    user_id = session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return None
    row = await UsersRepository(request.app[DB_SESSIONS]).by_id(user_id)
    if (row is None or not row.can_sign_in or not _same_password(row, session.get(SESSION_FINGERPRINT))
            or _signed_out_since(row, session.get(SESSION_STARTED))):
        session.invalidate()
        return None
    return SignedInUser(id=row.id, login=row.login, full_name=row.full_name,
                        role=cast(Role, row.role), extension=row.extension)


def _signed_out_since(row: UserRow, started: object) -> bool:
    """The user signed out after this session began (a session without a start predates it)."""
    if row.signed_out_at is None:
        return False
    return not isinstance(started, int | float) or started < row.signed_out_at.timestamp()


def _same_password(row: UserRow, session_fingerprint: object) -> bool:
    if row.password_hash is None or not isinstance(session_fingerprint, str):
        return False
    return hmac.compare_digest(fingerprint(row.password_hash), session_fingerprint)


async def _check_credentials(app: web.Application, guard: LoginGuard, login: str,
                             password: str) -> UserRow | None:
    """The user when login and password match an active user; the same slow path in every case."""
    users = UsersRepository(app[DB_SESSIONS])
    row = await users.by_login(login) if login else None
    if row is None or row.password_hash is None:
        await guard.run(burn_a_verification, password)
        return None
    if not await guard.run(verify_password, row.password_hash, password):
        return None
    if not row.active:
        return None
    if needs_rehash(row.password_hash):
        return await _rehash(users, guard, row, password)
    return row


async def _rehash(users: UsersRepository, guard: LoginGuard, row: UserRow, password: str) -> UserRow:
    """Store the hash with today's parameters (the old one was made with weaker or other ones)."""
    new_hash = await guard.run(hash_password, password)
    await users.set_password_hash(row.login, new_hash)
    return UserRow(row.id, row.login, row.full_name, row.role, row.extension, new_hash, row.active)


async def _start_session(request: web.Request, row: UserRow, started: float) -> None:
    """A brand-new session (a new CSRF token too): nothing from before the sign-in carries over."""
    assert row.password_hash is not None
    session = await new_session(request)
    session[SESSION_USER] = row.id
    session[SESSION_FINGERPRINT] = fingerprint(row.password_hash)
    session[SESSION_STARTED] = started
    ensure_token(session)


async def _login_form(request: web.Request, next_path: str, *, login: str = "",
                      error: str | None = None, status: int = 200) -> web.Response:
    context: dict[str, Any] = {"login": login, "error": error, "next": next_path}
    return await render_page(request, "login.html", context, status=status)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
