"""`dsdesk run` / `make run`: start the whole product on its configured (by default embedded) parts."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from aiohttp import web

from dialer.link import LinkStatus
from service.app import create_app
from service.appkeys import DB_SESSIONS, DEMO_CLIENTS, PBX, SIMULATOR
from service.db.users import UserRow, UsersRepository
from service.demo_department import DEMO_PASSWORDS
from service.settings import Settings, mask_url

log = logging.getLogger(__name__)

# aiohttp refuses a request line or header over 8190 bytes with a bare English «400 Bad Request»
# before any view runs. A search box's text pasted into the URL (10,000 Cyrillic letters: ~60 KB
# encoded) and the Referer a page with such a URL then sends must reach the views, which answer in
# Russian (the search refuses over its own limit). 128 KiB is ample for that and still a bound.
MAX_REQUEST_LINE = 128 * 1024
MAX_HEADER_FIELD = 128 * 1024

LINK_PROBLEMS: dict[LinkStatus, str] = {
    LinkStatus.LOGIN_REFUSED: "the PBX refused the AMI login (wrong ami.username or secret, or a permit/deny rule)",
    LinkStatus.UNREACHABLE: "no AMI server answered at ami.host:ami.port",
    LinkStatus.CONNECTING: "the first attempt is still under way",
}


def run(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every run of every job at INFO: the figures' minute job would fill the log.
    # Failures still come at ERROR, and the plan jobs log their own results.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    # Ctrl+C before the loop runs (start-up) too, even when the shell handed SIGINT down as ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        asyncio.run(_serve(settings))
    except (KeyboardInterrupt, asyncio.CancelledError):  # stopped by a signal: the cleanup has run
        pass
    return 0


def stop_on_signals(task: asyncio.Task[None]) -> None:
    """Ctrl+C and SIGTERM (systemd, `kill`, a container stop) end `task` the graceful way: the PBX link
    and the ledger's buffer are closed by the app's cleanup, so no call record is lost.

    Set on the loop itself, not left to asyncio.run's SIGINT handler: a process started in the
    background by a non-interactive shell inherits SIGINT as ignored, and asyncio.run then installs
    no handler (found when `dsdesk run` started that way ran on for an hour after its Ctrl+C).
    """
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)


async def _serve(settings: Settings) -> None:
    task = asyncio.current_task()
    if task is not None:
        stop_on_signals(task)
    app = create_app(settings)
    runner = web_runner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.service.host, settings.service.port)
    await site.start()
    _print_banner(settings, app, await _demo_logins(app))
    # What start-up built (modules, the app, templates, the OpenAPI document) lives as long as the process: out of
    # the collector's sight, a full collection no longer walks it (bench/api.py: p99 of a page 160 → 53 ms).
    gc.freeze()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def web_runner(app: web.Application) -> web.AppRunner:
    """The runner the product serves through (tests start theirs here too: the limits are part of it)."""
    return web.AppRunner(app, max_line_size=MAX_REQUEST_LINE, max_field_size=MAX_HEADER_FIELD)


def _print_banner(settings: Settings, app: web.Application, demo_logins: list[UserRow]) -> None:
    simulator = app[SIMULATOR]
    pbx = (f"built-in PBX simulator on {simulator.host}:{simulator.port} (demo calls: "
           f"{'on' if settings.simulator.demo_load else 'off'})" if simulator is not None
           else f"Asterisk AMI at {settings.ami.host}:{settings.ami.port}")
    lines = [
        "",
        "DS Desk is running.",
        f"  web:       http://{settings.service.host}:{settings.service.port}/login",
        f"  PBX:       {pbx}",
        *_link_lines(app, settings),
        f"  database:  {mask_url(settings.database.url)}",
        *_login_lines(demo_logins),
        f"  the plan:  .venv/bin/dsdesk plan show --date {_plan_day(settings)}"
        "   (demo Experts: maria, anna, pavel)",
        "  the ledger, as calls happen:  .venv/bin/dsdesk calls list",
        f"  REST API:  http://{settings.service.host}:{settings.service.port}/api/v1/docs"
        "   (a token: .venv/bin/dsdesk tokens create demo --scopes read)",
        "  stop: Ctrl+C",
        "",
    ]
    print("\n".join(lines), flush=True)


def _link_lines(app: web.Application, settings: Settings) -> list[str]:
    """The AMI link as the service started: up, or why not (a refused login is said as such)."""
    pbx = app.get(PBX)
    if pbx is None:
        return []
    link = pbx.link_state()
    since = "" if link.since is None else f" since {link.since.astimezone(settings.organisation.tz):%H:%M:%S}"
    if link.connected:
        return [f"  AMI link:  connected{since}"]
    why = LINK_PROBLEMS.get(link.status, str(link.status))
    return [f"  AMI link:  NOT CONNECTED{since}: {why}; calls are NOT recorded until it is up",
            f"             ({link.error or 'no answer yet'}; DS Desk keeps retrying)"]


async def _demo_logins(app: web.Application) -> list[UserRow]:
    """The demo users who can sign in (demo mode only: nobody else's password is known)."""
    if not app.get(DEMO_CLIENTS):
        return []
    users = await UsersRepository(app[DB_SESSIONS]).list_users(DEMO_PASSWORDS)
    return [user for user in users if user.can_sign_in]


def _login_lines(demo_logins: list[UserRow]) -> list[str]:
    if not demo_logins:
        return ["  logins:    add one: .venv/bin/dsdesk users add LOGIN --name 'Фамилия Имя Отчество' "
                "--role admin"]
    lines = ["  logins (demo passwords, unless changed with `dsdesk users passwd`):"]
    lines += [f"             {user.login:<6} / {DEMO_PASSWORDS[user.login]:<11} {user.role}"
              f"{f', ext. {user.extension}' if user.extension else ''}" for user in demo_logins]
    return lines


def _plan_day(settings: Settings) -> str:
    from datetime import datetime

    today = datetime.now(settings.organisation.tz).date()
    calendar = settings.plan.calendar()
    return (today if calendar.is_working_day(today) else calendar.next_working_day(today)).isoformat()
