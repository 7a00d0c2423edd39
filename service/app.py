"""The aiohttp application factory: the one place where DS Desk is wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from dialer.records import iso_ms
from dialer.simulator import PbxSimulator
from scheduler.works_export import WorksExportJob
from service.appkeys import (
    DB_ENGINE,
    DB_SESSIONS,
    DEMO_CLIENTS,
    DROP_FOLDER,
    LEDGER,
    PBX,
    PLAN_JOBS,
    SETTINGS,
    SIMULATOR,
    WEBHOOKS,
)
from service.db.engine import create_engine, create_sessionmaker
from service.db.ledger import LedgerRepository
from service.demo_activity import DemoExperts
from service.demo_data import seed_demo_department
from service.imports.schemas import ImportContext
from service.imports.watch import DropFolder
from service.pbx_setup import build_pbx, simulator_config
from service.plan_setup import build_demo_plan, build_plan_jobs, build_visit_plans
from service.settings import Settings
from service.web.setup import setup_web
from service.webhooks.dispatcher import Dispatcher
from service.webhooks.resolve import url_policy

log = logging.getLogger(__name__)

LINK_WAIT_S = 5.0  # at start, how long the first AMI attempt may take before the app serves anyway


def create_app(settings: Settings, *, with_pbx: bool = True) -> web.Application:
    """The web application; resources start in this order and stop in reverse (cleanup contexts)."""
    app = web.Application()
    app[SETTINGS] = settings
    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(webhooks_ctx)
    if with_pbx:
        app.cleanup_ctx.append(simulator_ctx)
        app.cleanup_ctx.append(pbx_ctx)
    app.cleanup_ctx.append(scheduler_ctx)
    app.cleanup_ctx.append(drop_folder_ctx)
    if with_pbx:
        app.cleanup_ctx.append(demo_experts_ctx)
    app.router.add_get("/healthz", healthz)
    setup_web(app)
    return app


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    """The database engine and the repositories built on it, disposed at shutdown."""
    engine = create_engine(app[SETTINGS].database.url)
    sessions = create_sessionmaker(engine)
    app[DB_ENGINE] = engine
    app[DB_SESSIONS] = sessions
    app[LEDGER] = LedgerRepository(sessions)
    yield
    await engine.dispose()


async def webhooks_ctx(app: web.Application) -> AsyncIterator[None]:
    """The webhook sender (docs/webhooks.md), unless webhooks.enabled is false: the outbox is kept anyway."""
    settings = app[SETTINGS]
    if not settings.webhooks.enabled:
        app[WEBHOOKS] = None
        yield
        return
    dispatcher = Dispatcher(app[DB_SESSIONS], settings.webhooks, await url_policy(settings))
    await dispatcher.start()
    app[WEBHOOKS] = dispatcher
    task = asyncio.create_task(dispatcher.run(), name="webhooks")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await dispatcher.close()


async def simulator_ctx(app: web.Application) -> AsyncIterator[None]:
    """The built-in PBX (pbx.mode: simulator), with demo clients it calls and is called by."""
    settings = app[SETTINGS]
    if settings.pbx.mode != "simulator":
        app[SIMULATOR] = None
        yield
        return
    today = datetime.now(settings.organisation.tz).date()
    demo = await seed_demo_department(app[DB_SESSIONS], today) if settings.simulator.demo_load else []
    app[DEMO_CLIENTS] = demo
    simulator = PbxSimulator(simulator_config(settings, demo))
    await simulator.start()
    app[SIMULATOR] = simulator
    yield
    await simulator.stop()


async def pbx_ctx(app: web.Application) -> AsyncIterator[None]:
    """The AMI connection and the call ledger recorder: every call is recorded by itself.

    Serving starts once the first attempt has an answer (or after LINK_WAIT_S), so the banner and
    /healthz say at once whether the PBX is connected, refused the login or cannot be reached.
    """
    pbx = build_pbx(app[SETTINGS], app[LEDGER], app[SIMULATOR])
    await pbx.start()
    state = await pbx.wait_link_settled(LINK_WAIT_S)
    if not state.connected:
        log.warning("AMI link %s: %s (%s); calls are not recorded until it is up", state.where, state.status,
                    state.error)
    app[PBX] = pbx
    yield
    await pbx.close()


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """APScheduler inside the running loop: the daily plan, catch-up of a missed run, day-end roll-over."""
    settings = app[SETTINGS]
    jobs = build_plan_jobs(settings, app[DB_SESSIONS])
    app[PLAN_JOBS] = jobs
    try:
        await jobs.start()
        if app.get(DEMO_CLIENTS):
            await build_demo_plan(settings, app[DB_SESSIONS], datetime.now(UTC))
            await build_visit_plans(settings, app[DB_SESSIONS], datetime.now(UTC))  # the demo PM's, at once
    except Exception:  # a failed catch-up build is logged and shown; the desk still starts
        log.exception("the start-up plan build failed")
    yield
    await jobs.stop()


async def drop_folder_ctx(app: web.Application) -> AsyncIterator[None]:
    """The drop folder (imports.watch_dir), polled in the background; none when it is not set."""
    settings = app[SETTINGS]
    if settings.imports.watch_dir is None:
        app[DROP_FOLDER] = None
        yield
        return
    folder = DropFolder(settings.imports.watch_dir, app[DB_SESSIONS], lambda: ImportContext.of(settings),
                        settings.imports.poll_s, settings.imports.settle_s)
    app[DROP_FOLDER] = folder
    task = asyncio.create_task(folder.run(), name="drop-folder")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def demo_experts_ctx(app: web.Application) -> AsyncIterator[None]:
    """The demo department's simulated Experts at work (only with the simulator's demo load)."""
    settings = app[SETTINGS]
    clients = app.get(DEMO_CLIENTS)
    if app.get(SIMULATOR) is None or not clients or not settings.simulator.experts:
        yield
        return
    experts = DemoExperts(app[DB_SESSIONS], settings, clients)
    now = datetime.now(UTC)
    try:
        await experts.backfill(now.astimezone(settings.organisation.tz).date(), now)
    except Exception:  # the demo's past days are a nicety: the desk starts without them
        log.exception("the demo's past days were not filled in")
    task = asyncio.create_task(experts.run(), name="demo-experts")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def healthz(request: web.Request) -> web.Response:
    """Liveness for load balancers and `make run` checks; carries no ledger data.

    Always 200 while the service runs (the desks must stay up to show what is wrong), but `status`
    is `degraded` while the PBX is configured and its AMI link is not up: calls are not recorded.
    `ami` says why (connected | connecting | login_refused | unreachable) and since when.
    """
    body: dict[str, object] = {"status": "ok"}
    if PBX in request.app:
        pbx = request.app[PBX]
        link = pbx.link_state()
        body["ami_connected"] = link.connected
        # Not where the PBX is nor the error text: this page needs no sign-in (the log has both).
        body["ami"] = {"status": str(link.status), "since": iso_ms(link.since)}
        body["ledger_write_error"] = pbx.ledger_error
        body["cdr_error"] = pbx.cdr_error  # Asterisk's CDR (cdr:) unreadable: gaps are not put right
        if not link.connected:
            body["status"] = "degraded"
    dispatcher = request.app.get(WEBHOOKS)
    if dispatcher is not None:  # the outbox unreadable: nothing goes out (a receiver's errors are on its log)
        body["webhooks_error"] = dispatcher.last_error
    if PLAN_JOBS in request.app:
        jobs = request.app[PLAN_JOBS]
        body["plan_job_error"] = jobs.last_error
        # The CRM's nightly «Работы» file (docs/exports.md): its last run's error, None when it went well.
        body["works_export_error"] = next((job.last_error for job in jobs.extra_jobs
                                           if isinstance(job, WorksExportJob)), None)
    return web.json_response(body)
