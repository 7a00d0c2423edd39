"""Typed keys for the application's shared state (imported by app.py and by the views)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.pbx import Pbx
from dialer.simulator import PbxSimulator
from scheduler.jobs import PlanJobs
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.imports.watch import DropFolder
from service.settings import Settings
from service.webhooks.dispatcher import Dispatcher

SETTINGS = web.AppKey("settings", Settings)
DB_ENGINE = web.AppKey("db_engine", AsyncEngine)
DB_SESSIONS: web.AppKey[SessionMaker] = web.AppKey("db_sessions")
LEDGER = web.AppKey("ledger", LedgerRepository)
SIMULATOR: web.AppKey[PbxSimulator | None] = web.AppKey("simulator")
PBX = web.AppKey("pbx", Pbx)
DEMO_CLIENTS: web.AppKey[list[tuple[str, str, str]]] = web.AppKey("demo_clients")
PLAN_JOBS = web.AppKey("plan_jobs", PlanJobs)
DROP_FOLDER: web.AppKey[DropFolder | None] = web.AppKey("drop_folder")
WEBHOOKS: web.AppKey[Dispatcher | None] = web.AppKey("webhooks")
